//===- Passes.td - mm01 lightning attention to GPU kernels ----*- tablegen -*-===//
//
// First GPU code-generation slice: mm01.lightning_decode becomes a
// shape-specialized gpu.func (gpu.module) plus a host launch function holding
// a gpu.launch_func. The kernels are lowered to PTX/cubin by upstream passes
// (the `mm01-gpu-codegen` pipeline, Pipeline.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef MM01_LIGHTNING_TO_GPU_PASSES
#define MM01_LIGHTNING_TO_GPU_PASSES

include "mlir/Pass/PassBase.td"

def MM01LightningDecodeToGPU
    : Pass<"mm01-lightning-decode-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower mm01.lightning_decode to a specialized GPU kernel and "
                "a host launch function";
  let description = [{
    For every `mm01.lightning_decode` (q, k, v `[B, 1, H, D]` f32 or bf16,
    state `[B, H, D, D]` f32; B may be dynamic, H and D are static):

    * a `gpu.func` kernel in `gpu.module @mm01_lightning_decode`, specialized
      for (H, D, element type, decay rates, block-columns, threads). The
      per-head factors `e^{-λ_h}` (computed in f64, rounded to f32) are a
      constant `memref.global` table `@<kernel>_decay` inside the gpu.module.
      Kernel arguments: q, k, v `memref<?x1xHxDxT>`, state
      `memref<?xHxDxDxf32>` (updated in place), o `memref<?x1xHxDxT>`; the
      kernel does not depend on B. Grid `(B·H, D / block-columns)`, block
      `(threads)`. Each thread owns 4 adjacent state columns (16-byte vector
      accesses, consecutive threads on consecutive columns) and the rows
      `rg, rg + RG, ...` with `RG = threads / (block-columns / 4)`; it reads
      each state element once, writes `S' = e^{-λ} S + k_i v_j` back, and
      accumulates `q_i S'_ij`. Partial sums are reduced across the rows of a
      warp with `gpu.shuffle xor`, then across warps through workgroup memory.
    * a host `func.func @<kernel>_launch` taking the op's memrefs (q, k, v,
      state, o) and holding the `gpu.launch_func`.
    * the op itself is replaced by a bufferization boundary: its operands go
      through `bufferization.to_buffer`, the state is copied into a fresh
      buffer that the kernel updates in place (value semantics at the tensor
      level), o is a fresh buffer, and both results come back through
      `bufferization.to_tensor`.

    Rejected with an error: element types other than f32/bf16, a dynamic T,
    D not divisible by `block-columns`, D not divisible by the number of
    row groups, and invalid option values.
  }];
  let options = [
    Option<"blockColumns", "block-columns", "int64_t", /*default=*/"64",
           "state columns per thread block (power of two, 4..128; 64 measured best for D = 128 on Hopper)">,
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "threads per block (multiple of 32, at most 1024)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // MM01_LIGHTNING_TO_GPU_PASSES
