// RUN: mm01-opt %s -mm01-lower-to-linalg -canonicalize | FileCheck %s

// embedding: a gather (tensor.extract at the clamped id) in a generic over
// the result, converted to the result element type.
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[IDS:.*]]: tensor<2x3xi64>, %[[T:.*]]: tensor<16x8xbf16>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[LAST:.*]] = arith.constant 15 : index
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[IDS]] : tensor<2x3xi64>) outs(%{{.*}} : tensor<2x3x8xf32>)
// CHECK: ^bb0(%[[ID:.*]]: i64, %{{.*}}: f32):
// CHECK:   %[[I:.*]] = arith.index_cast %[[ID]] : i64 to index
// CHECK:   %[[LO:.*]] = arith.maxsi %[[I]], %[[C0]] : index
// CHECK:   %[[ROW:.*]] = arith.minsi %[[LO]], %[[LAST]] : index
// CHECK:   %[[COL:.*]] = linalg.index 2 : index
// CHECK:   %[[V:.*]] = tensor.extract %[[T]][%[[ROW]], %[[COL]]] : tensor<16x8xbf16>
// CHECK:   %[[F:.*]] = arith.extf %[[V]] : bf16 to f32
// CHECK:   linalg.yield %[[F]] : f32
func.func @embedding(%ids: tensor<2x3xi64>, %t: tensor<16x8xbf16>) -> tensor<2x3x8xf32> {
  %x = mm01.embedding %t[%ids] : tensor<16x8xbf16>, tensor<2x3xi64> -> tensor<2x3x8xf32>
  return %x : tensor<2x3x8xf32>
}

// rms_norm: Σx² in f32 over the last dimension, then
// w ⊙ cast_back(x_f32 · rsqrt(Σ/N + eps)) with the product in the input type.
// CHECK-LABEL: func.func @rms_norm_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xbf16>, %[[W:.*]]: tensor<8xbf16>)
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[N:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x3x8xbf16>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK:   %[[XF:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK:   %[[SQ:.*]] = arith.mulf %[[XF]], %[[XF]] : f32
// CHECK:   arith.addf %{{.*}}, %[[SQ]] : f32
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[SUM]], %[[W]] : tensor<2x3x8xbf16>, tensor<2x3xf32>, tensor<8xbf16>) outs(%{{.*}} : tensor<2x3x8xbf16>)
// CHECK: ^bb0(%[[XV:.*]]: bf16, %[[S:.*]]: f32, %[[WV:.*]]: bf16, %{{.*}}: bf16):
// CHECK:   %[[XF2:.*]] = arith.extf %[[XV]] : bf16 to f32
// CHECK:   %[[MEAN:.*]] = arith.divf %[[S]], %[[N]] : f32
// CHECK:   %[[VAR:.*]] = arith.addf %[[MEAN]], %[[EPS]] : f32
// CHECK:   %[[INV:.*]] = math.rsqrt %[[VAR]] : f32
// CHECK:   %[[NF:.*]] = arith.mulf %[[XF2]], %[[INV]] : f32
// CHECK:   %[[NB:.*]] = arith.truncf %[[NF]] : f32 to bf16
// CHECK:   %[[R:.*]] = arith.mulf %[[WV]], %[[NB]] : bf16
// CHECK:   linalg.yield %[[R]] : bf16
func.func @rms_norm_bf16(%x: tensor<2x3x8xbf16>, %w: tensor<8xbf16>) -> tensor<2x3x8xbf16> {
  %h = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x3x8xbf16>, tensor<8xbf16>
  return %h : tensor<2x3x8xbf16>
}

// With f32 activations the weight is extended and nothing is truncated.
// CHECK-LABEL: func.func @rms_norm_f32
// CHECK-NOT: arith.truncf
// CHECK: math.rsqrt
// CHECK: %[[WF:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf %[[WF]], %{{.*}} : f32
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @rms_norm_f32(%x: tensor<5x8xf32>, %w: tensor<8xbf16>) -> tensor<5x8xf32> {
  %h = mm01.rms_norm %x, %w eps(1.0e-6) : tensor<5x8xf32>, tensor<8xbf16>
  return %h : tensor<5x8xf32>
}
