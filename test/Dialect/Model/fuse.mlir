// mm01-fuse: the GPU target's fusion decisions as mm01.fusion groups; a
// chain is grouped only when each intermediate's single use is inside it.
// RUN: mm01-opt %s --mm01-fuse --split-input-file | FileCheck %s
// The groups survive a round trip (printer and parser agree, verifier holds).
// RUN: mm01-opt %s --mm01-fuse --split-input-file | mm01-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @norms
// A norm feeding a gate goes to the gate's group; the residual feeding that
// norm stays out of it.
// CHECK: %[[R0:.*]] = mm01.deepnorm_residual %arg0, %arg1
// CHECK-NEXT: %[[G:.*]] = mm01.fusion <gated_rms_norm> : tensor<2x8x64xbf16> {
// CHECK-NEXT:   %[[N:.*]] = mm01.rms_norm %[[R0]]
// CHECK-NEXT:   %[[S:.*]] = mm01.sigmoid %arg1
// CHECK-NEXT:   %[[M:.*]] = arith.mulf %[[N]], %[[S]]
// CHECK-NEXT:   mm01.yield %[[M]] : tensor<2x8x64xbf16>
// CHECK-NEXT: }
// CHECK-NEXT: %[[Y:.*]] = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
// CHECK-NEXT:   %[[R1:.*]] = mm01.deepnorm_residual %arg0, %[[G]] alpha(2.000000e+00) beta(1.000000e+00)
// CHECK-NEXT:   %[[Y0:.*]] = mm01.rms_norm %[[R1]]
// CHECK-NEXT:   mm01.yield %[[Y0]]
// CHECK-NEXT: }
// A residual with two uses is materialized: no group.
// CHECK-NEXT: %[[R2:.*]] = mm01.deepnorm_residual %[[Y]], %arg1
// CHECK-NEXT: %[[Z:.*]] = mm01.rms_norm %[[R2]]
// CHECK-NEXT: return %[[Z]], %[[R2]]
func.func @norms(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> (tensor<2x8x64xbf16>, tensor<2x8x64xbf16>) {
  %w = mm01.weight "norm" : tensor<64xbf16>
  %r0 = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
  %n = mm01.rms_norm %r0, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
  %s = mm01.sigmoid %g : tensor<2x8x64xbf16>
  %m = arith.mulf %n, %s : tensor<2x8x64xbf16>
  %r1 = mm01.deepnorm_residual %x, %m alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
  %y = mm01.rms_norm %r1, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
  %r2 = mm01.deepnorm_residual %y, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
  %z = mm01.rms_norm %r2, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
  return %z, %r2 : tensor<2x8x64xbf16>, tensor<2x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @lightning
// CHECK: %[[P:.*]]:2 = mm01.fusion <silu_lightning> : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32> {
// CHECK-NEXT:   %[[S:.*]] = mm01.silu %arg0
// CHECK-NEXT:   %[[Q:.*]], %[[K:.*]], %[[V:.*]] = mm01.split_qkv %[[S]]
// CHECK-NEXT:   %[[O:.*]], %[[NS:.*]] = mm01.lightning_attention %[[Q]], %[[K]], %[[V]], %arg1
// CHECK-NEXT:   mm01.yield %[[O]], %[[NS]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[D:.*]]:2 = mm01.fusion <silu_lightning>
// CHECK: mm01.lightning_decode
// A SiLU whose result is also used elsewhere is not fused.
// CHECK: %[[S2:.*]] = mm01.silu %arg2
// CHECK-NEXT: mm01.split_qkv %[[S2]]
// CHECK-NEXT: mm01.lightning_attention
// CHECK-NOT: mm01.fusion
// CHECK: return
func.func @lightning(%p: tensor<1x8x96xbf16>, %s: tensor<1x2x16x16xf32>, %p2: tensor<1x8x96xbf16>, %p1: tensor<1x1x96xbf16>)
    -> (tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>, tensor<1x1x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x96xbf16>) {
  %a = mm01.silu %p : tensor<1x8x96xbf16>
  %q, %k, %v = mm01.split_qkv %a : tensor<1x8x96xbf16> -> tensor<1x8x2x16xbf16>
  %o, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
  %b = mm01.silu %p1 : tensor<1x1x96xbf16>
  %q1, %k1, %v1 = mm01.split_qkv %b : tensor<1x1x96xbf16> -> tensor<1x1x2x16xbf16>
  %o1, %s2 = mm01.lightning_decode %q1, %k1, %v1, %s1 decay([0.5, 0.25]) : tensor<1x1x2x16xbf16>, tensor<1x2x16x16xf32>
  %c = mm01.silu %p2 : tensor<1x8x96xbf16>
  %q2, %k2, %v2 = mm01.split_qkv %c : tensor<1x8x96xbf16> -> tensor<1x8x2x16xbf16>
  %o2, %s3 = mm01.lightning_attention %q2, %k2, %v2, %s2 decay([0.5, 0.25]) : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
  return %o, %s3, %o1, %o2, %c : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>, tensor<1x1x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x96xbf16>
}

// -----

// CHECK-LABEL: func.func @attention
// CHECK: %[[A:.*]]:3 = mm01.fusion <rope_attention>
// CHECK-NEXT:   %[[QR:.*]] = mm01.rope %arg0
// CHECK-NEXT:   %[[KR:.*]] = mm01.rope %arg1
// CHECK-NEXT:   %{{.*}} = mm01.softmax_attention %[[QR]], %[[KR]], %arg2
// CHECK-NEXT:   mm01.yield
// CHECK-NEXT: }
// A RoPE with another use stays out (and has no GPU kernel of its own).
// CHECK-NEXT: %[[Q2:.*]] = mm01.rope %arg0
// CHECK-NEXT: %[[K2:.*]] = mm01.rope %arg1
// CHECK-NEXT: mm01.softmax_attention %[[Q2]], %[[K2]]
// CHECK-NOT: mm01.fusion
func.func @attention(%q: tensor<1x4x4x32xbf16>, %k: tensor<1x4x2x32xbf16>, %v: tensor<1x4x2x32xbf16>,
                     %kc: tensor<1x16x2x32xbf16>, %vc: tensor<1x16x2x32xbf16>, %pos: tensor<1x4xi64>)
    -> (tensor<1x4x4x32xbf16>, tensor<1x4x4x32xbf16>, tensor<1x4x4x32xbf16>) {
  %qr = mm01.rope %q, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x4x32xbf16>, tensor<1x4xi64>
  %kr = mm01.rope %k, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x2x32xbf16>, tensor<1x4xi64>
  %o, %kc1, %vc1 = mm01.softmax_attention %qr, %kr, %v, cache(%kc, %vc) positions(%pos) scale(0.17677669529663687)
      : tensor<1x4x4x32xbf16>, tensor<1x4x2x32xbf16>, tensor<1x16x2x32xbf16>, tensor<1x4xi64>
  %q2 = mm01.rope %q, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x4x32xbf16>, tensor<1x4xi64>
  %k2 = mm01.rope %k, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x2x32xbf16>, tensor<1x4xi64>
  %o2, %kc2, %vc2 = mm01.softmax_attention %q2, %k2, %v, cache(%kc1, %vc1) positions(%pos) scale(0.17677669529663687)
      : tensor<1x4x4x32xbf16>, tensor<1x4x2x32xbf16>, tensor<1x16x2x32xbf16>, tensor<1x4xi64>
  return %o, %o2, %q2 : tensor<1x4x4x32xbf16>, tensor<1x4x4x32xbf16>, tensor<1x4x4x32xbf16>
}
