// RUN: mm01-opt %s -mm01-lower-to-linalg | FileCheck %s

// y = x · Wᵀ: W [N, K] is transposed to [K, N] once, then one generic over
// (batch..., k, n) accumulates in f32 with k before n, so the inner loop runs
// over contiguous output columns.

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @linear_f32
// CHECK-SAME: (%[[ARG:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<16x8xbf16>)
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[W]] : tensor<16x8xbf16>) outs(%{{.*}} : tensor<8x16xbf16>) permutation = [1, 0]
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x3x16xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[WT]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[ARG]], %[[T]] : tensor<2x3x8xf32>, tensor<8x16xbf16>) outs(%[[ZERO]] : tensor<2x3x16xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[WV:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK:   %[[WF:.*]] = arith.extf %[[WV]] : bf16 to f32
// CHECK:   %[[P:.*]] = arith.mulf %[[IN]], %[[WF]] fastmath<contract> : f32
// CHECK:   %[[S:.*]] = arith.addf %[[ACC]], %[[P]] fastmath<contract> : f32
// CHECK:   linalg.yield %[[S]] : f32
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @linear_f32(%x: tensor<2x3x8xf32>, %w: tensor<16x8xbf16>) -> tensor<2x3x16xf32> {
  %y = mm01.linear %x, %w : tensor<2x3x8xf32>, tensor<16x8xbf16> -> tensor<2x3x16xf32>
  return %y : tensor<2x3x16xf32>
}

// bf16 activations: both operands are extended, the sum stays f32 and is
// rounded to bf16 once at the end.
// CHECK-LABEL: func.func @linear_bf16
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<4x16xf32>)
// CHECK-DAG: arith.extf %{{.*}} : bf16 to f32
// CHECK-DAG: arith.extf %{{.*}} : bf16 to f32
// CHECK: -> tensor<4x16xf32>
// CHECK: linalg.generic
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: -> tensor<4x16xbf16>
func.func @linear_bf16(%x: tensor<4x8xbf16>, %w: tensor<16x8xbf16>) -> tensor<4x16xbf16> {
  %y = mm01.linear %x, %w : tensor<4x8xbf16>, tensor<16x8xbf16> -> tensor<4x16xbf16>
  return %y : tensor<4x16xbf16>
}
