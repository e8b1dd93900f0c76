//===- LightningPrefillKernel.cpp - chunked lightning prefill on tensor cores ===//
//
// See LightningPrefillKernel.h and docs/lightning-prefill.md.
//
// One thread block = one (segment s, head h, sequence b), 8 warps, chunks of
// C = 64 tokens. Warp w, lane = 4·g + t (the mma.sync fragment coordinates):
//
//   rw = w % 4, cw = w / 4   chunk rows 16·rw..16·rw+15;
//                            P = QKᵀ⊙M columns 32·cw.. (4 n-tiles of 8);
//                            O columns cw·D/2.. (D/16 n-tiles of 8)
//   sm = w % WM, sn = w / WM state rows sm·16·MTW.., columns sn·8·NTS..
//                            (D = 128: WM × WN = 4 × 2 warps of 32 × 64)
//
// Shared memory (bf16 rows padded by 8 elements: conflict-free ldmatrix):
//   stages × {Q, K, V}[C][D+8]     raw rows as loaded by cp.async (Q only in
//                                  the outputs kernel; SiLU applied in place);
//                                  stages = as many (≤ 4) as fit one block
//                                  per SM (outputs) or two (local states):
//                                  3 and 3 at D = 128
//   Ps[C][C+8]                     P (bf16), A of P·V
//   Sb[D][D+8]                     bf16 copy of the fp32 register state
//                                  (row-major), B of Q·S
// All MMA operands come from these buffers by ldmatrix (x4; .trans for the
// Vᵀ- and Sᵀ-shaped B operands and for the K̃ᵀ A operand of the state update):
// the decayed K̃ = K ⊙ e^{-λ(m-1-j)} is formed in registers and split into
// bf16 hi + lo there (the state update keeps ~16 bits: fp32-grade state).
// The fp32 state lives in registers (mma accumulator fragments) for the whole
// segment. Per chunk ci: wait for its cp.async group (issued stages-1 chunks
// ahead), [SiLU in place] → barrier → issue chunk ci+stages-1, Sb ← S →
// P → barrier → O = (Q·S)⊙qdec + P·V, stored → S = e^{-λm} S + K̃ᵀV. Two
// barriers per chunk (one in the local-states kernel); every warp keeps all
// its accumulator tiles in flight together (independent MMAs).
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"
#include "Model/Conversion/ModelToGPU/LightningPrefillInternal.h"
#include "Model/Conversion/ModelToGPU/TensorCoreBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <array>
#include <cmath>

using namespace mlir;

