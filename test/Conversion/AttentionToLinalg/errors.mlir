// RUN: mm01-opt %s --split-input-file --verify-diagnostics \
// RUN:   --mm01-lower-lightning --mm01-lower-rope --mm01-lower-softmax-attention
// RUN: not mm01-opt %s --split-input-file --mm01-lower-lightning=chunk-size=0 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CHUNK

// CHUNK: error: mm01-lower-lightning: chunk-size must be positive, found 0

func.func @lightning_dynamic_seq(%q: tensor<1x?x2x8xf32>, %s: tensor<1x2x8x8xf32>)
    -> (tensor<1x?x2x8xf32>, tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{'mm01.lightning_attention' op cannot be lowered by mm01-lower-lightning: it needs static shapes, but operand #0 has type 'tensor<1x?x2x8xf32>'}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x?x2x8xf32>, tensor<1x2x8x8xf32>
  return %o, %s1 : tensor<1x?x2x8xf32>, tensor<1x2x8x8xf32>
}

// -----

func.func @lightning_dynamic_batch_state(%q: tensor<1x1x2x8xf32>, %s: tensor<?x2x8x8xf32>)
    -> (tensor<1x1x2x8xf32>, tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{'mm01.lightning_decode' op cannot be lowered by mm01-lower-lightning: it needs static shapes, but operand #3 has type 'tensor<?x2x8x8xf32>'}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x1x2x8xf32>, tensor<?x2x8x8xf32>
  return %o, %s1 : tensor<1x1x2x8xf32>, tensor<?x2x8x8xf32>
}

// -----

func.func @lightning_f64(%q: tensor<1x4x1x8xf64>, %s: tensor<1x1x8x8xf32>)
    -> (tensor<1x4x1x8xf64>, tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{'mm01.lightning_attention' op cannot be lowered: query element type 'f64' is not supported (the lowering computes in f32; inputs of at most 32 bits are accepted)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.5])
      : tensor<1x4x1x8xf64>, tensor<1x1x8x8xf32>
  return %o, %s1 : tensor<1x4x1x8xf64>, tensor<1x1x8x8xf32>
}

// -----

func.func @rope_dynamic(%x: tensor<?x4x2x8xf32>, %pos: tensor<?x4xi64>) -> tensor<?x4x2x8xf32> {
  // expected-error @+1 {{'mm01.rope' op cannot be lowered by mm01-lower-rope: it needs static shapes, but operand #0 has type 'tensor<?x4x2x8xf32>'}}
  %y = mm01.rope %x, %pos theta(10000.0) rotary_dim(4) : tensor<?x4x2x8xf32>, tensor<?x4xi64>
  return %y : tensor<?x4x2x8xf32>
}

// -----

func.func @rope_f64(%x: tensor<1x4x2x8xf64>, %pos: tensor<1x4xi64>) -> tensor<1x4x2x8xf64> {
  // expected-error @+1 {{'mm01.rope' op cannot be lowered: input element type 'f64' is not supported}}
  %y = mm01.rope %x, %pos theta(10000.0) rotary_dim(4) : tensor<1x4x2x8xf64>, tensor<1x4xi64>
  return %y : tensor<1x4x2x8xf64>
}

// -----

func.func @softmax_dynamic_cache(%q: tensor<1x2x2x8xf32>, %k: tensor<1x2x1x8xf32>,
                                 %kc: tensor<1x?x1x8xf32>, %pos: tensor<1x2xi64>)
    -> (tensor<1x2x2x8xf32>, tensor<1x?x1x8xf32>, tensor<1x?x1x8xf32>) {
  // expected-error @+1 {{'mm01.softmax_attention' op cannot be lowered by mm01-lower-softmax-attention: it needs static shapes, but operand #3 has type 'tensor<1x?x1x8xf32>'}}
  %o, %kc1, %vc1 = mm01.softmax_attention %q, %k, %k, cache(%kc, %kc) positions(%pos) scale(0.125)
      : tensor<1x2x2x8xf32>, tensor<1x2x1x8xf32>, tensor<1x?x1x8xf32>, tensor<1x2xi64>
  return %o, %kc1, %vc1 : tensor<1x2x2x8xf32>, tensor<1x?x1x8xf32>, tensor<1x?x1x8xf32>
}

// -----

func.func @softmax_f64(%q: tensor<1x2x2x8xf64>, %k: tensor<1x2x1x8xf64>,
                       %kc: tensor<1x4x1x8xf64>, %pos: tensor<1x2xi64>)
    -> (tensor<1x2x2x8xf64>, tensor<1x4x1x8xf64>, tensor<1x4x1x8xf64>) {
  // expected-error @+1 {{'mm01.softmax_attention' op cannot be lowered: query element type 'f64' is not supported}}
  %o, %kc1, %vc1 = mm01.softmax_attention %q, %k, %k, cache(%kc, %kc) positions(%pos) scale(0.125)
      : tensor<1x2x2x8xf64>, tensor<1x2x1x8xf64>, tensor<1x4x1x8xf64>, tensor<1x2xi64>
  return %o, %kc1, %vc1 : tensor<1x2x2x8xf64>, tensor<1x4x1x8xf64>, tensor<1x4x1x8xf64>
}
