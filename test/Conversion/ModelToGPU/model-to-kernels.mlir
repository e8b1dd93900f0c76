// mm01-model-to-kernels: model ops become launches of generated kernels and
// cuBLASLt GEMMs; mm01-fuse's groups (residual → norm, norm × sigmoid gate)
// become one kernel each and views (split_heads, merge_heads) cost no
// kernel; equal specs share one kernel; decode schedules use `batch` in
// place of `tokens`. Without mm01-fuse every op gets its own kernel.
// RUN: mm01-opt %s --mm01-fuse --mm01-select-tiles --mm01-model-to-kernels --split-input-file --verify-diagnostics | FileCheck %s
// RUN: mm01-opt %s --mm01-select-tiles --mm01-model-to-kernels --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=UNFUSED

// CHECK-LABEL: func.func @prefill
// CHECK-SAME: %[[IDS:.*]]: tensor<2x8xi64> {mm01.name = "ids"}
// CHECK: %[[EMB:.*]] = mm01.weight "embed"
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<16x64xbf16>
// CHECK: %[[X:.*]] = mm01k.launch @mm01_kernels::@embedding_v32_d64_bf16 grid ["tokens", "1", "1"] block [64, 1, 1] ins(%[[EMB]], %[[IDS]] : {{.*}}) outs(%[[E0]] : tensor<16x64xbf16>)
// CHECK-SAME: param_names = ["table", "ids", "out", "tokens"]
// CHECK: %[[H:.*]] = mm01k.launch @mm01_kernels::@rms_norm_d64_bf16 grid ["tokens", "1", "1"] block [128, 1, 1] ins(%[[X]],
// CHECK: %[[G:.*]] = mm01k.gemm %[[H]], %{{.*}} outs(%{{.*}}) {k = "64", m = "tokens", n = "64", trans_b}
// The gated output norm: one kernel at the multiply, reading the gate GEMM.
// CHECK: %[[GN:.*]] = mm01k.launch @mm01_kernels::@rms_norm_d64_bf16_gate {{.*}} ins(%[[H]], %{{.*}}, %[[G]] :
// CHECK-SAME: param_names = ["a", "w", "g", "out", "tokens"]
// CHECK: %[[U:.*]] = mm01k.gemm %[[GN]]
// The DeepNorm residual is fused into the norm that follows it.
// CHECK: %[[R:.*]] = mm01k.launch @mm01_kernels::@rms_norm_d64_bf16_residual {{.*}} ins(%[[H]], %[[U]], %{{.*}} :
// CHECK-SAME: param_names = ["a", "b", "w", "out", "tokens"]
// The logits GEMM writes f32.
// CHECK: %[[L:.*]] = mm01k.gemm %[[R]], %{{.*}} outs(%{{.*}}) {k = "64", m = "tokens", n = "32", trans_b} : {{.*}} -> tensor<16x32xf32>
// CHECK: return %[[L]] : tensor<16x32xf32>
// CHECK-NOT: mm01.rms_norm
// CHECK-LABEL: func.func @decode
// Same specs: the prefill kernels are reused; sizes use `batch`.
// CHECK: mm01k.launch @mm01_kernels::@embedding_v32_d64_bf16 grid ["batch", "1", "1"]
// CHECK-SAME: param_exprs = ["", "", "", "batch"]
// CHECK: mm01k.gemm {{.*}} m = "batch"
// CHECK: gpu.module @mm01_kernels
// CHECK-COUNT-4: gpu.func
// CHECK-NOT: gpu.func