namespace mm01::gpu {
namespace {

constexpr int64_t kPad = 8; // bf16 elements of padding per shared row
/// Calls of one sequence from this many tokens take the long-call plan
/// where the chooser gives one (chooseLightningPrefillTiles).
constexpr int64_t kLongCallTokens = 16384;
/// The final state's window of the state update's hi + lo (stateHiLoTailLog2):
/// bf16 terms weigh ≤ 2^-12 in the returned state, their error ≤ 2^-20 of
/// their |k·v| sum, below hi + lo's own (~2e-6 against float64).
constexpr int64_t kStateHiLoTailLog2 = 12;
/// The split plan's segments but the last are sized for this many more
/// tokens (segmentLeadTokens), where the last block runs that window.
constexpr int64_t kSegmentLeadTokens = 512;

using namespace lightning_prefill;

/// Shared-memory layout of a chunk kernel (byte offsets; see the file comment).

struct SmemLayout {
  int64_t rowPitch;   // bytes per row of a Q/K/V tile and of Sb: 2·(D + 8)
  int64_t tileBytes;  // one [C][D+8] bf16 tile
  int64_t stageBytes; // Q (outputs only), K, V of one chunk
  int64_t stages;     // pipeline depth: loads run stages-1 chunks ahead
  int64_t psPitch, ps, sb, total;
};
/// The requested stages, or as many (≤ kMaxStages) as fit next to Ps and
/// Sb: the loads in flight per SM (one block per SM) must cover the DRAM
/// latency.
SmemLayout smemLayout(const Config &cfg, Mode mode) {
  SmemLayout l;
  const bool outputs = mode == Mode::Outputs;
  l.rowPitch = 2 * (cfg.D + kPad);
  l.tileBytes = cfg.C * l.rowPitch;
  l.stageBytes = (outputs ? 3 : 2) * l.tileBytes;
  l.psPitch = 2 * (cfg.C + kPad);
  int64_t fixed = outputs ? cfg.C * l.psPitch + cfg.D * l.rowPitch : 0;
  // The outputs kernel (≈ 240 registers/thread) runs one block per SM; the
  // local-states kernel (≤ 128 registers at D = 128) two.
  int64_t budget = outputs ? kMaxSmemPerBlock : kMaxSmemPerBlock / 2;
  l.stages = chooseStages(requestedStages(cfg, mode), budget, fixed, l.stageBytes);
  l.ps = l.stages * l.stageBytes;
  l.sb = l.ps + (outputs ? cfg.C * l.psPitch : 0);
  l.total = l.sb + (outputs ? cfg.D * l.rowPitch : 0);
  return l;
}

} // namespace

int64_t lightning_prefill::mmaChunkSmemBytes(const Config &cfg, Mode mode,
                                             int64_t *stages) {
  SmemLayout l = smemLayout(cfg, mode);
  if (stages)
    *stages = l.stages;
  return l.total;
}

namespace {

/// The chunk kernel: Mode::Outputs computes O (and the final state of the
/// sequence's last segment); Mode::LocalStates computes each non-last
/// segment's local state (from zero) into the workspace.
mlir::gpu::GPUFuncOp buildChunkKernel(OpBuilder &builder,
                                      mlir::gpu::GPUModuleOp module,
                                      const Config &cfg, Mode mode,
                                      GeneratedKernel &gk, Location loc) {
  const LightningPrefillSpec &sp = cfg.spec;
  const int64_t D = cfg.D, C = cfg.C;
  const bool outputs = mode == Mode::Outputs;
  Type f32 = builder.getF32Type();

  ChunkKernel kernel = createChunkKernel(builder, module, cfg, mode, cfg.threads, gk, loc);
  auto fn = kernel.fn;
  OpBuilder b = OpBuilder::atBlockEnd(&fn.getBody().front());
  Block &entry = fn.getBody().front();
  Gen g(b, loc);
  Value q = kernel.q, k = kernel.k, v = kernel.v, state = kernel.state,
        out = kernel.out, cu = kernel.cu, ws = kernel.ws;

  // ---- block: coordinates, segment; shared memory addressed as integers
  // (cp.async, ldmatrix) ----
  const SmemLayout L = smemLayout(cfg, mode);
  gk.dynamicSmemBytes = L.total;
  const int64_t RP = L.rowPitch, PP = L.psPitch;
  ChunkBlock blk = enterChunkBlock(g, cfg, mode, cu);
  Value smem = blk.smem, h = blk.h;
  const Segment &seg = blk.seg;

  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value warp = g.div(tid, 32), lane = g.rem(tid, 32);
  Value gq = g.div(lane, 4), t2 = g.mul(g.rem(lane, 4), 2);
  Value rw = g.rem(warp, 4), cw = g.div(warp, 4);
  Value sm = g.rem(warp, cfg.WM), sn = g.div(warp, cfg.WM);
  Value r0 = g.mul(rw, 16);           // chunk rows of this warp (P, O)
  Value sr0 = g.mul(sm, 16 * cfg.MTW); // state rows of this warp
  Value sc0 = g.mul(sn, 8 * cfg.NTS);  // state columns of this warp
  Value nLam = negLambdaLog2e(g, cfg, h);
  const StateSlots slots = stateSlotsOf(g, cfg, mode, blk, state, ws);

  // ldmatrix lane offsets (bytes): lane l addresses row (l%8) of matrix l/8.
  //   offX: row ((l/8)%2)·8 + l%8, column (l/16)·8   (A row-major, B from [k][n] .trans)
  //   offY: row (l/16)·8 + l%8, column ((l/8)%2)·8   (B from [n][k], A from [k][m] .trans)
  Value li = g.div(lane, 8), lr = g.rem(lane, 8);
  Value lhalf = g.rem(li, 2), lquad = g.div(li, 2);
  auto laneOff = [&](Value rowPart, Value colPart, int64_t pitch) {
    return g.add(g.mul(g.add(g.mul(rowPart, 8), lr), pitch), g.mul(colPart, 16));
  };
  Value offX = laneOff(lhalf, lquad, RP), offY = laneOff(lquad, lhalf, RP);
  Value offXP = laneOff(lhalf, lquad, PP);
  // Address of element (row, col) of a tile with `pitch` bytes per row.
  auto at = [&](Value base, Value row, Value col, int64_t pitch) {
    return g.add(base, g.add(g.mul(row, pitch), g.mul(col, 2)));
  };

  // ---- chunk-invariant decay factors (registers) ----
  // O rows: e^{-λ(i+1)}; P: e^{-λ(i-j)} for j ≤ i else 0;
  // K̃: e^{-λ(C-1-j)} at this thread's A-fragment columns j = 16·kk + t2 + e + 8·hf.
  std::array<Value, 2> qdec;
  SmallVector<Frag4> pdec(4);
  if (outputs) {
    for (int64_t hf = 0; hf < 2; ++hf)
      qdec[hf] = g.exp2(g.fmul(nLam, g.indexToF32(g.add(g.add(r0, gq), 8 * hf + 1))));
    for (int64_t nt = 0; nt < 4; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        Value i = g.add(g.add(r0, gq), 8 * (e / 2));
        Value j = g.add(g.add(g.mul(cw, 32), t2), 8 * nt + (e % 2));
        Value d = g.sub(i, j);
        Value f = g.exp2(g.fmul(nLam, g.indexToF32(d)));
        pdec[nt][e] = g.select(g.slt(d, g.idx(0)), g.f32c(0.0), f);
      }
  }
  auto kIndex = [&](int64_t kk, int64_t e, int64_t hf) {
    return g.add(t2, 16 * kk + e + 8 * hf);
  };
  SmallVector<Value> kdecBase; // [kk][hf][e]
  for (int64_t kk = 0; kk < C / 16; ++kk)
    for (int64_t hf = 0; hf < 2; ++hf)
      for (int64_t e = 0; e < 2; ++e)
        kdecBase.push_back(g.exp2(g.fmul(
            nLam, g.indexToF32(g.sub(g.idx(C - 1), kIndex(kk, e, hf))))));

  // ---- state fragments: S[sr0 + 16·mi + gq (+8)][sc0 + 8·nt + t2 (+1)] ----
  auto v2f32 = VectorType::get({2}, f32);
  auto stateIndex = [&](Value base, Value r, Value col) {
    return g.add(base, g.add(g.mul(r, D), col));
  };
  auto fragRow = [&](int64_t mi, int64_t hf) {
    return g.add(g.add(sr0, gq), 16 * mi + 8 * hf);
  };
  auto fragCol = [&](int64_t nt) { return g.add(g.add(sc0, t2), 8 * nt); };
  // Order: ((mi·NTS + nt)·4 + 2·hf + e): the C fragments.
  SmallVector<Value> sInit;
  slots.awaitIncoming(g);
  for (int64_t mi = 0; mi < cfg.MTW; ++mi)
    for (int64_t nt = 0; nt < cfg.NTS; ++nt)
      for (int64_t hf = 0; hf < 2; ++hf) {
        if (!outputs) {
          sInit.push_back(g.f32c(0.0));
          sInit.push_back(g.f32c(0.0));
          continue;
        }
        auto [src, base] = slots.incoming(g);
        Value x = vector::LoadOp::create(
            b, loc, v2f32, src, ValueRange{stateIndex(base, fragRow(mi, hf), fragCol(nt))},
            false, llvm::MaybeAlign(8));
        for (int64_t e = 0; e < 2; ++e)
          sInit.push_back(vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{e}));
      }
  // The bf16 copy of the state (row-major [D][D+8], 32-bit pair stores),
  // written by each chunk for its own Q·S.
  auto writeSb = [&](Value sbBase, ValueRange S) {
    for (int64_t mi = 0; mi < cfg.MTW; ++mi)
      for (int64_t nt = 0; nt < cfg.NTS; ++nt)
        for (int64_t hf = 0; hf < 2; ++hf) {
          int64_t i0 = (mi * cfg.NTS + nt) * 4 + 2 * hf;
          g.sts32(at(sbBase, fragRow(mi, hf), fragCol(nt), RP),
                  g.pack(S[i0], S[i0 + 1]));
        }
  };
  Value sbAddr = g.add(smem, L.sb);

