//===- SoftmaxAttentionKernels.cpp - softmax attention GPU kernels --------===//
//
// See SoftmaxAttentionKernels.h for what the kernels compute. Layout:
//
// cache write (one block per new token i, `writeThreads` threads): work item
//   (head h, pair p), p < D/2, loops over the block. p < R/2 rotates the
//   channel pair (p, p + R/2) of k; p >= R/2 copies the pass-through channels
//   R + 2(p - R/2) and +1. Every item also copies v channels 2p, 2p + 1.
//
// per-token attention (queryTile = 0; one block per (new token i, KV head),
//   `warps` warps): lane l
//   owns the V = D/32 contiguous channels [lV, lV + V) of the G = H/Hkv query
//   heads that share the KV head. Warp w walks the key rows j = w, w + warps,
//   ... <= positions[i] of slot token_seq[i]: one coalesced V-vector load of
//   the key row and of the value row per lane, the G dot products reduced
//   across the warp with 5 xor shuffles, and an online softmax in f32 in the
//   base-2 domain (q is pre-multiplied by scale·log2(e), exponentials are
//   ex2.approx). The warps' (max, sum, accumulator) triples are merged
//   through workgroup memory; the output is rounded once.
//
// tensor-core attention (prefill; queryTile = BM > 0): block (x, kvh) takes
//   row tile gridDim.x-1-x of the packed sequences (a scan of cu_seqlens;
//   sequence b has cdiv(len_b·G, BM) tiles, spare blocks exit; the last,
//   longest-context tiles start first). Row r of a tile is row ρ = ρ0 + r of
//   the sequence: token ρ / G, query head kvh·G + ρ % G (the G heads sharing
//   the KV head are stacked, so a K/V tile serves all of them). BM/16 warps,
//   warp w owns rows 16w..16w+15, lane = 4·g + t (mma.sync fragments).
//   Shared memory (bf16 rows padded by 16 bytes: conflict-free ldmatrix):
//     Q [BM][D+8], stages × {K, V} [BN][D+8], the BM row positions (i32).
//   Prologue: raw q rows by cp.async (one group), row positions → shared,
//   causal limit nKeys = min(max position + 1, maxContext), the first
//   stages-1 K/V tiles issued (rows past nKeys repeat the last key), then
//   RoPE(q) in place in shared memory (rounded to bf16), Q A-fragments by
//   ldmatrix into registers for the whole loop.
//   Key tile jt: wait for its cp.async group, barrier, issue tile
//   jt+stages-1 into the slot freed by jt-1; S = Q·Kᵀ (mma.sync m16n8k16,
//   K B-fragments by ldmatrix); where the tile reaches past a thread's
//   earliest row position, s_j = -inf for j > pos (per row: positions may
//   start anywhere, chunked prefill); online softmax in f32 in the base-2
//   domain with the scale folded in: m = max raw score (quad shuffles),
//   p = 2^(s·c - m·c), c = scale·log2(e); P rounded to bf16 pairs that are
//   directly the A fragments of P·V (the S accumulator layout); the row sums
//   add the rounded P; O (f32 registers) rescaled, O += P·V (V B-fragments by
//   ldmatrix.trans). One barrier per key tile.
//   Epilogue: l summed over the quad, out = O / l rounded once, stored for
//   rows inside the sequence whose position lies inside the cache.
//
// RoPE angles are f32(pos) · inv_freq[i] in f32 (inv_freq as HF computes it,
// a constant table); sin/cos are sin.approx / cos.approx after an f64 range
// reduction to [-pi, pi] (no libdevice needed).
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"
#include "Model/Conversion/ModelToGPU/TensorCoreBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

using namespace mlir;

