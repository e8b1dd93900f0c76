// Refusals of mm01-model-to-kernels and mm01-plan-buffers, one line each.
// RUN: mm01-opt %s --split-input-file --verify-diagnostics --mm01-fuse --mm01-select-tiles --mm01-model-to-kernels --mm01-plan-buffers -o /dev/null

module {
  func.func @prefill(%ids: tensor<1x4xi64> {mm01.name = "ids"}, %pos: tensor<1x4xi64> {mm01.name = "positions"}) -> (tensor<1x4x16xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<16x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<1x4xi64> -> tensor<1x4x64xbf16>
    %sh = mm01.split_heads %x : tensor<1x4x64xbf16> -> tensor<1x4x2x32xbf16>
    // expected-error @below {{GPU target: RoPE is applied by the softmax attention that consumes it; outside an mm01.fusion <rope_attention> group (see mm01-fuse) it has no kernel}}
    %r = mm01.rope %sh, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x2x32xbf16>, tensor<1x4xi64>
    %w = mm01.weight "w" : tensor<16x32xbf16>
    %y = mm01.linear %r, %w : tensor<1x4x2x32xbf16>, tensor<16x32xbf16> -> tensor<1x4x2x16xbf16>
    %wl = mm01.weight "lm_head" : tensor<16x64xbf16>
    %logits = mm01.linear %x, %wl : tensor<1x4x64xbf16>, tensor<16x64xbf16> -> tensor<1x4x16xbf16>
    return %logits : tensor<1x4x16xbf16>
  }
}

// -----

module {
  func.func @prefill(%ids: tensor<1x4xi64> {mm01.name = "ids"}, %s: tensor<1x2x32x32xf32> {mm01.name = "layer0.lightning_state"}) -> (tensor<1x4x16xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<16x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<1x4xi64> -> tensor<1x4x64xbf16>
    // expected-error @below {{run mm01-inline-layers before mm01-model-to-kernels}}
    %y:2 = mm01.decoder_layer 0 <lightning>(%x, %s) : (tensor<1x4x64xbf16>, tensor<1x2x32x32xf32>) -> (tensor<1x4x64xbf16>, tensor<1x2x32x32xf32>) {
    ^bb0(%a: tensor<1x4x64xbf16>, %t: tensor<1x2x32x32xf32>):
      mm01.yield %a, %t : tensor<1x4x64xbf16>, tensor<1x2x32x32xf32>
    }
    %wl = mm01.weight "lm_head" : tensor<16x64xbf16>
    %logits = mm01.linear %y#0, %wl : tensor<1x4x64xbf16>, tensor<16x64xbf16> -> tensor<1x4x16xbf16>
    return %logits : tensor<1x4x16xbf16>
  }
}

// -----

module {
  // expected-error @below {{argument 1 has no mm01.name}}
  func.func @prefill(%ids: tensor<1x4xi64> {mm01.name = "ids"}, %extra: tensor<4xi32>) -> (tensor<1x4x16xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<16x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<1x4xi64> -> tensor<1x4x64xbf16>
    %wl = mm01.weight "lm_head" : tensor<16x64xbf16>
    %logits = mm01.linear %x, %wl : tensor<1x4x64xbf16>, tensor<16x64xbf16> -> tensor<1x4x16xbf16>
    return %logits : tensor<1x4x16xbf16>
  }
}
