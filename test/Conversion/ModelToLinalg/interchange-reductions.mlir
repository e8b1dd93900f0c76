// RUN: mm01-opt %s -mm01-interchange-reductions | FileCheck %s

// batch_matmul (b, m, n, k) becomes a generic iterated (b, m, k, n): the
// inner loop runs over contiguous columns of B and C.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK:   arith.mulf
// CHECK:   arith.addf
func.func @batch_matmul(%a: tensor<8x64x32xf32>, %b: tensor<8x32x16xf32>, %c: tensor<8x64x16xf32>)
    -> tensor<8x64x16xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<8x64x32xf32>, tensor<8x32x16xf32>)
                           outs(%c : tensor<8x64x16xf32>) -> tensor<8x64x16xf32>
  return %r : tensor<8x64x16xf32>
}

// Q Kᵀ reads K[b, n, k]: with n innermost that read would be strided, so the
// op keeps its order (a dot product per output element).
#q = affine_map<(b, m, n, k) -> (b, m, k)>
#k = affine_map<(b, m, n, k) -> (b, n, k)>
#o = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @q_kt
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @q_kt(%a: tensor<8x64x32xf32>, %b: tensor<8x16x32xf32>, %c: tensor<8x64x16xf32>)
    -> tensor<8x64x16xf32> {
  %r = linalg.generic {indexing_maps = [#q, #k, #o],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x64x32xf32>, tensor<8x16x32xf32>) outs(%c : tensor<8x64x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x64x16xf32>
  return %r : tensor<8x64x16xf32>
}

// A row reduction (the output has no column dimension to move inward) is
// left alone.
#in = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
// CHECK-LABEL: func.func @row_sum
// CHECK: iterator_types = ["parallel", "reduction"]
func.func @row_sum(%x: tensor<4x8xf32>, %acc: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [#in, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %s = arith.addf %a, %v : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