  // ---- global → shared: cp.async of raw Q, K, V rows (16 B pieces) ----
  // Piece p = tid + threads·r: row p / (D/8), 16-byte column p % (D/8); rows
  // past the segment end repeat its last row (finite; masked below).
  Value nch = g.cdiv(g.sub(seg.segEnd, seg.segStart), C);
  const int64_t piecesPerRow = D / 8;
  const int64_t piecesPerThread = C * piecesPerRow / cfg.threads;
  const int64_t rowStep = cfg.threads / piecesPerRow;
  Value pRow = g.div(tid, piecesPerRow), pCol = g.rem(tid, piecesPerRow);
  auto tileOf = [&](Value stage, int64_t which) { // which: 0 Q, 1 K, 2 V
    int64_t slotIdx = outputs ? which : which - 1;
    return g.add(stage, slotIdx * L.tileBytes);
  };
  auto stageOf = [&](Value ci) {
    return g.add(smem, g.mul(g.rem(ci, L.stages), L.stageBytes));
  };
  Pieces pieces{piecesPerThread, rowStep, pRow, g.mul(pCol, 8), [&](int64_t r) {
                  return g.add(g.mul(g.add(pRow, r * rowStep), RP), g.mul(pCol, 16));
                }};
  ChunkLoader loader{g, cfg, outputs, seg, h, nch,
                     outputs ? g.baseAddr(q) : Value(), g.baseAddr(k), g.baseAddr(v),
                     pieces, pieces,
                     [&](Value ci, int64_t which) { return tileOf(stageOf(ci), which); }};

  // ---- chunk loop (software pipelined: chunk ci+stages-1 loads during ci) ----
  for (int64_t p = 0; p + 1 < L.stages; ++p)
    loader.issue(g.idx(p));
  auto loop = scf::ForOp::create(b, loc, g.idx(0), nch, g.idx(1), sInit);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value ci = loop.getInductionVar();
    SmallVector<Value> S(loop.getRegionIterArgs().begin(),
                         loop.getRegionIterArgs().end());
    Value chunkStart = g.add(seg.segStart, g.mul(ci, C));
    Value m = g.minS(g.idx(C), g.sub(seg.segEnd, chunkStart));
    Value tokBase = g.add(seg.start, chunkStart);
    Value stage = stageOf(ci);
    Value Qb = outputs ? tileOf(stage, 0) : Value(), Kb = tileOf(stage, 1),
          Vb = tileOf(stage, 2);

    // This chunk's group is complete once at most stages-2 younger ones pend.
    NVVM::CpAsyncWaitGroupOp::create(b, loc, L.stages - 2);
    if (sp.siluInputs)
      loader.silu(ci);
    g.barrier();
    // Every warp finished chunk ci-1: its stage takes chunk ci+stages-1, and
    // Sb takes the state entering this chunk (read after the next barrier).
    loader.issue(g.add(ci, L.stages - 1));
    if (outputs)
      writeSb(sbAddr, S);

    if (outputs) {
      Value Ps = g.add(smem, L.ps);
      // -- P = (Q Kᵀ) ⊙ M, rows r0.., columns 32·cw.. --
      SmallVector<Frag4> aQ;
      for (int64_t kk = 0; kk < D / 16; ++kk)
        aQ.push_back(g.ldsm4(g.add(at(Qb, r0, g.idx(16 * kk), RP), offX), false));
      // All 4 accumulators advance together (independent MMAs in flight).
      SmallVector<Frag4> pacc(4, g.zero4());
      for (int64_t kk = 0; kk < D / 16; ++kk)
        for (int64_t np = 0; np < 2; ++np) {
          Value n0 = g.add(g.mul(cw, 32), 16 * np);
          Frag4 bk = g.ldsm4(g.add(at(Kb, n0, g.idx(16 * kk), RP), offY), false);
          pacc[2 * np] = g.mma(aQ[kk], {bk[0], bk[1]}, pacc[2 * np]);
          pacc[2 * np + 1] = g.mma(aQ[kk], {bk[2], bk[3]}, pacc[2 * np + 1]);
        }
      for (int64_t np = 0; np < 2; ++np) {
        Value n0 = g.add(g.mul(cw, 32), 16 * np);
        for (int64_t tt = 0; tt < 2; ++tt) {
          Frag4 &acc = pacc[2 * np + tt];
          const Frag4 &dec = pdec[2 * np + tt];
          Value ra = g.add(r0, gq), cc = g.add(g.add(n0, t2), 8 * tt);
          g.sts32(at(Ps, ra, cc, PP),
                  g.pack(g.fmul(acc[0], dec[0]), g.fmul(acc[1], dec[1])));
          g.sts32(at(Ps, g.add(ra, 8), cc, PP),
                  g.pack(g.fmul(acc[2], dec[2]), g.fmul(acc[3], dec[3])));
        }
      }
      g.barrier();

      // -- O = (Q·S) ⊙ e^{-λ(i+1)} + P·V, rows r0.., columns cw·D/2.. --
      SmallVector<Frag4> aP;
      for (int64_t kk = 0; kk < C / 16; ++kk)
        aP.push_back(g.ldsm4(g.add(at(Ps, r0, g.idx(16 * kk), PP), offXP), false));
      // All D/16 output tiles of the warp advance together.
      const int64_t NP = D / 32;
      auto nCol = [&](int64_t np) { return g.add(g.mul(cw, D / 2), 16 * np); };
      SmallVector<Frag4> oacc(2 * NP, g.zero4());
      for (int64_t kk = 0; kk < D / 16; ++kk)
        for (int64_t np = 0; np < NP; ++np) {
          Frag4 bs = g.ldsm4(g.add(at(sbAddr, g.idx(16 * kk), nCol(np), RP), offX), true);
          oacc[2 * np] = g.mma(aQ[kk], {bs[0], bs[1]}, oacc[2 * np]);
          oacc[2 * np + 1] = g.mma(aQ[kk], {bs[2], bs[3]}, oacc[2 * np + 1]);
        }
      for (Frag4 &acc : oacc)
        for (int64_t e = 0; e < 4; ++e)
          acc[e] = g.fmul(acc[e], qdec[e / 2]);
      for (int64_t kk = 0; kk < C / 16; ++kk)
        for (int64_t np = 0; np < NP; ++np) {
          Frag4 bv = g.ldsm4(g.add(at(Vb, g.idx(16 * kk), nCol(np), RP), offX), true);
          oacc[2 * np] = g.mma(aP[kk], {bv[0], bv[1]}, oacc[2 * np]);
          oacc[2 * np + 1] = g.mma(aP[kk], {bv[2], bv[3]}, oacc[2 * np + 1]);
        }
      for (int64_t np = 0; np < NP; ++np) {
        Value n0 = nCol(np);
        Frag4 &acc0 = oacc[2 * np], &acc1 = oacc[2 * np + 1];
        for (int64_t hf = 0; hf < 2; ++hf) {
          Value i = g.add(g.add(r0, gq), 8 * hf);
          g.ifThen(g.slt(i, m), [&] {
            Value rowBase = g.add(g.mul(g.add(tokBase, i), sp.outTokenStride),
                                  g.mul(h, sp.outHeadStride));
            for (int64_t tt = 0; tt < 2; ++tt) {
              Frag4 &acc = tt ? acc1 : acc0;
              Value col = g.add(g.add(n0, t2), 8 * tt);
              g.st2(g.pack(acc[2 * hf], acc[2 * hf + 1]), out,
                    ValueRange{g.add(rowBase, col)});
            }
          });
        }
      }
    }