namespace mm01::gpu {
namespace {

constexpr double kLog2e = 1.4426950408889634;
constexpr double kTwoPi = 6.283185307179586;

std::string eltName(Type t) { return t.isF32() ? "f32" : "bf16"; }

/// Everything a kernel is specialized for, as a string: kernels of equal keys
/// are the same code.
std::string specKey(const SoftmaxAttentionSpec &s) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << s.heads << "," << s.kvHeads << "," << s.dim << "," << s.rotaryDim
     << "," << llvm::bit_cast<uint64_t>(s.theta) << ","
     << llvm::bit_cast<uint64_t>(s.scale) << "," << eltName(s.elt) << ","
     << s.qTokenStride << "," << s.kTokenStride << "," << s.vTokenStride << ","
     << s.outTokenStride << "," << s.maxBatch << "," << s.maxContext << ","
     << s.maxTokens << "," << s.writeThreads;
  return key;
}

/// The key of the attention kernel: the spec and the selected kernel's tiles.
std::string attentionKey(const SoftmaxAttentionSpec &s) {
  std::string key = specKey(s);
  if (s.queryTile > 0)
    key += ",tc" + std::to_string(s.queryTile) + "," + std::to_string(s.keyTile) +
           "," + std::to_string(s.tileWarps) + "," + std::to_string(s.tileStages);
  else
    key += ",w" + std::to_string(s.warps);
  return key;
}

/// Shared-memory layout of the tensor-core kernel (byte offsets into the
/// dynamic shared memory): Q [BM][D+8] bf16, `stages` × {K, V} [BN][D+8]
/// bf16 (rows padded by 16 bytes: conflict-free ldmatrix), the BM row
/// positions (i32).
struct TileLayout {
  int64_t rowPitch, q, stages, stageBytes, kvTileBytes, rowPos, total;
};
TileLayout tileLayout(const SoftmaxAttentionSpec &s) {
  TileLayout l;
  l.rowPitch = 2 * (s.dim + 8);
  l.q = 0;
  l.kvTileBytes = s.keyTile * l.rowPitch;
  l.stageBytes = 2 * l.kvTileBytes;
  l.stages = s.queryTile * l.rowPitch;
  l.rowPos = l.stages + s.tileStages * l.stageBytes;
  l.total = l.rowPos + 4 * s.queryTile;
  return l;
}
constexpr int64_t kMaxDynamicSmem = 232448; // sm_90: 227 KiB opt-in per block

LogicalResult verifySpec(const SoftmaxAttentionSpec &s, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "softmax attention GPU kernels: unsupported spec: ";
  };
  if (s.heads <= 0 || s.kvHeads <= 0 || s.heads % s.kvHeads != 0)
    return fail() << "heads = " << s.heads << " must be a positive multiple of "
                  << "kv-heads = " << s.kvHeads;
  if (s.dim < 32 || s.dim > 256 || s.dim % 32 != 0)
    return fail() << "dim = " << s.dim
                  << " must be a multiple of 32 in [32, 256] (a warp spans "
                     "the head channels)";
  if (s.rotaryDim < 2 || s.rotaryDim > s.dim || s.rotaryDim % 2 != 0)
    return fail() << "rotary-dim = " << s.rotaryDim
                  << " must be even and in [2, dim = " << s.dim << "]";
  if (!(s.theta > 0.0) || !std::isfinite(s.theta))
    return fail() << "theta = " << s.theta << " must be positive and finite";
  if (!(s.scale > 0.0) || !std::isfinite(s.scale))
    return fail() << "scale = " << s.scale << " must be positive and finite";
  if (!s.elt || !(s.elt.isF32() || s.elt.isBF16())) {
    InFlightDiagnostic d = fail() << "element type ";
    if (s.elt)
      d << s.elt;
    else
      d << "<null>";
    return d << " is not supported (bf16 or f32)";
  }
  const int64_t vec = s.dim / 32;
  if (s.qTokenStride < s.heads * s.dim || s.qTokenStride % vec != 0)
    return fail() << "q token stride = " << s.qTokenStride
                  << " must be >= heads * dim = " << s.heads * s.dim
                  << " and a multiple of dim / 32 = " << vec;
  if (s.kTokenStride < s.kvHeads * s.dim)
    return fail() << "k token stride = " << s.kTokenStride
                  << " must be >= kv-heads * dim = " << s.kvHeads * s.dim;
  if (s.vTokenStride < s.kvHeads * s.dim)
    return fail() << "v token stride = " << s.vTokenStride
                  << " must be >= kv-heads * dim = " << s.kvHeads * s.dim;
  if (s.outTokenStride < s.heads * s.dim)
    return fail() << "out token stride = " << s.outTokenStride
                  << " must be >= heads * dim = " << s.heads * s.dim;
  if (s.maxBatch <= 0 || s.maxContext <= 0 || s.maxTokens <= 0)
    return fail() << "max-batch, max-context and max-tokens must be positive";
  if (s.maxBatch * s.maxContext > std::numeric_limits<int32_t>::max())
    return fail() << "max-batch * max-context = " << s.maxBatch * s.maxContext
                  << " exceeds the i32 range";
  if (s.writeThreads < 32 || s.writeThreads > 1024 || s.writeThreads % 32)
    return fail() << "write-threads = " << s.writeThreads
                  << " must be a multiple of 32 in [32, 1024]";
  const int64_t group = s.heads / s.kvHeads;
  if (s.queryTile < 0 || s.keyTile < 0 || s.tileWarps < 0 || s.tileStages < 0)
    return fail() << "query-tile, key-tile, tile-warps and tile-stages must "
                     "not be negative";
  if (s.queryTile == 0) {
    // The per-token SIMT kernel.
    if (s.keyTile || s.tileWarps || s.tileStages)
      return fail() << "key-tile, tile-warps and tile-stages configure the "
                       "tensor-core kernel, but query-tile = 0 selects the "
                       "per-token kernel";
    if (s.warps < 1 || s.warps > 32)
      return fail() << "warps = " << s.warps << " must be in [1, 32]";
    if (group * vec > 128)
      return fail() << "heads / kv-heads * dim / 32 = " << group * vec
                    << " per-lane accumulators exceed 128 (registers)";
    const int64_t smemBytes = s.warps * group * (s.dim + 2) * 4;
    if (smemBytes > 48 * 1024)
      return fail() << "workgroup memory of " << smemBytes
                    << " bytes exceeds 48 KiB (fewer warps)";
    return success();
  }
  // The tensor-core kernel.
  if (!s.elt.isBF16())
    return fail() << "query-tile = " << s.queryTile
                  << ": the tensor-core kernel needs bf16 (mma.sync bf16); "
                     "f32 uses query-tile = 0";
  if (s.dim % 16 != 0 || s.dim > 128)
    return fail() << "query-tile = " << s.queryTile << ": dim = " << s.dim
                  << " must be a multiple of 16 up to 128 for the tensor-core "
                     "kernel (its accumulators are registers)";
  if (s.queryTile % 16 != 0 || s.queryTile > 128)
    return fail() << "query-tile = " << s.queryTile
                  << " must be a multiple of 16 in [16, 128]";
  if (s.keyTile % 16 != 0 || s.keyTile < 16 || s.keyTile > 128)
    return fail() << "key-tile = " << s.keyTile
                  << " must be a multiple of 16 in [16, 128]";
  if (s.tileWarps != s.queryTile / 16)
    return fail() << "tile-warps = " << s.tileWarps << " must be query-tile / 16 = "
                  << s.queryTile / 16 << " (each warp owns 16 query rows)";
  if (s.tileStages < 2 || s.tileStages > 4)
    return fail() << "tile-stages = " << s.tileStages << " must be in [2, 4]";
  if (s.qTokenStride % 8 != 0)
    return fail() << "q token stride = " << s.qTokenStride
                  << " must be a multiple of 8 for the tensor-core kernel "
                     "(16-byte cp.async)";
  if (s.outTokenStride % 2 != 0)
    return fail() << "out token stride = " << s.outTokenStride
                  << " must be even for the tensor-core kernel (bf16 pairs)";
  const int64_t smem = tileLayout(s).total;
  if (smem > kMaxDynamicSmem)
    return fail() << "shared memory of " << smem << " bytes (query-tile = "
                  << s.queryTile << ", key-tile = " << s.keyTile
                  << ", tile-stages = " << s.tileStages << ", dim = " << s.dim
                  << ") exceeds " << kMaxDynamicSmem << " bytes";
  return success();
}

/// ArithBuilder plus the angle functions of RoPE.
struct KB : ArithBuilder {
  using ArithBuilder::ArithBuilder;
  /// (cos a, sin a) of an f32 angle a >= 0: reduced to [-pi, pi] in f64,
  /// then cos.approx / sin.approx.
  std::pair<Value, Value> cosSin(Value a) {
    Type f64t = b.getF64Type();
    Value a64 = arith::ExtFOp::create(b, loc, f64t, a);
    Value t = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, a64, f64c(1.0 / kTwoPi)),
        f64c(0.5));
    Value k = arith::FPToSIOp::create(b, loc, b.getI64Type(), t);
    Value kf = arith::SIToFPOp::create(b, loc, f64t, k);
    Value r64 = arith::SubFOp::create(
        b, loc, a64, arith::MulFOp::create(b, loc, kf, f64c(kTwoPi)));
    Value r = arith::TruncFOp::create(b, loc, b.getF32Type(), r64);
    return {ptxUnary("cos.approx.f32 $0, $1;", r),
            ptxUnary("sin.approx.f32 $0, $1;", r)};
  }
};

/// The constant table inv_freq[i] = 1 / powf(f32(theta), f32(2i) / f32(R))
/// (f32, as HF and the CPU lowering compute it) as a memref.global.
std::string getOrCreateInvFreqTable(OpBuilder &mb, mlir::gpu::GPUModuleOp module,
                                    const SoftmaxAttentionSpec &s,
                                    Location loc) {
  const int64_t half = s.rotaryDim / 2;
  SmallVector<float> table;
  float theta = float(s.theta);
  for (int64_t i = 0; i < half; ++i)
    table.push_back(1.0f / std::pow(theta, float(2 * i) / float(s.rotaryDim)));
  std::string name = "softmax_attention_inv_freq_r" +
                     std::to_string(s.rotaryDim) + "_" +
                     std::to_string(llvm::bit_cast<uint32_t>(theta));
  if (module.lookupSymbol(name))
    return name;
  Type f32 = mb.getF32Type();
  auto type = MemRefType::get({half}, f32);
  auto init =
      DenseElementsAttr::get(RankedTensorType::get({half}, f32),
                             ArrayRef<float>(table));
  OpBuilder::InsertionGuard guard(mb);
  mb.setInsertionPointToStart(module.getBody());
  memref::GlobalOp::create(mb, loc, name, mb.getStringAttr("private"), type,
                           init, /*constant=*/true, mb.getI64IntegerAttr(16));
  return name;
}

