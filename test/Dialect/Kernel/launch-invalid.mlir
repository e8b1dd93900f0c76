// mm01k.launch verifier: malformed launches get an error naming the problem.
// RUN: mm01-opt %s --split-input-file --verify-diagnostics

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @neg_smem(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{dynamic_smem must be >= 0, got -16}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = -16 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @too_many_threads(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{block has 2048 threads, more than 1024}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [1024, 2, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @zero_block(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{block dimensions must be >= 1}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 0, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @param_lengths(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{param_names, param_operands, param_offsets and param_exprs must have the same length (2)}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x", "n"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @bad_operand(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{parameter 0 binds operand 3, but the launch has 1}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 3>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @scalar_without_expr(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{parameter 1 is a scalar without an expression}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x", "n"], param_operands = array<i64: 0, -1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @no_kernel(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{names no kernel: @k::@g}}
    %y = mm01k.launch @k::@g grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

// overlap_previous: the launch waits for the grid of the step before it, so
// that step must be a kernel launch.
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_first(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{overlap_previous needs a kernel launch as the previous step, found none}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_gemm(%a: tensor<4x4xbf16>, %x: tensor<4x4xbf16>) -> tensor<4x4xbf16> {
    %g = mm01k.gemm %a, %a outs(%x) {k = "4", m = "4", n = "4"} : tensor<4x4xbf16>, tensor<4x4xbf16>, tensor<4x4xbf16> -> tensor<4x4xbf16>
    %e = tensor.empty() : tensor<4x4xbf16>
    // expected-error @below {{overlap_previous needs a kernel launch as the previous step, found 'mm01k.gemm'}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] ins(%g : tensor<4x4xbf16>) outs(%e : tensor<4x4xbf16>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x", "y"], param_operands = array<i64: 0, 1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""]} -> tensor<4x4xbf16>
    return %y : tensor<4x4xbf16>
  }
}

// -----

// Valid: the step before is a launch (other ops in between are not steps).
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_launch(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    %e = tensor.empty() : tensor<4xf32>
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x", "y"], param_operands = array<i64: 0, 1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

// when: an engine expression (parsed when the engine is written); an empty
// one is a mistake.
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @empty_when(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{when must be a non-empty engine expression}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""], when = ""} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

// An overlapped launch runs exactly when the launch before it runs.
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_other_when(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""], when = "ge(tokens, 16384)"} -> tensor<4xf32>
    %e = tensor.empty() : tensor<4xf32>
    // expected-error @below {{overlap_previous needs the same 'when' as the previous launch, which runs when "ge(tokens, 16384)" (this one runs when "lt(tokens, 16384)")}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x", "y"], param_operands = array<i64: 0, 1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""], when = "lt(tokens, 16384)"} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_conditional(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""], when = "ge(tokens, 16384)"} -> tensor<4xf32>
    %e = tensor.empty() : tensor<4xf32>
    // expected-error @below {{overlap_previous needs the same 'when' as the previous launch, which runs when "ge(tokens, 16384)" (this one runs always)}}
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x", "y"], param_operands = array<i64: 0, 1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

// Valid: the same condition on both launches.
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @overlap_same_when(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""], when = "ge(tokens, 16384)"} -> tensor<4xf32>
    %e = tensor.empty() : tensor<4xf32>
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
           {dynamic_smem = 0 : i64, overlap_previous, param_names = ["x", "y"], param_operands = array<i64: 0, 1>,
            param_offsets = array<i64: 0, 0>, param_exprs = ["", ""], when = "ge(tokens, 16384)"} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}