    // -- S = e^{-λm} S + K̃ᵀ V, K̃ = K ⊙ e^{-λ(m-1-j)} (zero for j ≥ m) split
    //    in registers into bf16 hi + lo (A fragments by ldmatrix.trans of K) --
    Value sdec = g.exp2(g.fmul(nLam, g.indexToF32(m)));
    Value cm = g.exp2(g.fmul(nLam, g.indexToF32(g.sub(m, g.idx(C)))));
    SmallVector<Value> acc;
    for (Value x : S)
      acc.push_back(g.fmul(x, sdec));
    for (int64_t kk = 0; kk < C / 16; ++kk) {
      std::array<Value, 4> w; // [hf][e]
      for (int64_t hf = 0; hf < 2; ++hf)
        for (int64_t e = 0; e < 2; ++e)
          w[2 * hf + e] = g.select(g.slt(kIndex(kk, e, hf), m),
                                   g.fmul(kdecBase[(kk * 2 + hf) * 2 + e], cm),
                                   g.f32c(0.0));
      const bool hiLo = sp.stateHiLo;
      SmallVector<Frag4> aHi, aLo;
      for (int64_t mi = 0; mi < cfg.MTW; ++mi) {
        Frag4 raw = g.ldsm4(
            g.add(at(Kb, g.idx(16 * kk), g.add(sr0, 16 * mi), RP), offY), true);
        Frag4 hi, lo;
        for (int64_t r = 0; r < 4; ++r) {
          int64_t hf = r / 2; // a0, a1: columns t2, t2+1; a2, a3: +8
          std::array<Value, 2> his, los;
          for (int64_t e = 0; e < 2; ++e) {
            Value kd = g.fmul(g.unpackBF16(raw[r], e), w[2 * hf + e]);
            Value hiB = g.truncBF16(kd);
            his[e] = hiB;
            if (hiLo)
              los[e] = g.truncBF16(g.fsub(kd, g.extF32(hiB)));
          }
          hi[r] = g.packBF16(his[0], his[1]);
          if (hiLo)
            lo[r] = g.packBF16(los[0], los[1]);
        }
        aHi.push_back(hi);
        if (hiLo)
          aLo.push_back(lo);
      }
      auto update = [&](int64_t nt, Value b0, Value b1) {
        for (int64_t mi = 0; mi < cfg.MTW; ++mi) {
          int64_t i0 = (mi * cfg.NTS + nt) * 4;
          Frag4 c = {acc[i0], acc[i0 + 1], acc[i0 + 2], acc[i0 + 3]};
          if (hiLo)
            c = g.mma(aLo[mi], {b0, b1}, c);
          c = g.mma(aHi[mi], {b0, b1}, c);
          for (int64_t e = 0; e < 4; ++e)
            acc[i0 + e] = c[e];
        }
      };
      if (cfg.NTS == 1) {
        auto bv = g.ldsm2(g.add(at(Vb, g.idx(16 * kk), sc0, RP), offX), true);
        update(0, bv[0], bv[1]);
      } else {
        for (int64_t np = 0; np < cfg.NTS / 2; ++np) {
          Frag4 bv = g.ldsm4(
              g.add(at(Vb, g.idx(16 * kk), g.add(sc0, 16 * np), RP), offX), true);
          update(2 * np, bv[0], bv[1]);
          update(2 * np + 1, bv[2], bv[3]);
        }
      }
    }
    scf::YieldOp::create(b, loc, acc);
  }

  // ---- final state ----
  auto storeState = [&](Value dst, Value base) {
    for (int64_t mi = 0; mi < cfg.MTW; ++mi)
      for (int64_t nt = 0; nt < cfg.NTS; ++nt)
        for (int64_t hf = 0; hf < 2; ++hf) {
          int64_t i0 = (mi * cfg.NTS + nt) * 4 + 2 * hf;
          Value x = vector::FromElementsOp::create(
              b, loc, v2f32,
              ValueRange{loop.getResult(i0), loop.getResult(i0 + 1)});
          vector::StoreOp::create(b, loc, x, dst,
                                  ValueRange{stateIndex(base, fragRow(mi, hf), fragCol(nt))},
                                  false, llvm::MaybeAlign(8));
        }
  };
  slots.storeOutgoing(g, seg, storeState);
  b.setInsertionPointToEnd(&entry);
  mlir::gpu::ReturnOp::create(b, loc);
  return fn;
}

} // namespace

ScanItemStart lightning_prefill::startScanItem(Gen &g, const Config &cfg, Value state,
                                               Value cu, Value h, Value part, Value bIdx,
                                               Value batch, Value tid) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  const int64_t H = cfg.H, D = cfg.D;
  Type f32 = b.getF32Type();
  const int64_t threads = scanThreads(cfg);
  ScanItemStart st;
  Segment seg = segmentOf(g, cfg, cu, bIdx, g.idx(0), batch);
  st.active = g.slt(g.idx(0), seg.len);
  st.nseg = segmentCount(g, seg.len, seg.segLen);
  Value slot = g.add(g.mul(bIdx, H), h);
  Value off = g.mul(g.add(g.mul(part, threads), tid), 4);
  Value stateIdx = g.add(g.mul(slot, D * D), off);
  st.wsIdx = g.add(g.mul(g.mul(slot, cfg.NS * cfg.SP), D * D), off);
  auto v4 = VectorType::get({4}, f32);
  Value nlog2e = negLambdaLog2e(g, cfg, h);
  Value dec = g.exp2(g.fmul(nlog2e, g.indexToF32(seg.segLen)));
  st.decV = vector::BroadcastOp::create(b, loc, v4, dec);
  // Parts: how many, and their weights e^{-λ·(tokens after part p)} (1 for
  // the last).
  if (cfg.SP > 1) {
    Value nch = g.div(seg.segLen, cfg.C); // non-last segments are whole chunks
    LocalRange r = localRangeOf(g, cfg, h, nch, seg.len, seg.segLen);
    st.parts = r.parts;
    for (int64_t p = 0; p < cfg.SP; ++p) {
      Value after = r.tokensAfterPart(g, cfg, p);
      st.partDecV.push_back(vector::BroadcastOp::create(
          b, loc, v4, g.exp2(g.fmul(nlog2e, g.indexToF32(after)))));
    }
  }
  st.x0 = vector::LoadOp::create(b, loc, v4, state, ValueRange{stateIdx}, false,
                                 llvm::MaybeAlign(16));
  return st;
}

