//===- LightningPrefillKernel.h - lightning-attention prefill kernels -*- C++ -*-===//
//
// Generator of the chunked lightning-attention prefill (docs/lightning-prefill.md):
// per sequence b (packed rows cu_seqlens[b] .. cu_seqlens[b+1]-1) and head h,
// with the fp32 state S [D, D] carried in and out (slot b of `state`):
//
//   O_blk  = ((Q Kᵀ) ⊙ M) V + (Q ⊙ e^{-λ(i+1)}) · S_prev,  M[i,j] = e^{-λ(i-j)} (i ≥ j)
//   S_next = e^{-λ m} S_prev + (K ⊙ e^{-λ(m-1-j)})ᵀ V
//
// on tensor cores, the state on chip in fp32, operands from a cp.async-
// pipelined ring of shared-memory stages: Hopper wgmma with an outputs and a
// state warpgroup per block (`wgmma`, LightningPrefillWgmma.cpp) or
// mma.sync m16n8k16 with ldmatrix operands (this file).
// With `segments` > 1 the sequence is split across thread blocks: kernel 1
// computes per-segment local states, kernel 2 scans them (decayed by
// e^{-λ·len}), kernel 3 computes the outputs and the final state. With
// `earlyFirstSegment` there is no kernel 2: the outputs kernel's first
// segment starts beside kernel 1 and the later ones fold the local states.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLKERNEL_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLKERNEL_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm01::gpu {

struct LightningPrefillSpec {
  int64_t heads = 0, dim = 0;      // H, D (D ∈ {32, 64, 128})
  mlir::Type elt;                  // activation element type (bf16)
  llvm::SmallVector<double> decay; // λ_h per head
  bool siluInputs = false;         // SiLU on q, k, v as they are loaded
  int64_t qTokenStride = 0, qHeadStride = 0, kTokenStride = 0,
          kHeadStride = 0, vTokenStride = 0, vHeadStride = 0; // elements
  int64_t outTokenStride = 0, outHeadStride = 0;
  int64_t maxBatch = 1, maxTokens = 1; // upper bounds (memref extents)

