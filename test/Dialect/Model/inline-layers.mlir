// RUN: mm01-opt %s -mm01-inline-layers | FileCheck %s

// CHECK-LABEL: func.func @one_layer
// CHECK-NOT: mm01.decoder_layer
// CHECK: %[[N:.*]] = mm01.rms_norm %arg0, %{{.*}} eps(1.000000e-05)
// CHECK: return %[[N]], %arg1
func.func @one_layer(%x: tensor<2x8x16xf32>, %s: tensor<2x4x8x8xf32>)
    -> (tensor<2x8x16xf32>, tensor<2x4x8x8xf32>) {
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<2x8x16xf32>, tensor<2x4x8x8xf32>) -> (tensor<2x8x16xf32>, tensor<2x4x8x8xf32>) {
  ^bb0(%a: tensor<2x8x16xf32>, %b: tensor<2x4x8x8xf32>):
    %w = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<16xbf16>
    %n = mm01.rms_norm %a, %w eps(1.0e-5) : tensor<2x8x16xf32>, tensor<16xbf16>
    mm01.yield %n, %b : tensor<2x8x16xf32>, tensor<2x4x8x8xf32>
  }
  return %y, %s1 : tensor<2x8x16xf32>, tensor<2x4x8x8xf32>
}
