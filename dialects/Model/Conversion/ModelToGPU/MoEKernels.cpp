//===- MoEKernels.cpp - generators of the MoE GPU kernels -----------------===//
//
// See MoEKernels.h for the contract. Layouts:
//
// Workspace of the experts plan (P = tokens * k routed pairs, eb = bytes of
// elt):
//   [0, H)            i32 offsets[E + 1]: exclusive scan of the per-expert
//                     pair counts (offsets[E] = P); H = 4(E+1) rounded up to
//                     256 bytes
//   [H, hOff)         i32 perm[P]: the pair index t*k + j at each position of
//                     the expert-sorted order; hOff = H + align16(4P)
//   [hOff, yOff)      elt h[P, I]: SwiGLU output, rows in sorted order;
//                     yOff = hOff + P*I*eb
//   [yOff, end)       elt y[P, d]: down projection, rows in pair order
//
// Grouped GEMM (gate_up: C = x[tok(r)] · w{1,3}[e]ᵀ, N = I, K = d; down:
// C = h[r] · w2[e]ᵀ, N = d, K = I): block (bx, by) takes the bx-th row tile
// of BM sorted rows, counted over the experts in order (an expert with n
// pairs has cdiv(n, BM) tiles), and columns by*BN ..; a block past the last
// tile exits. Per K chunk of BK, the A rows and B rows are loaded as 16-byte
// vectors (consecutive threads along K, then rows: coalesced) and stored
// transposed as f32 into shared memory with rows padded by one float (the
// transposed stores hit distinct banks); each thread then accumulates a
// TM x TN grid of outputs at rows ty + i*TY, columns tx + j*TX (conflict-free
// shared reads, coalesced global stores) with f32 FMAs in K order, so every
// output is the sequential f32 dot product the CPU lowering computes.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/MoEKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <limits>

using namespace mlir;

namespace mm01::gpu {
namespace {

int64_t alignTo(int64_t x, int64_t a) { return (x + a - 1) / a * a; }
int64_t cdiv(int64_t x, int64_t a) { return (x + a - 1) / a; }

std::string eltName(Type t) { return t.isF32() ? "f32" : "bf16"; }

/// Small arithmetic helpers on one builder (index arithmetic unless noted).
struct KB {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32c(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value f32c(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) { return c == 1 ? x : mul(x, idx(c)); }
  Value div(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value rem(Value x, int64_t c) { return arith::RemUIOp::create(b, loc, x, idx(c)); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value ult(Value x, int64_t c) { return ult(x, idx(c)); }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  Value land(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value lor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  /// i32 (unsigned) -> index.
  Value toIdx(Value v) {
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v);
  }
  Value toI32(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }
  Value load(Value mem, Value i) { return memref::LoadOp::create(b, loc, mem, ValueRange{i}); }
  void store(Value v, Value mem, Value i) {
    memref::StoreOp::create(b, loc, v, mem, ValueRange{i});
  }
  Value toF32(Value v) {
    Type t = getElementTypeOrSelf(v.getType());
    if (t.isF32())
      return v;
    Type f32 = b.getF32Type();
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      f32 = VectorType::get(vt.getShape(), f32);
    return arith::ExtFOp::create(b, loc, f32, v);
  }
  /// f32 (scalar or vector) -> `elt`.
  Value trunc(Value v, Type elt) {
    if (elt.isF32())
      return v;
    Type t = elt;
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      t = VectorType::get(vt.getShape(), elt);
    return arith::TruncFOp::create(b, loc, t, v);
  }
  /// Rounds an f32 value through `elt` (identity for f32).
  Value roundThrough(Value v, Type elt) {
    return elt.isF32() ? v : toF32(trunc(v, elt));
  }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value divf(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  /// acc + x*y with `contract` (one fma.rn.f32; no libdevice call).
  Value fma(Value x, Value y, Value acc) {
    auto fmf = arith::FastMathFlagsAttr::get(b.getContext(),
                                             arith::FastMathFlags::contract);
    Value prod = arith::MulFOp::create(b, loc, x, y, fmf);
    return arith::AddFOp::create(b, loc, acc, prod, fmf);
  }
  /// `x / (1 + exp(-x))` as the CPU lowering (and HF) computes silu.
  Value silu(Value x) {
    Value den = addf(f32c(1.0), math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x)));
    return divf(x, den);
  }
  void barrier() { mlir::gpu::BarrierOp::create(b, loc); }

  /// Emits an scf.if with no results; `body` fills the then block.
  template <typename F> void ifThen(Value cond, F body) {
    auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(op.thenBlock());
    body();
  }
  /// Emits scf.if cond { then() } else { other() } yielding one value each.
  template <typename F, typename G> Value ifElse(Value cond, F then, G other) {
    auto op = scf::IfOp::create(
        b, loc, cond,
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, then()); },
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, other()); });
    return op.getResult(0);
  }
  /// scf.for lb..ub step with iter args; `body(iv, args)` returns the new
  /// args. Returns the results.
  template <typename F>
  SmallVector<Value> loop(Value lb, Value ub, Value step, ValueRange init, F body) {
    auto op = scf::ForOp::create(
        b, loc, lb, ub, step, init,
        [&](OpBuilder &, Location, Value iv, ValueRange args) {
          SmallVector<Value> next = body(iv, args);
          scf::YieldOp::create(b, loc, next);
        });
    return SmallVector<Value>(op.getResults().begin(), op.getResults().end());
  }
};

