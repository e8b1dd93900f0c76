//===- Passes.td - mm01 model IR to GPU kernels and a schedule -*- tablegen -*-===//
#ifndef MM01_MODEL_TO_GPU_PASSES
#define MM01_MODEL_TO_GPU_PASSES

include "mlir/Pass/PassBase.td"

def MM01ModelToKernels : Pass<"mm01-model-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Lower model-level ops to generated GPU kernels and cuBLASLt "
                "calls in the mm01k schedule dialect";
  let description = [{
    Every func.func with an `mm01.entry` attribute (after mm01-inline-layers)
    becomes a straight-line list of `mm01k.launch` / `mm01k.gemm` ops on
    tensors; each launched kernel is a `gpu.func` generated for this model's
    shapes into `gpu.module @mm01_kernels`. Activations are treated as packed
    token rows (`[B, T, ...]` = `[B·T, ...]` rows, of which the call uses
    `tokens`), per docs/gpu-engine-abi.md. Each `mm01.fusion` group made
    by mm01-fuse becomes one kernel (family): the DeepNorm residual inside
    the norm kernel, the sigmoid gate at the norm's store, SiLU and the
    q/k/v split applied as the lightning kernel loads, RoPE inside the
    attention kernels. Head splits/merges and the q/k/v split are views
    (element offsets and strides, no copies); the router's softmax, top-k
    and renormalisation are one kernel.
    Dense projections (`mm01.linear`) become `mm01k.gemm` (cuBLASLt).
    Every op with a tunable kernel must carry its tile configuration
    (`mm01k.tiles`, from mm01-select-tiles); the generators follow it.
    Ops it cannot lower are reported with the reason.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect", "::mlir::NVVM::NVVMDialect",
    "::mm01::kernel::MM01KDialect"
  ];
}

def MM01SelectTiles : Pass<"mm01-select-tiles", "::mlir::ModuleOp"> {
  let summary = "Choose the tile configuration of every tunable generated kernel";
  let description = [{
    For each op of an entry function (after mm01-fuse) whose kernel has a
    tile configuration — norms (threads), lightning prefill (chunk, warps,
    sequence segments), lightning decode (state columns, threads), softmax
    attention (the tensor-core prefill kernel's query/key tiles, warps and
    stages; the per-token kernel's warps) and the MoE grouped GEMMs (tensor
    cores or SIMT, block/warp tiles, stages) — records the choice as the
    dictionary attribute `mm01k.tiles` (on the mm01.fusion group if the op
    is fused). Choices depend on the shapes, the entry (prefill or decode),
    the kernels' maximum token count and `sm-count`. Existing `mm01k.tiles`
    are kept. mm01-model-to-kernels requires them.

    `lightning-state-update` sets the precision of the lightning prefill
    kernels' state update (tile keys `state_hilo`, `state_hilo_tail_log2`):
    `hilo` feeds the decayed operand to the tensor cores as bf16 hi + lo
    (state error ~2e-6 against float64), `bf16` rounds it to bf16 once
    (half the state MMAs; state error ~1.5e-3, as flash-linear-attention's),
    `hilo-tail` (default) is hi + lo only where the update reaches the
    returned state with weight above 2^-12 (its error as `hilo`'s, the
    outputs' as `bf16`'s; wgmma kernels). The fp32 state accumulators are
    the same in all.
  }];
  let options = [
    Option<"smCount", "sm-count", "int64_t", /*default=*/"132",
           "streaming multiprocessors of the target GPU (H100 SXM / H200: 132)">,
    Option<"lightningStateUpdate", "lightning-state-update", "std::string",
           /*default=*/"\"hilo-tail\"",
           "lightning prefill state update: hilo-tail (hi + lo where it reaches "
           "the returned state), hilo (bf16 hi + lo throughout, fp32-grade) or "
           "bf16 (one bf16 rounding, as flash-linear-attention)">
  ];
}

def MM01PlanBuffers : Pass<"mm01-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Assign every tensor of the kernel schedule to a device buffer";
  let description = [{
    Walks each entry function in schedule order and gives every value a
    buffer of the engine's buffer plan (docs/engine-format.md): weights
    (`mm01.weight`, lifetime weights), named function arguments (lightning
    states: state; KV caches: kv_cache; ids/positions: the call's input
    buffers), and activations (`tensor.empty` destinations, lifetime
    activation). Activations whose live ranges (first definition to last
    use in the schedule) are disjoint share memory: a greedy best-fit
    offset assignment in one arena, largest first. Results of
    `mm01k.launch` / `mm01k.gemm` take the buffer of their `outs` operand.
    Writes `mm01k.buffer` (and `mm01k.offset`) on each defining op / as
    argument attributes, and the plan as the module attribute
    `mm01k.buffers`.
  }];
}

#endif // MM01_MODEL_TO_GPU_PASSES
