//===- LightningPrefillInternal.h - shared by the prefill generators -*- C++ -*-===//
//
// Internal to the lightning prefill generator (LightningPrefillKernel.cpp:
// plan, mma.sync chunk kernels, scan; LightningPrefillWgmma.cpp: the wgmma
// chunk kernels): the derived configuration, the segment arithmetic and the
// per-head decay, so that both kernel families split sequences identically.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLINTERNAL_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLINTERNAL_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"
#include "Model/Conversion/ModelToGPU/TensorCoreBuilder.h"

#include <algorithm>
#include <functional>
#include <string>

namespace mm01::gpu::lightning_prefill {
using mlir::Value;

constexpr double kLog2e = 1.4426950408889634074;

/// Everything derived from the spec.
struct Config {
  LightningPrefillSpec spec;
  int64_t H, D, C, W, threads, NS;
  int64_t VS = 1, Dv = 0; // value slices, columns of each (D / VS)
  // Local-states blocks per segment (localStatesParts where
  // localStatesSplitChunks > 0; a (b, h)'s workspace then holds NS·SP
  // slots: slot p·NS + s + 1 part p of segment s).
  int64_t SP = 1;
  // State tile of a warp: warps WM × WN over the D × D state, each
  // MTW m-tiles (16 rows) × NTS n-tiles (8 columns).
  int64_t WM, WN, MTW, NTS;
  std::string base;
  bool split() const { return NS > 1; }
  /// No scan kernel: the first segment's outputs blocks start beside the
  /// local-states kernel (LightningPrefillSpec::earlyFirstSegment).
  bool early() const { return split() && spec.earlyFirstSegment; }
  int64_t wsSlotFloats() const { return H * NS * SP * D * D; }
  /// The scan runs in the outputs kernel (LightningPrefillSpec::
  /// scanInOutputs): no scan kernel.
  bool scanInOutputs() const {
    return split() && !early() && spec.wgmma && spec.scanInOutputs;
  }
  /// Workspace floats per sequence: NS·SP state slots per head, then (early)
  /// one flag per head and value slice, or (scanInOutputs) one counter per
  /// head and one more, after all sequences' slots.
  int64_t wsFloats(int64_t batch) const {
    return batch * (wsSlotFloats() + (early() ? H * VS : 0) + (scanInOutputs() ? H + 1 : 0));
  }
};

using Gen = TensorCoreBuilder;

inline std::string uniqueName(mlir::gpu::GPUModuleOp module, const std::string &base) {
  std::string name = base;
  for (unsigned n = 1; module.lookupSymbol(name); ++n)
    name = base + "_" + std::to_string(n);
  return name;
}

inline int64_t extent(int64_t maxTokens, int64_t tokenStride, int64_t heads,
               int64_t headStride, int64_t dim) {
  return std::max<int64_t>(1, (maxTokens - 1) * tokenStride +
                                  (heads - 1) * headStride + dim);
}

/// λ_h·log2(e) of head `h` (a select chain over the compile-time rates).
inline mlir::Value negLambdaLog2e(Gen &g, const Config &cfg, Value h) {
  Value v = g.f32c(-cfg.spec.decay[0] * kLog2e);
  for (int64_t i = 1; i < cfg.H; ++i)
    v = g.select(g.eq(h, g.idx(i)), g.f32c(-cfg.spec.decay[i] * kLog2e), v);
  return v;
}

/// A per-head compile-time index constant (`perHead[h]`) as a select chain
/// over the block's head `h`.
inline mlir::Value perHeadIndex(Gen &g, const Config &cfg, Value h,
                                llvm::ArrayRef<int64_t> perHead) {
  Value v = g.idx(perHead[0]);
  for (int64_t i = 1; i < cfg.H; ++i)
    v = g.select(g.eq(h, g.idx(i)), g.idx(perHead[i]), v);
  return v;
}

/// Segment bounds of block (s, b): [segStart, segEnd) of the sequence
/// [start, start + len), and the segment length.
struct Segment {
  Value start, len, segLen, segStart, segEnd;
};
/// The segments of a sequence of `len` tokens cut into `segLen`-token
/// segments: cdiv(len, segLen) (segLen is dynamic).
inline Value segmentCount(Gen &g, Value len, Value segLen) {
  return mlir::arith::DivSIOp::create(g.b, g.loc, g.add(len, g.sub(segLen, g.idx(1))),
                                      segLen);
}
/// Sequence `bIdx`'s rows and segment `s` of it. `batch` (the grid extent
/// over sequences) gives the call's total tokens cu[batch].
inline Segment segmentOf(Gen &g, const Config &cfg, Value cu, Value bIdx, Value s,
                  Value batch) {
  Segment seg;
  seg.start = g.loadIndex(cu, bIdx);
  seg.len = g.sub(g.loadIndex(cu, g.add(bIdx, 1)), seg.start);
  if (!cfg.split()) {
    seg.segLen = seg.len;
    seg.segStart = g.idx(0);
    seg.segEnd = seg.len;
    return seg;
  }
  // max(shortest, roundup(cdiv(len, NS), C)): every segment but the last is
  // full. shortest follows the call's tokens (total; NS = two waves of the
  // outputs kernel), so that a call of any batch runs about two waves:
  //   two waves, roundup(total / NS), while those segments are at least
  //     shortestSeg long (B8 H8 mixed 8K on an H100: 0.315 ms against 0.326
  //     with 1024-token segments, B32 x 2K 0.268 against 0.332: fewer,
  //     longer blocks and less local-state traffic);
  //   one wave, min(shortestSeg, roundup(2·total / NS)), below that (B1 H8
  //     T4K on an H100: 0.040 ms against 0.054 with 512-token segments and
  //     0.053 with two waves of 128; docs/lightning-prefill.md).
  auto roundUpC = [&](Value n) { return g.mul(g.cdiv(n, cfg.C), cfg.C); };
  // Segments but the last sized for segmentLeadTokens more tokens.
  auto roundUp = [&](Value n) {
    return roundUpC(g.cdiv(g.add(n, cfg.spec.segmentLeadTokens), cfg.NS));
  };
  Value total = g.loadIndex(cu, batch);
  Value twoWaves = roundUp(total);
  Value oneWave = roundUpC(g.cdiv(g.mul(total, 2), cfg.NS));
  Value floorSeg = g.idx(cfg.spec.shortestSegmentTokens);
  Value shortest = g.select(g.slt(twoWaves, floorSeg), g.minS(floorSeg, oneWave), twoWaves);
  // One whole wave instead for a single sequence whose NS/2 segments
  // (NS/2·H outputs blocks ≤ the SMs) of roundup(total / (NS/2)) tokens are
  // at most oneWaveSegmentTokens long: one block prologue and pipeline fill
  // per SM instead of two. B1 H8 T32K on an H100: 0.166 against 0.177 ms;
  // at T128K (8192-token segments) 0.604 against 0.575, so the default
  // stops at 2048. Batched calls keep two waves: their working blocks are
  // sparse in an (NS, H, batch) grid, the scheduler doubles some up on one
  // SM, and B8 x 2K took 0.130 ms against 0.102 (docs/benchmarks/
  // prefill-one-wave-*, prefill-sweep-h100-80gb-hbm3-2026-11-28b).
  // Whether it fits is decided without the lead; the lead then lengthens
  // the segments but the last, as it does two waves' (B1 H8 T32K on an
  // H200: 15 segments of 2112 tokens and a last of 1088, whose block runs
  // the final state's hi + lo window: 0.107 against 0.113 ms).
  if (cfg.spec.oneWaveSegmentTokens > 0) {
    auto oneWave = [&](int64_t lead) {
      return g.maxS(roundUpC(g.cdiv(g.add(total, lead), cfg.NS / 2)), g.idx(cfg.C));
    };
    Value segOne = oneWave(0);
    Value fits = g.land(g.eq(batch, g.idx(1)),
                        g.slt(segOne, g.idx(cfg.spec.oneWaveSegmentTokens + 1)));
    int64_t lead = cfg.spec.segmentLeadTokens;
    shortest = g.select(fits, lead ? oneWave(lead) : segOne, shortest);
  }
  seg.segLen = g.maxS(roundUp(seg.len), shortest);
  seg.segStart = g.mul(s, seg.segLen);
  seg.segEnd = g.minS(seg.len, g.add(seg.segStart, seg.segLen));
  return seg;
}

enum class Mode { Outputs, LocalStates };

/// Programmatic dependent launch within the split plan (_states, _scan,
/// _out; the later two launched to overlap the kernel before them):
/// `launch_dependents` lets the next kernel's blocks be scheduled once every
/// block of this grid has issued it (at the start, so they only take SMs
/// this grid no longer needs: its last blocks are already running); `wait`
/// holds the thread until the previous grid has finished and its writes are
/// visible (a no-op in a launch without the attribute).
inline void gridDependency(Gen &g, mlir::NVVM::GridDepActionKind kind) {
  mlir::NVVM::GriddepcontrolOp::create(
      g.b, g.loc, mlir::NVVM::GridDepActionKindAttr::get(g.b.getContext(), kind));
}

/// A chunk kernel's function and its parameters (absent ones null).
struct ChunkKernel {
  mlir::gpu::GPUFuncOp fn;
  Value q, k, v, state, out, cu, ws;
};
/// Creates the (empty) chunk kernel of `mode`, cfg.base + "_out"/"_states",
/// with `threads` per block: parameters q (outputs), k, v, state, out
/// (outputs), cu_seqlens[, workspace] and grid (NS, H, batch) recorded in `gk`.
ChunkKernel createChunkKernel(mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                              const Config &cfg, Mode mode, int64_t threads,
                              GeneratedKernel &gk, mlir::Location loc);

/// Chunks [c0, nch) of a non-last segment that its local state reads
/// (c0 > 0 where the state tail drops the earlier ones), and with
/// local-states parts (cfg.SP > 1) their length partLen (reads where they
/// are not split) and count parts = cdiv(reads, partLen) ≤ SP: part p reads
/// [c0 + p·partLen, min(c0 + (p+1)·partLen, nch)), never empty. Per (b, h):
/// every non-last segment of a sequence has the same length, so the scan
/// derives the same parts.
struct LocalRange {
  Value c0, reads, partLen, parts;
  /// The tokens of the segment after part p (what weighs its state by
  /// e^{-λ·tokens} in the segment's local state).
  Value tokensAfterPart(Gen &g, const Config &cfg, int64_t p) const {
    Value end = g.minS(reads, g.mul(partLen, p + 1));
    return g.mul(g.sub(reads, end), cfg.C);
  }
};
/// `len`, `segLen`: the sequence's tokens and segment length (whether its
/// last segment covers the outputs tail's margin).
LocalRange localRangeOf(Gen &g, const Config &cfg, Value h, Value nch, Value len,
                        Value segLen);
/// Per head, the chunks of a tail that carries all but 2^-dropLog2 of the
/// decay weight (plus one); maxTokens / C + 2 where none is shorter than the
/// longest call or dropLog2 = 0.
llvm::SmallVector<int64_t> tailChunksPerHead(const Config &cfg, int64_t dropLog2);

/// A chunk kernel block: the dynamic shared memory's base address, the
/// block's segment s, head h, sequence b and its rows; `part` (local states
/// with cfg.SP > 1) its part of the segment's local state (LocalRange).
struct ChunkBlock {
  Value smem, s, h, bIdx, part;
  Value v0; // first value column of the block's slice (0 without slices)
  Segment seg;
};
/// Emits the block's coordinates and segment at the start of the kernel and
/// leaves the builder inside `if (the block has work)`: a non-empty segment
/// (outputs), a non-last one (local states).
/// `ws`: the workspace (early plans' local-states kernel clears flags in it).
ChunkBlock enterChunkBlock(Gen &g, const Config &cfg, Mode mode, Value cu,
                           Value ws = {});

/// Where a chunk kernel block's fp32 [D][D] state comes from and goes to,
/// as (memref, element offset): an outputs block starts from the incoming
/// state (with a split: the scanned workspace slot s) and the sequence's
/// last segment writes the final state; a local-states block writes
/// workspace slot s + 1 (slot 0 is the scan's incoming state).
struct StateSlots {
  const Config &cfg;
  Mode mode;
  Value s, part, state, ws; // segment, part, parameters (state: outputs only)
  Value stateBase, wsBase;  // (b, h)'s state; its NS·SP workspace slots (split)
  /// cfg.early(): the workspace index of (b, h, value slice)'s flag "the
  /// first segment has read the incoming state" (LightningPrefillSpec::
  /// earlyFirstSegment; 1.0 set, 0.0 cleared by the local-states kernel).
  Value flagIdx;
  /// With a split, the incoming slot is written by the scan kernel, which
  /// the outputs kernel overlaps: a thread waits for it before reading.
  void awaitIncoming(Gen &g) const {
    if (mode == Mode::Outputs && cfg.split())
      gridDependency(g, mlir::NVVM::GridDepActionKind::wait);
  }
  /// Early plans (cfg.early(): no scan kernel): the first segment (s = 0)
  /// starts from `state` itself without waiting; a later one waits for the
  /// local-states kernel and folds its incoming state itself (foldIncoming).
  bool earlyFirst() const { return mode == Mode::Outputs && cfg.early(); }
  using LoadFn = std::function<llvm::SmallVector<Value>(Value, Value)>;
  /// The block's incoming state: the values (of `types`) that
  /// `load(memref, offset)` returns for a [D][D] slot, after awaitIncoming
  /// where the block must wait. `h`, `segLen`: the block's head and its
  /// sequence's segment length (early plans).
  llvm::SmallVector<Value> loadIncoming(Gen &g, mlir::TypeRange types, const LoadFn &load,
                                        Value h = {}, Value segLen = {},
                                        Value len = {}) const {
    if (!earlyFirst()) {
      awaitIncoming(g);
      auto [src, base] = incoming(g);
      return load(src, base);
    }
    auto ifOp = mlir::scf::IfOp::create(g.b, g.loc, types, g.eq(s, g.idx(0)),
                                        /*withElse=*/true);
    mlir::OpBuilder::InsertionGuard guard(g.b);
    g.b.setInsertionPointToStart(ifOp.thenBlock());
    mlir::scf::YieldOp::create(g.b, g.loc, load(state, stateBase));
    g.b.setInsertionPointToStart(ifOp.elseBlock());
    awaitIncoming(g);
    mlir::scf::YieldOp::create(g.b, g.loc, foldIncoming(g, load, h, segLen, len));
    return llvm::SmallVector<Value>(ifOp.getResults());
  }
  /// Segment s's incoming state from the sequence's incoming state S0 and
  /// the local states L(s', p) of the segments s' < s (in parts p, each
  /// weighed by the decay over the tokens after it, as the scan would):
  ///   e^{-λ·s·len} S0 + Σ_{s' < s, p} e^{-λ·((s-1-s')·len + after(p))} L(s', p).
  llvm::SmallVector<Value> foldIncoming(Gen &g, const LoadFn &load, Value h,
                                        Value segLen, Value len) const {
    Value nlog2e = negLambdaLog2e(g, cfg, h);
    auto weight = [&](Value tokens) { return g.exp2(g.fmul(nlog2e, g.indexToF32(tokens))); };
    llvm::SmallVector<Value> acc = load(state, stateBase);
    Value w0 = weight(g.mul(s, segLen));
    for (Value &v : acc)
      v = g.fmul(v, w0);
    LocalRange r;
    if (cfg.SP > 1)
      r = localRangeOf(g, cfg, h, g.div(segLen, cfg.C), len, segLen); // non-last: whole chunks
    for (int64_t s1 = 0; s1 + 1 < cfg.NS; ++s1)
      for (int64_t p = 0; p < cfg.SP; ++p) {
        Value cond = g.slt(g.idx(s1), s);
        Value after = g.mul(g.sub(s, g.idx(s1 + 1)), segLen);
        if (cfg.SP > 1) {
          cond = g.land(cond, g.slt(g.idx(p), r.parts));
          after = g.add(after, r.tokensAfterPart(g, cfg, p));
        }
        llvm::SmallVector<mlir::Type> types;
        for (Value v : acc)
          types.push_back(v.getType());
        auto withPart = mlir::scf::IfOp::create(g.b, g.loc, types, cond, /*withElse=*/true);
        mlir::OpBuilder::InsertionGuard guard(g.b);
        g.b.setInsertionPointToStart(withPart.thenBlock());
        Value w = weight(after);
        llvm::SmallVector<Value> local =
            load(ws, g.add(wsBase, g.mul(g.idx(p * cfg.NS + s1 + 1), cfg.D * cfg.D)));
        llvm::SmallVector<Value> sum;
        for (auto [x, y] : llvm::zip(acc, local))
          sum.push_back(mlir::math::FmaOp::create(g.b, g.loc, y, w, x));
        mlir::scf::YieldOp::create(g.b, g.loc, sum);
        g.b.setInsertionPointToStart(withPart.elseBlock());
        mlir::scf::YieldOp::create(g.b, g.loc, acc);
        acc.assign(withPart.getResults().begin(), withPart.getResults().end());
      }
    return acc;
  }
  std::pair<Value, Value> incoming(Gen &g) const {
    if (!cfg.split())
      return {state, stateBase};
    return {ws, g.add(wsBase, g.mul(s, cfg.D * cfg.D))};
  }
  /// Emits `store(memref, offset)` of the block's final state where it goes.
  /// `beforeFinal` (if set) runs first where a split's last segment
  /// stores the final state.
  void storeOutgoing(Gen &g, const Segment &seg,
                     const std::function<void(Value, Value)> &store,
                     const std::function<void()> &beforeFinal = {}) const {
    if (mode == Mode::LocalStates) {
      Value slot = g.add(s, 1);
      if (cfg.SP > 1)
        slot = g.add(slot, g.mul(part, cfg.NS));
      store(ws, g.add(wsBase, g.mul(slot, cfg.D * cfg.D)));
    }
    else if (cfg.split())
      g.ifThen(g.eq(seg.segEnd, seg.len), [&] {
        if (beforeFinal)
          beforeFinal();
        store(state, stateBase);
      });
    else
      store(state, stateBase);
  }
};
inline StateSlots stateSlotsOf(Gen &g, const Config &cfg, Mode mode,
                               const ChunkBlock &blk, Value state, Value ws) {
  Value slot = g.add(g.mul(blk.bIdx, cfg.H), blk.h); // (b, h)
  Value stateBase = g.mul(slot, cfg.D * cfg.D);
  Value wsBase =
      cfg.split() ? g.mul(g.mul(slot, cfg.NS * cfg.SP), cfg.D * cfg.D) : Value();
  Value flagIdx;
  if (mode == Mode::Outputs && cfg.early()) {
    Value batch = mlir::gpu::GridDimOp::create(g.b, g.loc, mlir::gpu::Dimension::z);
    Value slice = cfg.VS > 1 ? g.div(blk.v0, cfg.Dv) : g.idx(0);
    flagIdx = g.add(g.mul(batch, cfg.wsSlotFloats()), g.add(g.mul(slot, cfg.VS), slice));
  }
  return StateSlots{cfg, mode, blk.s, blk.part, state, ws, stateBase, wsBase, flagIdx};
}

/// One thread's share of the cp.async loads of a tile: piece r < `pieces`
/// is row row0 + r·rowStep, 8 elements from (global) column `col`, at byte
/// `dst(r)` of its tile.
struct Pieces {
  int64_t pieces, rowStep;
  Value row0, col;
  std::function<Value(int64_t r)> dst;
};
/// One thread's share of the cp.async loads of a chunk's Q (outputs kernels
/// only), K (pieces `qk`) and V (pieces `v`: the block's value slice) rows
/// into shared tiles. Rows past the segment end repeat its last row (finite;
/// masked by the kernels). The kernels differ only in the tile layout
/// (`dst`, `tile`).
struct ChunkLoader {
  Gen &g;
  const Config &cfg;
  bool outputs;
  const Segment &seg;
  Value h, nch;                 // head, chunks of the segment
  Value qAddr, kAddr, vAddr;    // global base addresses (qAddr: outputs only)
  Pieces qk, v;
  std::function<Value(Value ci, int64_t which)> tile; // which: 0 Q, 1 K, 2 V
  /// Address the pieces of a full chunk as one base per tensor plus
  /// constants (fewer instructions per chunk, a few more registers held
  /// across the chunk loop); otherwise every piece clamps its row.
  bool fullChunkOffsets = false;
  /// Chunk ci of the loop reads the segment's chunk nch-1-ci (the
  /// local-states kernel: its last reads are the chunks the outputs kernel
  /// reads first, so these are still in L2 when it does).
  bool lastChunkFirst = false;
  /// The segment's chunk that loop index ci reads.
  Value chunkOf(Value ci) const {
    return lastChunkFirst ? g.sub(g.sub(nch, g.idx(1)), ci) : ci;
  }