  // Tile configuration (chooseLightningPrefillTiles, or mm01k.tiles).
  int64_t chunk = 64;    // tokens per chunk (64: the only one supported now)
  int64_t warps = 8;     // warps per thread block (8: the only one now)
  /// Thread blocks per sequence and head (sequence split), 1: no split.
  /// 0: chosen by chooseLightningPrefillTiles for 132 SMs.
  int64_t segments = 0;
  /// The shortest segment the chooser plans for (tokens, a multiple of
  /// `chunk`): it caps `segments` at maxTokens / minSegmentTokens.
  int64_t minSegmentTokens = 1024;
  /// The kernels size segments from the call's total tokens: total /
  /// segments (about two waves of the outputs kernel at the chooser's split,
  /// whatever the batch) while those are at least shortestSegmentTokens
  /// long, and below that 2·total / segments, at most shortestSegmentTokens
  /// (one wave), so that a short call still fills the GPU without blocks too
  /// short to pay for themselves (docs/lightning-prefill.md, "Short calls").
  /// A sequence never has more than `segments`. A multiple of `chunk`, at
  /// most minSegmentTokens.
  int64_t shortestSegmentTokens = 512;
  /// A call of one sequence whose segments/2 segments per head, of
  /// roundup(total / (segments/2)) tokens, are at most this long runs that
  /// one wave of the outputs kernel instead of two (0: never; batched calls
  /// always keep two). A multiple of `chunk`. 2048: B1 H8 T32K on an H100
  /// 0.177 → 0.166 ms; with 8192, T128K went 0.575 → 0.604
  /// (docs/lightning-prefill.md, "Plan").
  int64_t oneWaveSegmentTokens = 2048;
  /// State update S += K̃ᵀV with the decayed K̃ = K ⊙ e^{-λ(m-1-j)} (the
  /// value-sliced wgmma kernels: S += Kᵀ Ṽ, Ṽ = V ⊙ e^{-λ(m-1-j)}) as bf16
  /// hi + lo (true: ~16-bit K̃, fp32-grade state, state error ~3e-6; the
  /// update costs 2 MMAs) or rounded to bf16 once (false: 1 MMA, 25% fewer
  /// tensor-core ops in the outputs kernel and 50% in the local-states one;
  /// state error ~1e-3 like fla's bf16 update).
  bool stateHiLo = true;
  /// With stateHiLo, n > 0: the state updates (wgmma kernels) are one bf16
  /// MMA except where they reach the returned final state with weight above
  /// 2^-n: hi + lo from the chunk before the first whose last token p has
  /// e^{-λ(len-1-p)} > 2^-n, in the local states (they reach the final
  /// state through the scan or fold) and in the outputs block that writes
  /// the final state; other outputs blocks are bf16 throughout. The
  /// returned state keeps hi + lo's error (its bf16 terms weigh ≤ 2^-n in
  /// it: ≤ 2^-(8+n) of their |k·v| sum); the outputs get the bf16 update's
  /// (fla's: within bf16 rounding; S reaches them as a bf16 operand anyway).
  /// Where λ is small the window covers the sequence. 0: hi + lo throughout.
  int64_t stateHiLoTailLog2 = 0;
  /// Local states from each segment's tail (0: every token, exact): the
  /// local-states kernel starts a segment at the chunk before which the
  /// decay weights of all tokens sum to at most 2^-localStatesDropLog2 (per
  /// head, from λ_h: tail = (n·ln 2 + ln(1/(1-e^{-λ}))) / λ tokens, rounded
  /// up to chunks, plus one). The dropped part of a state is at most
  /// 2^-n · max |k_i v_j| over the dropped tokens: below fp32 rounding of the
  /// kept part unless the dropped tokens' k·v exceed the kept ones' by
  /// 2^(n-24), and invisible in bf16 outputs below 2^(n-8). Where λ is
  /// small (deep MiniMax layers) the tail covers the segment and nothing is
  /// dropped. B1 H8 T512K on an H100: the local states read ~20% of K and V
  /// (docs/lightning-prefill.md, "State tail").
  int64_t localStatesDropLog2 = 64;
  /// Where a local state reaches the final state only through later
  /// segments whose tokens put everything before its outputs tail below
  /// 2^-localStatesDropLog2 there (the sequence's last segment is at least
  /// the difference of the two tails long), it feeds only outputs, which are
  /// rounded to bf16: it then reads the tail that carries all but
  /// 2^-localStatesOutputsDropLog2 of the decay weight. The dropped part of
  /// an output is at most 2^-n_out · |q| · max |k_i v_j| over the dropped
  /// tokens: below its bf16 rounding unless those k·v exceed the kept ones'
  /// by 2^(n_out-9). The final state keeps the 2^-localStatesDropLog2 bound.
  /// B1 H64 T32K: the slowest head's local state reads 112 instead of 201
  /// chunks (docs/lightning-prefill.md, "The outputs tail"). 0: off.
  int64_t localStatesOutputsDropLog2 = 32;
  /// Local states in parts (0: one block per segment): where a segment's
  /// local state reads at least this many chunks (its tail, or the whole
  /// segment), localStatesParts blocks compute it, each a run of
  /// cdiv(reads, parts) consecutive chunks, and the scan adds the parts'
  /// states, each decayed over the tokens after it. A local-states kernel
  /// runs as long as its longest tail (the λ = 1/256 head's 201 chunks
  /// against 3 at λ = 1/2 at the benchmark's decays); parts bring it
  /// towards its DRAM time. At least 2.
  int64_t localStatesSplitChunks = 16;
  /// The parts of a split local state (2..64, at most localStatesSplitChunks).
  int64_t localStatesParts = 2;
  /// Chunk kernels on sm_90a warpgroup MMAs (wgmma, LightningPrefillWgmma.cpp:
  /// an outputs and a state warpgroup per block, operands from swizzled
  /// shared memory) instead of mma.sync. D ∈ {64, 128}.
  bool wgmma = false;
  /// Pipeline depth (chunks of the cp.async ring; loads run stages-1 chunks
  /// ahead) of the outputs kernel and of the local-states kernel; 0: as many
  /// as fit (≤ 4) one outputs block per SM and two local-states blocks.
  int64_t stages = 0, stateStages = 0;
  /// Thread blocks per (segment, head) that split the value dimension: each
  /// computes D/valueSlices columns of O and of the state (the full Q Kᵀ
  /// each; the partners run side by side, so Q and K come from DRAM once and
  /// from L2 for the other). Lets a call with many heads fill the GPU
  /// without a sequence split, whose local-states kernel reads K and V a
  /// second time. wgmma kernels only, D/valueSlices >= 64 (1 or 2 at D = 128).
  int64_t valueSlices = 1;
  /// With a sequence split: the plan has no scan kernel, and the first
  /// segment's outputs blocks start beside the local-states kernel (they
  /// need no local state: they start from the incoming state) instead of
  /// after the scan. The outputs blocks of later segments wait for the
  /// local states and fold them into their incoming state themselves
  /// (StateSlots::foldIncoming). The block writing a sequence's final state
  /// (in place) first waits for a workspace flag that the first segment's
  /// block sets once it has read the incoming state; the local-states
  /// kernel clears it before it lets the outputs kernel start. wgmma
  /// kernels. Meant for plans whose outputs blocks fit one wave; otherwise
  /// the waiter relies on the first segment's blocks, numbered lower, being
  /// scheduled first (as the GPU's block scheduler does). With a scan kernel
  /// instead, the outputs blocks could not start early: the scan's waiting
  /// blocks hold every SM (docs/lightning-prefill.md, "Early first segment").
  bool earlyFirstSegment = false;
  /// Segments but the last are sized as if the sequence had this many more
  /// tokens (a multiple of the chunk): with two segments the first is
  /// segmentLeadTokens longer than the second, which waits for the local
  /// states and the scan while the first (earlyFirstSegment) does not.
  int64_t segmentLeadTokens = 0;
  /// With a sequence split (and no earlyFirstSegment): no scan kernel. The
  /// outputs kernel overlaps the local-states kernel; its blocks claim the
  /// scan's items ((sequence, head, state columns), an atomic counter)
  /// until none is left: the first claimed, and its reads of the
  /// sequence's bounds and incoming state issued, before the wait for the
  /// local-states kernel, each next one claimed while the one before runs;
  /// a block starts its chunks once its head's items are done (a
  /// counter per (sequence, head)). The local-states kernel clears, and
  /// releases, the counters before it lets the outputs kernel start. wgmma
  /// kernels; ignored with earlyFirstSegment (no scan to share).
  bool scanInOutputs = false;
  /// A second plan for long calls of one sequence (0: none): a call with
  /// batch 1 and at least longCallTokens tokens runs longCallSegments
  /// segments × longCallValueSlices value slices, its local states in
  /// longCallLocalStatesParts parts, instead of the plan above (the engine
  /// holds both and picks per call, docs/lightning-prefill.md, "Long calls").
  /// B1 H64 T32K on H200s: two value slices 0.73-0.77 ms, two segments in
  /// 8 parts 0.67-0.73; at T8K the slices are as fast or 15-25% faster.
  int64_t longCallTokens = 0;
  int64_t longCallSegments = 2, longCallValueSlices = 1,
          longCallLocalStatesParts = 8;
  /// The long-call plan's earlyFirstSegment, segmentLeadTokens and
  /// scanInOutputs.
  bool longCallEarlyFirstSegment = false;
  int64_t longCallSegmentLeadTokens = 0;
  bool longCallScanInOutputs = false;
  /// Instrumentation (test pass only, split wgmma plans): each chunk block
  /// of the first kLightningPrefillTimelineBlocks records %globaltimer
  /// stamps in 64-byte records after the workspace's slots and counters
  /// (which grows by kLightningPrefillTimelineBytes + 16 per sequence, the
  /// 16 for the records' alignment; layout in
  /// test/benchmarks/timeline_probe.py). The kernels' results are
  /// unchanged.
  bool probeTimeline = false;
};
constexpr int64_t kLightningPrefillTimelineBlocks = 4096;
constexpr int64_t kLightningPrefillTimelineBytes = 4 * kLightningPrefillTimelineBlocks * 64;