struct Types {
  MemRefType q, k, v, cache, out, i32s;
};

Types paramTypes(const SoftmaxAttentionSpec &s, MLIRContext *ctx) {
  Type i32 = IntegerType::get(ctx, 32);
  Types t;
  t.q = pointerParamType(s.elt, (s.maxTokens - 1) * s.qTokenStride +
                                    s.heads * s.dim);
  t.k = pointerParamType(s.elt, (s.maxTokens - 1) * s.kTokenStride +
                                    s.kvHeads * s.dim);
  t.v = pointerParamType(s.elt, (s.maxTokens - 1) * s.vTokenStride +
                                    s.kvHeads * s.dim);
  t.out = pointerParamType(s.elt, (s.maxTokens - 1) * s.outTokenStride +
                                      s.heads * s.dim);
  t.cache = pointerParamType(s.elt,
                             s.maxBatch * s.maxContext * s.kvHeads * s.dim);
  t.i32s = pointerParamType(i32, s.maxTokens);
  return t;
}

/// Loads positions[i] and token_seq[i] (as index) and the condition that the
/// row lies inside the cache.
struct TokenRow {
  Value pos32, pos, slot, valid;
};
TokenRow loadTokenRow(KB &kb, const SoftmaxAttentionSpec &s, Value positions,
                      Value tokenSeq, Value i) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  TokenRow r;
  r.pos32 = kb.load(positions, i);
  Value slot32 = kb.load(tokenSeq, i);
  Type i32 = b.getI32Type();
  auto inRange = [&](Value x, int64_t hi) {
    Value lo = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge, x,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, 0)));
    Value up = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::slt, x,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, hi)));
    return arith::AndIOp::create(b, loc, lo, up).getResult();
  };
  r.valid = arith::AndIOp::create(b, loc, inRange(r.pos32, s.maxContext),
                                  inRange(slot32, s.maxBatch));
  r.pos = kb.toIndex(r.pos32);
  r.slot = kb.toIndex(slot32);
  return r;
}

