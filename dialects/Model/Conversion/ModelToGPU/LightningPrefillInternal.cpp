//===- LightningPrefillInternal.cpp - shared by the prefill generators ----===//
#include "Model/Conversion/ModelToGPU/LightningPrefillInternal.h"

#include "Model/Conversion/ModelToGPU/WgmmaBuilder.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include <cmath>

using namespace mlir;

namespace mm01::gpu::lightning_prefill {

ChunkKernel createChunkKernel(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                              const Config &cfg, Mode mode, int64_t threads,
                              GeneratedKernel &gk, Location loc) {
  const LightningPrefillSpec &sp = cfg.spec;
  const int64_t H = cfg.H, D = cfg.D;
  const bool outputs = mode == Mode::Outputs;
  Type elt = sp.elt, f32 = builder.getF32Type();
  SmallVector<Type> types;
  auto addParam = [&](StringRef name, Type t) {
    types.push_back(t);
    gk.params.push_back({name.str(), ParamKind::Ptr});
  };
  int64_t stateElems = sp.maxBatch * H * D * D;
  if (outputs)
    addParam("q", pointerParamType(elt, extent(sp.maxTokens, sp.qTokenStride, H,
                                               sp.qHeadStride, D)));
  addParam("k", pointerParamType(elt, extent(sp.maxTokens, sp.kTokenStride, H,
                                             sp.kHeadStride, D)));
  addParam("v", pointerParamType(elt, extent(sp.maxTokens, sp.vTokenStride, H,
                                             sp.vHeadStride, D)));
  if (outputs) {
    addParam("state", pointerParamType(f32, stateElems));
    addParam("out", pointerParamType(elt, extent(sp.maxTokens, sp.outTokenStride,
                                                 H, sp.outHeadStride, D)));
  }
  addParam("cu_seqlens", pointerParamType(builder.getI32Type(), sp.maxBatch + 1));
  if (cfg.split())
    addParam("workspace", pointerParamType(f32, cfg.wsFloats(sp.maxBatch)));

  std::string name = uniqueName(module, cfg.base + (outputs ? "_out" : "_states"));
  ChunkKernel kernel;
  kernel.fn = createKernelFunc(builder, module, name, types, {threads, 1, 1}, loc);
  gk.func = kernel.fn;
  gk.block = {threads, 1, 1};
  // The last segment has no local state: no local-states blocks for it.
  gk.grid = {std::to_string((outputs ? cfg.NS : (cfg.NS - 1) * cfg.SP) * cfg.VS),
             std::to_string(H), "batch"};
  // Two local-states blocks per SM (the launcher must allow the maximal
  // shared-memory carveout).
  if (!outputs)
    kernel.fn->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                       builder.getI32IntegerAttr(2));

  Block &entry = kernel.fn.getBody().front();
  unsigned a = 0;
  kernel.q = outputs ? entry.getArgument(a++) : Value();
  kernel.k = entry.getArgument(a++);
  kernel.v = entry.getArgument(a++);
  kernel.state = outputs ? entry.getArgument(a++) : Value();
  kernel.out = outputs ? entry.getArgument(a++) : Value();
  kernel.cu = entry.getArgument(a++);
  kernel.ws = cfg.split() ? entry.getArgument(a++) : Value();
  return kernel;
}

