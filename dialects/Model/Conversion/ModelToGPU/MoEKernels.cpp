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
// tile exits. Both operands are row-major with K contiguous (A rows are x
// rows gathered through perm, or h rows; B rows are weight rows), so A is
// "row" and B "col" in mma terms without any transposition.
//
// Tensor cores (bf16): shared memory is a ring of `stages` stages, each
// {A[BM][BK+8], B1[BN][BK+8] (, B3[BN][BK+8])} bf16 (rows padded by 16
// bytes: the 8 rows of an ldmatrix hit distinct banks). Each thread copies
// fixed 16-byte pieces (consecutive threads along K, then rows) with
// cp.async; pieces past the expert's rows, past N or past K are zero-filled
// (src-size 0), so partial tiles need no masking in the MMA loop. Per K
// chunk kt: wait for its group (issued stages-1 chunks ahead), barrier,
// issue chunk kt+stages-1 into the stage chunk kt-1 used, then every warp
// runs its (BM/WM) x (BN/WN) sub-tile: A fragments by ldmatrix.x4, B
// fragments (two n-tiles of 8 per ldmatrix.x4) from the [n][k] rows, one
// mma.sync m16n8k16 per (m-tile, n-tile, matrix). The epilogue rounds the
// f32 accumulators at the CPU lowering's points (gate_up: h1, h3, silu(h1),
// g; down: y) and stores bf16 pairs straight from the C fragments. Every
// output accumulates its k16 chunks in ascending order whatever the tiles
// (zero-filled chunks add exact zeros): all tilings give the same bits.
//
// SIMT (f32, or bf16 with tensorCores = false): per K chunk of BK, the A
// rows and B rows are loaded as 16-byte vectors (consecutive threads along
// K, then rows: coalesced) and stored transposed as f32 into shared memory
// with rows padded by one float (the transposed stores hit distinct banks);
// each thread then accumulates a TM x TN grid of outputs at rows ty + i*TY,
// columns tx + j*TX (conflict-free shared reads, coalesced global stores)
// with f32 FMAs in K order, so every output is the sequential f32 dot
// product the CPU lowering computes.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/MoEKernels.h"
#include "Model/Conversion/ModelToGPU/TensorCoreBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <limits>
#include <tuple>

using namespace mlir;

namespace mm01::gpu {
namespace {

int64_t alignTo(int64_t x, int64_t a) { return (x + a - 1) / a * a; }
int64_t cdiv(int64_t x, int64_t a) { return (x + a - 1) / a; }

std::string eltName(Type t) { return t.isF32() ? "f32" : "bf16"; }

/// ArithBuilder plus SiLU as the CPU lowering computes it.
struct KB : ArithBuilder {
  using ArithBuilder::ArithBuilder;
  /// `x / (1 + exp(-x))` as the CPU lowering (and HF) computes silu.
  Value silu(Value x) {
    Value den = fadd(f32c(1.0), math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x)));
    return fdiv(x, den);
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
  // 16-byte aligned shared buffers: LLVM merges unrolled neighbouring
  // accesses into 16-byte vectors (the permutation's scan over E counters),
  // which the buffers' default 4-byte alignment would not honour.
  for (auto [i, t] : llvm::enumerate(workgroup)) {
    kernel.addWorkgroupAttribution(t, loc);
    kernel.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                       builder.getI64IntegerAttr(16));
  }
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
  KB kb(b, loc);
  Value logits = entry.getArgument(0), weights = entry.getArgument(1),
        ids = entry.getArgument(2);
  Value tokens = kb.toIndexU(entry.getArgument(3));
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
      Value ex = math::ExpOp::create(b, loc, kb.fsub(l, mx));
      return SmallVector<Value>{kb.fadd(a[0], ex)};
    })[0];
    kb.loop(zero, eEnd, one, {}, [&](Value e, ValueRange) {
      Value l = kb.load(smem, at(e));
      Value ex = math::ExpOp::create(b, loc, kb.fsub(l, mx));
      kb.store(kb.fdiv(ex, sum), smem, at(e));
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
            return SmallVector<Value>{kb.select(take, p, a[0]), kb.select(take, e, a[1])};
          });
      vals.push_back(best[0]);
      idxs.push_back(best[1]);
      if (j + 1 < K)
        kb.store(kb.f32c(-inf), smem, at(best[1]));
    }
    Value norm = vals[0];
    for (int64_t j = 1; j < K; ++j)
      norm = kb.fadd(norm, vals[j]);
    Value outRow = kb.mul(t, K);
    for (int64_t j = 0; j < K; ++j) {
      kb.store(kb.fdiv(vals[j], norm), weights, kb.add(outRow, j));
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
    Value hOff, yOff; // byte offsets of h and y in the workspace
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
    v.hOff = hOff;
    v.yOff = yOff;
    return v;
  }
};

