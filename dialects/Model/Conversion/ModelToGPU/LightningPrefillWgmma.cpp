//===- LightningPrefillWgmma.cpp - lightning prefill chunk kernels on wgmma ===//
//
// The sm_90a (Hopper) form of the chunk kernels of LightningPrefillKernel.cpp:
// the same plan, parameters, grid and results, with every product on
// warpgroup MMAs (wgmma.mma_async, operands straight from 128B-swizzled
// shared memory; WgmmaBuilder.h) and the work split by role between two
// warpgroups (docs/lightning-prefill.md, "wgmma kernels"):
//
// A block computes Dv = D / valueSlices columns of O and of the state (all
// D without value slices; block segment·valueSlices + slice, numbered
// head-fastest: enterChunkBlock).
//
//   outputs warpgroup (threads 0-127, outputs kernel only), per chunk:
//     P  = Q Kᵀ                     8 x m64n64k16    (A: Q, B: K; K-major)
//     O  = Q · Sb                   D/16 x m64nDvk16 (B: Sb, the bf16 state;
//                                   N-major, K-major where it is Sᵀ)
//     P ⊙= M (decay mask), O ⊙= e^{-λ(i+1)} in registers; P → bf16 A fragments
//     O += P · V                    C/16 x m64nDvk16 (A: registers, B: V N-major)
//     O → the chunk's Q tile (swizzled) → 16-byte row pieces to global memory
//   state warpgroup (threads 128-255; all 128 threads of the local-states
//   kernel), per chunk:
//     S = e^{-λm} S + (K ⊙ w)ᵀ V    D/64 x C/16 (x 2 for hi + lo) m64nDvk16,
//                                   w_j = e^{-λ(m-1-j)}; A = (K ⊙ w)ᵀ as bf16
//                                   hi (+ lo) fragments from ldmatrix.trans
//                                   of K's stage, B = V from its stage
//                                   (N-major); fp32 S in the accumulators
//                                   for the whole segment
//     with value slices the state is held transposed:
//     Sᵀ = e^{-λm} Sᵀ + (V ⊙ w)ᵀ K  Dv/64 x C/16 (x 2) m64nDk16, A from V's
//                                   stage, B = K (N-major); the A fragments
//                                   of chunk c+1 are formed while chunk c's
//                                   MMAs run (two chunks a loop iteration)
//     Sb = bf16(S) (or bf16(Sᵀ))   (outputs kernel: B of the next chunk's Q·S,
//                                   once the outputs warpgroup's Q·S is done)
//     with stateHiLoTailLog2 the chain runs as two loops: bf16 (one MMA a
//     step) up to the final state's window, hi + lo in it (the window only
//     in the outputs block that writes the final state)
//
// Loads: cp.async of 16-byte pieces of the chunk's Q (outputs kernel), K and
// V (the block's columns) rows into the swizzled tiles of a ring of stages,
// stages-1 chunks ahead (the local-states kernel from its range's last
// chunk to its first), issued by every thread of the local-states kernel
// and by the state warpgroup alone in an outputs kernel (every thread where
// the loaders apply SiLU without value slices); one block-wide barrier per chunk
// publishes the chunk (and the Sb the state warpgroup wrote during the
// previous one), so the state update of chunk c runs beside the outputs of
// chunk c. Named barriers order the rest (kSbFreeBarrier, kOutputsBarrier). Each
// role runs its own chunk loop (the same trip count and block barriers): a
// loop-carried fp32 state would otherwise be live in the outputs
// warpgroup's registers too.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/LightningPrefillInternal.h"
#include "Model/Conversion/ModelToGPU/WgmmaBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace mm01::gpu::lightning_prefill {
namespace {

constexpr int64_t kSwizzleAlign = 1024; // a 128B-swizzle atom
// Named barriers (0 is the block barrier): "Sb is free" (the outputs
// warpgroup arrives, the state warpgroup waits) and the outputs warpgroup's
// own.
constexpr int64_t kSbFreeBarrier = 1, kOutputsBarrier = 2;
// The state warpgroup's own: its loading threads' pieces of the next chunk
// landed, before it reads them ahead of the block barrier.
constexpr int64_t kStateBarrier = 3;
// The state warpgroup of an early plan (LightningPrefillSpec::
// earlyFirstSegment) around the incoming-state flag.
constexpr int64_t kIncomingReadBarrier = 4;

/// Shared memory (byte offsets from a 1024-aligned base; see the file comment).
struct WgLayout {
  int64_t tileBytes;  // one swizzled [C][D] bf16 tile (Q, K)
  int64_t stageBytes; // Q (outputs only), K, V ([C][Dv]) of one chunk
  int64_t stages;
  int64_t sb;         // the bf16 state, [D][Dv] or transposed (outputs only)
  int64_t total;      // including the alignment slack
};

/// How the state update is laid out. The decay always rides on the A
/// operand in registers (bf16 hi (+ lo) fragments from ldmatrix.trans of a
/// stage tile; no decayed copy in shared memory, whose pipe ncu finds at
/// 65-68% of its peak on an H200):
/// - without value slices, S[D][Dv] += (K ⊙ w)ᵀ V: A from K, B = V. B1 H8
///   T512K on an H200: `_out` 1.345 → 1.245 ms against a decayed Ṽ tile
///   (docs/benchmarks/prefill-decay-on-k-ab-2026-11-27.md), `_states` 0.592 /
///   0.639 → 0.549 / 0.534 ms with two stages
///   (docs/benchmarks/prefill-states-decay-on-k-ab-2026-11-28.md);
/// - with value slices the state is held transposed, Sᵀ[Dv][D] += (V ⊙ w)ᵀ
///   K: A from the block's Dv columns of V (half the decay arithmetic of K's
///   D columns), B = K, one m64nD accumulator per 64 value columns; the
///   outputs' Q·S then reads Sb = bf16(Sᵀ) as a K-major B. Against a
///   decayed Ṽ tile in shared memory (its stores, a barrier of the state
///   warpgroup, 16 KB): B1 H64 T32K on H200s 0.800-0.828 → 0.756-0.795 ms
///   in four same-run A/Bs, outputs bitwise unchanged
///   (docs/benchmarks/prefill-value-slice-state-path-ab-2026-11-28.md,
///   docs/benchmarks/prefill-value-slice-transposed-ab-h200-2026-11-28.md).
bool transposedState(const Config &cfg) { return cfg.VS > 1; }

/// The automatic ring depth of the local-states kernel: two stages. It
/// streams K, V only, two blocks per SM; a third stage fits but was slower
/// in both runs of the A/B above (unsliced).
constexpr int64_t kLocalStatesStages = 2;

WgLayout wgLayout(const Config &cfg, Mode mode) {
  const bool outputs = mode == Mode::Outputs;
  WgLayout l;
  l.tileBytes = cfg.C * cfg.D * 2;
  l.stageBytes = (outputs ? 2 : 1) * l.tileBytes + cfg.C * cfg.Dv * 2;
  int64_t sbBytes = outputs ? cfg.D * cfg.Dv * 2 : 0;
  // Outputs: one block per SM; local states: two.
  int64_t budget = (outputs ? kMaxSmemPerBlock : kMaxSmemPerBlock / 2) - kSwizzleAlign;
  l.stages = chooseStages(requestedStages(cfg, mode), budget, sbBytes, l.stageBytes);
  if (!outputs && !requestedStages(cfg, mode) && !transposedState(cfg))
    l.stages = std::min(l.stages, kLocalStatesStages);
  l.sb = l.stages * l.stageBytes;
  l.total = l.sb + sbBytes + kSwizzleAlign;
  return l;
}

} // namespace