// UNFUSED-LABEL: func.func @prefill
// UNFUSED: %[[H:.*]] = mm01k.launch @mm01_kernels::@rms_norm_d64_bf16 grid
// UNFUSED: %[[G:.*]] = mm01k.gemm %[[H]]
// UNFUSED: %[[N:.*]] = mm01k.launch @mm01_kernels::@rms_norm_d64_bf16_1 grid
// UNFUSED: %[[S:.*]] = mm01k.launch @mm01_kernels::@sigmoid_d64_bf16 {{.*}} ins(%[[G]] :
// UNFUSED: %[[M:.*]] = mm01k.launch @mm01_kernels::@mul_d64_bf16 {{.*}} ins(%[[N]], %[[S]] :
// UNFUSED: %[[U:.*]] = mm01k.gemm %[[M]]
// UNFUSED: %[[R:.*]] = mm01k.launch @mm01_kernels::@residual_d64_bf16 {{.*}} ins(%[[H]], %[[U]] :
// UNFUSED: mm01k.launch @mm01_kernels::@rms_norm_d64_bf16 {{.*}} ins(%[[R]],
// UNFUSED-NOT: _gate
// UNFUSED: gpu.module @mm01_kernels
module {
  func.func @prefill(%ids: tensor<2x8xi64> {mm01.name = "ids"}) -> (tensor<2x8x32xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<32x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<32x64xbf16>, tensor<2x8xi64> -> tensor<2x8x64xbf16>
    %w0 = mm01.weight "norm0" : tensor<64xbf16>
    %h = mm01.rms_norm %x, %w0 eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    %wg = mm01.weight "gate" : tensor<64x64xbf16>
    %g = mm01.linear %h, %wg : tensor<2x8x64xbf16>, tensor<64x64xbf16> -> tensor<2x8x64xbf16>
    %sh = mm01.split_heads %h : tensor<2x8x64xbf16> -> tensor<2x8x2x32xbf16>
    %mh = mm01.merge_heads %sh : tensor<2x8x2x32xbf16> -> tensor<2x8x64xbf16>
    %w1 = mm01.weight "norm1" : tensor<64xbf16>
    %n = mm01.rms_norm %mh, %w1 eps(1.0e-6) : tensor<2x8x64xbf16>, tensor<64xbf16>
    %s = mm01.sigmoid %g : tensor<2x8x64xbf16>
    %gated = arith.mulf %n, %s : tensor<2x8x64xbf16>
    %wo = mm01.weight "out" : tensor<64x64xbf16>
    %u = mm01.linear %gated, %wo : tensor<2x8x64xbf16>, tensor<64x64xbf16> -> tensor<2x8x64xbf16>
    %r = mm01.deepnorm_residual %h, %u alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
    %w2 = mm01.weight "norm2" : tensor<64xbf16>
    %y = mm01.rms_norm %r, %w2 eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    %wl = mm01.weight "lm_head" : tensor<32x64xbf16>
    %logits = mm01.linear %y, %wl : tensor<2x8x64xbf16>, tensor<32x64xbf16> -> tensor<2x8x32xbf16>
    return %logits : tensor<2x8x32xbf16>
  }
  func.func @decode(%ids: tensor<2x1xi64> {mm01.name = "ids"}) -> (tensor<2x1x32xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "decode"} {
    %emb = mm01.weight "embed" : tensor<32x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<32x64xbf16>, tensor<2x1xi64> -> tensor<2x1x64xbf16>
    %wl = mm01.weight "lm_head" : tensor<32x64xbf16>
    %logits = mm01.linear %x, %wl : tensor<2x1x64xbf16>, tensor<32x64xbf16> -> tensor<2x1x32xbf16>
    return %logits : tensor<2x1x32xbf16>
  }
}

// -----

module {
  func.func @prefill(%ids: tensor<1x4xi64> {mm01.name = "ids"}) -> (tensor<1x4x16xbf16> {mm01.name = "logits"}) attributes {mm01.entry = "prefill"} {
    %emb = mm01.weight "embed" : tensor<16x64xbf16>
    %x = mm01.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<1x4xi64> -> tensor<1x4x64xbf16>
    %wp = mm01.weight "qkv" : tensor<48x64xbf16>
    %p = mm01.linear %x, %wp : tensor<1x4x64xbf16>, tensor<48x64xbf16> -> tensor<1x4x48xbf16>
    %q, %k, %v = mm01.split_qkv %p : tensor<1x4x48xbf16> -> tensor<1x4x1x16xbf16>
    // expected-error @below {{GPU target: merging strided heads needs a copy, not supported yet}}
    %m = mm01.merge_heads %k : tensor<1x4x1x16xbf16> -> tensor<1x4x16xbf16>
    %wl = mm01.weight "lm_head" : tensor<16x16xbf16>
    %logits = mm01.linear %m, %wl : tensor<1x4x16xbf16>, tensor<16x16xbf16> -> tensor<1x4x16xbf16>
    return %logits : tensor<1x4x16xbf16>
  }
}
