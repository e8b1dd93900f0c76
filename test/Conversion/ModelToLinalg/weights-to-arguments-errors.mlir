// RUN: mm01-opt %s -split-input-file -mm01-weights-to-arguments -verify-diagnostics

func.func @two_types(%x: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xf32>) {
  %a = mm01.weight "a.weight" : tensor<4xbf16>
  // expected-error @below {{weight 'a.weight' is used with two types: 'tensor<4xbf16>' and 'tensor<4xf32>'}}
  %b = mm01.weight "a.weight" : tensor<4xf32>
  return %a, %b : tensor<4xbf16>, tensor<4xf32>
}

// -----

func.func @inside_layer(%x: tensor<1x2x4xf32>, %s: tensor<1x1x4x4xf32>)
    -> (tensor<1x2x4xf32>, tensor<1x1x4x4xf32>) {
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<1x2x4xf32>, tensor<1x1x4x4xf32>) -> (tensor<1x2x4xf32>, tensor<1x1x4x4xf32>) {
  ^bb0(%a: tensor<1x2x4xf32>, %b: tensor<1x1x4x4xf32>):
    // expected-error @below {{weight 'model.layers.0.input_layernorm.weight' is inside the isolated region of 'mm01.decoder_layer': run mm01-inline-layers first}}
    %w = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<4xbf16>
    %n = mm01.rms_norm %a, %w eps(1.0e-5) : tensor<1x2x4xf32>, tensor<4xbf16>
    mm01.yield %n, %b : tensor<1x2x4xf32>, tensor<1x1x4x4xf32>
  }
  return %y, %s1 : tensor<1x2x4xf32>, tensor<1x1x4x4xf32>
}
