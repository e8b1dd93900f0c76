//===- SoftmaxAttentionKernels.cpp - softmax attention GPU kernels --------===//
//
// See SoftmaxAttentionKernels.h for what the kernels compute. Layout:
//
// cache write (one block per new token i, `writeThreads` threads): work item
//   (head h, pair p), p < D/2, loops over the block. p < R/2 rotates the
//   channel pair (p, p + R/2) of k; p >= R/2 copies the pass-through channels
//   R + 2(p - R/2) and +1. Every item also copies v channels 2p, 2p + 1.
//
// attention (one block per (new token i, KV head), `warps` warps): lane l
//   owns the V = D/32 contiguous channels [lV, lV + V) of the G = H/Hkv query
//   heads that share the KV head. Warp w walks the key rows j = w, w + warps,
//   ... <= positions[i] of slot token_seq[i]: one coalesced V-vector load of
//   the key row and of the value row per lane, the G dot products reduced
//   across the warp with 5 xor shuffles, and an online softmax in f32 in the
//   base-2 domain (q is pre-multiplied by scale·log2(e), exponentials are
//   ex2.approx). The warps' (max, sum, accumulator) triples are merged
//   through workgroup memory; the output is rounded once.
//
// RoPE angles are f32(pos) · inv_freq[i] in f32 (inv_freq as HF computes it,
// a constant table); sin/cos are sin.approx / cos.approx after an f64 range
// reduction to [-pi, pi] (no libdevice needed).
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>
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
     << s.maxTokens << "," << s.warps << "," << s.writeThreads;
  return key;
}

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
  if (s.warps < 1 || s.warps > 32)
    return fail() << "warps = " << s.warps << " must be in [1, 32]";
  if (s.writeThreads < 32 || s.writeThreads > 1024 || s.writeThreads % 32)
    return fail() << "write-threads = " << s.writeThreads
                  << " must be a multiple of 32 in [32, 1024]";
  const int64_t group = s.heads / s.kvHeads;
  if (group * vec > 128)
    return fail() << "heads / kv-heads * dim / 32 = " << group * vec
                  << " per-lane accumulators exceed 128 (registers)";
  const int64_t smemBytes = s.warps * group * (s.dim + 2) * 4;
  if (smemBytes > 48 * 1024)
    return fail() << "workgroup memory of " << smemBytes
                  << " bytes exceeds 48 KiB (fewer warps)";
  return success();
}

/// Small op-building helpers over one OpBuilder.
struct KB {
  OpBuilder &b;
  Location loc;