void lightning_prefill::finishScanItem(Gen &g, const Config &cfg, Value ws,
                                       const ScanItemStart &st, int64_t batchSegs) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  const int64_t D = cfg.D;
  Type f32 = b.getF32Type();
  auto v4 = VectorType::get({4}, f32);
  Value wsIdx = st.wsIdx, nseg = st.nseg, decV = st.decV;
  g.ifThen(st.active, [&] {
    vector::StoreOp::create(b, loc, st.x0, ws, ValueRange{wsIdx}, false,
                            llvm::MaybeAlign(16));
    auto loop = scf::ForOp::create(b, loc, g.idx(1), nseg, g.idx(batchSegs),
                                   ValueRange{st.x0});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value s0 = loop.getInductionVar();
    Value lastSeg = g.sub(nseg, g.idx(1));
    SmallVector<Value> ys, idxs, valid;
    for (int64_t u = 0; u < batchSegs; ++u) {
      Value si = g.add(s0, u);
      valid.push_back(g.slt(si, nseg));
      Value idx = g.add(wsIdx, g.mul(g.minS(si, lastSeg), D * D));
      idxs.push_back(idx);
      ys.push_back(vector::LoadOp::create(b, loc, v4, ws, ValueRange{idx}, false,
                                          llvm::MaybeAlign(16)));
    }
    if (cfg.SP > 1) {
      // Parts 1.. only where the reads were split (uniform per block):
      // batched and short calls, whose local states are short, load none.
      // Every part's loads are issued before the first is used, so that
      // the parts cost one round of loads, not one each (B1 H64 T32K with
      // 8 parts on an H200: this kernel 0.020 ms as dependent rounds).
      // A missing part reads as 0. Part 0's weight is 1 where it is the
      // only one.
      SmallVector<SmallVector<Value>> more(cfg.SP);
      Value zero = arith::ConstantOp::create(
          b, loc, v4, DenseElementsAttr::get(v4, b.getF32FloatAttr(0.f)));
      for (int64_t p = 1; p < cfg.SP; ++p) {
        SmallVector<Type> types(batchSegs, v4);
        auto withPart = scf::IfOp::create(b, loc, types, g.slt(g.idx(p), st.parts),
                                          /*withElse=*/true);
        OpBuilder::InsertionGuard ifGuard(b);
        b.setInsertionPointToStart(withPart.thenBlock());
        SmallVector<Value> loaded;
        for (int64_t u = 0; u < batchSegs; ++u)
          loaded.push_back(vector::LoadOp::create(
              b, loc, v4, ws, ValueRange{g.add(idxs[u], p * cfg.NS * D * D)}, false,
              llvm::MaybeAlign(16)));
        scf::YieldOp::create(b, loc, loaded);
        b.setInsertionPointToStart(withPart.elseBlock());
        scf::YieldOp::create(b, loc, SmallVector<Value>(batchSegs, zero));
        b.setInsertionPointAfter(withPart);
        for (int64_t u = 0; u < batchSegs; ++u)
          more[p].push_back(withPart.getResult(u));
      }
      for (int64_t u = 0; u < batchSegs; ++u) {
        ys[u] = arith::MulFOp::create(b, loc, ys[u], st.partDecV[0]);
        for (int64_t p = 1; p < cfg.SP; ++p)
          ys[u] = vector::FMAOp::create(b, loc, v4, more[p][u], st.partDecV[p], ys[u]);
      }
    }
    Value x = loop.getRegionIterArgs()[0];
    for (int64_t u = 0; u < batchSegs; ++u) {
      Value nx = vector::FMAOp::create(b, loc, v4, x, decV, ys[u]);
      g.ifThen(valid[u], [&] {
        vector::StoreOp::create(b, loc, nx, ws, ValueRange{idxs[u]}, false,
                                llvm::MaybeAlign(16));
      });
      x = g.select(valid[u], nx, x);
    }
    scf::YieldOp::create(b, loc, x);
  });
}

int64_t lightning_prefill::scanKernelSegmentsInFlight(const Config &cfg) {
  // 8, fewer where each has local-state parts to load too (≤ 16 float4
  // loads in flight a thread; 32 or 48 made the scan kernel no faster and
  // batched calls slower,
  // docs/benchmarks/prefill-states-absolute-weights-h200-2026-11-29.md).
  return std::clamp<int64_t>(16 / cfg.SP, 1, 8);
}