/// Clamps an i32 expert id into [0, E) and returns it as an index.
Value clampExpert(KB &kb, Value id, int64_t E) {
  Value lo = arith::MaxSIOp::create(kb.b, kb.loc, id, kb.i32c(0));
  Value c = arith::MinSIOp::create(kb.b, kb.loc, lo, kb.i32c(E - 1));
  return kb.toIndexU(c);
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
  KB kb(b, loc);
  Value ids = entry.getArgument(0), ws = entry.getArgument(1);
  Value tokens = kb.toIndexU(entry.getArgument(2));
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
    kb.store(kb.toI32(p), v.perm, kb.toIndexU(pos));
    return SmallVector<Value>{};
  });
  mlir::gpu::ReturnOp::create(b, loc);
  return gk;
}

enum class GemmKind { GateUp, Down };

/// What both GEMM implementations share: the parameters, the grid and the
/// names of a grouped GEMM.
struct GemmShape {
  bool gateUp;
  int64_t N, K, numB; // output columns, reduction, B matrices (w1, w3 | w2)
  SmallVector<Type> params;
  std::vector<KernelParamDesc> paramDescs;
  std::string baseName;

  GemmShape(OpBuilder &builder, const ExpertsCtx &c, GemmKind kind) {
    const MoEExpertsSpec &s = c.s;
    const int64_t E = s.experts, d = s.hidden, I = s.inter;
    Type elt = s.elt, i32 = builder.getI32Type();
    gateUp = kind == GemmKind::GateUp;
    N = gateUp ? I : d;
    K = gateUp ? d : I;
    numB = gateUp ? 2 : 1;
    if (gateUp) {
      params = {pointerParamType(elt, s.maxTokens * d),
                pointerParamType(elt, E * I * d), pointerParamType(elt, E * I * d),
                c.wsType(builder), i32};
      paramDescs = {{"x", ParamKind::Ptr}, {"w1", ParamKind::Ptr},
                    {"w3", ParamKind::Ptr}, {"workspace", ParamKind::Ptr},
                    {"tokens", ParamKind::I32}};
    } else {
      params = {pointerParamType(elt, E * d * I), c.wsType(builder), i32};
      paramDescs = {{"w2", ParamKind::Ptr}, {"workspace", ParamKind::Ptr},
                    {"tokens", ParamKind::I32}};
    }
    baseName = (gateUp ? "moe_gate_up_" : "moe_down_") + c.suffix();
  }
  /// Worst case of row tiles over `tokens` (cdiv(P, BM) plus one partial
  /// tile per non-empty expert) x column tiles.
  std::array<std::string, 3> grid(const ExpertsCtx &c, int64_t BM, int64_t BN) const {
    const int64_t TK = c.s.topK, E = c.s.experts;
    return {("cdiv(tokens*" + Twine(TK) + "," + Twine(BM) + ")+min(" + Twine(E) +
             ",tokens*" + Twine(TK) + ")")
                .str(),
            std::to_string(cdiv(N, BN)), "1"};
  }
};

/// The (expert, first row within the expert) of row tile `tile`: the experts'
/// tiles of BM rows in order; expert = E when the block has none.
std::pair<Value, Value> findRowTile(KB &kb, const ExpertsCtx::Views &v, Value tile,
                                    int64_t BM, int64_t E) {
  Value zero = kb.idx(0);
  SmallVector<Value> found = kb.loop(
      zero, kb.idx(E), kb.idx(1), {kb.idx(E), zero, zero}, [&](Value e, ValueRange a) {
        Value o0 = kb.toIndexU(kb.load(v.offsets, e));
        Value o1 = kb.toIndexU(kb.load(v.offsets, kb.add(e, 1)));
        Value tiles = kb.div(kb.add(kb.sub(o1, o0), BM - 1), BM);
        Value cum = kb.add(a[2], tiles);
        Value hit = kb.land(kb.eq(a[0], kb.idx(E)), kb.ult(tile, cum));
        Value m0 = kb.mul(kb.sub(tile, a[2]), BM);
        return SmallVector<Value>{kb.select(hit, e, a[0]), kb.select(hit, m0, a[1]), cum};
      });
  return {found[0], found[1]};
}

/// The rows one block of a grouped GEMM covers and where each row of its A
/// and Bᵀ tiles comes from (the SIMT and tensor-core kernels address rows
/// alike): sorted rows base .. base + rows - 1 of `expert`, columns n0 ...
struct ExpertTile {
  Value base;  // first sorted row of the tile
  Value rows;  // the expert's rows left from `base` (>= 1)
  Value n0;    // first output column
  Value wBase; // element offset of the expert's B matrices

  ExpertTile(KB &kb, const ExpertsCtx::Views &v, const GemmShape &shape, Value expert,
             Value m0, Value nTile, int64_t BN) {
    Value o0 = kb.toIndexU(kb.load(v.offsets, expert));
    Value o1 = kb.toIndexU(kb.load(v.offsets, kb.add(expert, 1)));
    base = kb.add(o0, m0);
    rows = kb.sub(kb.sub(o1, o0), m0);
    n0 = kb.mul(nTile, BN);
    wBase = kb.mul(expert, shape.N * shape.K);
  }