  Type f32() { return b.getF32Type(); }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  Value f64(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) { return c == 1 ? x : mul(x, idx(c)); }
  Value div(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value rem(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(c));
  }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value ult(Value x, int64_t c) { return ult(x, idx(c)); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fma(Value x, Value y, Value z) { // x * y + z
    return arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, x, y),
                                 z);
  }
  /// max(x, y) for non-NaN operands as compare + select: arith.maxnumf
  /// would become a libdevice call (__nv_fmaxf) in convert-gpu-to-nvvm.
  Value fmax(Value x, Value y) {
    Value gt = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, y);
    return arith::SelectOp::create(b, loc, gt, x, y);
  }
  Value toIndex(Value i32) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
  }
  Value toF32(Value x) {
    Type t = getElementTypeOrSelf(x.getType());
    if (t.isF32())
      return x;
    if (auto vt = dyn_cast<VectorType>(x.getType()))
      return arith::ExtFOp::create(b, loc, VectorType::get(vt.getShape(), f32()),
                                   x);
    return arith::ExtFOp::create(b, loc, f32(), x);
  }
  Value fromF32(Value x, Type elt) {
    if (elt.isF32())
      return x;
    return arith::TruncFOp::create(b, loc, elt, x);
  }
  /// x rounded to `elt` and back (identity for f32).
  Value roundTo(Value x, Type elt) {
    return elt.isF32() ? x : toF32(fromF32(x, elt));
  }
  Value ptx1(StringRef code, Value x) { // one f32 in, one f32 out
    MLIRContext *ctx = b.getContext();
    return LLVM::InlineAsmOp::create(
               b, loc, f32(), ValueRange{x}, b.getStringAttr(code),
               b.getStringAttr("=f,f"), /*has_side_effects=*/UnitAttr(),
               /*is_align_stack=*/UnitAttr(),
               LLVM::TailCallKindAttr::get(ctx, LLVM::tailcallkind::TailCallKind::None),
               LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
               /*operand_attrs=*/ArrayAttr())
        .getResult(0);
  }
  Value exp2(Value x) { return ptx1("ex2.approx.ftz.f32 $0, $1;", x); }
  /// (cos a, sin a) of an f32 angle a >= 0: reduced to [-pi, pi] in f64,
  /// then cos.approx / sin.approx.
  std::pair<Value, Value> cosSin(Value a) {
    Type f64t = b.getF64Type();
    Value a64 = arith::ExtFOp::create(b, loc, f64t, a);
    Value t = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, a64, f64(1.0 / kTwoPi)),
        f64(0.5));
    Value k = arith::FPToSIOp::create(b, loc, b.getI64Type(), t);
    Value kf = arith::SIToFPOp::create(b, loc, f64t, k);
    Value r64 = arith::SubFOp::create(
        b, loc, a64, arith::MulFOp::create(b, loc, kf, f64(kTwoPi)));
    Value r = arith::TruncFOp::create(b, loc, f32(), r64);
    return {ptx1("cos.approx.f32 $0, $1;", r),
            ptx1("sin.approx.f32 $0, $1;", r)};
  }
  Value load(Value mem, Value i) {
    return memref::LoadOp::create(b, loc, mem, ValueRange{i});
  }
  void store(Value x, Value mem, Value i) {
    memref::StoreOp::create(b, loc, x, mem, ValueRange{i});
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
  KB kb{b, loc};
  Value k = entry.getArgument(0), v = entry.getArgument(1),
        kc = entry.getArgument(2), vc = entry.getArgument(3),
        positions = entry.getArgument(4), tokenSeq = entry.getArgument(5);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value i = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  TokenRow row = loadTokenRow(kb, s, positions, tokenSeq, i);

  auto ifValid = scf::IfOp::create(b, loc, row.valid, /*withElse=*/false);
  {
    OpBuilder ib = OpBuilder::atBlockTerminator(ifValid.thenBlock());
    KB ik{ib, loc};
    Value tableMem = memref::GetGlobalOp::create(
        ib, loc, MemRefType::get({half}, ib.getF32Type()), table);
    Value posF = arith::SIToFPOp::create(ib, loc, ib.getF32Type(), row.pos32);
    // Destination row base (element index of [slot, pos, 0, 0]).
    Value dst = ik.mul(ik.add(ik.mul(row.slot, s.maxContext), row.pos), Hkv * D);
    Value kSrc = ik.mul(i, s.kTokenStride), vSrc = ik.mul(i, s.vTokenStride);
    auto loop = scf::ForOp::create(ib, loc, tid, ik.idx(Hkv * (D / 2)),
                                   ik.idx(WT));
    OpBuilder lb = OpBuilder::atBlockTerminator(loop.getBody());
    KB lk{lb, loc};
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
      KB rk{rb, loc};
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
      KB ek{eb, loc};
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
  KB kb{b, loc};
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
  KB ik{ib, loc};
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
  Value qScale = ik.f(s.scale * kLog2e);
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
      qs[g].push_back(ik.fmul(ik.roundTo(y, s.elt), qScale));
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
    init.push_back(ik.f(negBig)); // m
    init.push_back(ik.f(0.0));    // l
    for (int64_t e = 0; e < V; ++e)
      init.push_back(ik.f(0.0)); // acc
  }
  const int64_t per = 2 + V;
  auto loop = scf::ForOp::create(ib, loc, warp, n, ik.idx(NW), init);
  {
    // With iter_args the body has no terminator yet.
    OpBuilder lb = OpBuilder::atBlockEnd(loop.getBody());
    KB lk{lb, loc};
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
        dot = lk.fma(qs[g][e], ks[e], dot);
      for (int32_t off = 16; off >= 1; off /= 2) {
        Value o = mlir::gpu::ShuffleOp::create(lb, loc, dot, off, 32,
                                               mlir::gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        dot = lk.fadd(dot, o);
      }
      Value m = args[g * per], l = args[g * per + 1];
      Value mNew = lk.fmax(m, dot);
      Value corr = lk.exp2(lk.fsub(m, mNew));
      Value p = lk.exp2(lk.fsub(dot, mNew));
      next.push_back(mNew);
      next.push_back(lk.fma(l, corr, p));
      for (int64_t e = 0; e < V; ++e)
        next.push_back(lk.fma(args[g * per + 2 + e], corr, lk.fmul(p, vs[e])));
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
    KB tk{tb, loc};
    tk.store(res[g * per], smem, tk.add(base, D));
    tk.store(res[g * per + 1], smem, tk.add(base, D + 1));
  }
  mlir::gpu::BarrierOp::create(ib, loc);
  Value outTok = ik.mul(i, s.outTokenStride);
  auto merge = scf::ForOp::create(ib, loc, tid, ik.idx(G * D), ik.idx(NT));
  {
    OpBuilder mb = OpBuilder::atBlockTerminator(merge.getBody());
    KB mk{mb, loc};
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
    Value sum = mk.f(0.0), acc = mk.f(0.0);
    for (int64_t w = 0; w < NW; ++w) {
      Value f = mk.exp2(mk.fsub(ms[w], mMax));
      sum = mk.fma(ls[w], f, sum);
      acc = mk.fma(accs[w], f, acc);
    }
    Value o = arith::DivFOp::create(mb, loc, acc, sum);
    Value hq = mk.add(mk.mul(kvh, G), g);
    mk.store(mk.fromF32(o, s.elt), out,
             mk.add(outTok, mk.add(mk.mul(hq, D), c)));
  }
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

} // namespace

FailureOr<std::vector<GeneratedKernel>>
buildSoftmaxAttention(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                      const SoftmaxAttentionSpec &requested, Location loc) {
  SoftmaxAttentionSpec spec = requested;
  if (spec.warps == 0 && spec.kvHeads > 0 && spec.heads % spec.kvHeads == 0) {
    spec.warps = 8;
    while (spec.warps > 1 && spec.warps * (spec.heads / spec.kvHeads) *
                                     (spec.dim + 2) * 4 >
                                 48 * 1024)
      spec.warps /= 2;
  }
  if (failed(verifySpec(spec, loc)))
    return failure();
  OpBuilder::InsertionGuard guard(builder);
  std::string key = specKey(spec);
  std::string base = "h" + std::to_string(spec.heads) + "_kv" +
                     std::to_string(spec.kvHeads) + "_d" +
                     std::to_string(spec.dim) + "_r" +
                     std::to_string(spec.rotaryDim) + "_" + eltName(spec.elt);
  std::string writeBase = "softmax_attention_cache_write_" + base;
  std::string attnBase = "softmax_attention_" + base + "_w" +
                         std::to_string(spec.warps);

  // Reuse the kernels of an earlier call with the same spec; otherwise pick
  // unused names (_1, _2, ... for other strides, bounds or theta).
  constexpr StringLiteral kKeyAttr = "mm01.softmax_attention_spec";
  std::string suffix;
  for (unsigned n = 0;; ++n) {
    suffix = n ? "_" + std::to_string(n) : "";
    auto w = module.lookupSymbol<mlir::gpu::GPUFuncOp>(writeBase + suffix);
    auto a = module.lookupSymbol<mlir::gpu::GPUFuncOp>(attnBase + suffix);
    if (!w && !a)
      break;
    auto wk = w ? w->getAttrOfType<StringAttr>(kKeyAttr) : StringAttr();
    auto ak = a ? a->getAttrOfType<StringAttr>(kKeyAttr) : StringAttr();
    if (wk && ak && wk.getValue() == key && ak.getValue() == key) {
      // Rebuild the descriptions only (cheap): build into a scratch module.
      OpBuilder sb(builder.getContext());
      auto scratch = mlir::gpu::GPUModuleOp::create(sb, loc, "scratch");
      std::string table = getOrCreateInvFreqTable(sb, scratch, spec, loc);
      std::vector<GeneratedKernel> ks = {
          buildCacheWrite(sb, scratch, spec, writeBase + suffix, table, loc),
          buildAttention(sb, scratch, spec, attnBase + suffix, table, loc)};
      ks[0].func = w;
      ks[1].func = a;
      scratch->erase();
      return ks;
    }
  }

  OpBuilder mb(builder.getContext());
  std::string table = getOrCreateInvFreqTable(mb, module, spec, loc);
  std::vector<GeneratedKernel> kernels;
  kernels.push_back(
      buildCacheWrite(builder, module, spec, writeBase + suffix, table, loc));
  kernels.push_back(
      buildAttention(builder, module, spec, attnBase + suffix, table, loc));
  for (GeneratedKernel &k : kernels)
    k.func->setAttr(kKeyAttr, builder.getStringAttr(key));
  return kernels;
}

} // namespace mm01::gpu