GeneratedKernel buildCacheWrite(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                                const SoftmaxAttentionSpec &s,
                                StringRef name, StringRef table,
                                Location loc) {
  MLIRContext *ctx = builder.getContext();
  Types t = paramTypes(s, ctx);
  const int64_t D = s.dim, Hkv = s.kvHeads, half = s.rotaryDim / 2,
                R = s.rotaryDim, WT = s.writeThreads;
  GeneratedKernel gk;
  gk.func = createKernelFunc(builder, module, name,
                             {t.k, t.v, t.cache, t.cache, t.i32s, t.i32s},
                             {WT, 1, 1}, loc);
  gk.grid = {"tokens", "1", "1"};
  gk.block = {WT, 1, 1};
  for (StringRef p :
       {"k", "v", "key_cache", "value_cache", "positions", "token_seq"})
    gk.params.push_back({p.str(), ParamKind::Ptr});

  Block &entry = gk.func.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb(b, loc);
  Value k = entry.getArgument(0), v = entry.getArgument(1),
        kc = entry.getArgument(2), vc = entry.getArgument(3),
        positions = entry.getArgument(4), tokenSeq = entry.getArgument(5);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value i = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  TokenRow row = loadTokenRow(kb, s, positions, tokenSeq, i);

  auto ifValid = scf::IfOp::create(b, loc, row.valid, /*withElse=*/false);
  {
    OpBuilder ib = OpBuilder::atBlockTerminator(ifValid.thenBlock());
    KB ik(ib, loc);
    Value tableMem = memref::GetGlobalOp::create(
        ib, loc, MemRefType::get({half}, ib.getF32Type()), table);
    Value posF = arith::SIToFPOp::create(ib, loc, ib.getF32Type(), row.pos32);
    // Destination row base (element index of [slot, pos, 0, 0]).
    Value dst = ik.mul(ik.add(ik.mul(row.slot, s.maxContext), row.pos), Hkv * D);
    Value kSrc = ik.mul(i, s.kTokenStride), vSrc = ik.mul(i, s.vTokenStride);
    auto loop = scf::ForOp::create(ib, loc, tid, ik.idx(Hkv * (D / 2)),
                                   ik.idx(WT));
    OpBuilder lb = OpBuilder::atBlockTerminator(loop.getBody());
    KB lk(lb, loc);
    Value item = loop.getInductionVar();
    Value h = lk.div(item, D / 2), p = lk.rem(item, D / 2);
    Value hOff = lk.mul(h, D);
    Value kBase = lk.add(kSrc, hOff), vBase = lk.add(vSrc, hOff),
          dBase = lk.add(dst, hOff);
    // v: channels 2p, 2p + 1.
    for (int64_t e = 0; e < 2; ++e) {
      Value c = lk.add(lk.mul(p, 2), e);
      lk.store(lk.load(v, lk.add(vBase, c)), vc, lk.add(dBase, c));
    }
    // k: rotate the pair (p, p + R/2), or copy two pass-through channels.
    auto ifRot = scf::IfOp::create(lb, loc, lk.ult(p, half), /*withElse=*/true);
    {
      OpBuilder rb = OpBuilder::atBlockTerminator(ifRot.thenBlock());
      KB rk(rb, loc);
      Value c1 = p, c2 = rk.add(p, half);
      Value x1 = rk.toF32(rk.load(k, rk.add(kBase, c1)));
      Value x2 = rk.toF32(rk.load(k, rk.add(kBase, c2)));
      Value angle = rk.fmul(posF, rk.load(tableMem, p));
      auto [cs, sn] = rk.cosSin(angle);
      Value r1 = rk.fsub(rk.fmul(x1, cs), rk.fmul(x2, sn));
      Value r2 = rk.fadd(rk.fmul(x2, cs), rk.fmul(x1, sn));
      rk.store(rk.fromF32(r1, s.elt), kc, rk.add(dBase, c1));
      rk.store(rk.fromF32(r2, s.elt), kc, rk.add(dBase, c2));
    }
    if (R < D) {
      OpBuilder eb = OpBuilder::atBlockTerminator(ifRot.elseBlock());
      KB ek(eb, loc);
      Value c = ek.add(ek.mul(ek.sub(p, ek.idx(half)), 2), R);
      for (int64_t e = 0; e < 2; ++e) {
        Value ce = ek.add(c, e);
        ek.store(ek.load(k, ek.add(kBase, ce)), kc, ek.add(dBase, ce));
      }
    }
  }
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

GeneratedKernel buildAttention(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                               const SoftmaxAttentionSpec &s, StringRef name,
                               StringRef table, Location loc) {
  MLIRContext *ctx = builder.getContext();
  Types t = paramTypes(s, ctx);
  const int64_t D = s.dim, H = s.heads, Hkv = s.kvHeads, G = H / Hkv,
                half = s.rotaryDim / 2, R = s.rotaryDim, V = D / 32,
                NW = s.warps, NT = 32 * NW, C = s.maxContext;
  GeneratedKernel gk;
  gk.func = createKernelFunc(builder, module, name,
                             {t.q, t.cache, t.cache, t.out, t.i32s, t.i32s},
                             {NT, 1, 1}, loc);
  gk.grid = {"tokens", std::to_string(Hkv), "1"};
  gk.block = {NT, 1, 1};
  for (StringRef p :
       {"q", "key_cache", "value_cache", "out", "positions", "token_seq"})
    gk.params.push_back({p.str(), ParamKind::Ptr});
  // Per (warp, head): D accumulators, the max and the sum.
  const int64_t slotF = D + 2;
  auto wgSpace =
      mlir::gpu::AddressSpaceAttr::get(ctx, mlir::gpu::AddressSpace::Workgroup);
  Type f32 = builder.getF32Type();
  Value smem = gk.func.addWorkgroupAttribution(
      MemRefType::get({NW * G * slotF}, f32, AffineMap(), wgSpace), loc);

  Block &entry = gk.func.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb(b, loc);
  Value q = entry.getArgument(0), kc = entry.getArgument(1),
        vc = entry.getArgument(2), out = entry.getArgument(3),
        positions = entry.getArgument(4), tokenSeq = entry.getArgument(5);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value i = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value kvh = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
  TokenRow row = loadTokenRow(kb, s, positions, tokenSeq, i);

  // The condition is uniform over the block (barrier inside is fine).
  auto ifValid = scf::IfOp::create(b, loc, row.valid, /*withElse=*/false);
  OpBuilder ib = OpBuilder::atBlockTerminator(ifValid.thenBlock());
  KB ik(ib, loc);
  auto eltVec = VectorType::get({V}, s.elt);
  unsigned eltBytes = s.elt.getIntOrFloatBitWidth() / 8;
  llvm::MaybeAlign vecAlign(V * eltBytes);

  // ---- RoPE(q) for the lane's channels, G heads ---------------------------
  Value c0 = ik.mul(lane, V);
  Value tableMem = memref::GetGlobalOp::create(
      ib, loc, MemRefType::get({half}, f32), table);
  Value posF = arith::SIToFPOp::create(ib, loc, f32, row.pos32);
  SmallVector<Value> chan, partner, inRot, isLow, cosE, sinE;
  for (int64_t e = 0; e < V; ++e) {
    Value c = ik.add(c0, e);
    Value low = ik.ult(c, half), rot = ik.ult(c, R);
    // Frequency index c mod R/2 (clamped for the pass-through channels).
    Value fi = ik.select(low, c, ik.select(rot, ik.sub(c, ik.idx(half)),
                                           ik.idx(0)));
    Value pc = ik.select(low, ik.add(c, half),
                         ik.select(rot, ik.sub(c, ik.idx(half)), c));
    Value angle = ik.fmul(posF, ik.load(tableMem, fi));
    auto [cs, sn] = ik.cosSin(angle);
    chan.push_back(c);
    partner.push_back(pc);
    inRot.push_back(rot);
    isLow.push_back(low);
    cosE.push_back(cs);
    sinE.push_back(sn);
  }
  Value qScale = ik.f32c(s.scale * kLog2e);
  Value qTok = ik.mul(i, s.qTokenStride);
  SmallVector<SmallVector<Value>> qs(G); // [g][e], pre-scaled f32
  for (int64_t g = 0; g < G; ++g) {
    Value hq = ik.add(ik.mul(kvh, G), g);
    Value base = ik.add(qTok, ik.mul(hq, D));
    Value xv = ik.toF32(vector::LoadOp::create(ib, loc, eltVec, q,
                                               ValueRange{ik.add(base, c0)},
                                               /*nontemporal=*/false, vecAlign));
    for (int64_t e = 0; e < V; ++e) {
      Value x = vector::ExtractOp::create(ib, loc, xv, ArrayRef<int64_t>{e});
      Value xp = ik.toF32(ik.load(q, ik.add(base, partner[e])));
      // low half: x cos - x_p sin; high half: x cos + x_p sin.
      Value xpSin = ik.fmul(xp, sinE[e]);
      Value xCos = ik.fmul(x, cosE[e]);
      Value rot = ik.select(isLow[e], ik.fsub(xCos, xpSin), ik.fadd(xCos, xpSin));
      Value y = ik.select(inRot[e], rot, x);
      qs[g].push_back(ik.fmul(ik.roundTrip(y, s.elt), qScale));
    }
  }

  // ---- Online softmax over the warp's key rows ----------------------------
  // Rows j = warp, warp + NW, ... < n, n = pos + 1.
  Value n = ik.add(row.pos, 1);
  Value slotRow = ik.mul(row.slot, C);
  Value kvOff = ik.add(ik.mul(kvh, D), c0);
  const float negBig = -1.0e30f;
  SmallVector<Value> init;
  for (int64_t g = 0; g < G; ++g) {
    init.push_back(ik.f32c(negBig)); // m
    init.push_back(ik.f32c(0.0));    // l
    for (int64_t e = 0; e < V; ++e)
      init.push_back(ik.f32c(0.0)); // acc
  }
  const int64_t per = 2 + V;
  auto loop = scf::ForOp::create(ib, loc, warp, n, ik.idx(NW), init);
  {
    // With iter_args the body has no terminator yet.
    OpBuilder lb = OpBuilder::atBlockEnd(loop.getBody());
    KB lk(lb, loc);
    Value j = loop.getInductionVar();
    // Element index of [slot, j, kvh, c0].
    Value rowIdx = lk.mul(lk.add(slotRow, j), Hkv * D);
    Value at = lk.add(rowIdx, kvOff);
    Value kv = lk.toF32(vector::LoadOp::create(lb, loc, eltVec, kc,
                                               ValueRange{at}, false, vecAlign));
    Value vv = lk.toF32(vector::LoadOp::create(lb, loc, eltVec, vc,
                                               ValueRange{at}, false, vecAlign));
    SmallVector<Value> ks, vs;
    for (int64_t e = 0; e < V; ++e) {
      ks.push_back(vector::ExtractOp::create(lb, loc, kv, ArrayRef<int64_t>{e}));
      vs.push_back(vector::ExtractOp::create(lb, loc, vv, ArrayRef<int64_t>{e}));
    }
    ValueRange args = loop.getRegionIterArgs();
    SmallVector<Value> next;
    for (int64_t g = 0; g < G; ++g) {
      Value dot = lk.fmul(qs[g][0], ks[0]);
      for (int64_t e = 1; e < V; ++e)
        dot = lk.mulAdd(qs[g][e], ks[e], dot);
      for (int32_t off = 16; off >= 1; off /= 2) {
        Value o = mlir::gpu::ShuffleOp::create(lb, loc, dot, off, 32,
                                               mlir::gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        dot = lk.fadd(dot, o);
      }
      Value m = args[g * per], l = args[g * per + 1];
      Value mNew = lk.fmax(m, dot);
      Value corr = lk.exp2Ftz(lk.fsub(m, mNew));
      Value p = lk.exp2Ftz(lk.fsub(dot, mNew));
      next.push_back(mNew);
      next.push_back(lk.mulAdd(l, corr, p));
      for (int64_t e = 0; e < V; ++e)
        next.push_back(lk.mulAdd(args[g * per + 2 + e], corr, lk.fmul(p, vs[e])));
    }
    scf::YieldOp::create(lb, loc, next);
  }

  // ---- Merge the warps through workgroup memory ---------------------------
  ValueRange res = loop.getResults();
  for (int64_t g = 0; g < G; ++g) {
    Value base = ik.mul(ik.add(ik.mul(warp, G), g), slotF);
    for (int64_t e = 0; e < V; ++e)
      ik.store(res[g * per + 2 + e], smem, ik.add(base, ik.add(c0, e)));
    auto ifLane0 = scf::IfOp::create(
        ib, loc,
        arith::CmpIOp::create(ib, loc, arith::CmpIPredicate::eq, lane,
                              ik.idx(0)),
        false);
    OpBuilder tb = OpBuilder::atBlockTerminator(ifLane0.thenBlock());
    KB tk(tb, loc);
    tk.store(res[g * per], smem, tk.add(base, D));
    tk.store(res[g * per + 1], smem, tk.add(base, D + 1));
  }
  mlir::gpu::BarrierOp::create(ib, loc);
  Value outTok = ik.mul(i, s.outTokenStride);
  auto merge = scf::ForOp::create(ib, loc, tid, ik.idx(G * D), ik.idx(NT));
  {
    OpBuilder mb = OpBuilder::atBlockTerminator(merge.getBody());
    KB mk(mb, loc);
    Value item = merge.getInductionVar();
    Value g = mk.div(item, D), c = mk.rem(item, D);
    SmallVector<Value> ms, ls, accs;
    Value mMax;
    for (int64_t w = 0; w < NW; ++w) {
      Value base = mk.mul(mk.add(mk.idx(w * G), g), slotF);
      ms.push_back(mk.load(smem, mk.add(base, D)));
      ls.push_back(mk.load(smem, mk.add(base, D + 1)));
      accs.push_back(mk.load(smem, mk.add(base, c)));
      mMax = w ? mk.fmax(mMax, ms.back()) : ms.back();
    }
    Value sum = mk.f32c(0.0), acc = mk.f32c(0.0);
    for (int64_t w = 0; w < NW; ++w) {
      Value f = mk.exp2Ftz(mk.fsub(ms[w], mMax));
      sum = mk.mulAdd(ls[w], f, sum);
      acc = mk.mulAdd(accs[w], f, acc);
    }
    Value o = arith::DivFOp::create(mb, loc, acc, sum);
    Value hq = mk.add(mk.mul(kvh, G), g);
    mk.store(mk.fromF32(o, s.elt), out,
             mk.add(outTok, mk.add(mk.mul(hq, D), c)));
  }
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

/// TensorCoreBuilder plus what the tensor-core attention kernel needs beyond
/// it: signed compares, shared-memory scalars, quad shuffles, fma.
struct TileGen : TensorCoreBuilder {
  using TensorCoreBuilder::TensorCoreBuilder;
  Value sle(Value x, Value y) { return cmp(arith::CmpIPredicate::sle, x, y); }
  Value sgt(Value x, Value y) { return cmp(arith::CmpIPredicate::sgt, x, y); }
  Value lds(Type t, Value addr, unsigned align) {
    return LLVM::LoadOp::create(b, loc, t, smemPtr(addr), align);
  }
  void sts(Value x, Value addr, unsigned align) {
    LLVM::StoreOp::create(b, loc, x, smemPtr(addr), align);
  }
  Value shflXor(Value x, int32_t offset) {
    return mlir::gpu::ShuffleOp::create(b, loc, x, offset, 32,
                                        mlir::gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  /// x * y + z, one rounding (fma.rn.f32).
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
};

/// The tensor-core prefill kernel (see the file comment): one block per
/// (row tile of one sequence, KV head).
GeneratedKernel buildTileAttention(OpBuilder &builder,
                                   mlir::gpu::GPUModuleOp module,
                                   const SoftmaxAttentionSpec &s,
                                   StringRef name, StringRef table,
                                   Location loc) {
  MLIRContext *ctx = builder.getContext();
  Types t = paramTypes(s, ctx);
  const int64_t D = s.dim, H = s.heads, Hkv = s.kvHeads, G = H / Hkv,
                half = s.rotaryDim / 2, BM = s.queryTile, BN = s.keyTile,
                NT = 32 * s.tileWarps, ST = s.tileStages, C = s.maxContext;
  const TileLayout L = tileLayout(s);
  const int64_t RP = L.rowPitch;
  Type i32 = builder.getI32Type(), f32 = builder.getF32Type(),
       bf16 = builder.getBF16Type();
  GeneratedKernel gk;
  gk.func = createKernelFunc(
      builder, module, name,
      {t.q, t.cache, t.cache, t.out, t.i32s, t.i32s,
       pointerParamType(i32, s.maxBatch + 1), i32},
      {NT, 1, 1}, loc);
  // Σ_b cdiv(len_b·G, BM) <= cdiv(tokens·G, BM) + batch row tiles.
  std::string rowsExpr = G == 1 ? "tokens" : "tokens*" + std::to_string(G);
  gk.grid = {"cdiv(" + rowsExpr + "," + std::to_string(BM) + ")+batch",
             std::to_string(Hkv), "1"};
  gk.block = {NT, 1, 1};
  gk.dynamicSmemBytes = L.total;
  for (StringRef p : {"q", "key_cache", "value_cache", "out", "positions",
                      "token_seq", "cu_seqlens"})
    gk.params.push_back({p.str(), ParamKind::Ptr});
  gk.params.push_back({"batch", ParamKind::I32});

  Block &entry = gk.func.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  TileGen g(b, loc);
  KB kb(b, loc);
  Value q = entry.getArgument(0), kc = entry.getArgument(1),
        vc = entry.getArgument(2), out = entry.getArgument(3),
        positions = entry.getArgument(4), tokenSeq = entry.getArgument(5),
        cu = entry.getArgument(6), batch = g.toIndex(entry.getArgument(7));

  // ---- the block's (sequence, row tile): tiles of sequence b are numbered
  // after those of sequences < b; block x takes tile gridDim.x-1-x, so the
  // last (longest-context) tiles start first and the spare blocks exit.
  Value bx = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value kvh = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value nbx = mlir::gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::x);
  Value tileIdx = g.sub(g.sub(nbx, g.idx(1)), bx);
  Value falseV = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  auto find = scf::ForOp::create(
      b, loc, g.idx(0), batch, g.idx(1),
      ValueRange{g.idx(0), g.loadIndex(cu, g.idx(0)), g.idx(0), g.idx(0), g.idx(0),
                 falseV});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(find.getBody());
    ValueRange it = find.getRegionIterArgs();
    Value acc = it[0], start = it[1], found = it[5];
    Value end = g.loadIndex(cu, g.add(find.getInductionVar(), 1));
    Value len = g.sub(end, start);
    Value tiles = g.cdiv(g.mul(len, G), BM);
    Value hit = g.land(
        arith::XOrIOp::create(
            b, loc, found, arith::ConstantOp::create(b, loc, b.getBoolAttr(true))),
        g.land(g.sle(acc, tileIdx), g.slt(tileIdx, g.add(acc, tiles))));
    scf::YieldOp::create(
        b, loc,
        ValueRange{g.add(acc, tiles), end, g.select(hit, start, it[2]),
                   g.select(hit, len, it[3]),
                   g.select(hit, g.sub(tileIdx, acc), it[4]),
                   g.lor(found, hit)});
  }
  Value seqStart = find.getResult(2), seqLen = find.getResult(3),
        tile = find.getResult(4);
  auto ifFound = scf::IfOp::create(b, loc, find.getResult(5), false);
  b.setInsertionPointToStart(ifFound.thenBlock());
  Value slot = g.toIndex(memref::LoadOp::create(b, loc, tokenSeq, seqStart));
  // Slots outside the cache: no row of the sequence is attended (as in the
  // per-token kernel). Uniform over the block (barriers below).
  auto ifSlot = scf::IfOp::create(
      b, loc,
      g.land(g.sle(g.idx(0), slot), g.slt(slot, g.idx(s.maxBatch))), false);
  b.setInsertionPointToStart(ifSlot.thenBlock());

  Value rho0 = g.mul(tile, BM);
  Value nRows = g.minS(g.idx(BM), g.sub(g.mul(seqLen, G), rho0));
  Value lastRow = g.sub(nRows, g.idx(1));
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value warp = g.div(tid, 32), lane = g.rem(tid, 32);
  Value gq = g.div(lane, 4), t2 = g.mul(g.rem(lane, 4), 2);
  auto wgSpace = mlir::gpu::AddressSpaceAttr::get(
      ctx, mlir::gpu::AddressSpace::Workgroup);
  Value dsm = mlir::gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface(), wgSpace));
  Value smem = g.baseAddr(dsm);
  Value qs = g.add(smem, L.q), posBase = g.add(smem, L.rowPos);
  auto at = [&](Value base, Value row, Value col) {
    return g.add(base, g.add(g.mul(row, RP), g.mul(col, 2)));
  };
  // ldmatrix lane offsets (bytes): lane l addresses row l%8 of matrix l/8.
  //   offX: row ((l/8)%2)·8 + l%8, column (l/16)·8  (A row-major; B from
  //         [k][n] with .trans: V)
  //   offY: row (l/16)·8 + l%8, column ((l/8)%2)·8  (B from [n][k]: K)
  Value li = g.div(lane, 8), lr = g.rem(lane, 8);
  Value lhalf = g.rem(li, 2), lquad = g.div(li, 2);
  auto laneOff = [&](Value rowPart, Value colPart) {
    return g.add(g.mul(g.add(g.mul(rowPart, 8), lr), RP), g.mul(colPart, 16));
  };
  Value offX = laneOff(lhalf, lquad), offY = laneOff(lquad, lhalf);

  // Query row r of the tile is row rho0 + r of the sequence: token
  // (rho0 + r) / G, head kvh·G + (rho0 + r) % G. Rows past the sequence
  // repeat its last row (finite; never stored).
  auto rowToken = [&](Value r) {
    return g.add(seqStart, g.div(g.add(rho0, g.minS(r, lastRow)), G));
  };
  // 16-byte pieces: piece p = tid + NT·i is column p % (D/8) of row p / (D/8).
  const int64_t ppr = D / 8;
  auto forPieces = [&](int64_t pieces,
                       const std::function<void(Value, Value)> &body) {
    for (int64_t i = 0; i * NT < pieces; ++i) {
      Value p = g.add(tid, i * NT);
      auto emit = [&] { body(g.div(p, ppr), g.rem(p, ppr)); };
      if ((i + 1) * NT <= pieces)
        emit();
      else
        g.ifThen(g.slt(p, g.idx(pieces)), emit);
    }
  };

  // ---- 1. raw q rows → Q (cp.async, the first group) ----
  Value qAddr = g.baseAddr(q);
  forPieces(BM * ppr, [&](Value row, Value col) {
    Value rho = g.add(rho0, g.minS(row, lastRow));
    Value tok = g.add(seqStart, g.div(rho, G));
    Value h = g.add(g.mul(kvh, G), g.rem(rho, G));
    Value elem = g.add(g.add(g.mul(tok, s.qTokenStride), g.mul(h, D)),
                       g.mul(col, 8));
    g.cpAsync16(g.add(at(qs, row, g.idx(0)), g.mul(col, 16)),
                g.add(qAddr, g.mul(elem, 2)));
  });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  // ---- 2. row positions; the causal limit of the tile ----
  g.ifThen(g.slt(tid, g.idx(BM)), [&] {
    Value pos = memref::LoadOp::create(b, loc, positions, rowToken(tid));
    g.sts(pos, g.add(posBase, g.mul(tid, 4)), 4);
  });
  g.barrier();
  auto maxLoop = scf::ForOp::create(
      b, loc, g.idx(0), nRows, g.idx(1),
      ValueRange{arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-1))});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(maxLoop.getBody());
    Value p = g.lds(i32, g.add(posBase, g.mul(maxLoop.getInductionVar(), 4)), 4);
    scf::YieldOp::create(
        b, loc,
        ValueRange{arith::MaxSIOp::create(b, loc, maxLoop.getRegionIterArgs()[0], p)});
  }
  // Keys 0 .. nKeys-1 (rows at or past the cache end are not attended).
  Value nKeys = g.minS(g.add(g.toIndex(maxLoop.getResult(0)), 1), g.idx(C));
  Value nTiles = g.select(g.slt(g.idx(0), nKeys), g.cdiv(nKeys, BN), g.idx(0));
  Value lastKey = g.sub(nKeys, g.idx(1));

  // ---- K/V tiles: cp.async into `stages` ring slots, one group per tile ----
  Value kAddr = g.baseAddr(kc), vAddr = g.baseAddr(vc);
  Value slotRow = g.mul(slot, C);
  auto stageOf = [&](Value jt) {
    return g.add(g.add(smem, L.stages), g.mul(g.rem(jt, ST), L.stageBytes));
  };
  auto issueIfValid = [&](Value jt) {
    g.ifThen(g.slt(jt, nTiles), [&] {
      Value stage = stageOf(jt);
      Value j0 = g.mul(jt, BN);
      forPieces(BN * ppr, [&](Value row, Value col) {
        // Rows past the causal limit repeat the last key (masked below).
        Value j = g.minS(g.add(j0, row), lastKey);
        Value elem = g.add(g.mul(g.add(g.mul(g.add(slotRow, j), Hkv), kvh), D),
                           g.mul(col, 8));
        Value dst = g.add(at(stage, row, g.idx(0)), g.mul(col, 16));
        Value byteOff = g.mul(elem, 2);
        g.cpAsync16(dst, g.add(kAddr, byteOff));
        g.cpAsync16(g.add(dst, L.kvTileBytes), g.add(vAddr, byteOff));
      });
    });
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  };
  for (int64_t p = 0; p + 1 < ST; ++p)
    issueIfValid(g.idx(p));

  // ---- 3. RoPE(q) in place, rounded to bf16 (the CPU path's rope result) --
  NVVM::CpAsyncWaitGroupOp::create(b, loc, ST - 1);
  g.barrier();
  Value tableMem =
      memref::GetGlobalOp::create(b, loc, MemRefType::get({half}, f32), table);
  auto ropeLoop = scf::ForOp::create(b, loc, tid, g.idx(BM * half), g.idx(NT));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ropeLoop.getBody());
    Value item = ropeLoop.getInductionVar();
    Value r = g.div(item, half), p = g.rem(item, half);
    Value posF = arith::SIToFPOp::create(
        b, loc, f32, g.lds(i32, g.add(posBase, g.mul(r, 4)), 4));
    Value angle = g.fmul(posF, memref::LoadOp::create(b, loc, tableMem, p));
    auto [cs, sn] = kb.cosSin(angle);
    Value a1 = at(qs, r, p), a2 = at(qs, r, g.add(p, half));
    Value x1 = g.extF32(g.lds(bf16, a1, 2)), x2 = g.extF32(g.lds(bf16, a2, 2));
    Value y1 = g.fsub(g.fmul(x1, cs), g.fmul(x2, sn));
    Value y2 = g.fadd(g.fmul(x2, cs), g.fmul(x1, sn));
    g.sts(g.truncBF16(y1), a1, 2);
    g.sts(g.truncBF16(y2), a2, 2);
  }
  g.barrier();

  // ---- 4. this warp's 16 rows: Q fragments, positions ----
  Value r0 = g.mul(warp, 16);
  SmallVector<Frag4> aQ;
  for (int64_t kk = 0; kk < D / 16; ++kk)
    aQ.push_back(g.ldsm4(g.add(at(qs, r0, g.idx(16 * kk)), offX), false));
  std::array<Value, 2> rowL, pos; // rows gq and gq + 8 of the warp
  for (int64_t hf = 0; hf < 2; ++hf) {
    rowL[hf] = g.add(g.add(r0, gq), 8 * hf);
    pos[hf] = g.toIndex(g.lds(i32, g.add(posBase, g.mul(rowL[hf], 4)), 4));
  }
  Value minPos = g.minS(pos[0], pos[1]);
  Value cScale = g.f32c(s.scale * kLog2e);
  Value negCScale = g.f32c(-s.scale * kLog2e);
  Value negInf = g.f32c(-std::numeric_limits<double>::infinity());

  // ---- 5. key tiles: S = Q·Kᵀ, online softmax (base 2), O += P·V ----
  // Carried: m (raw-score max) and l (partial row sum over this thread's
  // columns) for both rows, then the O fragments (D/8 n-tiles × 4).
  const int64_t NS = BN / 8, NO = D / 8;
  SmallVector<Value> init = {g.f32c(-1.0e30), g.f32c(-1.0e30), g.f32c(0.0),
                             g.f32c(0.0)};
  for (int64_t i = 0; i < NO * 4; ++i)
    init.push_back(g.f32c(0.0));
  auto loop = scf::ForOp::create(b, loc, g.idx(0), nTiles, g.idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value jt = loop.getInductionVar();
    ValueRange it = loop.getRegionIterArgs();
    // Tile jt landed once at most stages-2 younger groups pend; after the
    // barrier every warp is done with tile jt-1, whose slot takes jt+ST-1.
    NVVM::CpAsyncWaitGroupOp::create(b, loc, ST - 2);
    g.barrier();
    issueIfValid(g.add(jt, ST - 1));
    Value kb0 = stageOf(jt), vb0 = g.add(kb0, L.kvTileBytes);

    SmallVector<Frag4> sacc(NS, g.zero4());
    for (int64_t kk = 0; kk < D / 16; ++kk)
      for (int64_t np = 0; np < NS / 2; ++np) {
        Frag4 bk = g.ldsm4(g.add(at(kb0, g.idx(16 * np), g.idx(16 * kk)), offY),
                           false);
        sacc[2 * np] = g.mma(aQ[kk], {bk[0], bk[1]}, sacc[2 * np]);
        sacc[2 * np + 1] = g.mma(aQ[kk], {bk[2], bk[3]}, sacc[2 * np + 1]);
      }
    // Causal mask (key j > the row's position), only where the tile reaches
    // past the thread's earliest row.
    Value j0 = g.mul(jt, BN);
    SmallVector<Value> sv;
    for (const Frag4 &f : sacc)
      sv.append(f.begin(), f.end());
    auto ifMask = scf::IfOp::create(b, loc, TypeRange(ValueRange(sv)),
                                    g.sgt(g.add(j0, BN - 1), minPos),
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(ifMask.thenBlock());
      SmallVector<Value> masked;
      for (int64_t nt = 0; nt < NS; ++nt)
        for (int64_t e = 0; e < 4; ++e) {
          Value j = g.add(g.add(j0, t2), 8 * nt + e % 2);
          masked.push_back(
              g.select(g.sle(j, pos[e / 2]), sv[4 * nt + e], negInf));
        }
      scf::YieldOp::create(b, loc, masked);
      b.setInsertionPointToStart(ifMask.elseBlock());
      scf::YieldOp::create(b, loc, sv);
    }
    ValueRange sm = ifMask.getResults();
    std::array<Value, 2> corr, negMc, mNew;
    for (int64_t hf = 0; hf < 2; ++hf) {
      Value mx = sm[2 * hf];
      for (int64_t nt = 0; nt < NS; ++nt)
        for (int64_t e = 0; e < 2; ++e)
          if (nt || e)
            mx = g.fmax(mx, sm[4 * nt + 2 * hf + e]);
      mx = g.fmax(mx, g.shflXor(mx, 1));
      mx = g.fmax(mx, g.shflXor(mx, 2));
      mNew[hf] = g.fmax(it[hf], mx);
      corr[hf] = kb.exp2Ftz(g.fmul(g.fsub(it[hf], mNew[hf]), cScale));
      negMc[hf] = g.fmul(mNew[hf], negCScale);
    }
    // P = 2^(s·c - m·c) rounded to bf16 pairs (A fragments of P·V); the row
    // sums take the rounded values.
    SmallVector<std::array<Value, 2>> pk(NS);
    std::array<Value, 2> rowSum = {g.f32c(0.0), g.f32c(0.0)};
    for (int64_t nt = 0; nt < NS; ++nt)
      for (int64_t hf = 0; hf < 2; ++hf) {
        Value p0 = kb.exp2Ftz(g.fma(sm[4 * nt + 2 * hf], cScale, negMc[hf]));
        Value p1 = kb.exp2Ftz(g.fma(sm[4 * nt + 2 * hf + 1], cScale, negMc[hf]));
        pk[nt][hf] = g.pack(p0, p1);
        rowSum[hf] = g.fadd(rowSum[hf], g.fadd(g.unpackBF16(pk[nt][hf], 0),
                                               g.unpackBF16(pk[nt][hf], 1)));
      }
    SmallVector<Value> next;
    for (int64_t hf = 0; hf < 2; ++hf)
      next.push_back(mNew[hf]);
    for (int64_t hf = 0; hf < 2; ++hf)
      next.push_back(g.fma(it[2 + hf], corr[hf], rowSum[hf]));
    SmallVector<Frag4> oacc(NO);
    for (int64_t nt = 0; nt < NO; ++nt)
      for (int64_t e = 0; e < 4; ++e)
        oacc[nt][e] = g.fmul(it[4 + 4 * nt + e], corr[e / 2]);
    for (int64_t kk = 0; kk < BN / 16; ++kk) {
      Frag4 aP = {pk[2 * kk][0], pk[2 * kk][1], pk[2 * kk + 1][0],
                  pk[2 * kk + 1][1]};
      for (int64_t np = 0; np < NO / 2; ++np) {
        Frag4 bv = g.ldsm4(g.add(at(vb0, g.idx(16 * kk), g.idx(16 * np)), offX),
                           true);
        oacc[2 * np] = g.mma(aP, {bv[0], bv[1]}, oacc[2 * np]);
        oacc[2 * np + 1] = g.mma(aP, {bv[2], bv[3]}, oacc[2 * np + 1]);
      }
    }
    for (const Frag4 &f : oacc)
      next.append(f.begin(), f.end());
    scf::YieldOp::create(b, loc, next);
  }

  // ---- 6. out = O / l, rounded once ----
  ValueRange res = loop.getResults();
  for (int64_t hf = 0; hf < 2; ++hf) {
    Value l = res[2 + hf];
    l = g.fadd(l, g.shflXor(l, 1));
    l = g.fadd(l, g.shflXor(l, 2));
    Value valid = g.land(g.slt(rowL[hf], nRows),
                         g.land(g.sle(g.idx(0), pos[hf]), g.slt(pos[hf], g.idx(C))));
    g.ifThen(valid, [&] {
      Value rho = g.add(rho0, rowL[hf]);
      Value tok = g.add(seqStart, g.div(rho, G));
      Value h = g.add(g.mul(kvh, G), g.rem(rho, G));
      Value base = g.add(g.mul(tok, s.outTokenStride), g.mul(h, D));
      for (int64_t nt = 0; nt < NO; ++nt) {
        Value o0 = g.fdiv(res[4 + 4 * nt + 2 * hf], l);
        Value o1 = g.fdiv(res[4 + 4 * nt + 2 * hf + 1], l);
        g.st2(g.pack(o0, o1), out,
              ValueRange{g.add(base, g.add(t2, 8 * nt))});
      }
    });
  }
  b.setInsertionPointToEnd(&entry);
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

} // namespace