ChunkBlock enterChunkBlock(Gen &g, const Config &cfg, Mode mode, Value cu, Value ws) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  ChunkBlock blk;
  auto wgSpace = mlir::gpu::AddressSpaceAttr::get(b.getContext(),
                                                  mlir::gpu::AddressSpace::Workgroup);
  Value dsm = mlir::gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface(), wgSpace));
  blk.smem = g.baseAddr(dsm);
  if (mode == Mode::LocalStates && cfg.scanInOutputs()) {
    // Clear the scan's counters (LightningPrefillSpec::scanInOutputs):
    // block 0 of each sequence its heads' counts of done items, sequence
    // 0's also the claim counter.
    Value bx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
    Value by = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
    Value bz = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::z);
    Value nz = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::z);
    Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
    auto clear = [&](Value i) {
      memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign, g.f32c(0.0), ws,
                                  ValueRange{scanCounterIdx(g, cfg, nz, i)});
    };
    g.ifThen(g.land(g.eq(bx, g.idx(0)), g.eq(by, g.idx(0))), [&] {
      g.ifThen(g.slt(tid, g.idx(cfg.H)), [&] { clear(g.add(g.mul(bz, cfg.H), tid)); });
      g.ifThen(g.land(g.eq(bz, g.idx(0)), g.eq(tid, g.idx(cfg.H))),
               [&] { clear(g.mul(nz, cfg.H)); });
      // The outputs kernel claims its first items before it waits for this
      // grid: the clears are released before this grid lets it start.
      WgmmaBuilder(g).ptx("fence.acq_rel.gpu;");
    });
  }
  // The scan kernel (early plans: the outputs kernel) may be scheduled once
  // all local-states blocks started.
  if (mode == Mode::LocalStates && !cfg.early())
    gridDependency(g, NVVM::GridDepActionKind::launch_dependents);
  // Blocks are numbered head-fastest: lin = x + y·gridDim.x, head lin % H,
  // then lin / H = s·VS + value slice. The H blocks of a segment are
  // scheduled together and read the same tokens' rows (H·D contiguous
  // elements) side by side, which DRAM serves better than one head's D-wide
  // pieces (B1 H8 on an H100, one run: the outputs kernel 1.483 → 1.446 ms at
  // T512K, 0.389 → 0.374 at T128K, where a two-wave grid numbered
  // segment-fastest read half of each row per wave). A segment's slices stay
  // in the same wave, so their shared Q and K reads still meet in L2.
  Value bx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value by = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value gx = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::x);
  Value lin = g.add(bx, g.mul(by, gx));
  blk.h = g.rem(lin, cfg.H);
  Value x = g.div(lin, cfg.H);
  // Local states in parts: lin / H = (s·VS + slice)·SP + part.
  if (mode == Mode::LocalStates && cfg.SP > 1) {
    blk.part = g.rem(x, cfg.SP);
    x = g.div(x, cfg.SP);
  }
  blk.s = cfg.VS > 1 ? g.div(x, cfg.VS) : x;
  blk.v0 = cfg.VS > 1 ? g.mul(g.rem(x, cfg.VS), cfg.Dv) : g.idx(0);
  blk.bIdx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::z);
  Value batch = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::z);
  if (mode == Mode::LocalStates && cfg.early()) {
    // Clear (b, h)'s "incoming state read" flags (one per value slice,
    // StateSlots::flagIdx) before the outputs kernel may start: its first
    // segment sets them. Every (b, h) has a block with s = part = slice = 0.
    Value first = g.land(g.eq(blk.s, g.idx(0)), g.eq(blk.v0, g.idx(0)));
    if (cfg.SP > 1)
      first = g.land(first, g.eq(blk.part, g.idx(0)));
    Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
    g.ifThen(g.land(first, g.slt(tid, g.idx(cfg.VS))), [&] {
      Value slot = g.add(g.mul(blk.bIdx, cfg.H), blk.h);
      Value flag = g.add(g.mul(batch, cfg.wsSlotFloats()), g.add(g.mul(slot, cfg.VS), tid));
      memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign, g.f32c(0.0), ws,
                                  ValueRange{flag});
    });
    gridDependency(g, NVVM::GridDepActionKind::launch_dependents);
  }
  blk.seg = segmentOf(g, cfg, cu, blk.bIdx, blk.s, batch);
  Value active = mode == Mode::Outputs ? g.slt(blk.seg.segStart, blk.seg.len)
                                       : g.slt(blk.seg.segEnd, blk.seg.len);
  if (mode == Mode::LocalStates) {
    // The chunks this block's share of the local state reads: the tail
    // (localRangeOf), and with parts its run of partLen of them.
    Value nch = g.cdiv(g.sub(blk.seg.segEnd, blk.seg.segStart), cfg.C);
    LocalRange r = localRangeOf(g, cfg, blk.h, nch, blk.seg.len, blk.seg.segLen);
    Value first = r.c0, last = nch;
    if (cfg.SP > 1) {
      first = g.add(r.c0, g.mul(blk.part, r.partLen));
      last = g.minS(nch, g.add(first, r.partLen));
      // Only the parts the reads were split into.
      active = g.land(active, g.slt(blk.part, r.parts));
    }
    Value segStart = blk.seg.segStart;
    blk.seg.segStart = g.add(segStart, g.mul(first, cfg.C));
    if (cfg.SP > 1)
      blk.seg.segEnd = g.minS(blk.seg.segEnd, g.add(segStart, g.mul(last, cfg.C)));
  }
  auto ifActive = scf::IfOp::create(b, loc, active, false);
  b.setInsertionPointToStart(ifActive.thenBlock());
  return blk;
}

