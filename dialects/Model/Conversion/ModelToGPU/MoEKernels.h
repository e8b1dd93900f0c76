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
//                    With bf16 the grouped GEMMs run on tensor cores
//                    (mma.sync m16n8k16, bf16 x bf16 -> f32, fed by ldmatrix
//                    from a cp.async ring of shared-memory stages); with f32,
//                    or bf16 with `tensorCores = false`, as SIMT f32 FMAs.
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
// projections and the combine accumulate in f32 (the tensor-core GEMMs in
// the mma's summation order, not the CPU's sequential one).
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

/// Tiles of one grouped GEMM (gate_up or down). Zero fields are chosen by
/// chooseMoEExpertsTiles; explicit ones are honoured (or refused with an
/// error when invalid). A block computes tileM sorted rows x tileN output
/// columns (gate_up: tileN columns of both w1 and w3), stepping over the
/// reduction in chunks of tileK.
///   tensor cores (bf16): warpsM x warpsN warps, each owning a
///     (tileM/warpsM) x (tileN/warpsN) sub-tile; `stages` shared-memory
///     stages (cp.async runs stages-1 chunks ahead). Requires tileM a
///     multiple of 16*warpsM, tileN of 16*warpsN, tileK of 16, 2 <= stages
///     <= 8, at most 32 warps, at most 128 f32 accumulators per thread and
///     the stages within 227 KiB of shared memory; threadM = threadN = 0.
///   SIMT (f32, or bf16 with tensorCores = false): each thread computes
///     threadM x threadN outputs; (tileM/threadM)*(tileN/threadN) threads,
///     a multiple of 32 in [32, 1024]; tileK a multiple of the 16-byte
///     vector; the f32 staging within 48 KiB; warpsM = warpsN = stages = 0.
struct MoEGemmTiles {
  int64_t tileM = 0, tileN = 0, tileK = 0;
  int64_t warpsM = 0, warpsN = 0, stages = 0; // tensor cores
  int64_t threadM = 0, threadN = 0;           // SIMT
};
/// "MxNxK/wWMxWN/sS/tTMxTN" (cache keys, diagnostics).
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const MoEGemmTiles &t);

struct MoEExpertsSpec {
  int64_t hidden = 0, inter = 0, experts = 0, topK = 0;
  /// Activations and expert weights: bf16 or f32.
  mlir::Type elt;
  int64_t maxTokens = 0;
  /// bf16 grouped GEMMs on tensor cores; false selects the SIMT ones (f32
  /// always runs SIMT).
  bool tensorCores = true;
  /// Tiles of the gate_up and down GEMMs (zeros: chosen).
  MoEGemmTiles gateUpTiles, downTiles;
  /// Threads of the permutation kernel (one block) and of a combine block.
  int64_t permuteThreads = 1024, combineThreads = 128;

  /// Whether the grouped GEMMs of this spec run on tensor cores.
  bool usesTensorCores() const {
    return tensorCores && elt && elt.isBF16();
  }
};

/// Fills the tiles of `spec` left at 0 from the shape and maxTokens (the
/// expected rows per expert, maxTokens*topK/experts, sets the row tile:
/// decode-sized calls get 16-row tiles, prefill-sized ones 128-row tiles;
/// 64-deep K chunks, as many stages (<= 4) as let two blocks share an SM).
/// Fields already set are kept; validity is checked by buildMoEExperts.
void chooseMoEExpertsTiles(MoEExpertsSpec &spec);

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
/// 4 f32 values; any such size, also one that is no multiple of the tiles:
/// partial tiles are masked) and 1 <= k <= E <= 1024, and valid tiles (see
/// MoEGemmTiles; zeros are chosen first); fails with an error at `loc`
/// otherwise.
mlir::FailureOr<MoEExpertsPlan> buildMoEExperts(mlir::OpBuilder &builder,
                                                mlir::gpu::GPUModuleOp module,
                                                const MoEExpertsSpec &spec,
                                                mlir::Location loc);

/// Registers `mm01-test-moe-kernels` (MoETestPass.cpp).
void registerMoETestPass();

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_MOEKERNELS_H
