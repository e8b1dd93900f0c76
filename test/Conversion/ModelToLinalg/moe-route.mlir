// RUN: mm01-opt %s -mm01-lower-to-linalg -canonicalize | FileCheck %s

// softmax in f32 (row max, Σ exp(l - max), exp(l - max) / Σ), then k rounds
// of argmax (a larger probability wins; an equal one only with a lower
// index), masking each winner with -inf, then the chosen weights divided by
// their sum.
// CHECK-LABEL: func.func @route
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK:   arith.extf %{{.*}} : bf16 to f32
// CHECK:   arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK:   arith.subf
// CHECK:   math.exp
// CHECK:   arith.addf
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]], %[[SUM]] : tensor<2x3x4xbf16>, tensor<2x3xf32>, tensor<2x3xf32>) outs(%{{.*}} : tensor<2x3x4xf32>)
// CHECK:   math.exp
// CHECK:   arith.divf
// CHECK: %[[TOP0:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<2x3x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xi64>)
// CHECK: ^bb0(%[[PV:.*]]: f32, %[[BEST:.*]]: f32, %[[BESTI:.*]]: i64):
// CHECK:   %[[E:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK:   %[[GT:.*]] = arith.cmpf ogt, %[[PV]], %[[BEST]] : f32
// CHECK:   %[[EQ:.*]] = arith.cmpf oeq, %[[PV]], %[[BEST]] : f32
// CHECK:   %[[LOWER:.*]] = arith.cmpi slt, %[[E]], %[[BESTI]] : i64
// CHECK:   %[[TIE:.*]] = arith.andi %[[EQ]], %[[LOWER]] : i1
// CHECK:   %[[TAKE:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// CHECK:   arith.select %[[TAKE]], %[[PV]], %[[BEST]] : f32
// CHECK:   arith.select %[[TAKE]], %[[E]], %[[BESTI]] : i64
// CHECK: %[[MASKED:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[TOP0]]#1 : tensor<2x3x4xf32>, tensor<2x3xi64>)
// CHECK:   arith.cmpi eq
// CHECK:   arith.select %{{.*}}, %[[NEGINF]], %{{.*}} : f32
// CHECK: %[[TOP1:.*]]:2 = linalg.generic {{.*}} ins(%[[MASKED]] : tensor<2x3x4xf32>)
// CHECK: %[[OUT:.*]]:2 = linalg.generic {{.*}} ins(%[[TOP0]]#0, %[[TOP1]]#0, %[[TOP0]]#1, %[[TOP1]]#1 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xi64>) outs(%{{.*}}, %{{.*}} : tensor<2x3x2xf32>, tensor<2x3x2xi32>)
// CHECK:   %[[S:.*]] = arith.addf
// CHECK:   arith.divf %{{.*}}, %[[S]] : f32
// CHECK:   arith.trunci %{{.*}} : i64 to i32
// CHECK: return %[[OUT]]#0, %[[OUT]]#1
func.func @route(%l: tensor<2x3x4xbf16>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi32>) {
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x3x4xbf16> -> tensor<2x3x2xf32>, tensor<2x3x2xi32>
  return %w, %e : tensor<2x3x2xf32>, tensor<2x3x2xi32>
}
