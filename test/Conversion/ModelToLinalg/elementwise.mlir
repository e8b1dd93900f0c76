// RUN: mm01-opt %s -mm01-lower-to-linalg -canonicalize | FileCheck %s

// Unary ops compute in f32 and round to the element type once.
// CHECK-LABEL: func.func @silu_sigmoid_bf16
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic
// CHECK:   %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK:   %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK:   %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK:   %[[D:.*]] = arith.addf %[[E]], %[[ONE]] : f32
// CHECK:   %[[S:.*]] = arith.divf %[[X]], %[[D]] : f32
// CHECK:   %[[R:.*]] = arith.truncf %[[S]] : f32 to bf16
// CHECK:   linalg.yield %[[R]] : bf16
// CHECK: linalg.generic
// CHECK:   %[[X2:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK:   %[[NEG2:.*]] = arith.negf %[[X2]] : f32
// CHECK:   %[[E2:.*]] = math.exp %[[NEG2]] : f32
// CHECK:   %[[D2:.*]] = arith.addf %[[E2]], %[[ONE]] : f32
// CHECK:   %[[G:.*]] = arith.divf %[[ONE]], %[[D2]] : f32
// CHECK:   arith.truncf %[[G]] : f32 to bf16
func.func @silu_sigmoid_bf16(%x: tensor<4x8xbf16>) -> (tensor<4x8xbf16>, tensor<4x8xbf16>) {
  %s = mm01.silu %x : tensor<4x8xbf16>
  %g = mm01.sigmoid %x : tensor<4x8xbf16>
  return %s, %g : tensor<4x8xbf16>, tensor<4x8xbf16>
}

// α·r + β·u: each product in f32 rounded to the element type, then summed
// in it (torch's `r * α + u * β` on bf16 tensors).
// CHECK-LABEL: func.func @deepnorm_bf16
// CHECK-DAG: %[[A:.*]] = arith.constant 3.55655885 : f32
// CHECK-DAG: %[[B:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[R:.*]]: bf16, %[[U:.*]]: bf16, %{{.*}}: bf16):
// CHECK:   %[[RF:.*]] = arith.extf %[[R]] : bf16 to f32
// CHECK:   %[[RA:.*]] = arith.mulf %[[RF]], %[[A]] : f32
// CHECK:   %[[UF:.*]] = arith.extf %[[U]] : bf16 to f32
// CHECK:   %[[UB:.*]] = arith.mulf %[[UF]], %[[B]] : f32
// CHECK:   %[[RT:.*]] = arith.truncf %[[RA]] : f32 to bf16
// CHECK:   %[[UT:.*]] = arith.truncf %[[UB]] : f32 to bf16
// CHECK:   %[[SUM:.*]] = arith.addf %[[RT]], %[[UT]] : bf16
// CHECK:   linalg.yield %[[SUM]] : bf16
func.func @deepnorm_bf16(%r: tensor<4x8xbf16>, %u: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %y = mm01.deepnorm_residual %r, %u alpha(3.5565588) beta(0.5) : tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}

// f32: no rounding steps.
// CHECK-LABEL: func.func @deepnorm_f32
// CHECK-NOT: arith.truncf
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @deepnorm_f32(%r: tensor<4x8xf32>, %u: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %y = mm01.deepnorm_residual %r, %u alpha(2.0) beta(0.75) : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// Elementwise arith on tensors is left to convert-elementwise-to-linalg.
// CHECK-LABEL: func.func @mulf_untouched
// CHECK: arith.mulf %{{.*}}, %{{.*}} : tensor<4x8xf32>
func.func @mulf_untouched(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %p = arith.mulf %a, %b : tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}