namespace {

/// The scan over segment states, per (b, h): ws[0] = state; ws[s] = e^{-λ·segLen}
/// ws[s-1] + ws[s] (ws[s] held segment s-1's local state) for s < nseg. With
/// local states in parts (cfg.SP > 1), segment s-1's is Σ_p w_p ws[p·NS + s]
/// over its parts (LocalRange; the same for every non-last segment of the
/// sequence), w_p = e^{-λ·(tokens after part p)}.
/// Grid (H·P, batch): block (h·P + p) scans part p of the D×D state, one
/// float4 column of the chain per thread; the loads of 8 segments (of
/// 16 / parts where local states come in parts, every part of each) are
/// issued together (the chain is latency-bound).
mlir::gpu::GPUFuncOp buildScanKernel(OpBuilder &builder,
                                     mlir::gpu::GPUModuleOp module,
                                     const Config &cfg, GeneratedKernel &gk,
                                     Location loc) {
  const LightningPrefillSpec &sp = cfg.spec;
  const int64_t H = cfg.H, D = cfg.D;
  Type f32 = builder.getF32Type();
  int64_t stateElems = sp.maxBatch * H * D * D;
  SmallVector<Type> types = {pointerParamType(f32, stateElems),
                             pointerParamType(builder.getI32Type(), sp.maxBatch + 1),
                             pointerParamType(f32, cfg.wsFloats(sp.maxBatch))};
  gk.params = {{"state", ParamKind::Ptr},
               {"cu_seqlens", ParamKind::Ptr},
               {"workspace", ParamKind::Ptr}};
  const int64_t threads = scanThreads(cfg);
  const int64_t parts = scanItemsPerHead(cfg);
  auto fn = createKernelFunc(builder, module, uniqueName(module, cfg.base + "_scan"),
                             types, {threads, 1, 1}, loc);
  gk.func = fn;
  gk.block = {threads, 1, 1};
  gk.grid = {std::to_string(H * parts), "batch", "1"};

  Block &entry = fn.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  Gen g(b, loc);
  Value state = entry.getArgument(0), cu = entry.getArgument(1),
        ws = entry.getArgument(2);
  // Overlapped by the outputs kernel, overlapping the local-states kernel:
  // let the outputs blocks be scheduled (they fill their load rings, then
  // wait for this grid), read what the local-states kernel does not write
  // (the incoming state, the sequence's bounds), then wait for the local
  // states.
  gridDependency(g, NVVM::GridDepActionKind::launch_dependents);
  Value bx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value bIdx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value batch = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::y);
  ScanItemStart start =
      startScanItem(g, cfg, state, cu, g.div(bx, parts), g.rem(bx, parts), bIdx, batch, tid);
  gridDependency(g, NVVM::GridDepActionKind::wait);
  finishScanItem(g, cfg, ws, start, scanKernelSegmentsInFlight(cfg));
  mlir::gpu::ReturnOp::create(b, loc);
  return fn;
}

} // namespace

int64_t maxLightningPrefillStages(const LightningPrefillSpec &spec, bool outputs) {
  Config cfg{};
  cfg.spec = spec;
  cfg.spec.stages = cfg.spec.stateStages = 0;
  cfg.D = spec.dim;
  cfg.C = spec.chunk;
  cfg.VS = std::max<int64_t>(1, spec.valueSlices);
  cfg.Dv = cfg.D / cfg.VS;
  Mode mode = outputs ? Mode::Outputs : Mode::LocalStates;
  int64_t stages = 0;
  if (spec.wgmma)
    wgmmaChunkSmemBytes(cfg, mode, &stages);
  else
    mmaChunkSmemBytes(cfg, mode, &stages);
  return stages;
}

void chooseLightningPrefillTiles(LightningPrefillSpec &spec, int64_t smCount) {
  spec.chunk = 64;
  spec.warps = 8;
  // wgmma where it exists for the head dim: 1.4-1.6x the mma.sync kernels
  // on an H100 (docs/benchmarks/prefill-wgmma-*); sm_90a is the target.
  spec.wgmma = spec.dim == 64 || spec.dim == 128;
  if (spec.segments == 0 && spec.heads > 0) {
    if (spec.wgmma && spec.dim == 128 && 2 * spec.heads * 8 >= 7 * smCount &&
        2 * spec.heads <= smCount) {
      // Two value slices, one segment: every byte read once, where the
      // 2·heads blocks fill ≥ 7/8 of the SMs in one wave (B1 H64 D128 on an
      // H100: 128 blocks; docs/lightning-prefill.md, "Value slices").
      spec.valueSlices = 2;
      spec.segments = 1;
      // Long calls of one sequence: two segments without slices, the first
      // segment's local state in 8 parts. Its fixed cost (the longest
      // tail's local state and the scan, ~0.09 ms on an H200) does not grow
      // with T while its outputs kernel streams at 79-91% of copy: B1 H64
      // on one H200 2% faster than the slices at T16K, 6% at T32K, 13% at
      // T128K, equal at T8K, where other H200s had it 15-25% slower
      // (docs/benchmarks/prefill-states-parts-h200-2026-11-28.md).
      // Its first segment starts beside the local states, and is 2048
      // tokens longer than the second, which waits for them (no scan
      // kernel): one H200, B1 H64 T32K 0.677 → 0.657 ms, T16K 0.356 →
      // 0.350, T64K 1.285 → 1.272 (leads of 1024 and 3072 between;
      // docs/lightning-prefill.md, "Early first segment").
      if (spec.maxTokens >= kLongCallTokens) {
        spec.longCallTokens = kLongCallTokens;
        spec.longCallSegments = 2;
        spec.longCallValueSlices = 1;
        spec.longCallLocalStatesParts = 8;
        spec.longCallEarlyFirstSegment = true;
        spec.longCallSegmentLeadTokens = 2048;
      }
    } else {
      // Whole waves: the outputs kernel runs one block per SM; two waves.
      int64_t ns = 2 * smCount / spec.heads;
      ns = std::min(ns, std::max<int64_t>(1, spec.maxTokens / spec.minSegmentTokens));
      spec.segments = std::max<int64_t>(ns, 1);
      // The segments but the last sized for 512 more tokens, so that the
      // last block, which runs the final state's hi + lo window below, is
      // shorter. One H200, B1 H8 one-wave calls, 3 rounds: T32K 0.113 →
      // 0.107 ms, T16K 0.072 → 0.070, T8K 0.048 → 0.047, T2K and T4K equal;
      // two-wave calls of the benchmark round to the same segments
      // (docs/lightning-prefill.md, "Segment lead").
      if (spec.segments > 1 && spec.wgmma && spec.stateHiLo)
        spec.segmentLeadTokens = kSegmentLeadTokens;
      // Long calls of one sequence: the same split with the scan in the
      // outputs kernel (no scan kernel: its launch and the hand-over of the
      // SMs to the outputs blocks leave the critical path). One H200, 3
      // rounds: B1 H8 T32K 0.107 → 0.104 ms, T128K 0.348 → 0.343, T16K
      // 0.069 → 0.068; T4K 0.031 → 0.032 and B8 mixed 0.213 → 0.230 (its
      // 1024 scan items shared by one wave of blocks), which keep the scan
      // kernel (docs/lightning-prefill.md, "The scan in the outputs
      // kernel").
      if (spec.segments > 1 && spec.wgmma && spec.maxTokens >= kLongCallTokens) {
        spec.longCallTokens = kLongCallTokens;
        spec.longCallSegments = spec.segments;
        spec.longCallValueSlices = 1;
        spec.longCallLocalStatesParts = spec.localStatesParts;
        spec.longCallEarlyFirstSegment = false;
        spec.longCallSegmentLeadTokens = spec.segmentLeadTokens;
        spec.longCallScanInOutputs = true;
      }
    }
  }
  // hi + lo only where the update reaches the returned state above 2^-12
  // (the wgmma kernels): on H200s, B1 H64 T32K 0.638-0.645 → 0.574-0.576
  // ms, T64K 1.24 → 1.08, B1 H8 T512K 1.39 → 1.20, T128K 0.38-0.39 →
  // 0.36; the final states within 3e-7 of hi + lo throughout
  // (docs/lightning-prefill.md, "hi + lo where it reaches the state").
  spec.stateHiLoTailLog2 = spec.wgmma && spec.stateHiLo ? kStateHiLoTailLog2 : 0;
  // The deepest rings that fit: the outputs kernel's loads must cover the
  // DRAM latency with one block per SM (3 stages at D = 128 with wgmma).
  spec.stages = maxLightningPrefillStages(spec, /*outputs=*/true);
  spec.stateStages = maxLightningPrefillStages(spec, /*outputs=*/false);
}

