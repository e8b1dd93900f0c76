// mm01.fusion's verifier: the body must be exactly its kind's pattern.
// RUN: mm01-opt %s --split-input-file --verify-diagnostics

func.func @wrong_op(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{<gated_rms_norm> body op 1 is mm01.silu, expected mm01.sigmoid}}
  %y = mm01.fusion <gated_rms_norm> : tensor<2x8x64xbf16> {
    %n = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    %s = mm01.silu %g : tensor<2x8x64xbf16>
    %m = arith.mulf %n, %s : tensor<2x8x64xbf16>
    mm01.yield %m : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @extra_op(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{<deepnorm_rms_norm> body must be mm01.deepnorm_residual, mm01.rms_norm; found 3 ops}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
    %r = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
    %s = mm01.sigmoid %r : tensor<2x8x64xbf16>
    %n = mm01.rms_norm %s, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    mm01.yield %n : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @norm_of_other(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{intermediate result of mm01.deepnorm_residual must have exactly one use inside the group}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
    %r = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
    %n = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    mm01.yield %n : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @yield_not_root(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{mm01.yield must return the results of mm01.rms_norm, the group's root}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
    %r = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
    %n = mm01.rms_norm %r, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    mm01.yield %x : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @yield_types(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xf32> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{mm01.yield returns ('tensor<2x8x64xbf16>'), expected the group's result types ('tensor<2x8x64xf32>')}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xf32> {
    %r = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
    %n = mm01.rms_norm %r, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    mm01.yield %n : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xf32>
}

// -----

func.func @split_of_other(%p: tensor<1x8x96xbf16>, %s: tensor<1x2x16x16xf32>) -> tensor<1x8x2x16xbf16> {
  // expected-error @below {{intermediate result of mm01.silu must have exactly one use inside the group}}
  %o:2 = mm01.fusion <silu_lightning> : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32> {
    %a = mm01.silu %p : tensor<1x8x96xbf16>
    %q, %k, %v = mm01.split_qkv %p : tensor<1x8x96xbf16> -> tensor<1x8x2x16xbf16>
    %o, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
    mm01.yield %o, %s1 : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
  }
  return %o#0 : tensor<1x8x2x16xbf16>
}

// -----

func.func @swapped_qkv(%p: tensor<1x8x96xbf16>, %s: tensor<1x2x16x16xf32>) -> tensor<1x8x2x16xbf16> {
  // expected-error @below {{the lightning op's q, k, v must be split_qkv's q, k, v}}
  %o:2 = mm01.fusion <silu_lightning> : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32> {
    %a = mm01.silu %p : tensor<1x8x96xbf16>
    %q, %k, %v = mm01.split_qkv %a : tensor<1x8x96xbf16> -> tensor<1x8x2x16xbf16>
    %o, %s1 = mm01.lightning_attention %k, %q, %v, %s decay([0.5, 0.25]) : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
    mm01.yield %o, %s1 : tensor<1x8x2x16xbf16>, tensor<1x2x16x16xf32>
  }
  return %o#0 : tensor<1x8x2x16xbf16>
}

// -----

func.func @rope_of_value(%q: tensor<1x4x2x32xbf16>, %k: tensor<1x4x2x32xbf16>, %v: tensor<1x4x2x32xbf16>,
                         %kc: tensor<1x16x2x32xbf16>, %pos: tensor<1x4xi64>) -> tensor<1x4x2x32xbf16> {
  // expected-error @below {{the two RoPEs must be the attention's query and key}}
  %o:3 = mm01.fusion <rope_attention> : tensor<1x4x2x32xbf16>, tensor<1x16x2x32xbf16>, tensor<1x16x2x32xbf16> {
    %qr = mm01.rope %q, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x2x32xbf16>, tensor<1x4xi64>
    %vr = mm01.rope %v, %pos theta(1.0e4) rotary_dim(16) : tensor<1x4x2x32xbf16>, tensor<1x4xi64>
    %a, %b, %c = mm01.softmax_attention %qr, %k, %vr, cache(%kc, %kc) positions(%pos) scale(0.17677669529663687)
        : tensor<1x4x2x32xbf16>, tensor<1x4x2x32xbf16>, tensor<1x16x2x32xbf16>, tensor<1x4xi64>
    mm01.yield %a, %b, %c : tensor<1x4x2x32xbf16>, tensor<1x16x2x32xbf16>, tensor<1x16x2x32xbf16>
  }
  return %o#0 : tensor<1x4x2x32xbf16>
}

// -----

func.func @args(%x: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  // expected-error @below {{body takes no arguments (it uses values from above)}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
  ^bb0(%a: tensor<2x8x64xbf16>):
    mm01.yield %a : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @gate_of_norm(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{the norm and the gate must both feed the multiply}}
  %y = mm01.fusion <gated_rms_norm> : tensor<2x8x64xbf16> {
    %n = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x8x64xbf16>, tensor<64xbf16>
    %s = mm01.sigmoid %n : tensor<2x8x64xbf16>
    %m = arith.mulf %s, %g : tensor<2x8x64xbf16>
    mm01.yield %m : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}

// -----

func.func @no_yield(%x: tensor<2x8x64xbf16>, %g: tensor<2x8x64xbf16>) -> tensor<2x8x64xbf16> {
  %w = mm01.weight "norm" : tensor<64xbf16>
  // expected-error @below {{body must end in mm01.yield}}
  %y = mm01.fusion <deepnorm_rms_norm> : tensor<2x8x64xbf16> {
    %r = mm01.deepnorm_residual %x, %g alpha(2.0) beta(1.0) : tensor<2x8x64xbf16>
  }
  return %y : tensor<2x8x64xbf16>
}