  /// Chunk `ci`'s loads (none past the last chunk), then one commit group
  /// (so that the wait counts stay exact).
  void issue(Value ci);
  /// SiLU in place on this thread's pieces of chunk `ci` (after they landed).
  void silu(Value ci);
};

/// Threads of a scan item: one float4 column of the D×D state each, D·D/4
/// columns in scanItemsPerHead parts (the scan kernel's blocks per (b, h)).
inline int64_t scanThreads(const Config &cfg) {
  return std::min<int64_t>(256, cfg.D * cfg.D / 4);
}
inline int64_t scanItemsPerHead(const Config &cfg) {
  return cfg.D * cfg.D / 4 / scanThreads(cfg);
}
/// cfg.scanInOutputs(): the workspace index of counter `i` after all
/// `batch` sequences' slots: i = b·H + h counts (b, h)'s done scan items,
/// i = batch·H is the claim counter.
inline Value scanCounterIdx(Gen &g, const Config &cfg, Value batch, Value i) {
  return g.add(g.mul(batch, cfg.wsSlotFloats()), i);
}
/// The scan of (sequence bIdx, head h)'s state columns in part `part`
/// (scanThreads(cfg) threads, `tid` one of them, `batch` sequences):
/// ws[0] = state; ws[s] = e^{-λ·segLen} ws[s-1] + (segment s-1's local
/// state, its parts weighed) for s < nseg. The scan kernel runs one per
/// block; with scanInOutputs the outputs kernel's blocks share them out.
/// In two steps: startScanItem reads only what the local-states kernel
/// does not write (the sequence's bounds, its incoming state), so it may
/// run before the wait for that kernel; finishScanItem runs the chain.
struct ScanItemStart {
  Value active;              // the sequence has tokens
  Value nseg, wsIdx;         // its segments; the thread's column of slot 0
  Value x0;                  // the thread's float4 of the incoming state
  Value decV, parts;         // e^{-λ·segLen}; local-state parts (SP > 1)
  llvm::SmallVector<Value> partDecV; // e^{-λ·(tokens after part p)}
};
ScanItemStart startScanItem(Gen &g, const Config &cfg, Value state, Value cu, Value h,
                            Value part, Value bIdx, Value batch, Value tid);
/// The chain, `batchSegs` segments' slots (and their parts) loaded at once.
void finishScanItem(Gen &g, const Config &cfg, Value ws, const ScanItemStart &start,
                    int64_t batchSegs);
/// The scan kernel's segments in flight (finishScanItem's batchSegs).
int64_t scanKernelSegmentsInFlight(const Config &cfg);

constexpr int64_t kMaxSmemPerBlock = 232448; // sm_90: 227 KB opt-in
constexpr int64_t kMaxStages = 4;
/// Pipeline depth of a chunk kernel: `requested`, or (0) as many stages
/// (2..kMaxStages) of `stageBytes` as fit `budget` beside `fixedBytes`.
inline int64_t chooseStages(int64_t requested, int64_t budget, int64_t fixedBytes,
                            int64_t stageBytes) {
  if (requested)
    return requested;
  return std::clamp<int64_t>((budget - fixedBytes) / stageBytes, 2, kMaxStages);
}
/// The requested depth of `mode`'s kernel (0: automatic).
inline int64_t requestedStages(const Config &cfg, Mode mode) {
  return mode == Mode::Outputs ? cfg.spec.stages : cfg.spec.stateStages;
}
/// Shared-memory bytes of the chunk kernel of `mode` (either family).
int64_t mmaChunkSmemBytes(const Config &cfg, Mode mode, int64_t *stages = nullptr);
int64_t wgmmaChunkSmemBytes(const Config &cfg, Mode mode, int64_t *stages = nullptr);

/// The wgmma chunk kernel (LightningPrefillWgmma.cpp): the same parameters,
/// grid and results as the mma.sync one of `mode`.
mlir::gpu::GPUFuncOp buildWgmmaChunkKernel(mlir::OpBuilder &builder,
                                           mlir::gpu::GPUModuleOp module,
                                           const Config &cfg, Mode mode,
                                           GeneratedKernel &gk, mlir::Location loc);

} // namespace mm01::gpu::lightning_prefill

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGPREFILLINTERNAL_H