/// The kernel `name` with `paramTypes`, or the existing one of that name when
/// it has the same signature (the name encodes everything else); a different
/// signature under that name gets a suffix.
std::pair<mlir::gpu::GPUFuncOp, bool>
getOrCreateKernel(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                  StringRef base, ArrayRef<Type> paramTypes,
                  std::array<int64_t, 3> block, ArrayRef<Type> workgroup,
                  Location loc) {
  std::string name = base.str();
  for (unsigned n = 1;; ++n) {
    auto existing = SymbolTable::lookupSymbolIn(module, name);
    if (!existing)
      break;
    auto fn = dyn_cast<mlir::gpu::GPUFuncOp>(existing);
    if (fn && llvm::equal(fn.getFunctionType().getInputs(), paramTypes))
      return {fn, false};
    name = (base + "_" + Twine(n)).str();
  }
  auto kernel = createKernelFunc(builder, module, name, paramTypes, block, loc);
  for (Type t : workgroup)
    kernel.addWorkgroupAttribution(t, loc);
  return {kernel, true};
}

MemRefType workgroupType(MLIRContext *ctx, int64_t elements, Type elt) {
  auto space = mlir::gpu::AddressSpaceAttr::get(ctx, mlir::gpu::AddressSpace::Workgroup);
  return MemRefType::get({elements}, elt, AffineMap(), space);
}

//===----------------------------------------------------------------------===//
// Router
//===----------------------------------------------------------------------===//

/// Tokens per route block: the logits of the block's tokens are staged in
/// shared memory ([TB][E + 1] f32) with a coalesced copy.
int64_t routeTokensPerBlock(int64_t experts) {
  int64_t tb = 128;
  while (tb > 32 && tb * (experts + 1) * 4 > 48 * 1024)
    tb /= 2;
  return tb;
}

} // namespace