struct LightningPrefillPlan {
  std::vector<mm01::gpu::GeneratedKernel> kernels; // launched in order
  std::string workspaceBytes;                      // engine expression, "0" if none
  int64_t segments = 1, valueSlices = 1;           // the split that was built
  int64_t workspaceBytesPerSequence = 0;           // workspaceBytes at batch 1
};

/// The deepest pipeline (≤ 4 stages) whose shared memory fits one outputs
/// block (`outputs`) or two local-states blocks per SM, for `spec`'s kernel
/// family, head dim and chunk.
int64_t maxLightningPrefillStages(const LightningPrefillSpec &spec, bool outputs);

/// Fills in the tile configuration for a GPU of `smCount` SMs: chunk 64,
/// 8 warps, wgmma for D 64/128, the deepest pipelines that fit, with
/// stateHiLo the hi + lo update only over the final state's 2^-12 window
/// (stateHiLoTailLog2, wgmma), and,
/// unless `spec.segments` is set, the split at batch 1: two value slices
/// and no sequence split where that fills most of the GPU (heads ≥ 7/16 of
/// the SMs at D = 128), else the sequence split that gives whole waves of
/// the outputs kernel (one block per SM, two waves), limited by
/// `maxTokens / minSegmentTokens`. Decode-sized calls (maxTokens = maxBatch)
/// get no split.
void chooseLightningPrefillTiles(LightningPrefillSpec &spec, int64_t smCount);

/// The spec of `spec`'s long-call plan: `spec` with the long-call segments,
/// value slices and local-states parts, pipeline depths chosen anew, and no
/// long-call plan of its own.
LightningPrefillSpec longCallSpec(const LightningPrefillSpec &spec);

/// The engine expression (DimExpr) that is nonzero for the calls the
/// long-call plan serves: one sequence of at least longCallTokens tokens.
/// The plan of `spec` itself serves the others ("1 - " the same).
std::string longCallCondition(const LightningPrefillSpec &spec);

/// Builds the kernels of `spec` at the end of `module` (names start with
/// lightning_prefill_h<H>_d<D>_...; a suffix keeps them unique). Emits an
/// error at `loc` and fails for an unsupported spec.
mlir::FailureOr<LightningPrefillPlan>
buildLightningPrefill(mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                      const LightningPrefillSpec &spec, mlir::Location loc);

/// Registers the test pass `mm01-test-lightning-prefill-kernel` (builds a
/// module holding just the kernels of one spec; see
/// LightningPrefillTestPass.cpp).
void registerTestLightningPrefillKernelPass();

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLKERNEL_H