/// The tail length (chunks) that stands for "every token": more chunks than
/// the longest call has.
static int64_t wholeSequenceTail(const Config &cfg) { return cfg.spec.maxTokens / cfg.C + 2; }

SmallVector<int64_t> tailChunksPerHead(const Config &cfg, int64_t dropLog2) {
  const double n = double(dropLog2);
  const int64_t all = wholeSequenceTail(cfg);
  SmallVector<int64_t> tails;
  for (int64_t i = 0; i < cfg.H; ++i) {
    double lambda = cfg.spec.decay[i];
    double tokens = lambda > 0.0
                        ? (n * std::log(2.0) - std::log1p(-std::exp(-lambda))) / lambda
                        : INFINITY;
    tails.push_back(dropLog2 > 0 && tokens < double(cfg.spec.maxTokens)
                        ? int64_t(std::ceil(tokens / double(cfg.C))) + 1
                        : all);
  }
  return tails;
}

LocalRange localRangeOf(Gen &g, const Config &cfg, Value h, Value nch, Value len,
                        Value segLen) {
  LocalRange r;
  r.c0 = g.idx(0);
  if (cfg.spec.localStatesDropLog2 > 0) {
    // Start at the segment's tail that carries all but 2^-n of the decay
    // weight (LightningPrefillSpec::localStatesDropLog2): a select chain
    // over the heads' compile-time chunk counts; none where no tail is
    // shorter than the longest call.
    const int64_t all = wholeSequenceTail(cfg);
    SmallVector<int64_t> tails = tailChunksPerHead(cfg, cfg.spec.localStatesDropLog2);
    if (llvm::any_of(tails, [&](int64_t t) { return t < all; })) {
      Value tail = perHeadIndex(g, cfg, h, tails);
      // Where the sequence's last segment alone is longer than the
      // difference, the tokens before the outputs tail weigh < 2^-n in the
      // final state already (every later segment lies between them and
      // the end): the local state only feeds outputs, and its outputs tail
      // (2^-localStatesOutputsDropLog2) suffices
      // (LightningPrefillSpec::localStatesOutputsDropLog2).
      const int64_t nOut = cfg.spec.localStatesOutputsDropLog2;
      if (nOut > 0 && nOut < cfg.spec.localStatesDropLog2) {
        SmallVector<int64_t> outTails = tailChunksPerHead(cfg, nOut), gaps;
        for (auto [t, o] : llvm::zip(tails, outTails))
          gaps.push_back(t >= all ? all : t - o);
        Value nseg = segmentCount(g, len, segLen);
        Value lastChunks = g.div(g.sub(len, g.mul(g.sub(nseg, g.idx(1)), segLen)), cfg.C);
        tail = g.select(g.slt(lastChunks, perHeadIndex(g, cfg, h, gaps)), tail,
                        perHeadIndex(g, cfg, h, outTails));
      }
      r.c0 = g.maxS(g.sub(nch, tail), g.idx(0));
    }
  }
  r.reads = g.sub(nch, r.c0);
  if (cfg.SP > 1) {
    Value reads = g.maxS(r.reads, g.idx(1));
    r.partLen = g.select(g.slt(reads, g.idx(cfg.spec.localStatesSplitChunks)), reads,
                         g.cdiv(reads, cfg.SP));
    r.parts = arith::DivUIOp::create(g.b, g.loc, g.add(reads, g.sub(r.partLen, g.idx(1))),
                                     r.partLen);
  }
  return r;
}