int64_t wgmmaChunkSmemBytes(const Config &cfg, Mode mode, int64_t *stages) {
  WgLayout l = wgLayout(cfg, mode);
  if (stages)
    *stages = l.stages;
  return l.total;
}

mlir::gpu::GPUFuncOp buildWgmmaChunkKernel(OpBuilder &builder,
                                           mlir::gpu::GPUModuleOp module,
                                           const Config &cfg, Mode mode,
                                           GeneratedKernel &gk, Location loc) {
  const LightningPrefillSpec &sp = cfg.spec;
  const int64_t D = cfg.D, C = cfg.C, Dv = cfg.Dv;
  const bool outputs = mode == Mode::Outputs;
  const int64_t threads = outputs ? 256 : 128;
  Type f32 = builder.getF32Type();

  ChunkKernel kernel = createChunkKernel(builder, module, cfg, mode, threads, gk, loc);
  auto fn = kernel.fn;
  Block &entry = fn.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  Gen g(b, loc);
  WgmmaBuilder wg(g);
  Value q = kernel.q, k = kernel.k, v = kernel.v, state = kernel.state,
        out = kernel.out, cu = kernel.cu, ws = kernel.ws;

  // ---- block: coordinates, segment; shared memory 1024-aligned (swizzle
  // atoms are address-based) ----
  const WgLayout L = wgLayout(cfg, mode);
  gk.dynamicSmemBytes = L.total;
  // Instrumentation (LightningPrefillSpec::probeTimeline, split plans):
  // thread 0 of chunk block lin = x + y·gridDim.x < 4096 writes a 64-byte
  // record of %globaltimer stamps after the workspace's slots and counters:
  // the local states' at lin, the outputs' at 4096 + lin, the outputs'
  // first chunk (after the scanned slot is read) at 3·4096 + lin.
  const bool timeline = cfg.spec.probeTimeline && cfg.split();
  auto readTimer = [&]() -> Value {
    return WgmmaBuilder(g).ptx("mov.u64 $0, %globaltimer;", "=l", {}, {b.getI64Type()})[0];
  };
  auto tlLin = [&]() -> Value {
    Value bx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
    Value by = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
    Value gx = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::x);
    return g.add(bx, g.mul(by, gx));
  };
  auto tlRec = [&](int64_t region) -> Value {
    Value gz = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::z);
    Value base = g.mul(g.cdiv(g.mul(gz, cfg.wsFloats(1) * 4), 16), 16);
    return g.add(g.add(g.baseAddr(ws), base),
                 g.add(g.idx(region * kLightningPrefillTimelineBlocks * 64), g.mul(tlLin(), 64)));
  };
  // Thread `who`'s stamp at byte `offset` of its block's record in `region`.
  auto tlStamp = [&](Value who, int64_t region, int64_t offset) {
    if (!timeline)
      return;
    g.ifThen(g.land(g.eq(who, g.idx(0)), g.slt(tlLin(), g.idx(kLightningPrefillTimelineBlocks))),
             [&] {
               LLVM::StoreOp::create(b, loc, readTimer(),
                                     g.ptr(g.add(tlRec(region), offset), 1), 8);
             });
  };
  Value tlStart = timeline ? readTimer() : Value();
  ChunkBlock blk = enterChunkBlock(g, cfg, mode, cu, ws);
  Value smem = g.mul(g.div(g.add(blk.smem, kSwizzleAlign - 1), kSwizzleAlign),
                     kSwizzleAlign);
  Value h = blk.h, v0 = blk.v0;
  const Segment &seg = blk.seg;

  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value wtid = g.rem(tid, 128);                 // thread in its warpgroup
  Value warp = g.div(wtid, 32), lane = g.rem(wtid, 32);
  Value gq = g.div(lane, 4), t2 = g.mul(g.rem(lane, 4), 2);
  Value r0 = g.add(g.mul(warp, 16), gq);        // accumulator row (and +8)
  Value nLam = negLambdaLog2e(g, cfg, h);
  const StateSlots slots = stateSlotsOf(g, cfg, mode, blk, state, ws);
  Value nch = g.cdiv(g.sub(seg.segEnd, seg.segStart), C);

  // ---- global → shared: cp.async of 16-byte pieces into swizzled tiles ----
  // Piece p = tid + threads·r of a tile of `cols` columns: row p / (cols/8),
  // piece p % (cols/8). The row step is a multiple of 8, so a thread's
  // swizzle is fixed.
  const int64_t vPiecesPerRow = Dv / 8;
  // Row and swizzled byte offset of a thread's first piece of a [C][cols]
  // tile; piece r is `step`·r rows further, the same swizzle (step % 8 ==
  // 0), so its offset is a constant away (folded into the shared-memory
  // instructions).
  auto pieceOffset = [&](Value thread, int64_t r, int64_t step, int64_t cols = 0) {
    const int64_t ppr = (cols ? cols : D) / 8;
    Value row0 = g.div(thread, ppr);
    Value col = g.mul(g.rem(thread, ppr), 8);
    return std::make_pair(g.add(row0, r * step),
                          g.add(wg.swizzled(row0, col, C), r * step * 128));
  };
  // Who issues the loads: every thread, or (outputs kernel) the state
  // warpgroup alone. With value slices its state update is half as wide
  // while the outputs warpgroup still forms the whole Q Kᵀ (B1 H64 T32K on
  // an H100, one run: 0.79 ms against 0.86-0.88 ms with both or the outputs
  // warpgroup loading). Unsliced, both warpgroups are on the chunk's
  // critical path, but the state warpgroup's loads are cheap (one base per
  // tensor, below) while the outputs warpgroup's would need per-piece
  // addresses (its registers are full): on an H200, `_out` 0.092 → 0.088 ms
  // at B1 H8 T32K, 0.354 → 0.346 at T128K, 1.411 → 1.346 at T512K; on an
  // H100 (DRAM-bound) unchanged. With SiLU the loaders also apply it in
  // place, work every thread keeps sharing (not measured alone).
  const bool stateLoads = outputs && (cfg.VS > 1 || !sp.siluInputs);
  const int64_t lThreads = stateLoads ? 128 : threads;
  Value lTid = stateLoads ? wtid : tid;
  auto piecesOf = [&](int64_t cols, Value colBase) {
    const int64_t ppr = cols / 8, step = lThreads / ppr;
    return Pieces{C * ppr / lThreads, step, g.div(lTid, ppr),
                  g.add(g.mul(g.rem(lTid, ppr), 8), colBase),
                  [&, step, cols](int64_t r) { return pieceOffset(lTid, r, step, cols).second; }};
  };
  auto tileOf = [&](Value stage, int64_t which) { // which: 0 Q, 1 K, 2 V
    return g.add(stage, (outputs ? which : which - 1) * L.tileBytes);
  };
  auto stageOf = [&](Value ci) {
    return g.add(smem, g.mul(g.rem(ci, L.stages), L.stageBytes));
  };
  ChunkLoader loader{g, cfg, outputs, seg, h, nch,
                     outputs ? g.baseAddr(q) : Value(), g.baseAddr(k), g.baseAddr(v),
                     piecesOf(D, g.idx(0)), piecesOf(Dv, v0),
                     [&](Value ci, int64_t which) { return tileOf(stageOf(ci), which); }};
  // Per-tensor bases for full chunks where registers allow: the local-states
  // kernel (221 → 234 registers) and an outputs kernel whose state
  // warpgroup alone loads (187 sliced, 255 unsliced without spills). With
  // every thread loading, the outputs kernel would spill (32 bytes). On an
  // H200 (one run): `_states` 0.675 → 0.627 ms at B1 H8 T512K, 0.175 →
  // 0.159 at T128K; B1 H64 T32K `_out` 0.924 → 0.850.
  loader.fullChunkOffsets = !outputs || stateLoads;
  // The local-states kernel reads its range last chunk first: its weights
  // are absolute (below), so the order is free, and its final reads (the
  // slowest heads' first chunks, the kernel's last blocks) are what the
  // outputs blocks read first, so they find them in L2. On an H200 (3
  // rounds): B1 H8 T16K 0.068 → 0.065 ms, T32K 0.105 → 0.1046, T128K
  // 0.347 → 0.345; B8 mixed equal (docs/lightning-prefill.md, "Local states
  // last chunk first").
  loader.lastChunkFirst = !outputs;
  // Start of every chunk (both roles): its pieces landed (and SiLU'd) (the
  // loading threads wait), made visible to wgmma, block barrier, then the
  // next chunk's loads.
  auto chunkHead = [&](Value ci, bool stateWG) {
    bool loads = !stateLoads || stateWG;
    if (loads) {
      NVVM::CpAsyncWaitGroupOp::create(b, loc, L.stages - 2);
      if (sp.siluInputs)
        loader.silu(ci);
    }
    wg.fenceProxyAsync();
    g.barrier();
    if (loads)
      loader.issue(g.add(ci, L.stages - 1));
  };
  // The head of a chunk whose pieces the state warpgroup has already
  // waited for (and SiLU'd): visible to wgmma, block barrier, next loads.
  auto chunkPublish = [&](Value ci) {
    wg.fenceProxyAsync();
    g.barrier();
    loader.issue(g.add(ci, L.stages - 1));
  };
  auto chunkLen = [&](Value ci) {
    Value chunkStart = g.add(seg.segStart, g.mul(ci, C));
    return g.minS(g.idx(C), g.sub(seg.segEnd, chunkStart));
  };

  // ---- accumulator coordinates (m64nN: value 4·j + 2·hf + e) ----
  auto accRow = [&](int64_t idx) { return g.add(r0, 8 * ((idx % 4) / 2)); };
  auto accCol = [&](int64_t idx) { return g.add(t2, 8 * (idx / 4) + idx % 2); };
  // The block's state slice [D][Dv]: D/64 m64nDv accumulators per thread,
  // or (transposed) Sᵀ[Dv][D]: Dv/64 m64nD accumulators.
  const bool transposed = transposedState(cfg);
  const int64_t stM = transposed ? Dv : D, stN = transposed ? D : Dv;
  const int64_t nState = stM / 64 * (stN / 2);
  // State value i: accumulator rows 64·(i / (stN/2)).., then the m64nN
  // layout; (d, v) its feature row and value column in S.
  auto stateRowCol = [&](int64_t i) {
    Value r = g.add(accRow(i % (stN / 2)), 64 * (i / (stN / 2)));
    Value c = accCol(i % (stN / 2));
    return transposed ? std::make_pair(c, r) : std::make_pair(r, c);
  };
  Value sbAddr = g.add(smem, L.sb);
  // Accumulators (m64nDv per 64 rows, `rows`/64 of them back to back) as
  // bf16 into a swizzled [rows][Dv] tile, four 8x8 matrices per
  // stmatrix.x4: a warp's values of n8 block j at rows +0 / +8 (hf) are the
  // fragments of two 8x8 matrices, so (j, 0), (j, 1), (j+1, 0), (j+1, 1) go
  // out in one instruction (512 bytes a warp, against 128 per 32-bit
  // store). Lane L gives row q = L % 8 of matrix L / 8: tile row 16·warp +
  // 8·hf + q (+64·hm) and 16-byte chunk ((j % 8) + (L/8)/2) ^ q of its
  // 128-byte row (128B swizzle), so its address is a per-lane base, one of 4
  // XOR terms (j even) and a constant.
  Value stMat = g.div(lane, 8), stQ = g.rem(lane, 8);
  Value stRow = g.add(g.add(g.mul(warp, 16), g.mul(g.rem(stMat, 2), 8)), stQ);
  Value stHalf = g.div(stMat, 2);
  auto writeTile = [&](Value tile, int64_t rows, int64_t cols, ArrayRef<Value> acc) {
    Value base = g.add(tile, g.mul(stRow, 128));
    SmallVector<Value> xorTerm;
    for (int64_t k = 0; k < 8; k += 2)
      xorTerm.push_back(g.mul(arith::XOrIOp::create(b, loc, g.add(stHalf, k), stQ), 16));
    const int64_t perHalf = cols / 2; // accumulator values per 64 rows
    for (int64_t i = 0; i < int64_t(acc.size()); i += 8) {
      int64_t hm = i / perHalf, j = (i % perHalf) / 4; // j even
      int64_t constant = (j / 8) * rows * 128 + 64 * hm * 128;
      SmallVector<Value> regs;
      for (int64_t e = 0; e < 8; e += 2)
        regs.push_back(g.packCvt(acc[i + e], acc[i + e + 1]));
      NVVM::StMatrixOp::create(b, loc, g.smemPtr(g.add(g.add(base, xorTerm[(j % 8) / 2]), constant)),
                               regs, NVVM::MMALayout::row,
                               NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
                               NVVM::LdStMatrixEltType::B16);
    }
  };
  // Sb = bf16(S) as [D][Dv], the N-major B of Q·S, or bf16(Sᵀ) as
  // [Dv][D], its K-major B.
  auto writeSb = [&](Value sbBase, ArrayRef<Value> S) { writeTile(sbBase, stM, stN, S); };

  auto prologue = [&] {
    for (int64_t p = 0; p + 1 < L.stages; ++p)
      loader.issue(g.idx(p));
  };
  if (stateLoads)
    g.ifThen(g.slt(g.idx(127), tid), prologue);
  else
    prologue();

  // ---- the scan in the outputs kernel (cfg.scanInOutputs()) ----
  // Every block claims scan items (sequence, head, state columns) from a
  // counter until none is left, and counts each done item for its (sequence,
  // head); the state warpgroup waits for its (b, h)'s count before it reads
  // its slot. The counters follow all sequences' slots (cleared, and
  // released, by the local-states kernel before it lets this one start).
  // What is not on the chain's critical path goes before it: the first item
  // is claimed, and its reads that need no local state (the sequence's
  // bounds, the incoming state) issued, before the wait for the local
  // states; each next item is claimed while the current one runs; an item
  // loads all its segments' slots at once where they fit 16 float4 a
  // thread per part pair (B1 H8 T32K on an H200: the wait's end to the
  // state warpgroup's first chunk took 8.7 µs, of which the item 4-5 µs,
  // four dependent loads: the bounds, the incoming state, two rounds of
  // slots).
  const int64_t scanParts = scanItemsPerHead(cfg);
  Value doneIdx; // (b, h)'s count of done items
  if (outputs && cfg.scanInOutputs()) {
    Value batch = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::z);
    Value claimIdx = scanCounterIdx(g, cfg, batch, g.mul(batch, cfg.H));
    Value total = g.mul(batch, cfg.H * scanParts);
    doneIdx = scanCounterIdx(g, cfg, batch, g.add(g.mul(blk.bIdx, cfg.H), h));
    Value word = g.smemPtr(sbAddr); // Sb is written only after the items
    const int64_t segsInFlight = std::clamp<int64_t>(32 / cfg.SP, 1, 16);
    // Thread 0's claim (the counter's old value; 0 in the other threads),
    // used only at `broadcast`, so the atomic's round trip overlaps the
    // work in between.
    auto claim = [&]() -> Value {
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32}, g.eq(tid, g.idx(0)), true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, loc,
                           ValueRange{memref::AtomicRMWOp::create(
                               b, loc, arith::AtomicRMWKind::addf, g.f32c(1.0), ws,
                               ValueRange{claimIdx})});
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, ValueRange{g.f32c(0.0)});
      return ifOp.getResult(0);
    };
    // Thread 0's claim to every thread, as an index.
    auto broadcast = [&](Value claimed) -> Value {
      g.ifThen(g.eq(tid, g.idx(0)), [&] { LLVM::StoreOp::create(b, loc, claimed, word, 4); });
      g.barrier();
      Value c = LLVM::LoadOp::create(b, loc, f32, word, 4);
      g.barrier(); // every thread has read it before the next store
      return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                        arith::FPToSIOp::create(b, loc, b.getI32Type(), c));
    };
    // Item `it` (clamped to the last, so that a claim past the end reads
    // in bounds; it is not run): its sequence, head, part and start.
    auto startItem = [&](Value it) {
      it = g.minS(it, g.sub(total, g.idx(1)));
      Value z = g.div(it, cfg.H * scanParts), r = g.rem(it, cfg.H * scanParts);
      Value ih = g.div(r, scanParts), ip = g.rem(r, scanParts);
      return std::make_tuple(z, ih, startScanItem(g, cfg, state, cu, ih, ip, z, batch, tid));
    };
    auto runItem = [&](Value z, Value ih, const ScanItemStart &st) {
      g.ifThen(g.slt(tid, g.idx(scanThreads(cfg))),
               [&] { finishScanItem(g, cfg, ws, st, segsInFlight); });
      g.barrier();
      g.ifThen(g.eq(tid, g.idx(0)), [&] {
        wg.ptx("fence.acq_rel.gpu;", "", {}, {}); // the item's stores, then the count
        memref::AtomicRMWOp::create(
            b, loc, arith::AtomicRMWKind::addf, g.f32c(1.0), ws,
            ValueRange{scanCounterIdx(g, cfg, batch, g.add(g.mul(z, cfg.H), ih))});
      });
    };
    Value first = broadcast(claim());
    auto [z0, ih0, st0] = startItem(first);
    gridDependency(g, NVVM::GridDepActionKind::wait);
    tlStamp(tid, 1, 32);
    Value second = claim();
    g.ifThen(g.slt(first, total), [&, z0 = z0, ih0 = ih0, st0 = st0] { runItem(z0, ih0, st0); });
    tlStamp(tid, 1, 40);
    Value next = broadcast(second);
    auto loop = scf::WhileOp::create(b, loc, TypeRange{b.getIndexType()}, ValueRange{next});
    {
      OpBuilder::InsertionGuard guard(b);
      Block *before = b.createBlock(&loop.getBefore(), {}, {b.getIndexType()}, {loc});
      b.setInsertionPointToStart(before);
      Value it = before->getArgument(0);
      scf::ConditionOp::create(b, loc, g.slt(it, total), ValueRange{it});
      Block *after = b.createBlock(&loop.getAfter(), {}, {b.getIndexType()}, {loc});
      b.setInsertionPointToStart(after);
      Value following = claim();
      auto [z, ih, st] = startItem(after->getArgument(0));
      runItem(z, ih, st);
      scf::YieldOp::create(b, loc, ValueRange{broadcast(following)});
    }
    tlStamp(tid, 1, 48);
  }
  // One thread spins while workspace word `idx` (read atomically) compares
  // `pred` to `value`.
  auto spinWhile = [&](Value idx, arith::CmpFPredicate pred, float value) {
    auto spin = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&spin.getBefore());
    b.setInsertionPointToStart(before);
    Value word = memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, g.f32c(0.0),
                                             ws, ValueRange{idx});
    Value more = arith::CmpFOp::create(b, loc, pred, word, g.f32c(value));
    scf::ConditionOp::create(b, loc, more, ValueRange{});
    Block *after = b.createBlock(&spin.getAfter());
    b.setInsertionPointToStart(after);
    scf::YieldOp::create(b, loc);
  };
  // The state warpgroup: wait until (b, h)'s scan items are done.
  auto awaitScan = [&] {
    if (!doneIdx)
      return;
    g.ifThen(g.eq(wtid, g.idx(0)), [&] {
      spinWhile(doneIdx, arith::CmpFPredicate::OLT, float(scanParts));
      tlStamp(g.idx(0), 1, 8);
      wg.ptx("fence.acq_rel.gpu;", "", {}, {}); // the count, then the slot
    });
    wg.namedBarrier(kStateBarrier, 128);
  };

  auto v2f32 = VectorType::get({2}, f32);
  auto stateIdx = [&](Value base, int64_t i) {
    auto [d, e] = stateRowCol(i);
    return g.add(base, g.add(g.mul(d, D), g.add(e, v0)));
  };

  // ================= state warpgroup =================
  auto stateRole = [&] {
    // Incoming state (outputs kernel) or zero (local states).
    SmallVector<Value> sInit;
    auto loadState = [&](Value src, Value base) {
      SmallVector<Value> vals;
      for (int64_t i = 0; i < nState; i += 2) {
        if (transposed) { // a pair is two state rows apart: scalar loads
          for (int64_t e = 0; e < 2; ++e)
            vals.push_back(memref::LoadOp::create(b, loc, src, ValueRange{stateIdx(base, i + e)}));
          continue;
        }
        Value x = vector::LoadOp::create(b, loc, v2f32, src, ValueRange{stateIdx(base, i)},
                                         false, llvm::MaybeAlign(8));
        for (int64_t e = 0; e < 2; ++e)
          vals.push_back(vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{e}));
      }
      return vals;
    };
    if (outputs) {
      awaitScan();
      sInit = slots.loadIncoming(g, SmallVector<Type>(nState, f32), loadState, h, seg.segLen,
                                 seg.len);
      tlStamp(wtid, 3, 0);
    }
    else
      sInit.assign(nState, g.f32c(0.0));
    if (outputs) {
      writeSb(sbAddr, sInit);
      wg.fenceProxyAsync();
    }
    if (slots.earlyFirst()) {
      // The first segment has read the incoming state (every thread's loads
      // are in Sb): the block writing the final state in place may go on.
      g.ifThen(g.eq(blk.s, g.idx(0)), [&] {
        wg.namedBarrier(kIncomingReadBarrier, 128);
        g.ifThen(g.eq(wtid, g.idx(0)), [&] {
          memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign, g.f32c(1.0),
                                      ws, ValueRange{slots.flagIdx});
        });
      });
    }
    const int64_t half = stN / 2;
    // The update is bf16 before the final state's window
    // (LightningPrefillSpec::stateHiLoTailLog2).
    const bool hiloTail = sp.stateHiLo && sp.stateHiLoTailLog2 > 0;
    // ldmatrix.x4.trans of the m64k16 A fragment of a [C][64·panels] stage
    // tile, transposed (Kᵀ, or Vᵀ when the state is): lane L gives row L % 8
    // of 8x8 matrix L / 8 = (column half L/8 % 2, token half L/8 / 2), i.e.
    // token 8·(L/8 / 2) + L % 8 of the k16 step and the 16-byte piece of
    // columns 16·warp + 8·(L/8 % 2) of the 64-column panel, swizzled by the
    // token (≡ L % 8 mod 8): one per-lane offset plus constants.
    Value lmMat = g.div(lane, 8), lmRow = g.rem(lane, 8);
    Value lmOff = g.add(
        g.mul(g.add(g.mul(g.div(lmMat, 2), 8), lmRow), 128),
        g.mul(arith::XOrIOp::create(b, loc, g.add(g.mul(warp, 2), g.rem(lmMat, 2)), lmRow), 16));

    // A decayed bf16 pair (pa, pb) as bf16 hi and, with `hilo`, the
    // residual as bf16 lo (null otherwise).
    auto hiLo = [&](Value pa, Value pb, bool hilo) -> std::pair<Value, Value> {
      Value hi = g.packCvt(pa, pb);
      if (!hilo)
        return {hi, Value()};
      return {hi, g.packCvt(g.fsub(pa, g.unpackBF16(hi, 0)), g.fsub(pb, g.unpackBF16(hi, 1)))};
    };

    // S += (K ⊙ w)ᵀ V, or Sᵀ += (V ⊙ w)ᵀ K, w_j = e^{-λ(m-1-j)} (0 for j ≥
    // m): per 64 accumulator rows hm, the chunk's 4 k16 steps of A fragments
    // (hi, lo) from ldmatrix.trans of tile `Ab`; B = tile `Bb` (N-major, stN
    // columns). The fragments stay live (tied to the final wait) until the
    // MMAs reading them have completed.
    using Frags = std::array<SmallVector<Value>, 2>; // hi, lo; 4 per k16 step
    auto decayFactors = [&](Value m) { // a thread's tokens 16·kk + t2 + {0, 1} (+ 8)
      SmallVector<Value> w;
      for (int64_t j = 0; j < C; j += 8)
        for (int64_t e = 0; e < 2; ++e) {
          Value tok = g.add(t2, j + e);
          Value d = g.exp2Ftz(g.fmul(nLam, g.indexToF32(g.sub(g.sub(m, g.idx(1)), tok))));
          w.push_back(g.select(g.slt(tok, m), d, g.f32c(0.0)));
        }
      return w;
    };
    // The local-states kernel needs only the state at its range's end, so
    // it weighs every token by its decay to that end, e^{-λ(end-1-t)}, and
    // never rescales the accumulators (the outputs kernel's Q·S needs the
    // running state after every chunk). Its chunks are all whole (non-last
    // segments and their parts are whole chunks: segmentOf,
    // enterChunkBlock), so the weights are a whole chunk's factors, formed
    // once, times e^{-λ·C·(chunks after this one)}: one ex2 and 16 products
    // a chunk instead of the rescale's D·Dv/128 products and 16 ex2.
    // Weights below fp32's range flush to zero: those tokens weigh below
    // 2^-126 of the last ones (the rescaled state lost them the same way).
    // Loop index ci holds the chunk the loader put there
    // (ChunkLoader::chunkOf: last first in this kernel).
    const bool absoluteWeights = !outputs;
    SmallVector<Value> wholeChunkW;
    if (absoluteWeights)
      wholeChunkW = decayFactors(g.idx(C));
    auto weightsOf = [&](Value ci) -> SmallVector<Value> {
      if (!absoluteWeights)
        return decayFactors(chunkLen(ci));
      Value chunk = loader.chunkOf(ci);
      Value after = g.mul(g.sub(g.sub(nch, g.idx(1)), chunk), C);
      Value gc = g.exp2Ftz(g.fmul(nLam, g.indexToF32(after)));
      SmallVector<Value> w;
      for (Value x : wholeChunkW)
        w.push_back(g.fmul(x, gc));
      return w;
    };
    auto formA = [&](Value Ab, ArrayRef<Value> w, int64_t hm, bool hilo) {
      Frags fr;
      for (int64_t kk = 0; kk < C / 16; ++kk) {
        auto x = g.ldsm4(g.add(Ab, g.add(lmOff, hm * C * 128 + kk * 16 * 128)), /*trans=*/true);
        for (int64_t r = 0; r < 4; ++r) {
          // Register r: columns +8·(r % 2), tokens +8·(r / 2).
          Value w0 = w[4 * kk + 2 * (r / 2)], w1 = w[4 * kk + 2 * (r / 2) + 1];
          Value pa = g.fmul(g.unpackBF16(x[r], 0), w0), pb = g.fmul(g.unpackBF16(x[r], 1), w1);
          auto [hi, lo] = hiLo(pa, pb, hilo);
          fr[0].push_back(hi);
          if (lo)
            fr[1].push_back(lo);
        }
      }
      return fr;
    };
    // Issues rows hm's MMAs (one commit group); S and `fr` become the fenced
    // registers the MMAs are tied to.
    auto issueUpdate = [&](SmallVector<Value> &S, Frags &fr, Value Bb, int64_t hm, bool hilo) {
      const int64_t parts = hilo ? 2 : 1;
      SmallVector<Value> regs(S.begin() + hm * half, S.begin() + (hm + 1) * half);
      for (int64_t part = 0; part < parts; ++part)
        regs.append(fr[part]);
      regs = wg.fence(regs);
      SmallVector<Value> acc(regs.begin(), regs.begin() + half);
      for (int64_t part = 0; part < parts; ++part)
        fr[part].assign(regs.begin() + half + part * 4 * (C / 16),
                        regs.begin() + half + (part + 1) * 4 * (C / 16));
      for (int64_t kk = 0; kk < C / 16; ++kk)
        for (int64_t part = 0; part < parts; ++part)
          acc = wg.mmaRS(stN, acc, ArrayRef<Value>(fr[part]).slice(4 * kk, 4),
                         wg.descMN(g.add(Bb, 2048 * kk), C * 128), /*accumulate=*/true,
                         /*transB=*/true);
      wg.commit();
      std::copy(acc.begin(), acc.end(), S.begin() + hm * half);
    };
    // S and the fragments after every MMA issued so far has completed.
    auto awaitUpdate = [&](ArrayRef<Value> S, ArrayRef<Value> frags) {
      SmallVector<Value> regs(S);
      regs.append(frags.begin(), frags.end());
      regs = wg.wait(0, regs);
      return SmallVector<Value>(regs.begin(), regs.begin() + nState);
    };
    // Each panel's MMAs are issued as soon as its fragments are formed, so
    // that the next panel's arithmetic runs beside them.
    auto updateDecayed = [&](SmallVector<Value> S, Value Ab, Value Bb, Value ci, bool hilo) {
      SmallVector<Value> w = weightsOf(ci), frags;
      for (int64_t hm = 0; hm < stM / 64; ++hm) {
        Frags fr = formA(Ab, w, hm, hilo);
        issueUpdate(S, fr, Bb, hm, hilo);
        frags.append(fr[0]);
        frags.append(fr[1]);
      }
      return awaitUpdate(S, frags);
    };

    // With the state transposed (one panel of A) and a ring of at least 3
    // stages, chunk c+1's A fragments are formed while chunk c's MMAs run:
    // the state warpgroup waits for its own loads of chunk c+1 (and applies
    // SiLU to them) before the block barrier publishes them, and a barrier
    // of its 128 threads makes the other threads' pieces visible to
    // ldmatrix. The fragments are carried through the loop.
    const bool aAhead = transposed && L.stages >= 3;
    auto landChunk = [&](Value ci) { // the loading threads' pieces of chunk ci
      NVVM::CpAsyncWaitGroupOp::create(b, loc, L.stages - 2);
      if (sp.siluInputs)
        g.ifThen(g.slt(ci, nch), [&] { loader.silu(ci); });
      wg.namedBarrier(kStateBarrier, 128);
    };
    auto formAhead = [&](Value ci, bool hilo) {
      Value Vb = tileOf(stageOf(ci), 2);
      Frags fr = formA(Vb, weightsOf(ci), 0, hilo);
      SmallVector<Value> flat(fr[0]);
      flat.append(fr[1]);
      return flat;
    };
    // One chunk: S = e^{-λm} S + (its update, hi + lo where `hilo`); Sb for
    // the next chunk. With aAhead `A` holds the chunk's fragments, and the
    // next chunk's are returned (formed while the MMAs run) where `formNext`.
    auto chunkStep = [&](Value ci, SmallVector<Value> S, ArrayRef<Value> A, bool formNext,
                         bool hilo) {
      if (aAhead)
        chunkPublish(ci);
      else
        chunkHead(ci, true);
      Value stage = stageOf(ci);
      Value Kb = tileOf(stage, 1), Vb = tileOf(stage, 2);
      if (!absoluteWeights) {
        Value sdec = g.exp2(g.fmul(nLam, g.indexToF32(chunkLen(ci))));
        for (Value &x : S)
          x = g.fmul(x, sdec);
      }
      SmallVector<Value> next;
      if (aAhead) {
        const int64_t perPart = 4 * (C / 16);
        Frags fr;
        for (int64_t part = 0; part < (hilo ? 2 : 1); ++part)
          fr[part].assign(A.begin() + part * perPart, A.begin() + (part + 1) * perPart);
        issueUpdate(S, fr, Kb, 0, hilo);
        if (formNext) {
          Value cn = g.add(ci, 1);
          landChunk(cn);
          next = formAhead(cn, hilo);
        }
        SmallVector<Value> frags(fr[0]);
        frags.append(fr[1]);
        S = awaitUpdate(S, frags);
      } else {
        S = transposed ? updateDecayed(S, Vb, Kb, ci, hilo) : updateDecayed(S, Kb, Vb, ci, hilo);
      }
      if (outputs) {
        // The outputs warpgroup has finished reading Sb (its Q·S completed).
        wg.namedBarrier(kSbFreeBarrier, 256);
        writeSb(sbAddr, S);
        wg.fenceProxyAsync();
      }
      return std::make_pair(S, next);
    };

    // Chunks [from, to) of the state chain from S, hi + lo where `hilo`.
    auto runChunks = [&](Value from, Value to, SmallVector<Value> S, bool hilo) {
      auto loop = scf::ForOp::create(b, loc, from, to, g.idx(1), S);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      auto args = loop.getRegionIterArgs();
      auto [S1, next] = chunkStep(loop.getInductionVar(), SmallVector<Value>(args), {}, false, hilo);
      scf::YieldOp::create(b, loc, S1);
      return SmallVector<Value>(loop.getResults());
    };
    // The same with the A fragments a chunk ahead (aAhead). `landed` (or
    // null: false): chunk `from` has landed already (landChunk applies SiLU
    // in place, so it must run once a chunk). Returns S and whether chunk
    // `to` has landed.
    auto runChunksAhead = [&](Value from, Value to, SmallVector<Value> S, bool hilo,
                              Value landed) {
      if (landed)
        g.ifThen(arith::XOrIOp::create(b, loc, landed, g.i1c(true)), [&] { landChunk(from); });
      else
        landChunk(from);
      SmallVector<Value> carried(S);
      carried.append(formAhead(from, hilo));
      // Two chunks per iteration, each with its own fragment registers. A
      // loop-carried copy of the fragments formed during the MMAs that read
      // the previous ones lets ptxas coalesce the two, so that the new
      // fragments would redefine an in-flight wgmma's inputs, and it then
      // serializes every wgmma (C7513).
      Value n = g.sub(to, from);
      Value pairsEnd = g.add(from, g.mul(g.div(n, 2), 2));
      auto loop = scf::ForOp::create(b, loc, from, pairsEnd, g.idx(2), carried);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value ci = loop.getInductionVar();
        auto args = loop.getRegionIterArgs();
        SmallVector<Value> S0(args.begin(), args.begin() + nState);
        SmallVector<Value> A(args.begin() + nState, args.end());
        auto [S1, A1] = chunkStep(ci, S0, A, true, hilo);
        auto [S2, A2] = chunkStep(g.add(ci, 1), S1, A1, true, hilo);
        SmallVector<Value> yielded(S2);
        yielded.append(A2);
        scf::YieldOp::create(b, loc, yielded);
      }
      auto res = loop.getResults();
      SmallVector<Value> SPairs(res.begin(), res.begin() + nState);
      SmallVector<Value> A(res.begin() + nState, res.end());
      // An odd chunk count: the last chunk.
      auto last = scf::IfOp::create(b, loc, TypeRange(ValueRange(SPairs)), g.slt(pairsEnd, to),
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(last.thenBlock());
        auto [SL, unused] = chunkStep(pairsEnd, SPairs, A, false, hilo);
        scf::YieldOp::create(b, loc, SL);
        b.setInsertionPointToStart(last.elseBlock());
        scf::YieldOp::create(b, loc, SPairs);
      }
      // `to` landed in the prologue (n = 0) or in the last pair's step.
      Value landedTo = g.eq(g.rem(n, 2), g.idx(0));
      return std::make_pair(SmallVector<Value>(last.getResults()), landedTo);
    };

    SmallVector<Value> finalS;
    if (!hiloTail) {
      finalS = aAhead ? runChunksAhead(g.idx(0), nch, sInit, sp.stateHiLo, Value()).first
                      : runChunks(g.idx(0), nch, sInit, sp.stateHiLo);
    } else {
      // bf16 updates up to the final state's window, hi + lo in it
      // (LightningPrefillSpec::stateHiLoTailLog2): the window is the
      // ⌊n·ln 2 / λ⌋ tokens before the sequence's end (a compile-time count
      // per head; the whole call where λ = 0), from the chunk before the
      // first that reaches into it (a margin for the count's rounding). A
      // local state reaches the final state through the scan or fold,
      // weighted by the decay to the end; an outputs block only where it
      // writes the final state.
      SmallVector<int64_t> windows;
      for (double lambda : sp.decay) {
        double tokens = double(sp.stateHiLoTailLog2) * std::log(2.0) / lambda;
        windows.push_back(lambda > 0.0 && tokens < double(sp.maxTokens) ? int64_t(tokens)
                                                                         : sp.maxTokens);
      }
      // The segment-relative token before the window; chunk ci's last is
      // (ci + 1)·C - 1: the first chunk past it is (before + 1) / C.
      Value before = g.sub(g.sub(g.sub(seg.len, g.idx(1)), seg.segStart),
                           perHeadIndex(g, cfg, h, windows));
      Value from = g.maxS(g.sub(g.div(g.maxS(g.add(before, 1), g.idx(0)), C), g.idx(1)),
                          g.idx(0));
      from = g.minS(from, nch);
      if (outputs && cfg.split())
        from = g.select(g.eq(seg.segEnd, seg.len), from, nch);
      if (!outputs) {
        // Last chunk first (ChunkLoader::lastChunkFirst): the window's
        // chunks are the loop's first nch - from.
        Value window = g.sub(nch, from);
        if (aAhead) {
          auto [S1, landed] = runChunksAhead(g.idx(0), window, sInit, true, Value());
          finalS = runChunksAhead(window, nch, S1, false, landed).first;
        } else {
          finalS = runChunks(window, nch, runChunks(g.idx(0), window, sInit, true), false);
        }
      } else if (aAhead) {
        auto [S1, landed] = runChunksAhead(g.idx(0), from, sInit, false, Value());
        finalS = runChunksAhead(from, nch, S1, true, landed).first;
      } else {
        finalS = runChunks(from, nch, runChunks(g.idx(0), from, sInit, false), true);
      }
    }

    // The local states' slots are stored L2 evict_last: the first ones are
    // written within microseconds of the kernel's start, and the K, V
    // tails the slowest heads stream afterwards (64 MB at B1 H8 T32K)
    // would otherwise push them out of the 50 MB L2 before the scan reads
    // them (on H200s, 3 rounds each: B1 H8 T32K 0.1033 -> 0.1013 ms and
    // 0.1034 -> 0.1018, T128K 0.346 -> 0.344, B8 mixed 0.2135 -> 0.2101;
    // docs/lightning-prefill.md, "Local states kept in L2").
    Value slotPolicy;
    if (!outputs && !transposed)
      slotPolicy = wg.ptx("createpolicy.fractional.L2::evict_last.b64 $0, 1.0;", "=l", {},
                          {b.getI64Type()})[0];
    auto storeState = [&](Value dst, Value base) {
      for (int64_t i = 0; i < nState; i += 2) {
        if (transposed) {
          for (int64_t e = 0; e < 2; ++e)
            memref::StoreOp::create(b, loc, finalS[i + e], dst,
                                    ValueRange{stateIdx(base, i + e)});
          continue;
        }
        if (slotPolicy && dst == ws) {
          Value addr = arith::IndexCastOp::create(
              b, loc, b.getI64Type(), g.add(g.baseAddr(ws), g.mul(stateIdx(base, i), 4)));
          wg.ptx("st.global.L2::cache_hint.v2.f32 [$0], {$1, $2}, $3;", "l,f,f,l",
                 ValueRange{addr, finalS[i], finalS[i + 1], slotPolicy}, {});
          continue;
        }
        Value x = vector::FromElementsOp::create(
            b, loc, v2f32, ValueRange{finalS[i], finalS[i + 1]});
        vector::StoreOp::create(b, loc, x, dst, ValueRange{stateIdx(base, i)}, false,
                                llvm::MaybeAlign(8));
      }
    };
    // Early plans: a later segment writing the final state waits until the
    // first segment has read the incoming one (the local-states kernel
    // cleared the flag before this grid could start).
    auto awaitFirstRead = [&] {
      if (!slots.earlyFirst())
        return;
      g.ifThen(g.eq(wtid, g.idx(0)),
               [&] { spinWhile(slots.flagIdx, arith::CmpFPredicate::UNE, 1.0f); });
      wg.namedBarrier(kIncomingReadBarrier, 128);
    };
    slots.storeOutgoing(g, seg, storeState, awaitFirstRead);
  };

  // ================= outputs warpgroup =================
  auto outputsRole = [&] {
    // Decays: O rows e^{-λ(i+1)} (chunk-invariant); P e^{-λ(i-j)} (j ≤ i) else 0.
    std::array<Value, 2> qdec;
    for (int64_t hf = 0; hf < 2; ++hf)
      qdec[hf] = g.exp2(g.fmul(nLam, g.indexToF32(g.add(r0, 8 * hf + 1))));
    auto maskFactor = [&](int64_t idx) {
      Value d = g.sub(accRow(idx), accCol(idx));
      return g.select(g.slt(d, g.idx(0)), g.f32c(0.0), g.exp2Ftz(g.fmul(nLam, g.indexToF32(d))));
    };
    // The 32 mask factors: held in registers where O is a slice (m64n64,
    // 32 accumulators), recomputed per chunk otherwise (the unsliced
    // outputs warpgroup would spill). Recomputed, they depend on nothing
    // loaded, and ptxas issues their ex2 ahead of the chunk's first wgmma
    // (ncu on an H200: ~256 SFU cycles per warp in front of Q Kᵀ).
    SmallVector<Value> heldMask;
    if (cfg.VS > 1)
      for (int64_t idx = 0; idx < C / 2; ++idx)
        heldMask.push_back(maskFactor(idx));
    auto pdec = [&](int64_t idx) { return heldMask.empty() ? maskFactor(idx) : heldMask[idx]; };
    auto loop = scf::ForOp::create(b, loc, g.idx(0), nch, g.idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value ci = loop.getInductionVar();
    chunkHead(ci, false);
    Value m = chunkLen(ci);
    Value tokBase = g.add(seg.start, g.add(seg.segStart, g.mul(ci, C)));
    Value stage = stageOf(ci);
    Value Qb = tileOf(stage, 0), Kb = tileOf(stage, 1), Vb = tileOf(stage, 2);

    // K-major k16 step kk of a [rows][D] tile: panel kk/4, +32 bytes inside.
    auto kStep = [&](Value tile, int64_t rows, int64_t kk) {
      return wg.descK(g.add(tile, (kk / 4) * rows * 128 + (kk % 4) * 32));
    };
    SmallVector<Value> accP(C / 2, g.f32c(0.0)), accO(Dv / 2, g.f32c(0.0));
    SmallVector<Value> both(accP);
    both.append(accO);
    both = wg.fence(both);
    accP.assign(both.begin(), both.begin() + C / 2);
    accO.assign(both.begin() + C / 2, both.end());
    for (int64_t kk = 0; kk < D / 16; ++kk)
      accP = wg.mmaSS(C, accP, kStep(Qb, C, kk), kStep(Kb, C, kk), kk > 0, false, false);
    wg.commit();
    for (int64_t kk = 0; kk < D / 16; ++kk)
      accO = transposed
                 ? wg.mmaSS(Dv, accO, kStep(Qb, C, kk), kStep(sbAddr, Dv, kk), kk > 0, false, false)
                 : wg.mmaSS(Dv, accO, kStep(Qb, C, kk),
                            wg.descMN(g.add(sbAddr, 2048 * kk), D * 128), kk > 0, false, true);
    wg.commit();
    accP = wg.wait(1, accP);
    // P ⊙ M → bf16 A fragments: k16 step st holds values 8·st .. 8·st+7.
    SmallVector<Value> aP;
    for (int64_t idx = 0; idx < C / 2; idx += 2)
      aP.push_back(g.pack(g.fmul(accP[idx], pdec(idx)), g.fmul(accP[idx + 1], pdec(idx + 1))));
    accO = wg.wait(0, accO);
    wg.namedBarrierArrive(kSbFreeBarrier, 256); // Sb may take the next state
    for (int64_t idx = 0; idx < Dv / 2; ++idx)
      accO[idx] = g.fmul(accO[idx], qdec[(idx % 4) / 2]);
    both.assign(accO.begin(), accO.end());
    both.append(aP);
    both = wg.fence(both);
    accO.assign(both.begin(), both.begin() + Dv / 2);
    aP.assign(both.begin() + Dv / 2, both.end());
    for (int64_t st = 0; st < C / 16; ++st)
      accO = wg.mmaRS(Dv, accO, ArrayRef<Value>(aP).slice(4 * st, 4),
                      wg.descMN(g.add(Vb, 2048 * st), C * 128), true, true);
    wg.commit();
    accO = wg.wait(0, accO);

    // O leaves through this chunk's Q tile (no longer read: P and Q·S have
    // completed; reloaded only after the next block barrier), swizzled like
    // it, so that the global stores are whole 16-byte pieces of rows.
    writeTile(Qb, C, Dv, accO);
    wg.namedBarrier(kOutputsBarrier, 128);
    auto v8 = VectorType::get({8}, g.bf16);
    for (int64_t r = 0; r < C * vPiecesPerRow / 128; ++r) {
      auto [row, off] = pieceOffset(wtid, r, 128 / vPiecesPerRow, Dv);
      g.ifThen(g.slt(row, m), [&] {
        Value x = LLVM::LoadOp::create(b, loc, v8, g.smemPtr(g.add(Qb, off)), 16);
        Value idx = g.add(g.add(g.mul(g.add(tokBase, row), sp.outTokenStride),
                                g.mul(h, sp.outHeadStride)),
                          g.add(g.mul(g.rem(wtid, vPiecesPerRow), 8), v0));
        vector::StoreOp::create(b, loc, x, out, ValueRange{idx}, false,
                                llvm::MaybeAlign(16));
      });
    }
    b.setInsertionPointAfter(loop);
  };

  if (outputs) {
    Value isState = g.slt(g.idx(127), tid);
    auto roles = scf::IfOp::create(b, loc, isState, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(roles.thenBlock());
      stateRole();
      b.setInsertionPointToStart(roles.elseBlock());
      outputsRole();
    }
  } else {
    stateRole();
  }
  // Every cp.async group is drained before the block exits.
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  if (timeline) {
    // The block's record: start, (counts seen), end, %smid (then the
    // stamps above at 32, 40, 48).
    b.setInsertionPointToEnd(&entry);
    g.barrier();
    Value t0 = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
    g.ifThen(g.land(g.eq(t0, g.idx(0)), g.slt(tlLin(), g.idx(kLightningPrefillTimelineBlocks))),
             [&] {
               Value rec = tlRec(outputs ? 1 : 0);
               LLVM::StoreOp::create(b, loc, tlStart, g.ptr(rec, 1), 8);
               LLVM::StoreOp::create(b, loc, readTimer(), g.ptr(g.add(rec, 16), 1), 8);
               Value smid = WgmmaBuilder(g).ptx(
                   "{ .reg .u32 t; mov.u32 t, %smid; cvt.u64.u32 $0, t; }", "=l", {},
                   {b.getI64Type()})[0];
               LLVM::StoreOp::create(b, loc, smid, g.ptr(g.add(rec, 24), 1), 8);
             });
  }
  b.setInsertionPointToEnd(&entry);
  mlir::gpu::ReturnOp::create(b, loc);
  return fn;
}

} // namespace mm01::gpu::lightning_prefill
