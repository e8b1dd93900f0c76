// RUN: mm01-opt %s -mm01-weights-to-arguments | FileCheck %s

// Each distinct weight becomes one trailing argument, in first-use order;
// `mm01.weights` lists the names (expert stacks by their name_format).
// CHECK-LABEL: func.func @prefill
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x4xf32>, %[[A:.*]]: tensor<4xbf16>, %[[B:.*]]: tensor<4x4xbf16>, %[[E:.*]]: tensor<2x3x4xbf16>)
// CHECK-SAME: mm01.weights = ["a.weight", "b.weight", "layers.0.experts.{e}.w1.weight"]
// CHECK-NOT: mm01.weight
// CHECK-NOT: mm01.expert_weights
// CHECK: %[[N:.*]] = mm01.rms_norm %[[X]], %[[A]]
// CHECK: %[[L:.*]] = mm01.linear %[[N]], %[[B]]
// CHECK: mm01.rms_norm %[[L]], %[[A]]
// CHECK: return %{{.*}}, %[[E]]
func.func @prefill(%x: tensor<1x2x4xf32>) -> (tensor<1x2x4xf32>, tensor<2x3x4xbf16>) {
  %a = mm01.weight "a.weight" : tensor<4xbf16>
  %n = mm01.rms_norm %x, %a eps(1.0e-6) : tensor<1x2x4xf32>, tensor<4xbf16>
  %b = mm01.weight "b.weight" : tensor<4x4xbf16>
  %l = mm01.linear %n, %b : tensor<1x2x4xf32>, tensor<4x4xbf16> -> tensor<1x2x4xf32>
  %a2 = mm01.weight "a.weight" : tensor<4xbf16>
  %m = mm01.rms_norm %l, %a2 eps(1.0e-6) : tensor<1x2x4xf32>, tensor<4xbf16>
  %e = mm01.expert_weights "layers.0.experts.{e}.w1.weight" : tensor<2x3x4xbf16>
  return %m, %e : tensor<1x2x4xf32>, tensor<2x3x4xbf16>
}

// Every function gets its own arguments and list.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%{{.*}}: tensor<1x1x4xf32>, %{{.*}}: tensor<4xbf16>)
// CHECK-SAME: mm01.weights = ["a.weight"]
func.func @decode(%x: tensor<1x1x4xf32>) -> tensor<1x1x4xf32> {
  %a = mm01.weight "a.weight" : tensor<4xbf16>
  %n = mm01.rms_norm %x, %a eps(1.0e-6) : tensor<1x1x4xf32>, tensor<4xbf16>
  return %n : tensor<1x1x4xf32>
}

// A function without weights is left alone.
// CHECK-LABEL: func.func @no_weights(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func @no_weights(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