void chooseSoftmaxAttentionTiles(SoftmaxAttentionSpec &s, bool prefill) {
  bool tcSupported = s.elt && s.elt.isBF16() && s.dim >= 16 && s.dim <= 128 &&
                     s.dim % 16 == 0;
  if (prefill && s.queryTile == 0 && !s.keyTile && !s.tileWarps &&
      !s.tileStages && tcSupported)
    s.queryTile = 64;
  if (s.queryTile > 0) {
    if (!s.keyTile)
      s.keyTile = 64;
    if (!s.tileWarps)
      s.tileWarps = s.queryTile / 16;
    if (!s.tileStages)
      s.tileStages = 2;
    return;
  }
  if (s.warps == 0 && s.kvHeads > 0 && s.heads % s.kvHeads == 0) {
    s.warps = 8;
    while (s.warps > 1 &&
           s.warps * (s.heads / s.kvHeads) * (s.dim + 2) * 4 > 48 * 1024)
      s.warps /= 2;
  }
}

namespace {
/// The kernel `base` (or `base`_1, _2, ... when that name holds another
/// spec's kernel) built by `build`, or the one an earlier call built for the
/// same `key` (its description is rebuilt into a scratch module).
GeneratedKernel
reuseOrBuild(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
             const std::string &base, const std::string &key,
             llvm::function_ref<GeneratedKernel(
                 OpBuilder &, mlir::gpu::GPUModuleOp, StringRef)>
                 build,
             Location loc) {
  constexpr StringLiteral kKeyAttr = "mm01.softmax_attention_spec";
  for (unsigned n = 0;; ++n) {
    std::string name = n ? base + "_" + std::to_string(n) : base;
    Operation *existing = module.lookupSymbol(name);
    if (!existing) {
      GeneratedKernel gk = build(builder, module, name);
      gk.func->setAttr(kKeyAttr, builder.getStringAttr(key));
      return gk;
    }
    auto f = dyn_cast<mlir::gpu::GPUFuncOp>(existing);
    auto k = f ? f->getAttrOfType<StringAttr>(kKeyAttr) : StringAttr();
    if (k && k.getValue() == key) {
      OpBuilder sb(builder.getContext());
      auto scratch = mlir::gpu::GPUModuleOp::create(sb, loc, "scratch");
      GeneratedKernel gk = build(sb, scratch, name);
      gk.func = f;
      scratch->erase();
      return gk;
    }
  }
}
} // namespace