FailureOr<GeneratedKernel> buildMoERoute(OpBuilder &builder,
                                         mlir::gpu::GPUModuleOp module,
                                         const MoERouteSpec &spec, Location loc) {
  const int64_t E = spec.experts, K = spec.topK;
  if (E < 1 || E > 256 || K < 1 || K > E) {
    emitError(loc) << "moe route kernel: unsupported experts = " << E
                   << ", top-k = " << K << " (need 1 <= top-k <= experts <= 256)";
    return failure();
  }
  if (!spec.logitsElt || (!spec.logitsElt.isF32() && !spec.logitsElt.isBF16())) {
    emitError(loc) << "moe route kernel: logits element type "
                   << spec.logitsElt << " is not supported (f32 or bf16)";
    return failure();
  }
  if (spec.maxTokens < 1) {
    emitError(loc) << "moe route kernel: maxTokens must be positive";
    return failure();
  }
  MLIRContext *ctx = builder.getContext();
  Type f32 = builder.getF32Type(), i32 = builder.getI32Type();
  const int64_t TB = routeTokensPerBlock(E), LD = E + 1;
  std::string name = ("moe_route_e" + Twine(E) + "_k" + Twine(K) + "_" +
                      eltName(spec.logitsElt))
                         .str();
  SmallVector<Type> params = {pointerParamType(spec.logitsElt, spec.maxTokens * E),
                              pointerParamType(f32, spec.maxTokens * K),
                              pointerParamType(i32, spec.maxTokens * K), i32};
  auto [kernel, fresh] =
      getOrCreateKernel(builder, module, name, params, {TB, 1, 1},
                        {workgroupType(ctx, TB * LD, f32)}, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = {("cdiv(tokens," + Twine(TB) + ")").str(), "1", "1"};
  gk.block = {TB, 1, 1};
  gk.params = {{"logits", ParamKind::Ptr}, {"weights", ParamKind::Ptr},
               {"ids", ParamKind::Ptr}, {"tokens", ParamKind::I32}};
  if (!fresh)
    return gk;

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb{b, loc};
  Value logits = entry.getArgument(0), weights = entry.getArgument(1),
        ids = entry.getArgument(2);
  Value tokens = kb.toIdx(entry.getArgument(3));
  Value smem = kernel.getWorkgroupAttributions()[0];
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value bid = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value t0 = kb.mul(bid, TB);

  // Coalesced copy of the block's TB*E consecutive logits.
  Value total = kb.mul(tokens, E);
  Value first = kb.mul(t0, E);
  kb.loop(kb.idx(0), kb.idx(E), kb.idx(1), {}, [&](Value j, ValueRange) {
    Value i = kb.add(tid, kb.mul(j, TB));
    Value g = kb.add(first, i);
    kb.ifThen(kb.ult(g, total), [&] {
      Value v = kb.toF32(kb.load(logits, g));
      kb.store(v, smem, kb.add(kb.mul(kb.div(i, E), LD), kb.rem(i, E)));
    });
    return SmallVector<Value>{};
  });
  kb.barrier();

  Value t = kb.add(t0, tid);
  kb.ifThen(kb.ult(t, tokens), [&] {
    Value row = kb.mul(tid, LD);
    double inf = std::numeric_limits<double>::infinity();
    Value zero = kb.idx(0), eEnd = kb.idx(E), one = kb.idx(1);
    auto at = [&](Value e) { return kb.add(row, e); };
    // Row max and Σ exp(l - max), in expert order; p = exp(l - max) / Σ.
    Value mx = kb.loop(zero, eEnd, one, {kb.f32c(-inf)}, [&](Value e, ValueRange a) {
      Value l = kb.load(smem, at(e));
      return SmallVector<Value>{arith::MaximumFOp::create(b, loc, a[0], l)};
    })[0];
    Value sum = kb.loop(zero, eEnd, one, {kb.f32c(0.0)}, [&](Value e, ValueRange a) {
      Value l = kb.load(smem, at(e));
      Value ex = math::ExpOp::create(b, loc, kb.subf(l, mx));
      return SmallVector<Value>{kb.addf(a[0], ex)};
    })[0];
    kb.loop(zero, eEnd, one, {}, [&](Value e, ValueRange) {
      Value l = kb.load(smem, at(e));
      Value ex = math::ExpOp::create(b, loc, kb.subf(l, mx));
      kb.store(kb.divf(ex, sum), smem, at(e));
      return SmallVector<Value>{};
    });
    // k rounds of argmax: a strictly larger p wins, an equal one the lower
    // index; the winner is masked with -inf.
    SmallVector<Value> vals, idxs;
    for (int64_t j = 0; j < K; ++j) {
      SmallVector<Value> best = kb.loop(
          zero, eEnd, one, {kb.f32c(-inf), zero}, [&](Value e, ValueRange a) {
            Value p = kb.load(smem, at(e));
            Value gt = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, p, a[0]);
            Value eqv = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, p, a[0]);
            Value lower = kb.ult(e, a[1]);
            Value take = kb.lor(gt, kb.land(eqv, lower));
            return SmallVector<Value>{kb.sel(take, p, a[0]), kb.sel(take, e, a[1])};
          });
      vals.push_back(best[0]);
      idxs.push_back(best[1]);
      if (j + 1 < K)
        kb.store(kb.f32c(-inf), smem, at(best[1]));
    }
    Value norm = vals[0];
    for (int64_t j = 1; j < K; ++j)
      norm = kb.addf(norm, vals[j]);
    Value outRow = kb.mul(t, K);
    for (int64_t j = 0; j < K; ++j) {
      kb.store(kb.divf(vals[j], norm), weights, kb.add(outRow, j));
      kb.store(kb.toI32(idxs[j]), ids, kb.add(outRow, j));
    }
  });
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

//===----------------------------------------------------------------------===//
// Experts
//===----------------------------------------------------------------------===//

namespace {

struct ExpertsCtx {
  const MoEExpertsSpec &s;
  int64_t eb;         // bytes per element
  int64_t vec;        // elements per 16-byte vector
  int64_t headerBytes;
  int64_t maxPairs;

