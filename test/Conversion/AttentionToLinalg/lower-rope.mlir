// RUN: mm01-opt %s --mm01-lower-rope --split-input-file | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[POS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[FREQ:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @rope_partial
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x5x3x16xf32>, %[[P:[^:]*]]: tensor<2x5xi64>
// inv_freq[i] = 1 / powf(f32(theta), f32(2i) / R), in f32.
// CHECK: %[[INV:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4xf32>)
// CHECK:   %[[I:.*]] = linalg.index 0 : index
// CHECK:   %[[TWO_I:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK:   %[[TWO_I_F:.*]] = arith.sitofp %{{.*}} : i64 to f32
// CHECK:   %[[R:.*]] = arith.constant 8.000000e+00 : f32
// CHECK:   %[[EXP:.*]] = arith.divf %[[TWO_I_F]], %[[R]] : f32
// CHECK:   %[[THETA:.*]] = arith.constant 1.000000e+07 : f32
// CHECK:   %[[POW:.*]] = math.powf %[[THETA]], %[[EXP]] : f32
// CHECK:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:   %[[F:.*]] = arith.divf %[[ONE]], %[[POW]] : f32
// CHECK:   linalg.yield %[[F]] : f32
// The two halves of the first R = 8 channels.
// CHECK: %[[X1:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [2, 5, 3, 4] [1, 1, 1, 1] : tensor<2x5x3x16xf32> to tensor<2x5x3x4xf32>
// CHECK: %[[X2:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 4] [2, 5, 3, 4] [1, 1, 1, 1] : tensor<2x5x3x16xf32> to tensor<2x5x3x4xf32>
// CHECK: %[[ROT:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[POS]], #[[FREQ]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X1]], %[[X2]], %[[P]], %[[INV]] : tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>, tensor<2x5xi64>, tensor<4xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[PI:.*]]: i64, %[[FI:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK:   %[[PF:.*]] = arith.sitofp %[[PI]] : i64 to f32
// CHECK:   %[[ANG:.*]] = arith.mulf %[[PF]], %[[FI]] : f32
// CHECK:   %[[COS:.*]] = math.cos %[[ANG]] : f32
// CHECK:   %[[SIN:.*]] = math.sin %[[ANG]] : f32
// CHECK:   %[[ACOS:.*]] = arith.mulf %[[A]], %[[COS]] : f32
// CHECK:   %[[BSIN:.*]] = arith.mulf %[[B]], %[[SIN]] : f32
// CHECK:   %[[R1:.*]] = arith.subf %[[ACOS]], %[[BSIN]] : f32
// CHECK:   %[[BCOS:.*]] = arith.mulf %[[B]], %[[COS]] : f32
// CHECK:   %[[ASIN:.*]] = arith.mulf %[[A]], %[[SIN]] : f32
// CHECK:   %[[R2:.*]] = arith.addf %[[BCOS]], %[[ASIN]] : f32
// CHECK:   linalg.yield %[[R1]], %[[R2]] : f32, f32
// Channels 8..15 keep the input's values.
// CHECK: %[[Y1:.*]] = tensor.insert_slice %[[ROT]]#0 into %[[X]][0, 0, 0, 0] [2, 5, 3, 4] [1, 1, 1, 1] : tensor<2x5x3x4xf32> into tensor<2x5x3x16xf32>
// CHECK: %[[Y2:.*]] = tensor.insert_slice %[[ROT]]#1 into %[[Y1]][0, 0, 0, 4] [2, 5, 3, 4] [1, 1, 1, 1] : tensor<2x5x3x4xf32> into tensor<2x5x3x16xf32>
// CHECK: return %[[Y2]]
func.func @rope_partial(%x: tensor<2x5x3x16xf32>, %pos: tensor<2x5xi64>) -> tensor<2x5x3x16xf32> {
  %y = mm01.rope %x, %pos theta(10000000.0) rotary_dim(8) : tensor<2x5x3x16xf32>, tensor<2x5xi64>
  return %y : tensor<2x5x3x16xf32>
}

// -----

// CHECK-LABEL: func.func @rope_full_bf16
// CHECK: arith.constant 1.000000e+04 : f32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[A:.*]]: bf16, %[[B:.*]]: bf16, %[[PI:.*]]: i32, %{{.*}}: f32, %{{.*}}: bf16, %{{.*}}: bf16):
// CHECK:   arith.extf %[[A]] : bf16 to f32
// CHECK:   arith.extf %[[B]] : bf16 to f32
// CHECK:   arith.sitofp %[[PI]] : i32 to f32
// CHECK:   %[[T1:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:   %[[T2:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:   linalg.yield %[[T1]], %[[T2]] : bf16, bf16
// CHECK: tensor.insert_slice %{{.*}}#0 into %{{.*}}[0, 0, 0, 0] [1, 4, 2, 4]
// CHECK: tensor.insert_slice %{{.*}}#1 into %{{.*}}[0, 0, 0, 4] [1, 4, 2, 4]
func.func @rope_full_bf16(%x: tensor<1x4x2x8xbf16>, %pos: tensor<1x4xi32>) -> tensor<1x4x2x8xbf16> {
  %y = mm01.rope %x, %pos theta(10000.0) rotary_dim(8) : tensor<1x4x2x8xbf16>, tensor<1x4xi32>
  return %y : tensor<1x4x2x8xbf16>
}
