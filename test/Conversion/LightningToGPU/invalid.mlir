// RUN: mm01-opt %s --mm01-lightning-decode-to-gpu -split-input-file -verify-diagnostics

func.func @f16(%q: tensor<1x1x2x64xf16>, %s: tensor<1x2x64x64xf32>) -> tensor<1x1x2x64xf16> {
  // expected-error @+1 {{'mm01.lightning_decode' op cannot be lowered by mm01-lightning-decode-to-gpu: element type 'f16' is not supported (f32 or bf16)}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x1x2x64xf16>, tensor<1x2x64x64xf32>
  return %o : tensor<1x1x2x64xf16>
}

// -----

func.func @dynamic_t(%q: tensor<1x?x2x64xf32>, %s: tensor<1x2x64x64xf32>) -> tensor<1x?x2x64xf32> {
  // expected-error @+1 {{T, H and D must be static (only B may be dynamic)}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x?x2x64xf32>, tensor<1x2x64x64xf32>
  return %o : tensor<1x?x2x64xf32>
}

// -----

func.func @d_not_divisible(%q: tensor<1x1x2x32xf32>, %s: tensor<1x2x32x32xf32>) -> tensor<1x1x2x32xf32> {
  // expected-error @+1 {{D = 32 is not divisible by block-columns = 64}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x1x2x32xf32>, tensor<1x2x32x32xf32>
  return %o : tensor<1x1x2x32xf32>
}