void ChunkLoader::issue(Value ci) {
  const LightningPrefillSpec &sp = cfg.spec;
  g.ifThen(g.slt(ci, nch), [&] {
    Value chunkStart = g.add(seg.segStart, g.mul(chunkOf(ci), cfg.C));
    // Q, K then V of each piece index r (V's pieces may be fewer). With
    // fullChunkOffsets a full chunk (all but a segment's last) addresses
    // piece r as the thread's first piece plus a constant (folded into the
    // instruction); otherwise, and in the last chunk, rows past the
    // segment's end repeat its last row.
    auto pieces = [&](bool clamp) {
      Value last = g.sub(seg.segEnd, g.idx(1));
      for (int64_t r = 0; r < std::max(qk.pieces, v.pieces); ++r) {
        auto one = [&](const Pieces &p, Value src, int64_t which, int64_t ts, int64_t hs) {
          Value idx;
          if (clamp) {
            Value row = g.add(p.row0, r * p.rowStep);
            Value tok = g.add(seg.start, g.minS(g.add(chunkStart, row), last));
            idx = g.add(g.add(g.mul(tok, ts), g.mul(h, hs)), p.col);
          } else {
            Value tok0 = g.add(seg.start, g.add(chunkStart, p.row0));
            idx = g.add(g.add(g.add(g.mul(tok0, ts), g.mul(h, hs)), p.col),
                        r * p.rowStep * ts);
          }
          g.cpAsync16(g.add(tile(ci, which), p.dst(r)), g.add(src, g.mul(idx, 2)));
        };
        if (r < qk.pieces) {
          if (outputs)
            one(qk, qAddr, 0, sp.qTokenStride, sp.qHeadStride);
          one(qk, kAddr, 1, sp.kTokenStride, sp.kHeadStride);
        }
        if (r < v.pieces)
          one(v, vAddr, 2, sp.vTokenStride, sp.vHeadStride);
      }
    };
    if (!fullChunkOffsets)
      return pieces(true);
    Value full = g.slt(g.add(chunkStart, cfg.C - 1), seg.segEnd);
    g.ifThenElse(full, [&] { pieces(false); }, [&] { pieces(true); });
  });
  NVVM::CpAsyncCommitGroupOp::create(g.b, g.loc);
}

/// y·σ(y) on the 8 bf16 at shared byte address `addr`, in place.
static void siluInPlace(Gen &g, Value addr) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  auto v8 = VectorType::get({8}, g.bf16);
  auto v8f = VectorType::get({8}, g.f32);
  Value ptr = g.smemPtr(addr);
  Value x = LLVM::LoadOp::create(b, loc, v8, ptr, 16);
  Value xf = arith::ExtFOp::create(b, loc, v8f, x);
  SmallVector<Value> el;
  for (int64_t e = 0; e < 8; ++e) {
    Value y = vector::ExtractOp::create(b, loc, xf, ArrayRef<int64_t>{e});
    // y · σ(y) = y / (1 + 2^{-y·log2 e})
    y = g.fdiv(y, g.fadd(g.f32c(1.0), g.exp2(g.fmul(y, g.f32c(-kLog2e)))));
    el.push_back(g.truncBF16(y));
  }
  LLVM::StoreOp::create(b, loc, vector::FromElementsOp::create(b, loc, v8, el), ptr, 16);
}

void ChunkLoader::silu(Value ci) {
  for (int64_t r = 0; r < std::max(qk.pieces, v.pieces); ++r)
    for (int64_t which = outputs ? 0 : 1; which < 3; ++which) {
      const Pieces &p = which == 2 ? v : qk;
      if (r < p.pieces)
        siluInPlace(g, g.add(tile(ci, which), p.dst(r)));
    }
}

} // namespace mm01::gpu::lightning_prefill
