// RUN: mm01-opt %s -mm01-lower-to-linalg -canonicalize | FileCheck %s

// Only the routed experts are computed: an scf.for nest over (b, t, slot)
// reads the expert index once and runs GEMVs against that expert's slice of
// the (transposed) stacked weights.
// CHECK-LABEL: func.func @experts
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<2x3x2xf32>, %[[E:.*]]: tensor<2x3x2xi64>, %[[W1:.*]]: tensor<4x6x8xbf16>, %[[W3:.*]]: tensor<4x6x8xbf16>, %[[W2:.*]]: tensor<4x8x6xbf16>)
// CHECK-DAG: %[[LAST:.*]] = arith.constant 3 : index
// CHECK: %[[W1T:.*]] = linalg.transpose ins(%[[W1]] : tensor<4x6x8xbf16>) outs(%{{.*}} : tensor<4x8x6xbf16>) permutation = [0, 2, 1]
// CHECK: %[[W3T:.*]] = linalg.transpose ins(%[[W3]] : tensor<4x6x8xbf16>) outs(%{{.*}} : tensor<4x8x6xbf16>) permutation = [0, 2, 1]
// CHECK: %[[W2T:.*]] = linalg.transpose ins(%[[W2]] : tensor<4x8x6xbf16>) outs(%{{.*}} : tensor<4x6x8xbf16>) permutation = [0, 2, 1]
// CHECK: %[[UP:.*]]:2 = scf.for %[[B:[a-z0-9]+]] = {{.*}} iter_args({{.*}}) -> (tensor<2x3x2x6xf32>, tensor<2x3x2x6xf32>)
// CHECK: scf.for %[[T:[a-z0-9]+]] =
// CHECK: scf.for %[[J:[a-z0-9]+]] =
// CHECK:   %[[ID:.*]] = tensor.extract %[[E]][%[[B]], %[[T]], %[[J]]] : tensor<2x3x2xi64>
// CHECK:   arith.index_cast %[[ID]]
// CHECK:   %[[IDX:.*]] = arith.minsi %{{.*}}, %[[LAST]] : index
// CHECK:   %[[ROW:.*]] = tensor.extract_slice %[[X]][%[[B]], %[[T]], 0] [1, 1, 8] [1, 1, 1] : tensor<2x3x8xf32> to tensor<8xf32>
// CHECK:   %[[G1:.*]] = tensor.extract_slice %[[W1T]][%[[IDX]], 0, 0] [1, 8, 6] [1, 1, 1] : tensor<4x8x6xbf16> to tensor<8x6xbf16>
// CHECK:   %[[G3:.*]] = tensor.extract_slice %[[W3T]][%[[IDX]], 0, 0] [1, 8, 6] [1, 1, 1] : tensor<4x8x6xbf16> to tensor<8x6xbf16>
// CHECK:   linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[ROW]], %[[G1]] : tensor<8xf32>, tensor<8x6xbf16>)
// CHECK:   linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[ROW]], %[[G3]] : tensor<8xf32>, tensor<8x6xbf16>)
// CHECK:   tensor.insert_slice
// CHECK:   tensor.insert_slice
// SwiGLU:
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[UP]]#0, %[[UP]]#1 : tensor<2x3x2x6xf32>, tensor<2x3x2x6xf32>)
// CHECK:   math.exp
// CHECK:   arith.divf
// CHECK:   arith.mulf
// Down projection against w2[e]:
// CHECK: %[[DOWN:.*]] = scf.for
// CHECK:   tensor.extract %[[E]]
// CHECK:   tensor.extract_slice %[[G]]
// CHECK:   tensor.extract_slice %[[W2T]][%{{.*}}, 0, 0] [1, 6, 8] [1, 1, 1] : tensor<4x6x8xbf16> to tensor<6x8xbf16>
// CHECK:   linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]}
// Weighted sum over the slots, in f32:
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[DOWN]], %[[W]] : tensor<2x3x2x8xf32>, tensor<2x3x2xf32>) outs(%{{.*}} : tensor<2x3x8xf32>)
// CHECK:   arith.mulf
// CHECK:   arith.addf
func.func @experts(%x: tensor<2x3x8xf32>, %w: tensor<2x3x2xf32>, %e: tensor<2x3x2xi64>,
                   %w1: tensor<4x6x8xbf16>, %w3: tensor<4x6x8xbf16>, %w2: tensor<4x8x6xbf16>)
    -> tensor<2x3x8xf32> {
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2)
      : tensor<2x3x8xf32>, tensor<2x3x2xf32>, tensor<2x3x2xi64>,
        tensor<4x6x8xbf16>, tensor<4x6x8xbf16>, tensor<4x8x6xbf16>
  return %y : tensor<2x3x8xf32>
}

// bf16 activations: the intermediates and the routing weight are rounded to
// bf16 as HF's bf16 run rounds them; the result is rounded once more.
// CHECK-LABEL: func.func @experts_bf16
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK-COUNT-4: arith.truncf %{{.*}} : f32 to bf16
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-COUNT-3: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: -> tensor<1x2x8xbf16>
func.func @experts_bf16(%x: tensor<1x2x8xbf16>, %w: tensor<1x2x2xf32>, %e: tensor<1x2x2xi64>,
                        %w1: tensor<4x6x8xbf16>, %w3: tensor<4x6x8xbf16>, %w2: tensor<4x8x6xbf16>)
    -> tensor<1x2x8xbf16> {
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2)
      : tensor<1x2x8xbf16>, tensor<1x2x2xf32>, tensor<1x2x2xi64>,
        tensor<4x6x8xbf16>, tensor<4x6x8xbf16>, tensor<4x8x6xbf16>
  return %y : tensor<1x2x8xbf16>
}