  explicit ExpertsCtx(const MoEExpertsSpec &spec) : s(spec) {
    eb = spec.elt.getIntOrFloatBitWidth() / 8;
    vec = 16 / eb;
    headerBytes = alignTo(4 * (spec.experts + 1), 256);
    maxPairs = spec.maxTokens * spec.topK;
  }
  int64_t maxWorkspaceBytes() const {
    return headerBytes + alignTo(4 * maxPairs, 16) +
           maxPairs * (s.inter + s.hidden) * eb;
  }
  std::string workspaceExpr() const {
    return (Twine(headerBytes) + "+cdiv(tokens*" + Twine(4 * s.topK) +
            ",16)*16+tokens*" + Twine(s.topK * (s.inter + s.hidden) * eb))
        .str();
  }
  std::string suffix() const {
    return ("e" + Twine(s.experts) + "_k" + Twine(s.topK) + "_d" +
            Twine(s.hidden) + "_i" + Twine(s.inter) + "_" + eltName(s.elt))
        .str();
  }
  Type wsType(OpBuilder &b) const {
    return pointerParamType(b.getI8Type(), maxWorkspaceBytes());
  }

  /// Views of the workspace parts (see the file comment).
  struct Views {
    Value offsets, perm, h, y;
  };
  Views views(KB &kb, Value ws, Value tokens) const {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Type i32 = b.getI32Type();
    Value pairs = kb.mul(tokens, s.topK);
    Value permOff = kb.idx(headerBytes);
    Value hOff = kb.add(permOff, kb.mul(kb.div(kb.add(kb.mul(pairs, 4), 15), 16), 16));
    Value yOff = kb.add(hOff, kb.mul(pairs, s.inter * eb));
    auto view = [&](Value off, Type elt, int64_t n) -> Value {
      return memref::ViewOp::create(b, loc, MemRefType::get({n}, elt), ws, off,
                                    ValueRange{});
    };
    Views v;
    v.offsets = view(kb.idx(0), i32, s.experts + 1);
    v.perm = view(permOff, i32, maxPairs);
    v.h = view(hOff, s.elt, maxPairs * s.inter);
    v.y = view(yOff, s.elt, maxPairs * s.hidden);
    return v;
  }
};

/// Clamps an i32 expert id into [0, E) and returns it as an index.
Value clampExpert(KB &kb, Value id, int64_t E) {
  Value lo = arith::MaxSIOp::create(kb.b, kb.loc, id, kb.i32c(0));
  Value c = arith::MinSIOp::create(kb.b, kb.loc, lo, kb.i32c(E - 1));
  return kb.toIdx(c);
}

/// permute: counts, scan, scatter; one block.
GeneratedKernel buildPermute(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                             const ExpertsCtx &c, Location loc) {
  const MoEExpertsSpec &s = c.s;
  MLIRContext *ctx = builder.getContext();
  Type i32 = builder.getI32Type();
  const int64_t E = s.experts, K = s.topK, PT = s.permuteThreads;
  SmallVector<Type> params = {pointerParamType(i32, c.maxPairs), c.wsType(builder), i32};
  auto [kernel, fresh] = getOrCreateKernel(
      builder, module, "moe_permute_" + c.suffix(), params, {PT, 1, 1},
      {workgroupType(ctx, E, i32), workgroupType(ctx, E, i32)}, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = {"1", "1", "1"};
  gk.block = {PT, 1, 1};
  gk.params = {{"ids", ParamKind::Ptr}, {"workspace", ParamKind::Ptr},
               {"tokens", ParamKind::I32}};
  if (!fresh)
    return gk;

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb{b, loc};
  Value ids = entry.getArgument(0), ws = entry.getArgument(1);
  Value tokens = kb.toIdx(entry.getArgument(2));
  Value counts = kernel.getWorkgroupAttributions()[0];
  Value cursor = kernel.getWorkgroupAttributions()[1];
  ExpertsCtx::Views v = c.views(kb, ws, tokens);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value pairs = kb.mul(tokens, K);
  auto addi = arith::AtomicRMWKindAttr::get(ctx, arith::AtomicRMWKind::addi);

  kb.ifThen(kb.ult(tid, E), [&] { kb.store(kb.i32c(0), counts, tid); });
  kb.barrier();
  kb.loop(tid, pairs, kb.idx(PT), {}, [&](Value p, ValueRange) {
    Value e = clampExpert(kb, kb.load(ids, p), E);
    memref::AtomicRMWOp::create(b, loc, addi, kb.i32c(1), counts, ValueRange{e});
    return SmallVector<Value>{};
  });
  kb.barrier();
  kb.ifThen(kb.eq(tid, kb.idx(0)), [&] {
    Value run = kb.loop(kb.idx(0), kb.idx(E), kb.idx(1), {kb.i32c(0)},
                        [&](Value e, ValueRange a) {
                          kb.store(a[0], v.offsets, e);
                          kb.store(a[0], cursor, e);
                          Value n = kb.load(counts, e);
                          return SmallVector<Value>{
                              arith::AddIOp::create(b, loc, a[0], n).getResult()};
                        })[0];
    kb.store(run, v.offsets, kb.idx(E));
  });
  kb.barrier();
  kb.loop(tid, pairs, kb.idx(PT), {}, [&](Value p, ValueRange) {
    Value e = clampExpert(kb, kb.load(ids, p), E);
    Value pos = memref::AtomicRMWOp::create(b, loc, addi, kb.i32c(1), cursor,
                                            ValueRange{e});
    kb.store(kb.toI32(p), v.perm, kb.toIdx(pos));
    return SmallVector<Value>{};
  });
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

enum class GemmKind { GateUp, Down };

/// The grouped GEMMs (see the file comment).
GeneratedKernel buildGroupedGemm(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                                 const ExpertsCtx &c, GemmKind kind, Location loc) {
  const MoEExpertsSpec &s = c.s;
  MLIRContext *ctx = builder.getContext();
  Type f32 = builder.getF32Type(), i32 = builder.getI32Type();
  const bool gateUp = kind == GemmKind::GateUp;
  const int64_t E = s.experts, TK = s.topK, d = s.hidden, I = s.inter;
  const int64_t N = gateUp ? I : d, K = gateUp ? d : I;
  const int64_t BM = s.tileM, BN = s.tileN, BK = s.tileK, TM = s.threadM,
                TN = s.threadN;
  const int64_t TY = BM / TM, TX = BN / TN, NT = TX * TY;
  const int64_t V = c.vec, CPR = BK / V; // 16-byte chunks per tile row
  const int64_t LDA = BM + 1, LDB = BN + 1;
  const int64_t numB = gateUp ? 2 : 1;
  Type elt = s.elt;

  SmallVector<Type> params;
  if (gateUp)
    params = {pointerParamType(elt, s.maxTokens * d),
              pointerParamType(elt, E * I * d), pointerParamType(elt, E * I * d),
              c.wsType(builder), i32};
  else
    params = {pointerParamType(elt, E * d * I), c.wsType(builder), i32};
  SmallVector<Type> wg = {workgroupType(ctx, BK * LDA, f32)};
  for (int64_t m = 0; m < numB; ++m)
    wg.push_back(workgroupType(ctx, BK * LDB, f32));
  std::string name = ((gateUp ? "moe_gate_up_" : "moe_down_") + c.suffix() +
                      "_m" + Twine(BM) + "n" + Twine(BN) + "k" + Twine(BK) +
                      "_t" + Twine(TM) + "x" + Twine(TN))
                         .str();
  auto [kernel, fresh] =
      getOrCreateKernel(builder, module, name, params, {NT, 1, 1}, wg, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = {("cdiv(tokens*" + Twine(TK) + "," + Twine(BM) + ")+min(" + Twine(E) +
              ",tokens*" + Twine(TK) + ")")
                 .str(),
             std::to_string(cdiv(N, BN)), "1"};
  gk.block = {NT, 1, 1};
  if (gateUp)
    gk.params = {{"x", ParamKind::Ptr}, {"w1", ParamKind::Ptr}, {"w3", ParamKind::Ptr},
                 {"workspace", ParamKind::Ptr}, {"tokens", ParamKind::I32}};
  else
    gk.params = {{"w2", ParamKind::Ptr}, {"workspace", ParamKind::Ptr},
                 {"tokens", ParamKind::I32}};
  if (!fresh)
    return gk;

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb{b, loc};
  unsigned np = params.size();
  Value x = gateUp ? entry.getArgument(0) : Value();
  SmallVector<Value> ws_B;
  if (gateUp)
    ws_B = {entry.getArgument(1), entry.getArgument(2)};
  else
    ws_B = {entry.getArgument(0)};
  Value ws = entry.getArgument(np - 2);
  Value tokens = kb.toIdx(entry.getArgument(np - 1));
  auto wgArgs = kernel.getWorkgroupAttributions();
  Value As = wgArgs[0];
  SmallVector<Value> Bs(wgArgs.begin() + 1, wgArgs.end());
  ExpertsCtx::Views v = c.views(kb, ws, tokens);

  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value tile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value nTile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value zero = kb.idx(0), one = kb.idx(1);

  // Find this block's expert and first row: the experts' tiles in order.
  SmallVector<Value> found = kb.loop(
      zero, kb.idx(E), one, {kb.idx(E), zero, zero}, [&](Value e, ValueRange a) {
        Value o0 = kb.toIdx(kb.load(v.offsets, e));
        Value o1 = kb.toIdx(kb.load(v.offsets, kb.add(e, 1)));
        Value tiles = kb.div(kb.add(kb.sub(o1, o0), BM - 1), BM);
        Value cum = kb.add(a[2], tiles);
        Value hit = kb.land(kb.eq(a[0], kb.idx(E)), kb.ult(tile, cum));
        Value m0 = kb.mul(kb.sub(tile, a[2]), BM);
        return SmallVector<Value>{kb.sel(hit, e, a[0]), kb.sel(hit, m0, a[1]), cum};
      });
  Value expert = found[0];
  kb.ifThen(kb.ult(expert, E), [&] {
    Value o0 = kb.toIdx(kb.load(v.offsets, expert));
    Value o1 = kb.toIdx(kb.load(v.offsets, kb.add(expert, 1)));
    Value base = kb.add(o0, found[1]);         // first sorted row
    Value rows = kb.sub(kb.sub(o1, o0), found[1]); // rows left (>= 1)
    Value n0 = kb.mul(nTile, BN);
    Value tx = kb.rem(tid, TX), ty = kb.div(tid, TX);
    Value wBase = kb.mul(expert, N * K);

    // Per-thread load slots (constant over K): the A chunks' source row
    // offsets and validity, the B chunks' row offsets and validity.
    struct Slot {
      Value guard;    // slot exists (c < chunks); null when always
      Value valid;    // row in range
      Value src;      // element offset of the row start
      Value smemCol;  // row / column in the transposed tile
      Value kc;       // first K element of the chunk within the tile
    };
    auto makeSlots = [&](int64_t tileRows, bool isA) {
      SmallVector<Slot> slots;
      int64_t chunks = tileRows * CPR;
      for (int64_t i = 0; i < cdiv(chunks, NT); ++i) {
        Slot sl;
        Value ci = kb.add(tid, i * NT);
        if ((i + 1) * NT > chunks)
          sl.guard = kb.ult(ci, chunks);
        Value r = kb.div(ci, CPR);
        sl.kc = kb.mul(kb.rem(ci, CPR), V);
        sl.smemCol = r;
        if (isA) {
          sl.valid = kb.ult(r, rows);
          if (gateUp) {
            // The token of sorted row base + r (clamped in range when the
            // row is past the expert's rows: never loaded then).
            Value sr = kb.sel(sl.valid, kb.add(base, r), base);
            Value pair = kb.toIdx(kb.load(v.perm, sr));
            sl.src = kb.mul(kb.div(pair, TK), d);
          } else {
            sl.src = kb.mul(kb.add(base, r), I);
          }
        } else {
          Value n = kb.add(n0, r);
          sl.valid = kb.ult(n, N);
          sl.src = kb.add(wBase, kb.mul(n, K));
        }
        if (sl.guard)
          sl.valid = kb.land(sl.guard, sl.valid);
        slots.push_back(sl);
      }
      return slots;
    };
    SmallVector<Slot> aSlots = makeSlots(BM, true), bSlots = makeSlots(BN, false);

    auto vecElt = VectorType::get({V}, elt);
    auto vecF32 = VectorType::get({V}, f32);
    llvm::MaybeAlign align16(16);
    auto stage = [&](const Slot &sl, Value src, Value kk, Value smem, int64_t ld) {
      Value kg = kb.add(kk, sl.kc);
      Value ok = kb.land(sl.valid, kb.ult(kg, kb.idx(K)));
      Value data = kb.ifElse(
          ok,
          [&] {
            Value vv = vector::LoadOp::create(b, loc, vecElt, src,
                                              ValueRange{kb.add(sl.src, kg)},
                                              /*nontemporal=*/false, align16);
            return kb.toF32(vv);
          },
          [&] {
            return arith::ConstantOp::create(
                       b, loc, vecF32, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.f)))
                .getResult();
          });
      auto write = [&] {
        for (int64_t e = 0; e < V; ++e) {
          Value val = vector::ExtractOp::create(b, loc, data, ArrayRef<int64_t>{e});
          kb.store(val, smem, kb.add(kb.mul(kb.add(sl.kc, e), ld), sl.smemCol));
        }
      };
      if (sl.guard)
        kb.ifThen(sl.guard, write);
      else
        write();
    };

    const int64_t nAcc = numB * TM * TN;
    SmallVector<Value> init(nAcc, kb.f32c(0.0));
    int64_t kSteps = cdiv(K, BK);
    SmallVector<Value> acc = kb.loop(
        zero, kb.idx(kSteps * BK), kb.idx(BK), init, [&](Value kk, ValueRange a) {
          for (const Slot &sl : aSlots)
            stage(sl, gateUp ? x : v.h, kk, As, LDA);
          for (int64_t m = 0; m < numB; ++m)
            for (const Slot &sl : bSlots)
              stage(sl, ws_B[m], kk, Bs[m], LDB);
          kb.barrier();
          SmallVector<Value> cur(a.begin(), a.end());
          for (int64_t q = 0; q < BK; ++q) {
            SmallVector<Value> av, bv;
            for (int64_t i = 0; i < TM; ++i)
              av.push_back(kb.load(As, kb.add(ty, q * LDA + i * TY)));
            for (int64_t m = 0; m < numB; ++m)
              for (int64_t j = 0; j < TN; ++j)
                bv.push_back(kb.load(Bs[m], kb.add(tx, q * LDB + j * TX)));
            for (int64_t m = 0; m < numB; ++m)
              for (int64_t i = 0; i < TM; ++i)
                for (int64_t j = 0; j < TN; ++j) {
                  Value &r = cur[(m * TM + i) * TN + j];
                  r = kb.fma(av[i], bv[m * TN + j], r);
                }
          }
          kb.barrier();
          return cur;
        });

    // Epilogue.
    for (int64_t i = 0; i < TM; ++i) {
      Value row = kb.add(ty, i * TY);
      kb.ifThen(kb.ult(row, rows), [&] {
        Value r = kb.add(base, row);
        Value dst = gateUp ? kb.mul(r, I)
                           : kb.mul(kb.toIdx(kb.load(v.perm, r)), d);
        for (int64_t j = 0; j < TN; ++j) {
          Value n = kb.add(n0, kb.add(tx, j * TX));
          auto emit = [&] {
            Value out;
            if (gateUp) {
              Value h1 = kb.roundThrough(acc[(0 * TM + i) * TN + j], elt);
              Value h3 = kb.roundThrough(acc[(1 * TM + i) * TN + j], elt);
              Value sl = kb.roundThrough(kb.silu(h1), elt);
              out = kb.trunc(kb.mulf(sl, h3), elt);
              kb.store(out, v.h, kb.add(dst, n));
            } else {
              out = kb.trunc(acc[i * TN + j], elt);
              kb.store(out, v.y, kb.add(dst, n));
            }
          };
          if (N % BN == 0)
            emit();
          else
            kb.ifThen(kb.ult(n, N), emit);
        }
      });
    }
  });
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

/// combine: out[t] = Σ_j round(round(w_j) · y[t, j]) in f32, one rounding.
GeneratedKernel buildCombine(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                             const ExpertsCtx &c, Location loc) {
  const MoEExpertsSpec &s = c.s;
  Type f32 = builder.getF32Type(), i32 = builder.getI32Type();
  const int64_t K = s.topK, d = s.hidden, CT = s.combineThreads, V = c.vec;
  Type elt = s.elt;
  SmallVector<Type> params = {pointerParamType(f32, c.maxPairs), c.wsType(builder),
                              pointerParamType(elt, s.maxTokens * d), i32};
  auto [kernel, fresh] = getOrCreateKernel(builder, module,
                                           "moe_combine_" + c.suffix(), params,
                                           {CT, 1, 1}, {}, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = {"tokens", "1", "1"};
  gk.block = {CT, 1, 1};
  gk.params = {{"weights", ParamKind::Ptr}, {"workspace", ParamKind::Ptr},
               {"out", ParamKind::Ptr}, {"tokens", ParamKind::I32}};
  if (!fresh)
    return gk;

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb{b, loc};
  Value weights = entry.getArgument(0), ws = entry.getArgument(1),
        out = entry.getArgument(2);
  Value tokens = kb.toIdx(entry.getArgument(3));
  ExpertsCtx::Views v = c.views(kb, ws, tokens);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value t = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  auto vecF32 = VectorType::get({V}, f32);
  auto vecElt = VectorType::get({V}, elt);
  llvm::MaybeAlign align16(16);

  SmallVector<Value> w;
  for (int64_t j = 0; j < K; ++j) {
    Value wj = kb.roundThrough(kb.load(weights, kb.add(kb.mul(t, K), j)), elt);
    w.push_back(vector::BroadcastOp::create(b, loc, vecF32, wj));
  }
  int64_t chunks = d / V;
  for (int64_t i = 0; i < cdiv(chunks, CT); ++i) {
    Value ci = kb.add(tid, i * CT);
    auto body = [&] {
      Value col = kb.mul(ci, V);
      Value acc = arith::ConstantOp::create(
          b, loc, vecF32, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.f)));
      for (int64_t j = 0; j < K; ++j) {
        Value yrow = kb.mul(kb.add(kb.mul(t, K), j), d);
        Value y = kb.toF32(vector::LoadOp::create(b, loc, vecElt, v.y,
                                                  ValueRange{kb.add(yrow, col)},
                                                  /*nontemporal=*/false, align16));
        Value term = kb.roundThrough(kb.mulf(w[j], y), elt);
        acc = kb.addf(acc, term);
      }
      vector::StoreOp::create(b, loc, kb.trunc(acc, elt), out,
                              ValueRange{kb.add(kb.mul(t, d), col)},
                              /*nontemporal=*/false, align16);
    };
    if ((i + 1) * CT > chunks)
      kb.ifThen(kb.ult(ci, chunks), body);
    else
      body();
  }
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

} // namespace

FailureOr<MoEExpertsPlan> buildMoEExperts(OpBuilder &builder,
                                          mlir::gpu::GPUModuleOp module,
                                          const MoEExpertsSpec &spec, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "moe experts kernels: ";
  };
  if (!spec.elt || (!spec.elt.isF32() && !spec.elt.isBF16())) {
    fail() << "element type " << spec.elt << " is not supported (bf16 or f32)";
    return failure();
  }
  if (spec.experts < 1 || spec.experts > 1024 || spec.topK < 1 ||
      spec.topK > spec.experts) {
    fail() << "unsupported experts = " << spec.experts << ", top-k = " << spec.topK
           << " (need 1 <= top-k <= experts <= 1024)";
    return failure();
  }
  if (spec.maxTokens < 1 || spec.hidden < 1 || spec.inter < 1) {
    fail() << "hidden, inter and maxTokens must be positive";
    return failure();
  }
  int64_t vec = 16 / (spec.elt.getIntOrFloatBitWidth() / 8);
  if (spec.hidden % vec != 0 || spec.inter % vec != 0) {
    fail() << "hidden = " << spec.hidden << " and inter = " << spec.inter
           << " must be multiples of " << vec
           << " (16-byte vectors of " << spec.elt << ")";
    return failure();
  }
  if (spec.tileM < 1 || spec.tileN < 1 || spec.threadM < 1 || spec.threadN < 1 ||
      spec.tileM % spec.threadM != 0 || spec.tileN % spec.threadN != 0) {
    fail() << "tileM/tileN must be positive multiples of threadM/threadN";
    return failure();
  }
  int64_t threads = (spec.tileM / spec.threadM) * (spec.tileN / spec.threadN);
  if (threads < 32 || threads > 1024 || threads % 32 != 0) {
    fail() << "(tileM/threadM)*(tileN/threadN) = " << threads
           << " threads per GEMM block must be a multiple of 32 in [32, 1024]";
    return failure();
  }
  if (spec.tileK < vec || spec.tileK % vec != 0) {
    fail() << "tileK = " << spec.tileK << " must be a positive multiple of " << vec;
    return failure();
  }
  int64_t smem = spec.tileK * ((spec.tileM + 1) + 2 * (spec.tileN + 1)) * 4;
  if (smem > 48 * 1024) {
    fail() << "GEMM tiles need " << smem << " bytes of shared memory (> 48 KiB)";
    return failure();
  }
  if (spec.permuteThreads < spec.experts || spec.permuteThreads > 1024 ||
      spec.permuteThreads % 32 != 0) {
    fail() << "permuteThreads must be a multiple of 32 in [experts, 1024]";
    return failure();
  }
  if (spec.combineThreads < 32 || spec.combineThreads > 1024 ||
      spec.combineThreads % 32 != 0) {
    fail() << "combineThreads must be a multiple of 32 in [32, 1024]";
    return failure();
  }
  ExpertsCtx c(spec);
  MoEExpertsPlan plan;
  plan.workspaceBytes = c.workspaceExpr();
  plan.kernels.push_back(buildPermute(builder, module, c, loc));
  plan.kernels.push_back(buildGroupedGemm(builder, module, c, GemmKind::GateUp, loc));
  plan.kernels.push_back(buildGroupedGemm(builder, module, c, GemmKind::Down, loc));
  plan.kernels.push_back(buildCombine(builder, module, c, loc));
  return plan;
}

} // namespace mm01::gpu
