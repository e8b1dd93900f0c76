// RUN: mm01-opt %s --mm01-fuse --mm01-select-tiles --mm01-model-to-kernels --mm01-plan-buffers --verify-diagnostics -o /dev/null

// A returned state must be the argument it was updated in.
module {
  // expected-error @below {{result 'layer0.lightning_state' is not updated in place in its argument}}
  func.func @prefill(%ids: tensor<1x8xi64> {mm01.name = "ids"}, %s: tensor<1x2x4x4xf32> {mm01.name = "layer0.lightning_state"}) -> (tensor<1x8x32xbf16> {mm01.name = "logits"}, tensor<1x2x4x4xf32> {mm01.name = "layer0.lightning_state"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<32x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<32x64xbf16>, tensor<1x8xi64> -> tensor<1x8x64xbf16>
    %logits = mm01.linear %x, %emb : tensor<1x8x64xbf16>, tensor<32x64xbf16> -> tensor<1x8x32xbf16>
    %s2 = tensor.empty() : tensor<1x2x4x4xf32>
    return %logits, %s2 : tensor<1x8x32xbf16>, tensor<1x2x4x4xf32>
  }
}
