// mm01-plan-buffers: named arguments become the engine's fixed buffers
// (ids -> token_ids, states, caches), weights their own buffers, the logits
// the `logits` buffer; temporaries whose live ranges are disjoint share
// memory (t2 reuses t0's bytes once t0 is dead), live-overlapping ones do not.
// RUN: mm01-opt %s --mm01-fuse --mm01-select-tiles --mm01-model-to-kernels --mm01-plan-buffers | FileCheck %s

// Fixed buffers first (activation arena: token_ids, then logits), then the
// temporaries from the end of the fixed ones (token_ids 32 B -> 256, logits
// 8·32·4 = 1024 B -> temporaries from 1280). Each temporary is 8·64·2 = 1 KiB.
// CHECK: mm01k.buffers = [
// CHECK-SAME: {alignment = 256 : i64, bytes = 32 : i64, lifetime = "activation", name = "token_ids", offset = 0 : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 1024 : i64, lifetime = "activation", name = "logits", offset = 256 : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 4096 : i64, lifetime = "weights", name = "embed", offset = 0 : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 128 : i64, lifetime = "weights", name = "n0", offset = 4096 : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 1024 : i64, lifetime = "activation", name = "prefill.t0", offset = [[T0:[0-9]+]] : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 1024 : i64, lifetime = "activation", name = "prefill.t1", offset = [[T1:[0-9]+]] : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 1024 : i64, lifetime = "activation", name = "prefill.t2", offset = [[T0]] : i64}
// CHECK-SAME: {alignment = 256 : i64, bytes = 1024 : i64, lifetime = "activation", name = "prefill.t3", offset = [[T1]] : i64}
// CHECK-LABEL: func.func @prefill
// CHECK-SAME: {mm01.name = "ids", mm01k.buffer = "token_ids"}
// CHECK: mm01.weight "embed" {mm01k.buffer = "embed"}
// CHECK: tensor.empty() {mm01k.buffer = "prefill.t0"}
// CHECK: tensor.empty() {mm01k.buffer = "logits"} : tensor<8x32xf32>
module {
  func.func @prefill(%ids: tensor<1x8xi64> {mm01.name = "ids"}) -> (tensor<1x8x32xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<32x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<32x64xbf16>, tensor<1x8xi64> -> tensor<1x8x64xbf16>
    %w = mm01.weight "n0" : tensor<64xbf16>
    %a = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<1x8x64xbf16>, tensor<64xbf16>
    %b = mm01.rms_norm %a, %w eps(1.0e-5) : tensor<1x8x64xbf16>, tensor<64xbf16>
    %c = mm01.rms_norm %b, %w eps(1.0e-5) : tensor<1x8x64xbf16>, tensor<64xbf16>
    %logits = mm01.linear %c, %emb : tensor<1x8x64xbf16>, tensor<32x64xbf16> -> tensor<1x8x32xbf16>
    return %logits : tensor<1x8x32xbf16>
  }
}

