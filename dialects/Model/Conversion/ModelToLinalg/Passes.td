//===- Passes.td - mm01 model-level IR to upstream linalg ----*- tablegen -*-===//
//
// The CPU path: model-level ops become linalg-on-tensors (plus tensor/arith/
// math), weights become function arguments, and the `mm01-cpu-pipeline`
// takes the result down to the LLVM dialect for the JIT.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_TO_LINALG_PASSES
#define MM01_MODEL_TO_LINALG_PASSES

include "mlir/Pass/PassBase.td"

def MM01LowerToLinalg : Pass<"mm01-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower mm01 compute ops (not attention) to linalg on tensors";
  let description = [{
    Rewrites `mm01.embedding`, `rms_norm`, `linear`, `silu`, `sigmoid`,
    `deepnorm_residual`, `split_heads`, `merge_heads`, `split_qkv`,
    `moe_route` and `moe_experts` into `linalg.generic` / `linalg.fill`,
    `tensor` reshapes and slices, and `arith` / `math` scalar code.

    Numerics (the CPU target is the f32 reference):
    - every reduction (norm statistics, matmul K sums, the router softmax,
      the expert sums) accumulates in f32; bf16 weights are extended to f32
      inside the loops;
    - `rms_norm` computes `w ⊙ cast_back(x_f32 · rsqrt(mean(x_f32²) + eps))`
      with the product in the activation type (HF's order);
    - `linear` against `W [N, K]` first transposes `W` to `[K, N]` (a cheap
      copy) so the inner loop runs over contiguous output columns;
    - with bf16 activations every op result is rounded to bf16 where HF's
      bf16 run rounds it (linear outputs, SiLU, DeepNorm products, expert
      intermediates and the routing weights inside `moe_experts`).
    - `moe_route`: softmax in f32, top-k by repeated argmax (ties to the lower
      expert index), renormalised over the chosen k.
    - `moe_experts` computes only the chosen experts: an `scf.for` nest over
      the routed (token, slot) pairs reads the expert index once and runs a
      small `linalg.generic` against that expert's weight slice.

    Embedding ids and expert indices are clamped into range (an out-of-range
    id reads row 0 or V-1 instead of faulting).

    mm01.weight / mm01.expert_weights, the attention ops and arith ops on
    tensors are left alone (see `mm01-weights-to-arguments`, the
    AttentionToLinalg passes and `convert-elementwise-to-linalg`).
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"];
}

def MM01InterchangeReductions : Pass<"mm01-interchange-reductions", "mlir::ModuleOp"> {
  let summary = "Reorder contraction loops so the inner loop runs over output columns";
  let description = [{
    For every linalg contraction whose innermost iteration dimension is a
    reduction (named ops like `linalg.batch_matmul` are generalised first),
    moves the dimension that indexes the last (contiguous) dimension of every
    output innermost, after the reductions: `(b, m, n, k)` becomes
    `(b, m, k, n)`. `convert-linalg-to-loops` then emits an axpy inner loop
    that LLVM vectorises; each output element still sums its terms in the
    same order, so results are bit-identical. Ops where an input uses that
    dimension other than as its last index (e.g. `Q Kᵀ`) are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MM01WeightsToArguments : Pass<"mm01-weights-to-arguments", "mlir::ModuleOp"> {
  let summary = "Turn mm01.weight / mm01.expert_weights into function arguments";
  let description = [{
    In each `func.func`, replaces every `mm01.weight` and
    `mm01.expert_weights` by a new trailing argument of its type. Ops with the
    same name share one argument (the same name with two types is an error).
    The function gets the attribute `mm01.weights`: an array of the names, in
    argument order, after the original arguments. An entry containing `{e}`
    is an expert `name_format`: its argument is the stack over experts. Runs
    after `mm01-inline-layers` (a weight inside an isolated region is an
    error). Running it again appends to the list.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def MM01StridedCopyToLinalg : Pass<"mm01-strided-copy-to-linalg", "mlir::ModuleOp"> {
  let summary = "Rewrite memref.copy of non-identity layouts into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a copy between non-contiguous memrefs
    (e.g. of a `split_qkv` slice) to a call of `memrefCopy` from
    libmlir_c_runner_utils. Rewriting those copies into `linalg.copy` (then
    loops) keeps the JIT-compiled code free of runtime-library calls. Copies
    between identity layouts stay `memref.copy` (an `llvm.memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MM01RunnerABI : Pass<"mm01-runner-abi", "mlir::ModuleOp"> {
  let summary = "Mark public functions for the JIT runner's calling convention";
  let description = [{
    Every public `func.func` with a body gets `bufferization.writable = false`
    on every argument, so one-shot bufferization never writes into a caller's
    input buffer (ids, states, caches, weights): results go to fresh buffers
    that `buffer-results-to-out-params` turns into caller-allocated outputs.
    It also gets `passthrough = ["noinline"]`, so that the JIT's packed
    wrapper calls the one copy of the body. Runs before bufferization.

    The runner's calling convention (`convert-func-to-llvm` with
    `use-bare-ptr-memref-call-conv`): one pointer per memref operand (the
    original arguments, then the weights, then one output buffer per
    result), all dense row-major with static shapes. A function (or external
    declaration) with a dynamic or unranked shaped operand is an error.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def MM01OutlineLoops : Pass<"mm01-outline-loops", "mlir::ModuleOp"> {
  let summary = "Outline each top-level loop nest into its own noinline function";
  let description = [{
    After `convert-linalg-to-loops` a whole model is one function with
    hundreds of loop nests, and LLVM's per-function analyses (IndVarSimplify's
    SCEV above all) grow superlinearly with it: minutes of JIT time for the
    tiny model. This pass moves every top-level `scf.for` / `scf.while` /
    `scf.parallel` / `scf.if` of a function body into a private function
    `<func>__loop<N>` (marked `passthrough = ["noinline"]`) that takes the
    values the nest uses from above as arguments (constants are cloned
    instead, so trip counts stay static) and returns the nest's results.
    Views (subview, expand/collapse_shape, casts) are cloned into the callee
    too, so every memref argument is a whole buffer: an allocation, a global
    or an argument of the parent function, with a static identity layout (one
    pointer under the bare-pointer calling convention the pipeline uses).
    Such buffers never overlap (the runner's buffers are distinct), so their
    positions are recorded in `mm01.noalias_args` and later marked
    `llvm.noalias`: LLVM may hoist and vectorise without runtime alias checks.
    Nests that are the same code (every layer of a model repeats its nests on
    other buffers) share one function, which divides LLVM's work by about
    the layer count.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def MM01VectorizeHints : Pass<"mm01-vectorize-hints", "mlir::ModuleOp"> {
  let summary = "Ask LLVM to vectorise innermost loops that stream contiguously";
  let description = [{
    Marks every innermost `scf.for` (no nested loop, no iter_args) whose
    stores all write at the loop's induction variable in their last index
    (so no value is carried from one iteration to the next through memory)
    with `llvm.loop = #llvm.loop_annotation<vectorize = <disable = false,
    width = 16>>` (16 f32 lanes: one AVX-512 register, two AVX2 ones).
    LLVM's cost model otherwise declines short loops it runs much faster
    vectorised (the 64-wide rows of the expert GEMVs). Loops that reduce into
    one address are left alone, so no floating-point sum is reassociated.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def MM01FinalizeLLVMAttributes
    : Pass<"mm01-finalize-llvm-attributes", "mlir::ModuleOp"> {
  let summary = "Turn the CPU pipeline's hints into LLVM-dialect attributes";
  let description = [{
    Runs after `convert-func-to-llvm`:
    - `convert-scf-to-cf` copies an `scf.for`'s `llvm.loop` attribute onto
      the loop's back-edge branch as a discardable attribute, which the
      translation to LLVM IR ignores; it is moved into the `loop_annotation`
      of `llvm.br` / `llvm.cond_br` (so it becomes `!llvm.loop` metadata).
    - `mm01.noalias_args` (set by `mm01-outline-loops`, listing argument
      positions under the bare-pointer convention) becomes `llvm.noalias` on
      those pointer arguments.
  }];
}

#endif // MM01_MODEL_TO_LINALG_PASSES
