// RUN: mm01-opt %s -mm01-lower-to-linalg | FileCheck %s

// split_qkv is per-head interleaved: [B, T, 3HD] -> [B, T, H, 3, D], then
// q, k, v are the slices at index 0, 1, 2 of the "3" dimension.
// CHECK-LABEL: func.func @split_qkv
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3, 4]] output_shape [2, 3, 2, 3, 4] : tensor<2x3x24xf32> into tensor<2x3x2x3x4xf32>
// CHECK: %[[Q:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 0, 0] [2, 3, 2, 1, 4] [1, 1, 1, 1, 1] : tensor<2x3x2x3x4xf32> to tensor<2x3x2x4xf32>
// CHECK: %[[K:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 1, 0] [2, 3, 2, 1, 4] [1, 1, 1, 1, 1] : tensor<2x3x2x3x4xf32> to tensor<2x3x2x4xf32>
// CHECK: %[[V:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 2, 0] [2, 3, 2, 1, 4] [1, 1, 1, 1, 1] : tensor<2x3x2x3x4xf32> to tensor<2x3x2x4xf32>
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @split_qkv(%qkv: tensor<2x3x24xf32>)
    -> (tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>) {
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x3x24xf32> -> tensor<2x3x2x4xf32>
  return %q, %k, %v : tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>
}

// CHECK-LABEL: func.func @split_merge
// CHECK: %[[S:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 2, 4] : tensor<2x3x8xf32> into tensor<2x3x2x4xf32>
// CHECK: %[[M:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<2x3x2x4xf32> into tensor<2x3x8xf32>
// CHECK: return %[[S]], %[[M]]
func.func @split_merge(%x: tensor<2x3x8xf32>, %h: tensor<2x3x2x4xf32>)
    -> (tensor<2x3x2x4xf32>, tensor<2x3x8xf32>) {
  %s = mm01.split_heads %x : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %m = mm01.merge_heads %h : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
  return %s, %m : tensor<2x3x2x4xf32>, tensor<2x3x8xf32>
}

// Dynamic batch and sequence lengths are fine for the reshapes.
// CHECK-LABEL: func.func @split_dynamic
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 2, 4] : tensor<?x?x8xf32> into tensor<?x?x2x4xf32>
func.func @split_dynamic(%x: tensor<?x?x8xf32>) -> tensor<?x?x2x4xf32> {
  %s = mm01.split_heads %x : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
  return %s : tensor<?x?x2x4xf32>
}