  struct Row {
    Value valid; // inside the expert's rows / N; null: always
    Value src;   // element offset of the source row
  };
  /// Row r of the A tile: gate_up reads token rows of x through the
  /// permutation, down the hidden buffer's sorted rows (a row past the
  /// expert's rows is clamped to `base`: addressable, never used).
  Row aRow(KB &kb, const ExpertsCtx::Views &v, const ExpertsCtx &c,
           const GemmShape &shape, Value r) const {
    Row row;
    row.valid = kb.ult(r, rows);
    Value sr = kb.select(row.valid, kb.add(base, r), base);
    if (shape.gateUp) {
      Value pair = kb.toIndexU(kb.load(v.perm, sr));
      row.src = kb.mul(kb.div(pair, c.s.topK), c.s.hidden);
    } else {
      row.src = kb.mul(sr, c.s.inter);
    }
    return row;
  }
  /// Row r of the Bᵀ tile: column n0 + r of the expert's weights.
  Row bRow(KB &kb, const GemmShape &shape, Value r, int64_t BN) const {
    Row row;
    Value n = kb.add(n0, r);
    if (shape.N % BN != 0)
      row.valid = kb.ult(n, shape.N);
    row.src = kb.add(wBase, kb.mul(n, shape.K));
    return row;
  }
};

/// The SwiGLU epilogue of gate_up at the CPU lowering's rounding points:
/// g = round(round(silu(round(h1))) * round(h3)), returned in f32 (the
/// caller's store rounds it).
Value swiglu(KB &kb, Value acc1, Value acc3, Type elt) {
  Value h1 = kb.roundTrip(acc1, elt);
  Value h3 = kb.roundTrip(acc3, elt);
  Value sl = kb.roundTrip(kb.silu(h1), elt);
  return kb.fmul(sl, h3);
}

