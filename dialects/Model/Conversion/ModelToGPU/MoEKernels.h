//===- MoEKernels.h - generators of the MoE GPU kernels ---------*- C++ -*-===//
//
// The MoE block of MiniMax-01 on the GPU (docs/minimax01-model.md, "MoE"):
//
//   buildMoERoute    p = softmax_f32(logits); top-k (a strictly larger
//                    probability wins, an equal one goes to the lower expert
//                    index); the k chosen probabilities renormalised.
//   buildMoEExperts  out[t] = Σ_j w[t,j] · FFN_{ids[t,j]}(x[t]) with
//                    FFN_e(h) = (silu(h·w1[e]ᵀ) ⊙ (h·w3[e]ᵀ)) · w2[e]ᵀ,
//                    as a plan of kernels launched in order:
//                      permute  per-expert counts, exclusive scan and scatter
//                               of the (token, slot) pairs into expert order
//                               (one block, everything on the GPU),
//                      gate_up  grouped GEMM over the sorted rows with w1 and
//                               w3 at once, SwiGLU epilogue -> workspace h,
//                      down     grouped GEMM h · w2[e]ᵀ -> workspace y
//                               (rows in (token, slot) order),
//                      combine  out[t] = Σ_j w_j · y[t, j] in f32.
//                    The grouped GEMMs' grids are sized for the worst case
//                    over `tokens` only (no host knowledge of the per-expert
//                    counts, so decode steps replay as CUDA graphs): each
//                    block finds its (expert, row tile) from the offsets in
//                    the workspace and exits when it has none.
//
// Both compute the same function as the CPU lowering of mm01.moe_route /
// mm01.moe_experts (ModelToLinalg/LowerToLinalg.cpp), including the bf16
// rounding points of the expert FFN: h1, h3, silu(h1), g, y, the routing
// weight and each weighted term are rounded to the activation type; the
// projections and the combine accumulate in f32.
//
// Kernel parameters follow docs/gpu-engine-abi.md (bare pointers, i32
// scalars); each kernel takes the subset of the named parameters it needs,
// in the order of its `params`.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_MOEKERNELS_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_MOEKERNELS_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mm01::gpu {

struct MoERouteSpec {
  int64_t experts = 0, topK = 0;
  /// Element type of the router logits: f32 or bf16 (softmax is f32).
  mlir::Type logitsElt;
  /// Upper bound of `tokens` (extent of the pointer parameters).
  int64_t maxTokens = 0;
};

/// One kernel; params `logits` (ptr [tokens, E] logitsElt), `weights`
/// (ptr f32 [tokens, k]), `ids` (ptr i32 [tokens, k]), `tokens` (i32).
/// Supports 1 <= k <= E <= 256. Fails with an error at `loc` otherwise.
mlir::FailureOr<GeneratedKernel> buildMoERoute(mlir::OpBuilder &builder,
                                               mlir::gpu::GPUModuleOp module,
                                               const MoERouteSpec &spec,
                                               mlir::Location loc);

struct MoEExpertsSpec {
  int64_t hidden = 0, inter = 0, experts = 0, topK = 0;
  /// Activations and expert weights: bf16 or f32.
  mlir::Type elt;
  int64_t maxTokens = 0;
  /// Grouped GEMM tiles: rows (routed pairs) x columns per block, the
  /// reduction chunk staged in shared memory, and the rows x columns of
  /// outputs each thread computes. threads = (tileM/threadM)*(tileN/threadN).
  int64_t tileM = 32, tileN = 64, tileK = 32, threadM = 2, threadN = 4;
  /// Threads of the permutation kernel (one block) and of a combine block.
  int64_t permuteThreads = 1024, combineThreads = 128;
};

struct MoEExpertsPlan {
  std::vector<GeneratedKernel> kernels;
  /// Bytes of the `workspace` parameter as an engine expression over
  /// `tokens`.
  std::string workspaceBytes;
};

/// The kernels of the expert FFNs, launched in order. Params by name: `x`
/// (ptr [tokens, d] elt), `weights` (f32 [tokens, k]), `ids` (i32 [tokens,
/// k]), `w1`, `w3` (ptr [E, I, d] elt), `w2` (ptr [E, d, I] elt), `out`
/// (ptr [tokens, d] elt), `workspace` (ptr, workspaceBytes; no
/// initialisation needed), `tokens` (i32). Out-of-range expert ids are
/// clamped into [0, E) as the CPU lowering does.
/// Requires hidden and inter to be multiples of 16 bytes of elt (8 bf16 or
/// 4 f32 values) and 1 <= k <= E <= 1024; fails with an error at `loc`
/// otherwise.
mlir::FailureOr<MoEExpertsPlan> buildMoEExperts(mlir::OpBuilder &builder,
                                                mlir::gpu::GPUModuleOp module,
                                                const MoEExpertsSpec &spec,
                                                mlir::Location loc);

/// Registers `mm01-test-moe-kernels` (MoETestPass.cpp).
void registerMoETestPass();

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_MOEKERNELS_H