FailureOr<std::vector<GeneratedKernel>>
buildSoftmaxAttention(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                      const SoftmaxAttentionSpec &requested, Location loc) {
  SoftmaxAttentionSpec spec = requested;
  chooseSoftmaxAttentionTiles(spec, /*prefill=*/false);
  if (failed(verifySpec(spec, loc)))
    return failure();
  OpBuilder::InsertionGuard guard(builder);
  std::string base = "h" + std::to_string(spec.heads) + "_kv" +
                     std::to_string(spec.kvHeads) + "_d" +
                     std::to_string(spec.dim) + "_r" +
                     std::to_string(spec.rotaryDim) + "_" + eltName(spec.elt);
  std::string attnName = "softmax_attention_" + base;
  if (spec.queryTile > 0)
    attnName += "_q" + std::to_string(spec.queryTile) + "k" +
                std::to_string(spec.keyTile) + "w" +
                std::to_string(spec.tileWarps) + "s" +
                std::to_string(spec.tileStages);
  else
    attnName += "_w" + std::to_string(spec.warps);
  auto tableIn = [&](mlir::gpu::GPUModuleOp m) {
    OpBuilder mb(builder.getContext());
    return getOrCreateInvFreqTable(mb, m, spec, loc);
  };
  std::vector<GeneratedKernel> kernels;
  kernels.push_back(reuseOrBuild(
      builder, module, "softmax_attention_cache_write_" + base, specKey(spec),
      [&](OpBuilder &bb, mlir::gpu::GPUModuleOp m, StringRef name) {
        return buildCacheWrite(bb, m, spec, name, tableIn(m), loc);
      },
      loc));
  kernels.push_back(reuseOrBuild(
      builder, module, attnName, attentionKey(spec),
      [&](OpBuilder &bb, mlir::gpu::GPUModuleOp m, StringRef name) {
        std::string table = tableIn(m);
        return spec.queryTile > 0
                   ? buildTileAttention(bb, m, spec, name, table, loc)
                   : buildAttention(bb, m, spec, name, table, loc);
      },
      loc));
  return kernels;
}

} // namespace mm01::gpu
