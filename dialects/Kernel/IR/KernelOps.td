//===- KernelOps.td - the mm01k kernel/schedule-level dialect -*- tablegen -*-===//
//
// After mm01-model-to-kernels a model function is a straight-line list of
// kernel launches and library calls on tensors: the order is the launch
// schedule, every tensor is a buffer-to-be. Kernels themselves are gpu.func
// ops in gpu.modules generated per shape; a launch names one and binds each
// of its parameters to an operand (plus an element offset: views such as a
// head's q inside an interleaved qkv projection cost nothing) or to an
// integer expression over the call's sizes (docs/engine-format.md).
// Destination-passing style: results are the `outs` operands updated, so
// in-place state updates and fresh outputs (tensor.empty) read the same.
//
//===----------------------------------------------------------------------===//
#ifndef MM01K_OPS
#define MM01K_OPS

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def MM01K_Dialect : Dialect {
  let name = "mm01k";
  let cppNamespace = "::mm01::kernel";
  let summary = "Kernel-level schedule of an mm01 engine: launches of generated GPU kernels and library calls";
  let description = [{
    The output of `mm01-model-to-kernels` and the input of buffer planning
    and engine serialization. Values are tensors standing for device
    buffers; ops run in program order on one stream. Sizes that depend on
    the call (`tokens`, `batch`, ...) are engine expressions
    (docs/engine-format.md), kept as strings.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class MM01K_Op<string mnemonic, list<Trait> traits = []>
    : Op<MM01K_Dialect, mnemonic, traits>;

def MM01K_LaunchOp : MM01K_Op<"launch", [AttrSizedOperandSegments]> {
  let summary = "launch a generated gpu.func";
  let description = [{
    Launches `kernel` (a `gpu.func` in a `gpu.module` of the enclosing
    module) on `grid` (three engine expressions) × `block` threads with
    `dynamic_smem` bytes of dynamic shared memory. Parameter `i` of the
    kernel, named `param_names[i]`, is bound to operand
    `param_operands[i]` (an index into `inputs ++ outs`) at element offset
    `param_offsets[i]`, or, when `param_operands[i]` is -1, to the integer
    expression `param_exprs[i]`. Result `j` is `outs[j]` after the kernel
    wrote it.

    With `when` (an engine expression) the launch runs only for calls where
    it evaluates to nonzero, e.g. `when = "ge(tokens, 16384)"`: a schedule
    holds alternative kernel plans this way, chosen per call by its size
    (the engine step's `when`, docs/engine-format.md). Without it the launch
    runs for every call.

    With `overlap_previous` the launch may overlap the previous launch of
    the schedule (programmatic dependent launch): the kernel reads what that
    launch wrote only after `nvvm.griddepcontrol wait`, and everything else
    it reads was written before that launch started. The verifier rejects it
    where the previous step (`mm01k.launch` or `mm01k.gemm`) is not a kernel
    launch, or is a launch with another `when` (it could be skipped when
    this one runs).

    ```mlir
    %y = mm01k.launch @mm01_kernels::@rms_norm_d256_bf16 grid ["tokens", "1", "1"] block [256, 1, 1]
           ins(%x, %w : tensor<2048x256xbf16>, tensor<256xbf16>) outs(%e : tensor<2048x256xbf16>)
           {dynamic_smem = 0 : i64, param_names = ["x", "w", "y", "tokens"],
            param_operands = array<i64: 0, 1, 2, -1>, param_offsets = array<i64: 0, 0, 0, 0>,
            param_exprs = ["", "", "", "tokens"]} -> tensor<2048x256xbf16>
    ```
  }];
  let arguments = (ins SymbolRefAttr:$kernel, StrArrayAttr:$grid,
                       DenseI64ArrayAttr:$block, I64Attr:$dynamic_smem,
                       StrArrayAttr:$param_names,
                       DenseI64ArrayAttr:$param_operands,
                       DenseI64ArrayAttr:$param_offsets,
                       StrArrayAttr:$param_exprs,
                       UnitAttr:$overlap_previous,
                       OptionalAttr<StrAttr>:$when,
                       Variadic<AnyRankedTensor>:$inputs,
                       Variadic<AnyRankedTensor>:$outs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kernel `grid` $grid `block` $block
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    (`outs` `(` $outs^ `:` type($outs) `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let hasVerifier = 1;
}

def MM01K_GemmOp : MM01K_Op<"gemm"> {
  let summary = "a cuBLASLt matmul: C[M, N] = alpha · A[M, K] · op(B) + beta · C";
  let description = [{
    Row-major. With `trans_b`, B is stored `[N, K]` (the `y = x · Wᵀ` of
    every linear). `m`, `n`, `k` are engine expressions; `lda`, `ldb`, `ldc`
    leading dimensions in elements (0: dense). `a_offset`, `b_offset`,
    `c_offset` are element offsets into the operands. The result is `c`
    after the call. Chosen by mm01-model-to-kernels for dense projections.
  }];
  let arguments = (ins AnyRankedTensor:$a, AnyRankedTensor:$b,
                       AnyRankedTensor:$c,
                       StrAttr:$m, StrAttr:$n, StrAttr:$k,
                       UnitAttr:$trans_b,
                       DefaultValuedAttr<I64Attr, "0">:$lda,
                       DefaultValuedAttr<I64Attr, "0">:$ldb,
                       DefaultValuedAttr<I64Attr, "0">:$ldc,
                       DefaultValuedAttr<I64Attr, "0">:$a_offset,
                       DefaultValuedAttr<I64Attr, "0">:$b_offset,
                       DefaultValuedAttr<I64Attr, "0">:$c_offset,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F64Attr, "0.0">:$beta);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $a `,` $b `outs` `(` $c `)` attr-dict `:` type($a) `,` type($b) `,` type($c) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // MM01K_OPS