LightningPrefillSpec longCallSpec(const LightningPrefillSpec &spec) {
  LightningPrefillSpec l = spec;
  l.segments = spec.longCallSegments;
  l.valueSlices = spec.longCallValueSlices;
  l.localStatesParts = spec.longCallLocalStatesParts;
  l.earlyFirstSegment = spec.longCallEarlyFirstSegment;
  l.segmentLeadTokens = spec.longCallSegmentLeadTokens;
  l.scanInOutputs = spec.longCallScanInOutputs;
  l.stages = l.stateStages = 0; // the deepest that fit this split's blocks
  l.longCallTokens = 0;
  return l;
}

std::string longCallCondition(const LightningPrefillSpec &spec) {
  return "min(lt(batch, 2), ge(tokens, " + std::to_string(spec.longCallTokens) + "))";
}

FailureOr<LightningPrefillPlan>
buildLightningPrefill(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                      const LightningPrefillSpec &spec, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "lightning prefill kernel generator: ";
  };
  if (!spec.elt || !spec.elt.isBF16()) {
    fail() << "activation element type " << spec.elt
           << " is not supported (bf16 only: f32 activations are not "
              "implemented yet)";
    return failure();
  }
  if (spec.dim != 32 && spec.dim != 64 && spec.dim != 128) {
    fail() << "head dim D = " << spec.dim << " is not supported (32, 64 or 128)";
    return failure();
  }
  if (spec.heads < 1) {
    fail() << "heads = " << spec.heads << " must be positive";
    return failure();
  }
  if ((int64_t)spec.decay.size() != spec.heads) {
    fail() << "expects " << spec.heads << " decay rates, got "
           << spec.decay.size();
    return failure();
  }
  for (double d : spec.decay)
    if (!(d >= 0.0) || !std::isfinite(d)) {
      fail() << "decay rate " << d << " must be finite and non-negative";
      return failure();
    }
  if (spec.chunk != 64 || spec.warps != 8) {
    fail() << "chunk = " << spec.chunk << ", warps = " << spec.warps
           << ": only chunk = 64 with 8 warps is implemented";
    return failure();
  }
  for (auto [what, stride] :
       {std::pair<const char *, int64_t>{"q token", spec.qTokenStride},
        {"q head", spec.qHeadStride}, {"k token", spec.kTokenStride},
        {"k head", spec.kHeadStride}, {"v token", spec.vTokenStride},
        {"v head", spec.vHeadStride}, {"out token", spec.outTokenStride},
        {"out head", spec.outHeadStride}})
    if (stride <= 0 || stride % 8 != 0) {
      fail() << what << " stride " << stride
             << " must be a positive multiple of 8 elements (16-byte vectors)";
      return failure();
    }
  if (spec.longCallTokens < 0) {
    fail() << "longCallTokens = " << spec.longCallTokens
           << " must be 0 (no long-call plan) or positive";
    return failure();
  }
  if (spec.longCallTokens > 0 && spec.longCallSegments < 1) {
    fail() << "longCallSegments = " << spec.longCallSegments
           << " must be at least 1 (the long-call plan's split is explicit)";
    return failure();
  }
  if (spec.segmentLeadTokens < 0 || spec.segmentLeadTokens % spec.chunk != 0) {
    fail() << "segmentLeadTokens = " << spec.segmentLeadTokens
           << " must be a non-negative multiple of the chunk (" << spec.chunk << ")";
    return failure();
  }
  if (spec.stateHiLoTailLog2 < 0 || spec.stateHiLoTailLog2 > 64 ||
      (spec.stateHiLoTailLog2 > 0 && (!spec.stateHiLo || !spec.wgmma))) {
    fail() << "stateHiLoTailLog2 = " << spec.stateHiLoTailLog2
           << " must be 0 (hi + lo throughout) or 1..64 with the hi + lo state "
              "update and the wgmma kernels";
    return failure();
  }
  if (spec.earlyFirstSegment && !spec.wgmma) {
    fail() << "earlyFirstSegment needs the wgmma kernels";
    return failure();
  }
  if (spec.scanInOutputs && !spec.wgmma) {
    fail() << "scanInOutputs needs the wgmma kernels";
    return failure();
  }
  if (spec.probeTimeline && !spec.wgmma) {
    fail() << "probeTimeline needs the wgmma kernels";
    return failure();
  }
  if (spec.maxBatch < 1 || spec.maxTokens < 1) {
    fail() << "maxBatch and maxTokens must be positive";
    return failure();
  }
  if (spec.minSegmentTokens < spec.chunk ||
      spec.minSegmentTokens % spec.chunk != 0) {
    fail() << "minSegmentTokens = " << spec.minSegmentTokens
           << " must be a positive multiple of the chunk (" << spec.chunk << ")";
    return failure();
  }
  if (spec.shortestSegmentTokens < spec.chunk ||
      spec.shortestSegmentTokens % spec.chunk != 0 ||
      spec.shortestSegmentTokens > spec.minSegmentTokens) {
    fail() << "shortestSegmentTokens = " << spec.shortestSegmentTokens
           << " must be a positive multiple of the chunk (" << spec.chunk
           << ") and at most minSegmentTokens (" << spec.minSegmentTokens << ")";
    return failure();
  }
  if (spec.oneWaveSegmentTokens < 0 || spec.oneWaveSegmentTokens % spec.chunk != 0) {
    fail() << "oneWaveSegmentTokens = " << spec.oneWaveSegmentTokens
           << " must be 0 (never one wave) or a positive multiple of the chunk ("
           << spec.chunk << ")";
    return failure();
  }
  if (spec.localStatesSplitChunks < 0 || spec.localStatesSplitChunks == 1) {
    fail() << "localStatesSplitChunks = " << spec.localStatesSplitChunks
           << " must be 0 (one local-states block per segment) or at least 2";
    return failure();
  }
  if (spec.localStatesSplitChunks > 0 &&
      (spec.localStatesParts < 2 || spec.localStatesParts > 64 ||
       spec.localStatesParts > spec.localStatesSplitChunks)) {
    fail() << "localStatesParts = " << spec.localStatesParts
           << " must be 2..64 and at most localStatesSplitChunks ("
           << spec.localStatesSplitChunks << ")";
    return failure();
  }
  if (spec.localStatesOutputsDropLog2 < 0) {
    fail() << "localStatesOutputsDropLog2 = " << spec.localStatesOutputsDropLog2
           << " must be >= 0 (0: local states from the localStatesDropLog2 tail)";
    return failure();
  }
  if (spec.localStatesDropLog2 < 0) {
    fail() << "localStatesDropLog2 = " << spec.localStatesDropLog2
           << " must be >= 0 (0: local states from every token)";
    return failure();
  }
  if (spec.wgmma && spec.dim != 64 && spec.dim != 128) {
    fail() << "wgmma kernels need head dim D = 64 or 128, got " << spec.dim;
    return failure();
  }
  if (spec.segments < 0) {
    fail() << "segments = " << spec.segments << " must be >= 0 (0: automatic)";
    return failure();
  }
  if (spec.valueSlices < 1 ||
      (spec.valueSlices > 1 &&
       (!spec.wgmma || spec.dim % spec.valueSlices != 0 || spec.dim / spec.valueSlices < 64))) {
    fail() << "valueSlices = " << spec.valueSlices
           << " is not supported: 1, or a split of the value dimension into "
              "slices of at least 64 columns with the wgmma kernels (D = "
           << spec.dim << (spec.wgmma ? "" : ", mma.sync kernels") << ")";
    return failure();
  }
  for (auto [what, n] : {std::pair<const char *, int64_t>{"stages", spec.stages},
                         {"stateStages", spec.stateStages}})
    if (n != 0 && (n < 2 || n > 8)) {
      fail() << what << " = " << n << " must be 0 (automatic) or 2..8";
      return failure();
    }

  Config cfg;
  cfg.spec = spec;
  cfg.H = spec.heads;
  cfg.D = spec.dim;
  cfg.C = spec.chunk;
  cfg.W = spec.warps;
  cfg.threads = 32 * cfg.W;
  cfg.WM = std::min<int64_t>(4, cfg.D / 16);
  cfg.WN = cfg.W / cfg.WM;
  cfg.MTW = cfg.D / cfg.WM / 16;
  cfg.NTS = cfg.D / cfg.WN / 8;
  cfg.VS = spec.valueSlices;
  if (spec.segments == 0) {
    LightningPrefillSpec chosen = spec;
    chooseLightningPrefillTiles(chosen, /*smCount=*/132);
    cfg.NS = chosen.segments;
    cfg.VS = chosen.valueSlices;
  } else {
    cfg.NS = spec.segments;
  }
  cfg.Dv = cfg.D / cfg.VS;
  cfg.SP = cfg.split() && spec.localStatesSplitChunks > 0 ? spec.localStatesParts : 1;
  cfg.base = ("lightning_prefill_h" + llvm::Twine(cfg.H) + "_d" + llvm::Twine(cfg.D) +
              "_bf16_c" + llvm::Twine(cfg.C) + "_s" + llvm::Twine(cfg.NS) +
              (spec.siluInputs ? "_silu" : "") + (spec.stateHiLo ? "" : "_bf16state") +
              (spec.stateHiLoTailLog2 > 0 ? "_hilotail" + std::to_string(spec.stateHiLoTailLog2)
                                          : "") +
              (spec.wgmma ? "_wg" : "") +
              (cfg.VS > 1 ? "_v" + std::to_string(cfg.VS) : ""))
                 .str();

  // Requested pipelines must fit a block's shared memory.
  for (Mode mode : {Mode::Outputs, Mode::LocalStates}) {
    int64_t stages = 0;
    int64_t bytes = spec.wgmma ? wgmmaChunkSmemBytes(cfg, mode, &stages)
                               : mmaChunkSmemBytes(cfg, mode, &stages);
    if (bytes > kMaxSmemPerBlock) {
      fail() << (mode == Mode::Outputs ? "stages" : "stateStages") << " = " << stages
             << ": the " << (mode == Mode::Outputs ? "outputs" : "local-states")
             << " kernel would need " << bytes
             << " bytes of shared memory, more than the " << kMaxSmemPerBlock
             << " a block may have";
      return failure();
    }
  }
  auto buildChunk = [&](Mode mode, GeneratedKernel &gk) {
    if (spec.wgmma)
      buildWgmmaChunkKernel(builder, module, cfg, mode, gk, loc);
    else
      buildChunkKernel(builder, module, cfg, mode, gk, loc);
  };
  LightningPrefillPlan plan;
  plan.segments = cfg.NS;
  plan.valueSlices = cfg.VS;
  if (cfg.split()) {
    GeneratedKernel states, scan;
    buildChunk(Mode::LocalStates, states);
    plan.kernels.push_back(std::move(states));
    // Early plans fold the local states in the outputs kernel instead, and
    // with scanInOutputs its blocks run the scan's items.
    if (!cfg.early() && !cfg.scanInOutputs()) {
      buildScanKernel(builder, module, cfg, scan, loc);
      scan.overlapsPrevious = true;
      plan.kernels.push_back(std::move(scan));
    }
    plan.workspaceBytesPerSequence =
        cfg.wsFloats(1) * 4 + (spec.probeTimeline ? kLightningPrefillTimelineBytes + 16 : 0);
    plan.workspaceBytes = "batch*" + std::to_string(plan.workspaceBytesPerSequence);
  } else {
    plan.workspaceBytes = "0";
  }
  GeneratedKernel outK;
  buildChunk(Mode::Outputs, outK);
  outK.overlapsPrevious = cfg.split();
  plan.kernels.push_back(std::move(outK));
  return plan;
}

} // namespace mm01::gpu