/// The SIMT grouped GEMM (f32 FMAs; see the file comment).
GeneratedKernel buildGroupedGemmSimt(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                                     const ExpertsCtx &c, GemmKind kind,
                                     const MoEGemmTiles &t, Location loc) {
  const MoEExpertsSpec &s = c.s;
  MLIRContext *ctx = builder.getContext();
  Type f32 = builder.getF32Type();
  const GemmShape shape(builder, c, kind);
  const bool gateUp = shape.gateUp;
  const int64_t E = s.experts, d = s.hidden, I = s.inter;
  const int64_t N = shape.N, K = shape.K, numB = shape.numB;
  const int64_t BM = t.tileM, BN = t.tileN, BK = t.tileK, TM = t.threadM,
                TN = t.threadN;
  const int64_t TY = BM / TM, TX = BN / TN, NT = TX * TY;
  const int64_t V = c.vec, CPR = BK / V; // 16-byte chunks per tile row
  const int64_t LDA = BM + 1, LDB = BN + 1;
  Type elt = s.elt;

  const SmallVector<Type> &params = shape.params;
  SmallVector<Type> wg = {workgroupType(ctx, BK * LDA, f32)};
  for (int64_t m = 0; m < numB; ++m)
    wg.push_back(workgroupType(ctx, BK * LDB, f32));
  std::string name = (shape.baseName + "_m" + Twine(BM) + "n" + Twine(BN) + "k" +
                      Twine(BK) + "_t" + Twine(TM) + "x" + Twine(TN))
                         .str();
  auto [kernel, fresh] =
      getOrCreateKernel(builder, module, name, params, {NT, 1, 1}, wg, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = shape.grid(c, BM, BN);
  gk.block = {NT, 1, 1};
  gk.params = shape.paramDescs;
  if (!fresh)
    return gk;

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb(b, loc);
  unsigned np = params.size();
  Value x = gateUp ? entry.getArgument(0) : Value();
  SmallVector<Value> ws_B;
  if (gateUp)
    ws_B = {entry.getArgument(1), entry.getArgument(2)};
  else
    ws_B = {entry.getArgument(0)};
  Value ws = entry.getArgument(np - 2);
  Value tokens = kb.toIndexU(entry.getArgument(np - 1));
  auto wgArgs = kernel.getWorkgroupAttributions();
  Value As = wgArgs[0];
  SmallVector<Value> Bs(wgArgs.begin() + 1, wgArgs.end());
  ExpertsCtx::Views v = c.views(kb, ws, tokens);

  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value tile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value nTile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value zero = kb.idx(0);

  // This block's expert and first row.
  Value expert, m0;
  std::tie(expert, m0) = findRowTile(kb, v, tile, BM, E);
  kb.ifThen(kb.ult(expert, E), [&] {
    const ExpertTile et(kb, v, shape, expert, m0, nTile, BN);
    Value base = et.base, rows = et.rows, n0 = et.n0;
    Value tx = kb.rem(tid, TX), ty = kb.div(tid, TX);

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
        ExpertTile::Row row = isA ? et.aRow(kb, v, c, shape, r) : et.bRow(kb, shape, r, BN);
        sl.src = row.src;
        sl.valid = row.valid ? row.valid : kb.i1c(true);
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
                  r = kb.fmaContract(av[i], bv[m * TN + j], r);
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
                           : kb.mul(kb.toIndexU(kb.load(v.perm, r)), d);
        for (int64_t j = 0; j < TN; ++j) {
          Value n = kb.add(n0, kb.add(tx, j * TX));
          auto emit = [&] {
            Value out;
            if (gateUp) {
              out = kb.fromF32(swiglu(kb, acc[(0 * TM + i) * TN + j],
                                    acc[(1 * TM + i) * TN + j], elt),
                             elt);
              kb.store(out, v.h, kb.add(dst, n));
            } else {
              out = kb.fromF32(acc[i * TN + j], elt);
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

/// TensorCoreBuilder plus the zero-filling cp.async the partial tiles need.
struct GemmBuilder : TensorCoreBuilder {
  using TensorCoreBuilder::TensorCoreBuilder;
  /// cp.async.cg of 16 bytes that copies when `full` and writes 16 zero
  /// bytes otherwise (src-size 0: nothing is read from `src`).
  void cpAsync16OrZero(Value dst, Value src, Value full) {
    Value n = arith::SelectOp::create(
        b, loc, full, arith::ConstantIntOp::create(b, loc, i32, 16),
        arith::ConstantIntOp::create(b, loc, i32, 0));
    NVVM::CpAsyncOp::create(b, loc, smemPtr(dst), ptr(src, 1), 16,
                            NVVM::LoadCacheModifierKind::CG, n);
  }
};

constexpr int64_t kMaxSmemPerBlock = 232448; // sm_90: 227 KiB opt-in
constexpr int64_t kSmemPerSM = 233472;       // 228 KiB, 1 KiB reserved per block
constexpr int64_t kRowPadBytes = 16;         // per shared tile row
constexpr int64_t kMaxAccumulators = 128;    // f32 per thread

/// Shared-memory bytes of the tensor-core tiles.
struct TcLayout {
  int64_t pitch, aBytes, bBytes, stageBytes, total;
  TcLayout(const MoEGemmTiles &t, int64_t numB) {
    pitch = 2 * t.tileK + kRowPadBytes;
    aBytes = t.tileM * pitch;
    bBytes = t.tileN * pitch;
    stageBytes = aBytes + numB * bBytes;
    total = t.stages * stageBytes;
  }
};
int64_t tcAccumulators(const MoEGemmTiles &t, int64_t numB) {
  return numB * (t.tileM / t.warpsM / 16) * (t.tileN / t.warpsN / 8) * 4;
}

/// The tensor-core grouped GEMM (bf16; see the file comment).
GeneratedKernel buildGroupedGemmTC(OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                                   const ExpertsCtx &c, GemmKind kind,
                                   const MoEGemmTiles &t, Location loc) {
  const MoEExpertsSpec &s = c.s;
  const GemmShape shape(builder, c, kind);
  const bool gateUp = shape.gateUp;
  const int64_t E = s.experts, d = s.hidden, I = s.inter;
  const int64_t N = shape.N, K = shape.K, numB = shape.numB;
  const int64_t BM = t.tileM, BN = t.tileN, BK = t.tileK, WM = t.warpsM,
                WN = t.warpsN, S = t.stages;
  const int64_t NT = 32 * WM * WN;           // threads
  const int64_t MT = BM / WM / 16;           // m16 tiles per warp
  const int64_t NTW = BN / WN / 8;           // n8 tiles per warp (even)
  const int64_t CPR = BK / 8;                // 16-byte pieces per tile row
  const int64_t kSteps = cdiv(K, BK);
  const TcLayout L(t, numB);
  Type elt = s.elt;

  std::string name = (shape.baseName + "_tc_m" + Twine(BM) + "n" + Twine(BN) + "k" +
                      Twine(BK) + "_w" + Twine(WM) + "x" + Twine(WN) + "_s" + Twine(S))
                         .str();
  auto [kernel, fresh] =
      getOrCreateKernel(builder, module, name, shape.params, {NT, 1, 1}, {}, loc);
  GeneratedKernel gk;
  gk.func = kernel;
  gk.grid = shape.grid(c, BM, BN);
  gk.block = {NT, 1, 1};
  gk.dynamicSmemBytes = L.total;
  gk.params = shape.paramDescs;
  if (!fresh)
    return gk;
  // Two blocks per SM where their stages fit: one block's barrier stalls
  // then overlap the other's MMAs (ptxas keeps the registers within 2
  // blocks' share).
  if (2 * L.total <= kSmemPerSM)
    kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    builder.getI32IntegerAttr(2));

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KB kb(b, loc);
  GemmBuilder g(b, loc);
  unsigned np = shape.params.size();
  Value ws = entry.getArgument(np - 2);
  Value tokens = kb.toIndexU(entry.getArgument(np - 1));
  ExpertsCtx::Views v = c.views(kb, ws, tokens);
  // Global byte addresses of A and of the B matrices.
  Value wsAddr = g.baseAddr(ws);
  Value aAddr = gateUp ? g.baseAddr(entry.getArgument(0)) : g.add(wsAddr, v.hOff);
  SmallVector<Value> bAddr;
  if (gateUp)
    bAddr = {g.baseAddr(entry.getArgument(1)), g.baseAddr(entry.getArgument(2))};
  else
    bAddr = {g.baseAddr(entry.getArgument(0))};
  auto wgSpace = mlir::gpu::AddressSpaceAttr::get(b.getContext(),
                                                  mlir::gpu::AddressSpace::Workgroup);
  Value dsm = mlir::gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface(), wgSpace));
  Value smem = g.baseAddr(dsm);

  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value tile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value nTile = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);

  Value expert, m0;
  std::tie(expert, m0) = findRowTile(kb, v, tile, BM, E);
  kb.ifThen(kb.ult(expert, E), [&] {
    const ExpertTile et(kb, v, shape, expert, m0, nTile, BN);
    Value base = et.base, rows = et.rows, n0 = et.n0;

    // ---- this thread's cp.async pieces (fixed over K) ----
    struct Piece {
      Value exists; // piece index < pieces of the tile; null when always
      Value valid;  // row inside the expert's rows / column inside N
      Value srcRow; // element offset of the source row
      Value dst;    // byte offset inside the tile
      Value kc;     // first K element of the piece within the chunk
    };
    auto makePieces = [&](int64_t tileRows, bool isA) {
      SmallVector<Piece> pieces;
      int64_t count = tileRows * CPR;
      for (int64_t i = 0; i < cdiv(count, NT); ++i) {
        Piece pc;
        Value p = kb.add(tid, i * NT);
        if ((i + 1) * NT > count)
          pc.exists = kb.ult(p, count);
        Value r = kb.div(p, CPR), ch = kb.rem(p, CPR);
        pc.dst = kb.add(kb.mul(r, L.pitch), kb.mul(ch, 16));
        pc.kc = kb.mul(ch, 8);
        ExpertTile::Row row = isA ? et.aRow(kb, v, c, shape, r) : et.bRow(kb, shape, r, BN);
        pc.valid = row.valid;
        pc.srcRow = row.src;
        pieces.push_back(pc);
      }
      return pieces;
    };
    SmallVector<Piece> aPieces = makePieces(BM, true), bPieces = makePieces(BN, false);

    auto stageAddr = [&](Value kt) {
      return kb.add(smem, kb.mul(kb.rem(kt, S), L.stageBytes));
    };
    auto copyPiece = [&](const Piece &pc, Value src, Value tileAddr, Value k0) {
      auto body = [&] {
        Value kg = kb.add(k0, pc.kc);
        Value full = pc.valid;
        if (K % BK != 0) {
          Value inK = kb.ult(kg, kb.idx(K));
          full = full ? kb.land(full, inK) : inK;
        }
        Value off = kb.mul(kb.add(pc.srcRow, kg), 2);
        if (full) // a skipped piece reads nothing; keep its address in bounds
          off = kb.select(full, off, kb.idx(0));
        else
          full = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
        g.cpAsync16OrZero(kb.add(tileAddr, pc.dst), kb.add(src, off), full);
      };
      if (pc.exists)
        kb.ifThen(pc.exists, body);
      else
        body();
    };
    auto issue = [&](Value kt) {
      Value stage = stageAddr(kt), k0 = kb.mul(kt, BK);
      for (const Piece &pc : aPieces)
        copyPiece(pc, aAddr, stage, k0);
      for (int64_t m = 0; m < numB; ++m)
        for (const Piece &pc : bPieces)
          copyPiece(pc, bAddr[m], kb.add(stage, L.aBytes + m * L.bBytes), k0);
    };
    // One commit group per chunk slot (empty past the end: the wait counts
    // stay exact).
    auto commit = [&] { NVVM::CpAsyncCommitGroupOp::create(b, loc); };

    // ---- warp coordinates and ldmatrix lane offsets ----
    Value warp = kb.div(tid, 32), lane = kb.rem(tid, 32);
    Value gq = kb.div(lane, 4), t2 = kb.mul(kb.rem(lane, 4), 2);
    Value wRow0 = kb.mul(kb.rem(warp, WM), BM / WM);
    Value wCol0 = kb.mul(kb.div(warp, WM), BN / WN);
    // Lane l addresses row l%8 of matrix l/8:
    //   A (x4): rows ((l/8)%2)*8 + l%8, columns (l/16)*8 (a0..a3)
    //   B (x4 over [n][k]): rows (l/16)*8 + l%8, columns ((l/8)%2)*8
    //     ({b0, b1} of n-tile 0, then of n-tile 1)
    Value li = kb.div(lane, 8), lr = kb.rem(lane, 8);
    Value lhalf = kb.rem(li, 2), lquad = kb.div(li, 2);
    auto laneOff = [&](Value rowPart, Value colPart) {
      return kb.add(kb.mul(kb.add(kb.mul(rowPart, 8), lr), L.pitch), kb.mul(colPart, 16));
    };
    Value aLane = kb.add(kb.mul(wRow0, L.pitch), laneOff(lhalf, lquad));
    Value bLane = kb.add(kb.mul(wCol0, L.pitch), laneOff(lquad, lhalf));

    // ---- K loop (cp.async runs S-1 chunks ahead) ----
    for (int64_t p = 0; p + 1 < S; ++p) {
      if (p < kSteps)
        issue(kb.idx(p));
      commit();
    }
    // Accumulators [m][mi][nt][e]: C fragments.
    auto accIndex = [&](int64_t m, int64_t mi, int64_t nt) {
      return ((m * MT + mi) * NTW + nt) * 4;
    };
    SmallVector<Value> init(numB * MT * NTW * 4, kb.f32c(0.0));
    SmallVector<Value> acc = kb.loop(
        kb.idx(0), kb.idx(kSteps), kb.idx(1), init, [&](Value kt, ValueRange a) {
          // Chunk kt's group is complete once at most S-2 younger ones pend.
          NVVM::CpAsyncWaitGroupOp::create(b, loc, S - 2);
          kb.barrier();
          // Every warp is done with chunk kt-1: its stage takes kt+S-1.
          Value next = kb.add(kt, S - 1);
          kb.ifThen(kb.ult(next, kSteps), [&] { issue(next); });
          commit();
          SmallVector<Value> cur(a.begin(), a.end());
          Value stage = stageAddr(kt);
          Value aBase = kb.add(stage, aLane);
          for (int64_t kk = 0; kk < BK / 16; ++kk) {
            SmallVector<Frag4> af;
            for (int64_t mi = 0; mi < MT; ++mi)
              af.push_back(g.ldsm4(kb.add(aBase, 16 * mi * L.pitch + 32 * kk), false));
            for (int64_t m = 0; m < numB; ++m) {
              Value bBase = kb.add(stage, kb.add(bLane, L.aBytes + m * L.bBytes));
              for (int64_t pr = 0; pr < NTW / 2; ++pr) {
                Frag4 bf = g.ldsm4(kb.add(bBase, 16 * pr * L.pitch + 32 * kk), false);
                for (int64_t mi = 0; mi < MT; ++mi)
                  for (int64_t h = 0; h < 2; ++h) {
                    int64_t i0 = accIndex(m, mi, 2 * pr + h);
                    Frag4 cf = {cur[i0], cur[i0 + 1], cur[i0 + 2], cur[i0 + 3]};
                    cf = g.mma(af[mi], {bf[2 * h], bf[2 * h + 1]}, cf);
                    for (int64_t e = 0; e < 4; ++e)
                      cur[i0 + e] = cf[e];
                  }
              }
            }
          }
          return cur;
        });

    // ---- epilogue: C fragment (row gq / gq+8, columns t2, t2+1) ----
    for (int64_t mi = 0; mi < MT; ++mi)
      for (int64_t hf = 0; hf < 2; ++hf) {
        Value row = kb.add(wRow0, kb.add(gq, 16 * mi + 8 * hf));
        kb.ifThen(kb.ult(row, rows), [&] {
          Value r = kb.add(base, row);
          Value dst = gateUp ? kb.mul(r, I) : kb.mul(kb.toIndexU(kb.load(v.perm, r)), d);
          for (int64_t nt = 0; nt < NTW; ++nt) {
            Value n = kb.add(n0, kb.add(wCol0, kb.add(t2, 8 * nt)));
            auto emit = [&] {
              SmallVector<Value> vals;
              for (int64_t e = 0; e < 2; ++e) {
                int64_t ie = 2 * hf + e;
                if (gateUp)
                  vals.push_back(swiglu(kb, acc[accIndex(0, mi, nt) + ie],
                                        acc[accIndex(1, mi, nt) + ie], elt));
                else
                  vals.push_back(acc[accIndex(0, mi, nt) + ie]);
              }
              // pack rounds both to bf16 (the last rounding point).
              g.st2(g.pack(vals[0], vals[1]), gateUp ? v.h : v.y,
                    ValueRange{kb.add(dst, n)});
            };
            // N is a multiple of 8: an n-tile is wholly inside or outside.
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
  KB kb(b, loc);
  Value weights = entry.getArgument(0), ws = entry.getArgument(1),
        out = entry.getArgument(2);
  Value tokens = kb.toIndexU(entry.getArgument(3));
  ExpertsCtx::Views v = c.views(kb, ws, tokens);
  Value tid = mlir::gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value t = mlir::gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  auto vecF32 = VectorType::get({V}, f32);
  auto vecElt = VectorType::get({V}, elt);
  llvm::MaybeAlign align16(16);

  SmallVector<Value> w;
  for (int64_t j = 0; j < K; ++j) {
    Value wj = kb.roundTrip(kb.load(weights, kb.add(kb.mul(t, K), j)), elt);
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
        Value term = kb.roundTrip(kb.fmul(w[j], y), elt);
        acc = kb.fadd(acc, term);
      }
      vector::StoreOp::create(b, loc, kb.fromF32(acc, elt), out,
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

llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const MoEGemmTiles &t) {
  return os << t.tileM << "x" << t.tileN << "x" << t.tileK << "/w" << t.warpsM << "x"
            << t.warpsN << "/s" << t.stages << "/t" << t.threadM << "x" << t.threadN;
}

void chooseMoEExpertsTiles(MoEExpertsSpec &spec) {
  auto fill = [](int64_t &field, int64_t value) {
    if (field == 0)
      field = value;
  };
  if (!spec.usesTensorCores()) {
    for (MoEGemmTiles *t : {&spec.gateUpTiles, &spec.downTiles}) {
      fill(t->tileM, 32);
      fill(t->tileN, 64);
      fill(t->tileK, 32);
      fill(t->threadM, 2);
      fill(t->threadN, 4);
    }
    return;
  }
  // Expected rows per expert at the largest call: the row tile.
  int64_t rows = spec.experts > 0 ? cdiv(std::max<int64_t>(spec.maxTokens, 1) *
                                             std::max<int64_t>(spec.topK, 1),
                                         spec.experts)
                                  : 1;
  for (bool gateUp : {true, false}) {
    MoEGemmTiles &t = gateUp ? spec.gateUpTiles : spec.downTiles;
    const int64_t N = gateUp ? spec.inter : spec.hidden;
    const int64_t K = gateUp ? spec.hidden : spec.inter;
    const int64_t numB = gateUp ? 2 : 1;
    fill(t.tileM, rows <= 16 ? 16 : rows <= 32 ? 32 : rows <= 64 ? 64 : 128);
    // gate_up computes tileN columns of w1 and of w3: half of down's.
    int64_t bn = t.tileM >= 64 && !gateUp ? 128 : 64;
    fill(t.tileN, std::min(bn, std::max<int64_t>(16, alignTo(N, 16))));
    // 8 warps for 128-row tiles, else 4; as many along M as fit (≤ 4 / 2).
    int64_t warps = t.tileM >= 128 ? 8 : 4;
    int64_t wm = std::clamp<int64_t>(t.tileM / 16, 1, t.tileM >= 128 ? (gateUp ? 4 : 2) : 2);
    while (wm > 1 && t.tileM % (16 * wm) != 0)
      --wm;
    fill(t.warpsM, wm);
    int64_t wn = std::max<int64_t>(1, warps / std::max<int64_t>(t.warpsM, 1));
    while (wn > 1 && t.tileN % (16 * wn) != 0)
      --wn;
    fill(t.warpsN, wn);
    // 64-deep K chunks: half the barriers of 32 and 128-byte row pieces
    // (H100, E=32 d=2048 I=1408, 4096 tokens: 12% faster than 32 deep).
    fill(t.tileK, std::min<int64_t>(64, std::max<int64_t>(16, alignTo(K, 16))));
    // As many stages (<= 4) as leave room for two blocks per SM.
    if (t.stages == 0) {
      int64_t st = 4;
      while (st > 2 &&
             2 * TcLayout({t.tileM, t.tileN, t.tileK, 1, 1, st}, numB).total > kSmemPerSM)
        --st;
      t.stages = st;
    }
  }
}

FailureOr<MoEExpertsPlan> buildMoEExperts(OpBuilder &builder,
                                          mlir::gpu::GPUModuleOp module,
                                          const MoEExpertsSpec &requested,
                                          Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "moe experts kernels: ";
  };
  if (!requested.elt || (!requested.elt.isF32() && !requested.elt.isBF16())) {
    fail() << "element type " << requested.elt << " is not supported (bf16 or f32)";
    return failure();
  }
  if (requested.experts < 1 || requested.experts > 1024 || requested.topK < 1 ||
      requested.topK > requested.experts) {
    fail() << "unsupported experts = " << requested.experts
           << ", top-k = " << requested.topK << " (need 1 <= top-k <= experts <= 1024)";
    return failure();
  }
  if (requested.maxTokens < 1 || requested.hidden < 1 || requested.inter < 1) {
    fail() << "hidden, inter and maxTokens must be positive";
    return failure();
  }
  int64_t vec = 16 / (requested.elt.getIntOrFloatBitWidth() / 8);
  if (requested.hidden % vec != 0 || requested.inter % vec != 0) {
    fail() << "hidden = " << requested.hidden << " and inter = " << requested.inter
           << " must be multiples of " << vec << " (16-byte vectors of "
           << requested.elt << ")";
    return failure();
  }
  for (const MoEGemmTiles *t : {&requested.gateUpTiles, &requested.downTiles})
    for (int64_t f : {t->tileM, t->tileN, t->tileK, t->warpsM, t->warpsN, t->stages,
                      t->threadM, t->threadN})
      if (f < 0) {
        fail() << "tile sizes must be >= 0 (0: chosen)";
        return failure();
      }
  MoEExpertsSpec spec = requested;
  chooseMoEExpertsTiles(spec);
  const bool tc = spec.usesTensorCores();
  for (bool gateUp : {true, false}) {
    const MoEGemmTiles &t = gateUp ? spec.gateUpTiles : spec.downTiles;
    const int64_t numB = gateUp ? 2 : 1;
    auto tfail = [&]() {
      return fail() << (gateUp ? "gate_up" : "down") << " tiles (" << t.tileM << "x"
                    << t.tileN << "x" << t.tileK << "): ";
    };
    if (tc) {
      if (t.threadM != 0 || t.threadN != 0) {
        tfail() << "threadM/threadN are tiles of the SIMT GEMMs; the tensor-core "
                   "GEMMs take warpsM/warpsN/stages";
        return failure();
      }
      if (t.warpsM * t.warpsN > 32) {
        tfail() << "warpsM*warpsN = " << t.warpsM * t.warpsN
                << " warps exceed 32 (1024 threads)";
        return failure();
      }
      if (t.tileM % (16 * t.warpsM) != 0 || t.tileN % (16 * t.warpsN) != 0) {
        tfail() << "tileM must be a multiple of 16*warpsM (" << 16 * t.warpsM
                << ") and tileN of 16*warpsN (" << 16 * t.warpsN
                << "): each warp takes whole 16-row m-tiles and pairs of 8-column "
                   "n-tiles";
        return failure();
      }
      if (t.tileK % 16 != 0) {
        tfail() << "tileK must be a multiple of 16 (the mma.sync k)";
        return failure();
      }
      if (t.stages < 2 || t.stages > 8) {
        tfail() << "stages = " << t.stages << " must be in [2, 8]";
        return failure();
      }
      int64_t acc = tcAccumulators(t, numB);
      if (acc > kMaxAccumulators) {
        tfail() << "warp tiles of " << t.tileM / t.warpsM << "x" << t.tileN / t.warpsN
                << " need " << acc << " f32 accumulators per thread (> "
                << kMaxAccumulators << ")";
        return failure();
      }
      int64_t smem = TcLayout(t, numB).total;
      if (smem > kMaxSmemPerBlock) {
        tfail() << t.stages << " stages need " << smem
                << " bytes of shared memory (> " << kMaxSmemPerBlock << ")";
        return failure();
      }
      continue;
    }
    if (t.warpsM != 0 || t.warpsN != 0 || t.stages != 0) {
      tfail() << "warpsM/warpsN/stages are tiles of the tensor-core GEMMs; the "
                 "SIMT GEMMs (f32, or tensorCores = false) take threadM/threadN";
      return failure();
    }
    if (t.tileM % t.threadM != 0 || t.tileN % t.threadN != 0) {
      tfail() << "tileM/tileN must be positive multiples of threadM/threadN";
      return failure();
    }
    int64_t threads = (t.tileM / t.threadM) * (t.tileN / t.threadN);
    if (threads < 32 || threads > 1024 || threads % 32 != 0) {
      tfail() << "(tileM/threadM)*(tileN/threadN) = " << threads
              << " threads per GEMM block must be a multiple of 32 in [32, 1024]";
      return failure();
    }
    if (t.tileK % vec != 0) {
      tfail() << "tileK must be a positive multiple of " << vec;
      return failure();
    }
    int64_t smem = t.tileK * ((t.tileM + 1) + numB * (t.tileN + 1)) * 4;
    if (smem > 48 * 1024) {
      tfail() << "GEMM tiles need " << smem << " bytes of shared memory (> 48 KiB)";
      return failure();
    }
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
  auto gemm = [&](GemmKind kind, const MoEGemmTiles &t) {
    return tc ? buildGroupedGemmTC(builder, module, c, kind, t, loc)
              : buildGroupedGemmSimt(builder, module, c, kind, t, loc);
  };
  MoEExpertsPlan plan;
  plan.workspaceBytes = c.workspaceExpr();
  plan.kernels.push_back(buildPermute(builder, module, c, loc));
  plan.kernels.push_back(gemm(GemmKind::GateUp, spec.gateUpTiles));
  plan.kernels.push_back(gemm(GemmKind::Down, spec.downTiles));
  plan.kernels.push_back(buildCombine(builder, module, c, loc));
  return plan;
}

} // namespace mm01::gpu
