// RUN: mm01-opt %s --mm01-lower-softmax-attention --split-input-file | FileCheck %s

// CHECK-DAG: #[[Q_MAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KC_MAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d2 floordiv 2, d4)>
// CHECK-DAG: #[[S5_MAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[POS_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[ROW_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[VC_MAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2 floordiv 2, d3)>
// CHECK-LABEL: func.func @prefill_gqa
// CHECK-SAME: %[[Q:[^:]*]]: tensor<2x3x4x8xf32>, %[[K:[^:]*]]: tensor<2x3x2x8xf32>, %[[V:[^:]*]]: tensor<2x3x2x8xf32>, %[[KC:[^:]*]]: tensor<2x16x2x8xf32>, %[[VC:[^:]*]]: tensor<2x16x2x8xf32>, %[[POS:[^:]*]]: tensor<2x3xi64>
// 1. Cache update: rows positions[b, t] receive k[b, t], v[b, t].
// CHECK: %[[CACHES:.*]]:2 = scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[KC0:.*]] = %[[KC]], %[[VC0:.*]] = %[[VC]])
// CHECK:   scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[KC1:.*]] = %[[KC0]], %[[VC1:.*]] = %[[VC0]])
// CHECK:     %[[P:.*]] = tensor.extract %[[POS]][%[[B]], %[[T]]] : tensor<2x3xi64>
// CHECK:     cf.assert %{{.*}}, "mm01.softmax_attention: position outside the KV cache"
// CHECK:     %[[ROW:.*]] = arith.index_cast %[[P]] : i64 to index
// CHECK:     %[[KROW:.*]] = tensor.extract_slice %[[K]][%[[B]], %[[T]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1]
// CHECK:     %[[VROW:.*]] = tensor.extract_slice %[[V]][%[[B]], %[[T]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1]
// CHECK:     %[[KC2:.*]] = tensor.insert_slice %[[KROW]] into %[[KC1]][%[[B]], %[[ROW]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1]
// CHECK:     %[[VC2:.*]] = tensor.insert_slice %[[VROW]] into %[[VC1]][%[[B]], %[[ROW]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1]
// CHECK:     scf.yield %[[KC2]], %[[VC2]]
// 2. Scores over every cache row, KV head h floordiv (H / Hkv).
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[Q_MAP]], #[[KC_MAP]], #[[S5_MAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[CACHES]]#0 : tensor<2x3x4x8xf32>, tensor<2x16x2x8xf32>) outs(%{{.*}} : tensor<2x3x4x16xf32>)
// Scale, and -inf on the rows j > positions[b, t] (before the max).
// CHECK: %[[MASKED:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[POS_MAP]], #[[ID4]]], {{.*}}} ins(%[[S]], %[[POS]] : tensor<2x3x4x16xf32>, tensor<2x3xi64>)
// CHECK:   %[[J:.*]] = linalg.index 3 : index
// CHECK:   %[[PJ:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:   %[[VISIBLE:.*]] = arith.cmpi sle, %[[J]], %[[PJ]] : index
// CHECK:   %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK:   %[[SCALED:.*]] = arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:   %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:   arith.select %[[VISIBLE]], %[[SCALED]], %[[NINF]] : f32
// Numerically stable softmax: max, exp(s - max), sum, divide.
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW_MAP]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[MASKED]] : tensor<2x3x4x16xf32>)
// CHECK:   arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[MASKED]], %[[MAX]] : tensor<2x3x4x16xf32>, tensor<2x3x4xf32>)
// CHECK:   arith.subf
// CHECK:   math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[E]] : tensor<2x3x4x16xf32>)
// CHECK:   arith.addf
// CHECK: %[[PROBS:.*]] = linalg.generic {{.*}} ins(%[[E]], %[[SUM]] : tensor<2x3x4x16xf32>, tensor<2x3x4xf32>)
// CHECK:   arith.divf
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[Q_MAP]], #[[VC_MAP]], #[[S5_MAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PROBS]], %[[CACHES]]#1 : tensor<2x3x4x16xf32>, tensor<2x16x2x8xf32>) outs(%{{.*}} : tensor<2x3x4x8xf32>)
// CHECK: return %[[O]], %[[CACHES]]#0, %[[CACHES]]#1
func.func @prefill_gqa(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x2x8xf32>, %v: tensor<2x3x2x8xf32>,
                       %kc: tensor<2x16x2x8xf32>, %vc: tensor<2x16x2x8xf32>, %pos: tensor<2x3xi64>)
    -> (tensor<2x3x4x8xf32>, tensor<2x16x2x8xf32>, tensor<2x16x2x8xf32>) {
  %o, %kc1, %vc1 = mm01.softmax_attention %q, %k, %v, cache(%kc, %vc) positions(%pos) scale(0.35355339059327373)
      : tensor<2x3x4x8xf32>, tensor<2x3x2x8xf32>, tensor<2x16x2x8xf32>, tensor<2x3xi64>
  return %o, %kc1, %vc1 : tensor<2x3x4x8xf32>, tensor<2x16x2x8xf32>, tensor<2x16x2x8xf32>
}

// -----

// CHECK-LABEL: func.func @decode_bf16
// CHECK: cf.assert
// CHECK: arith.index_cast %{{.*}} : i32 to index
// CHECK: linalg.generic
// CHECK: ^bb0(%{{.*}}: bf16, %{{.*}}: bf16, %{{.*}}: f32):
// CHECK:   arith.extf
// CHECK:   arith.extf
// CHECK: } -> tensor<1x1x2x16xf32>
// CHECK: arith.constant 1.250000e-01 : f32
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: bf16, %{{.*}}: f32):
// CHECK: } -> tensor<1x1x2x8xf32>
// CHECK: %[[O:.*]] = linalg.generic
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: } -> tensor<1x1x2x8xbf16>
// CHECK: return %[[O]], %{{.*}}#0, %{{.*}}#1 : tensor<1x1x2x8xbf16>, tensor<1x16x1x8xbf16>, tensor<1x16x1x8xbf16>
func.func @decode_bf16(%q: tensor<1x1x2x8xbf16>, %k: tensor<1x1x1x8xbf16>, %v: tensor<1x1x1x8xbf16>,
                       %kc: tensor<1x16x1x8xbf16>, %vc: tensor<1x16x1x8xbf16>, %pos: tensor<1x1xi32>)
    -> (tensor<1x1x2x8xbf16>, tensor<1x16x1x8xbf16>, tensor<1x16x1x8xbf16>) {
  %o, %kc1, %vc1 = mm01.softmax_attention %q, %k, %v, cache(%kc, %vc) positions(%pos) scale(0.125)
      : tensor<1x1x2x8xbf16>, tensor<1x1x1x8xbf16>, tensor<1x16x1x8xbf16>, tensor<1x1xi32>
  return %o, %kc1, %vc1 : tensor<1x1x2x8xbf16>, tensor<1x16x1x8xbf16>, tensor<1x16x1x8xbf16>
}
