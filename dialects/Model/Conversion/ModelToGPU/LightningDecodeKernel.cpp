//===- LightningDecodeKernel.cpp - recurrent lightning decode kernel ------===//
//
// See LightningDecodeKernel.h. Thread layout of one block (one (b, h) pair
// and one tile of `cols` state columns, all D rows):
//
//   CG = cols / 4        column groups: a thread owns 4 adjacent columns
//   RG = threads / CG    row groups: thread tid = rg * CG + cg
//   R  = D / RG          rows per thread: i = rg * R + r, r = 0..R-1
//
// Each load or store instruction of a warp covers 32 / CG rows of 4·CG
// contiguous floats each, so the state loads/stores are 16-byte vectors,
// coalesced along the columns. A thread's R rows are contiguous, so that
// its q_i and k_i are read as 4-element vectors (R / 4 loads of each
// instead of R scalars). The code for the R rows is emitted unrolled (R
// independent loads in flight). o_j partial sums are reduced over the row
// groups of a warp with gpu.shuffle xor (offsets CG, 2·CG, ..., 16), then
// across warps through workgroup memory. With SiLU on the inputs, SiLU(q_i)
// and SiLU(k_i) are computed once per block (one of the 2D values per
// thread slot) into workgroup memory [D, 2] and read back after a barrier,
// instead of by each of the CG threads that share row i.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/LightningDecodeKernel.h"
#include "Model/Conversion/ModelToGPU/KernelBuilder.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace mm01::gpu {
namespace {

constexpr int64_t kVec = LightningDecodeTiling::kVec;
constexpr double kLog2e = 1.4426950408889634074;

bool isPowerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/// The body's IR helpers beyond KernelBuilder: vectors of 4 and SiLU.
struct DecodeGen : KernelBuilder {
  DecodeGen(OpBuilder &b, Location loc, const LightningDecodeTiling &t)
      : KernelBuilder(b, loc), t(t), vecF32(VectorType::get({kVec}, b.getF32Type())),
        vecAct(VectorType::get({kVec}, t.elt)) {}

  const LightningDecodeTiling &t;
  VectorType vecF32, vecAct;

  /// An activation as it is read: f32, with SiLU (rounded to the activation
  /// type, as the materialized SiLU output would be) when the spec asks.
  Value input(Value x) {
    Value f = toF32(x);
    return t.siluInputs ? silu(f) : f;
  }
  /// SiLU(y) = y · 1 / (1 + 2^{-y·log2 e}), rounded to the activation type:
  /// ex2.approx and rcp.approx (each within ~2 ulp of f32), no IEEE
  /// division — a few ulp of f32, well inside the rounding to bf16 and ~1e-7
  /// relative for f32 activations.
  Value silu(Value f) {
    Value e = ptxUnary("ex2.approx.f32 $0, $1;", fmul(f, f32c(-kLog2e)));
    Value r = ptxUnary("rcp.approx.f32 $0, $1;", fadd(f32c(1.0), e));
    return roundTrip(fmul(f, r), t.elt);
  }
  Value element(Value vec, int64_t e) {
    return vector::ExtractOp::create(b, loc, vec, ArrayRef<int64_t>{e});
  }
  Value splat(Value x) { return vector::BroadcastOp::create(b, loc, vecF32, x); }
  /// The 4 activations at `at` and the next 3 positions along D, as f32.
  Value loadVec(const DecodeAccess &at, bool vectorized) {
    SmallVector<Value> el;
    if (vectorized) {
      Value raw = vector::LoadOp::create(
          b, loc, vecAct, at.memref, at.indices, /*nontemporal=*/false,
          llvm::MaybeAlign(kVec * t.elt.getIntOrFloatBitWidth() / 8));
      if (!t.siluInputs) {
        if (t.elt.isF32())
          return raw;
        return arith::ExtFOp::create(b, loc, vecF32, raw);
      }
      for (int64_t e = 0; e < kVec; ++e)
        el.push_back(input(element(raw, e)));
    } else {
      for (int64_t e = 0; e < kVec; ++e)
        el.push_back(input(loadAt({at.memref, shifted(at, e)})));
    }
    return vector::FromElementsOp::create(b, loc, vecF32, el);
  }
  void storeVec(Value sum, const DecodeAccess &at, bool vectorized) {
    if (vectorized) {
      Value o = t.elt.isF32() ? sum : arith::TruncFOp::create(b, loc, vecAct, sum);
      vector::StoreOp::create(
          b, loc, o, at.memref, at.indices, /*nontemporal=*/false,
          llvm::MaybeAlign(kVec * t.elt.getIntOrFloatBitWidth() / 8));
      return;
    }
    for (int64_t e = 0; e < kVec; ++e)
      memref::StoreOp::create(b, loc, fromF32(element(sum, e), t.elt), at.memref,
                              shifted(at, e));
  }
  Value loadAt(const DecodeAccess &at) {
    return memref::LoadOp::create(b, loc, at.memref, at.indices);
  }
  /// The indices of `at` moved by e along the innermost dimension.
  SmallVector<Value, 4> shifted(const DecodeAccess &at, int64_t e) {
    SmallVector<Value, 4> ix(at.indices);
    if (e)
      ix.back() = add(ix.back(), e);
    return ix;
  }
};

} // namespace

std::string checkLightningDecodeTiling(int64_t dim, int64_t cols,
                                       int64_t threads) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (!isPowerOfTwo(cols) || cols < kVec || cols > 32 * kVec)
    os << "block-columns = " << cols << " must be a power of two in [4, 128]";
  else if (threads < 32 || threads > 1024 || threads % 32 != 0)
    os << "threads = " << threads << " must be a multiple of 32 in [32, 1024]";
  else if (dim <= 0 || dim % cols != 0)
    os << "D = " << dim << " is not divisible by block-columns = " << cols;
  else if (dim % (threads / (cols / kVec)) != 0)
    os << "D = " << dim << " is not divisible by the "
       << threads / (cols / kVec)
       << " row groups of a block (threads / (block-columns / 4))";
  return msg;
}

namespace {
/// The most threads (at most `cap`, halving) that `cols` columns support
/// at this D; 0 when none does.
int64_t threadsFor(int64_t dim, int64_t cols, int64_t cap) {
  for (int64_t t = cap; t >= 32; t /= 2)
    if (checkLightningDecodeTiling(dim, cols, t).empty())
      return t;
  return 0;
}
/// The widest column tile of at most `cap` that divides D.
int64_t colsFor(int64_t dim, int64_t cap) {
  int64_t c = cap;
  while (c > kVec && dim % c != 0)
    c /= 2;
  return c;
}
} // namespace

void chooseLightningDecodeTiles(LightningDecodeSpec &spec, int64_t smCount) {
  const int64_t D = spec.dim;
  spec.smallBatchMax = 0;
  spec.cols = colsFor(D, 64);
  spec.threads = threadsFor(D, spec.cols, 512);
  if (spec.threads == 0) { // D the tiling cannot serve: left to the generator's error
    spec.threads = 256;
    return;
  }
  // Small batches: one row per thread (at most 1024 threads).
  spec.smallCols = colsFor(D, 16);
  spec.smallThreads = threadsFor(D, spec.smallCols,
                                 std::min<int64_t>(1024, spec.smallCols / kVec * D));
  const int64_t blocksPerSequence = spec.heads * (D / spec.cols);
  const int64_t smallMax = blocksPerSequence > 0 ? smCount / blocksPerSequence : 0;
  if (smallMax < 1 || spec.smallThreads == 0 ||
      (spec.smallCols == spec.cols && spec.smallThreads == spec.threads))
    return;
  if (smallMax >= spec.maxBatch) { // every call is small
    spec.cols = spec.smallCols;
    spec.threads = spec.smallThreads;
    return;
  }
  spec.smallBatchMax = smallMax;
}

LightningDecodeSpec smallBatchSpec(const LightningDecodeSpec &spec) {
  LightningDecodeSpec s = spec;
  s.cols = spec.smallCols;
  s.threads = spec.smallThreads;
  s.smallBatchMax = 0;
  return s;
}

std::string smallBatchCondition(const LightningDecodeSpec &spec) {
  return "le(batch, " + std::to_string(spec.smallBatchMax) + ")";
}

mlir::gpu::GPUFuncOp buildLightningDecodeFunc(
    OpBuilder &builder, mlir::gpu::GPUModuleOp module, StringRef name,
    const LightningDecodeTiling &t, ArrayRef<double> decay,
    ArrayRef<Type> paramTypes, const LightningDecodeAddressing &addressing,
    Location loc) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = module.getContext();
  Type f32 = builder.getF32Type();
  const int64_t H = t.heads, CG = t.colGroups(), R = t.rowsPerThread(),
                NW = t.warps(), cols = t.cols;

  // The per-head factors e^{-λ_h}: f64 exp, rounded to f32.
  SmallVector<float> factors;
  for (double lambda : decay)
    factors.push_back(static_cast<float>(std::exp(-lambda)));
  auto tableType = MemRefType::get({H}, f32);
  std::string tableName = (name + "_decay").str();
  auto tableInit = DenseElementsAttr::get(RankedTensorType::get({H}, f32),
                                          ArrayRef<float>(factors));
  memref::GlobalOp::create(builder, loc, tableName,
                           builder.getStringAttr("private"), tableType,
                           tableInit, /*constant=*/true,
                           builder.getI64IntegerAttr(16));

  // Workgroup memory: the warps' partial sums of o (NW > 1), and with SiLU
  // the staged SiLU(q_i), SiLU(k_i) of the block's (b, h) pair, as pairs.
  SmallVector<Type> workgroup;
  if (NW > 1)
    workgroup.push_back(workgroupMemRef(ctx, {NW, cols}, f32));
  if (t.siluInputs)
    workgroup.push_back(workgroupMemRef(ctx, {t.dim, 2}, f32));
  auto kernel = createKernelFunc(builder, module, name, paramTypes,
                                 {t.threads, 1, 1}, loc, workgroup);
  // The partial sums are read and written as 16-byte vectors: the
  // workgroup buffer must be 16-byte aligned (the lowering defaults to the
  // element's alignment).
  if (NW > 1)
    kernel.setWorkgroupAttributionAttr(0, LLVM::LLVMDialect::getAlignAttrName(),
                                       builder.getI64IntegerAttr(16));
  // (q_i, k_i) is read as one 8-byte vector.
  if (t.siluInputs)
    kernel.setWorkgroupAttributionAttr(NW > 1 ? 1 : 0,
                                       LLVM::LLVMDialect::getAlignAttrName(),
                                       builder.getI64IntegerAttr(8));

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  DecodeGen g(b, loc, t);
  ValueRange args = entry.getArguments();
  auto act = [&](DecodeOperand which, Value bi, Value hi, Value i) {
    return addressing.act(b, args, which, bi, hi, i);
  };

  Value tid = g.threadId();
  Value bx = g.blockId(mlir::gpu::Dimension::x);
  Value by = g.blockId(mlir::gpu::Dimension::y);
  Value bIdx = g.div(bx, H);
  Value hIdx = g.rem(bx, H);
  Value cg = g.rem(tid, CG);
  Value rg = g.div(tid, CG);
  Value col = g.add(g.mul(by, cols), g.mul(cg, kVec));

  Value table = memref::GetGlobalOp::create(b, loc, tableType, tableName);
  Value decayH = memref::LoadOp::create(b, loc, table, ValueRange{hIdx});

  llvm::MaybeAlign stateAlign(kVec * 4);
  const bool stageQK = t.siluInputs;
  // v first, except with SiLU: then after the state loads, so that its SiLU
  // does not hold them back.
  Value vRow;
  if (!stageQK)
    vRow = g.loadVec(act(DecodeOperand::V, bIdx, hIdx, col), t.vectorV);
  Value decaySplat = g.splat(decayH);
  Value acc = arith::ConstantOp::create(
      b, loc, g.vecF32,
      DenseElementsAttr::get(g.vecF32, b.getF32FloatAttr(0.0f)));

  // Load phase first (all R state vectors and q_i, k_i in flight), then the
  // arithmetic and the stores.
  SmallVector<DecodeAccess> stateAt;
  SmallVector<Value> sOld, qs, ks;
  Value firstRow = g.mul(rg, R);
  auto rowOf = [&](int64_t r) { return r ? g.add(firstRow, r) : firstRow; };
  for (int64_t r = 0; r < R; ++r) {
    stateAt.push_back(addressing.state(b, args, bIdx, hIdx, rowOf(r), col));
    sOld.push_back(vector::LoadOp::create(b, loc, g.vecF32,
                                          stateAt.back().memref,
                                          stateAt.back().indices,
                                          /*nontemporal=*/false, stateAlign));
  }
  if (!stageQK) {
    // q_i and k_i of the thread's rows: 4-element vectors where R allows.
    const bool vectorQK = t.vectorQK && R % kVec == 0;
    for (int64_t r = 0; r < R; r += vectorQK ? kVec : 1) {
      for (DecodeOperand which : {DecodeOperand::K, DecodeOperand::Q}) {
        SmallVector<Value> &dst = which == DecodeOperand::K ? ks : qs;
        DecodeAccess at = act(which, bIdx, hIdx, rowOf(r));
        if (!vectorQK) {
          dst.push_back(g.input(g.loadAt(at)));
          continue;
        }
        Value x = g.loadVec(at, /*vectorized=*/true);
        for (int64_t e = 0; e < kVec; ++e)
          dst.push_back(g.element(x, e));
      }
    }
  }
  if (stageQK) {
    vRow = g.loadVec(act(DecodeOperand::V, bIdx, hIdx, col), t.vectorV);
    // Every (q_i, k_i) is needed by all CG column groups of its row group,
    // and SiLU costs an ex2 and an rcp: the block computes each of the 2D
    // values once (slot s < D: q_s, else k_{s-D}; thread tid takes slots
    // tid, tid + threads, ...) into workgroup memory while the state loads
    // are in flight, then every thread reads its R pairs back.
    Value qk = kernel.getWorkgroupAttributions()[NW > 1 ? 1 : 0];
    const int64_t D = t.dim, slots = 2 * D;
    auto stage = [&](DecodeOperand which, Value i) {
      Value x = g.input(g.loadAt(act(which, bIdx, hIdx, i)));
      memref::StoreOp::create(
          b, loc, x, qk,
          ValueRange{i, g.idx(which == DecodeOperand::Q ? 0 : 1)});
    };
    for (int64_t base = 0; base < slots; base += t.threads) {
      Value s = g.add(tid, base);
      // Which operand a thread's slot is: fixed when the chunk
      // [base, base + threads) lies on one side of D.
      const int64_t hi = std::min(base + t.threads, slots);
      auto body = [&] {
        if (hi <= D) {
          stage(DecodeOperand::Q, s);
        } else if (base >= D) {
          stage(DecodeOperand::K, g.add(s, -D));
        } else {
          auto isQ = scf::IfOp::create(b, loc, g.ult(s, g.idx(D)),
                                       /*withElseRegion=*/true);
          OpBuilder::InsertionGuard ig(b);
          b.setInsertionPointToStart(isQ.thenBlock());
          stage(DecodeOperand::Q, s);
          b.setInsertionPointToStart(isQ.elseBlock());
          stage(DecodeOperand::K, g.add(s, -D));
        }
      };
      if (base + t.threads <= slots)
        body();
      else
        g.ifThen(g.ult(s, g.idx(slots)), body);
    }
    mlir::gpu::BarrierOp::create(b, loc);
    auto pairType = VectorType::get({2}, f32);
    for (int64_t r = 0; r < R; ++r) {
      Value i = rowOf(r);
      Value pair = vector::LoadOp::create(b, loc, pairType, qk,
                                          ValueRange{i, g.idx(0)},
                                          /*nontemporal=*/false,
                                          llvm::MaybeAlign(8));
      qs.push_back(g.element(pair, 0));
      ks.push_back(g.element(pair, 1));
    }
  }
  for (int64_t r = 0; r < R; ++r) {
    Value kv = arith::MulFOp::create(b, loc, g.splat(ks[r]), vRow);
    // S' = e^{-λ} S + k_i v
    Value sNew =
        vector::FMAOp::create(b, loc, g.vecF32, sOld[r], decaySplat, kv);
    vector::StoreOp::create(b, loc, sNew, stateAt[r].memref,
                            stateAt[r].indices, /*nontemporal=*/false,
                            stateAlign);
    acc = vector::FMAOp::create(b, loc, g.vecF32, g.splat(qs[r]), sNew, acc);
  }

  // Reduce over the row groups inside a warp: lanes tid, tid ^ CG, ...
  if (CG < 32) {
    SmallVector<Value> lanes;
    for (int64_t e = 0; e < kVec; ++e) {
      Value x = g.element(acc, e);
      for (int64_t off = CG; off < 32; off *= 2) {
        Value y = mlir::gpu::ShuffleOp::create(b, loc, x,
                                               static_cast<int32_t>(off), 32,
                                               mlir::gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        x = g.fadd(x, y);
      }
      lanes.push_back(x);
    }
    acc = vector::FromElementsOp::create(b, loc, g.vecF32, lanes);
  }

  Value isFirstRowGroup = g.ult(tid, g.idx(CG));
  Value sum = acc;
  if (NW > 1) {
    // Lane < CG of each warp writes the warp's partial sums, then the first
    // CG threads add the NW partials and write o.
    Value smem = kernel.getWorkgroupAttributions()[0];
    Value warp = g.div(tid, 32);
    Value c = g.mul(cg, kVec);
    g.ifThen(g.ult(g.rem(tid, 32), g.idx(CG)), [&] {
      vector::StoreOp::create(b, loc, acc, smem, ValueRange{warp, c},
                              /*nontemporal=*/false, stateAlign);
    });
    mlir::gpu::BarrierOp::create(b, loc);
  }
  g.ifThen(isFirstRowGroup, [&] {
    if (NW > 1) {
      Value smem = kernel.getWorkgroupAttributions()[0];
      Value c = g.mul(cg, kVec);
      sum = Value();
      for (int64_t w = 0; w < NW; ++w) {
        Value part = vector::LoadOp::create(b, loc, g.vecF32, smem,
                                            ValueRange{g.idx(w), c},
                                            /*nontemporal=*/false, stateAlign);
        sum = sum ? arith::AddFOp::create(b, loc, sum, part).getResult() : part;
      }
    }
    g.storeVec(sum, act(DecodeOperand::Out, bIdx, hIdx, col), t.vectorOut);
  });
  mlir::gpu::ReturnOp::create(b, loc);
  return kernel;
}

FailureOr<GeneratedKernel> buildLightningDecode(OpBuilder &builder,
                                                mlir::gpu::GPUModuleOp module,
                                                const LightningDecodeSpec &sp,
                                                Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "lightning decode kernel generator: ";
  };
  if (sp.heads <= 0 || sp.dim <= 0) {
    fail() << "heads and dim must be positive";
    return failure();
  }
  if (!sp.elt || !(sp.elt.isF32() || sp.elt.isBF16())) {
    fail() << "activation element type " << sp.elt
           << " is not supported (bf16 or f32)";
    return failure();
  }
  if ((int64_t)sp.decay.size() != sp.heads) {
    fail() << "expects " << sp.heads << " decay rates, got " << sp.decay.size();
    return failure();
  }
  std::string why = checkLightningDecodeTiling(sp.dim, sp.cols, sp.threads);
  if (!why.empty()) {
    fail() << why;
    return failure();
  }
  for (auto [what, st] :
       {std::pair{"q", sp.q}, {"k", sp.k}, {"v", sp.v}, {"out", sp.out}})
    if (st.token <= 0 || st.head <= 0) {
      fail() << what << " strides (" << st.token << ", " << st.head
             << ") must be positive";
      return failure();
    }
  if (sp.maxBatch < 1 || sp.maxTokens < 1) {
    fail() << "maxBatch and maxTokens must be positive";
    return failure();
  }

  const int64_t H = sp.heads, D = sp.dim;
  LightningDecodeTiling t;
  t.heads = H;
  t.dim = D;
  t.cols = sp.cols;
  t.threads = sp.threads;
  t.elt = sp.elt;
  t.siluInputs = sp.siluInputs;
  auto aligned = [](LightningDecodeSpec::Strides st) {
    return st.token % kVec == 0 && st.head % kVec == 0;
  };
  t.vectorV = aligned(sp.v);
  t.vectorOut = aligned(sp.out);
  t.vectorQK = aligned(sp.q) && aligned(sp.k);

  // One token per sequence: the extents cover max(maxBatch, maxTokens) rows.
  const int64_t rows = std::max(sp.maxBatch, sp.maxTokens);
  auto ptr = [&](LightningDecodeSpec::Strides st) {
    return pointerParamType(sp.elt, (rows - 1) * st.token + (H - 1) * st.head + D);
  };
  SmallVector<Type> types = {
      ptr(sp.q), ptr(sp.k), ptr(sp.v),
      pointerParamType(builder.getF32Type(), sp.maxBatch * H * D * D),
      ptr(sp.out)};

  // Activation (b, h, i) at b·token + h·head + i; state (b, h, i, j) linear.
  const std::array<LightningDecodeSpec::Strides, 4> strides = {sp.q, sp.k, sp.v,
                                                               sp.out};
  LightningDecodeAddressing addressing;
  addressing.act = [&](OpBuilder &b, ValueRange args, DecodeOperand which,
                       Value bi, Value hi, Value i) {
    KernelBuilder kb(b, loc);
    LightningDecodeSpec::Strides st = strides[size_t(which)];
    Value at = kb.add(kb.add(kb.mul(bi, st.token), kb.mul(hi, st.head)), i);
    static constexpr unsigned argOf[] = {0, 1, 2, 4};
    return DecodeAccess{args[argOf[size_t(which)]], {at}};
  };
  addressing.state = [&](OpBuilder &b, ValueRange args, Value bi, Value hi,
                         Value row, Value col) {
    KernelBuilder kb(b, loc);
    Value slab = kb.add(kb.mul(bi, H), hi);
    Value at = kb.add(kb.mul(kb.add(kb.mul(slab, D), row), D), col);
    return DecodeAccess{args[3], {at}};
  };

  std::string base = ("lightning_decode_h" + llvm::Twine(H) + "_d" +
                      llvm::Twine(D) + (sp.elt.isF32() ? "_f32" : "_bf16") +
                      "_c" + llvm::Twine(sp.cols) + "_t" +
                      llvm::Twine(sp.threads) + (sp.siluInputs ? "_silu" : ""))
                         .str();
  std::string name = base;
  for (unsigned n = 1; module.lookupSymbol(name) ||
                       module.lookupSymbol(name + "_decay");
       ++n)
    name = base + "_" + std::to_string(n);

  GeneratedKernel gk;
  gk.func = buildLightningDecodeFunc(builder, module, name, t, sp.decay, types,
                                     addressing, loc);
  gk.grid = {"batch*" + std::to_string(H), std::to_string(D / sp.cols), "1"};
  gk.block = {sp.threads, 1, 1};
  for (const char *p : {"q", "k", "v", "state", "out"})
    gk.params.push_back({p, ParamKind::Ptr});
  return gk;
}

//===----------------------------------------------------------------------===//
// mm01-test-lightning-decode-kernel
//===----------------------------------------------------------------------===//
//
// Builds, into the module, `gpu.module @mm01_lightning_decode_kernel` holding
// the kernel of one LightningDecodeSpec, and records it as the module
// attribute `mm01.lightning_decode` (a string the MLIR-free GPU test parses):
//   "kernel=NAME H=.. D=.. elt=bf16 silu=0|1 cols=.. threads=.. q=TS,HS
//    k=TS,HS v=TS,HS out=TS,HS grid=X,Y,Z params=q,k,v,state,out"
// Layout `interleaved` (the model's: q, k, v in one [T, H, 3D] buffer — the
// caller binds them at offsets 0, D, 2D), `separate` (each [T, H, D]) or
// `padded` (each [T, H, D + 2]: v and out fall back to scalar accesses).
namespace {

struct TestLightningDecodeKernelPass
    : public PassWrapper<TestLightningDecodeKernelPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestLightningDecodeKernelPass)

  TestLightningDecodeKernelPass() = default;
  TestLightningDecodeKernelPass(const TestLightningDecodeKernelPass &other)
      : PassWrapper(other) {}

  StringRef getArgument() const final {
    return "mm01-test-lightning-decode-kernel";
  }
  StringRef getDescription() const final {
    return "Build the lightning-attention decode kernel of one spec into "
           "gpu.module @mm01_lightning_decode_kernel (test pass)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mlir::gpu::GPUDialect,
                    LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect,
                    scf::SCFDialect, vector::VectorDialect>();
  }

  Option<int64_t> heads{*this, "heads", llvm::cl::desc("H"), llvm::cl::init(8)};
  Option<int64_t> dim{*this, "dim", llvm::cl::desc("D"), llvm::cl::init(128)};
  Option<std::string> eltName{*this, "elt", llvm::cl::desc("bf16 or f32"),
                              llvm::cl::init("bf16")};
  Option<bool> silu{*this, "silu", llvm::cl::desc("SiLU on q, k, v"),
                    llvm::cl::init(false)};
  Option<std::string> layout{*this, "layout",
                             llvm::cl::desc("interleaved | separate | padded"),
                             llvm::cl::init("interleaved")};
  Option<int64_t> cols{*this, "block-columns", llvm::cl::desc("state columns per block"),
                       llvm::cl::init(64)};
  Option<int64_t> threads{*this, "threads", llvm::cl::desc("threads per block"),
                          llvm::cl::init(256)};
  Option<int64_t> maxBatch{*this, "max-batch", llvm::cl::desc("max batch"),
                           llvm::cl::init(16)};
  Option<int64_t> smallBatchMax{
      *this, "small-batch-max",
      llvm::cl::desc("calls of at most this many sequences run a second kernel "
                     "(small-block-columns, small-threads); 0: none"),
      llvm::cl::init(0)};
  Option<int64_t> smallCols{*this, "small-block-columns",
                            llvm::cl::desc("state columns per block, small batches"),
                            llvm::cl::init(16)};
  Option<int64_t> smallThreads{*this, "small-threads",
                               llvm::cl::desc("threads per block, small batches"),
                               llvm::cl::init(512)};
  Option<bool> autoTiles{*this, "auto-tiles",
                         llvm::cl::desc("tiling as the engine chooses it for 132 SMs "
                                        "(chooseLightningDecodeTiles; overrides the "
                                        "tiling options)"),
                         llvm::cl::init(false)};
  ListOption<double> decays{*this, "decay",
                            llvm::cl::desc("λ per head (default 2^(-8(h+1)/H))")};

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    LightningDecodeSpec spec;
    spec.heads = heads;
    spec.dim = dim;
    // Any type parses; the generator rejects what it does not support.
    spec.elt = mlir::parseType(eltName, ctx);
    if (!spec.elt)
      return signalPassFailure();
    spec.decay.assign(decays.begin(), decays.end());
    for (int64_t h = 0; decays.empty() && h < heads; ++h)
      spec.decay.push_back(std::pow(2.0, -8.0 * (h + 1) / double(heads)));
    spec.siluInputs = silu;
    const int64_t H = heads, D = dim;
    int64_t row = layout == "interleaved" ? 3 * D
                  : layout == "separate"  ? D
                  : layout == "padded"    ? D + 2
                                          : 0;
    if (!row) {
      module.emitError() << "layout = " << layout
                         << ": expected interleaved, separate or padded";
      return signalPassFailure();
    }
    spec.q = spec.k = spec.v = {H * row, row};
    spec.out = layout == "padded" ? spec.q : LightningDecodeSpec::Strides{H * D, D};
    spec.maxBatch = spec.maxTokens = maxBatch;
    spec.cols = cols;
    spec.threads = threads;
    spec.smallBatchMax = smallBatchMax;
    spec.smallCols = smallCols;
    spec.smallThreads = smallThreads;
    if (autoTiles)
      chooseLightningDecodeTiles(spec, /*smCount=*/132);

    auto gm = getOrCreateGPUModule(module, "mm01_lightning_decode_kernel");
    OpBuilder b(ctx);
    // The kernel of every call, or of the calls above smallBatchMax; then
    // the small-batch one, recorded as `mm01.lightning_decode_small` with
    // its bound (batch_max=N) appended.
    auto build = [&](const LightningDecodeSpec &sp, StringRef attr,
                     int64_t batchMax) {
      FailureOr<GeneratedKernel> k = buildLightningDecode(b, gm, sp, module.getLoc());
      if (failed(k))
        return false;
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "kernel=" << k->func.getName() << " H=" << H << " D=" << D
         << " elt=" << eltName << " silu=" << int(sp.siluInputs)
         << " cols=" << sp.cols << " threads=" << sp.threads
         << " q=" << sp.q.token << "," << sp.q.head << " k=" << sp.k.token
         << "," << sp.k.head << " v=" << sp.v.token << "," << sp.v.head
         << " out=" << sp.out.token << "," << sp.out.head
         << " grid=" << k->grid[0] << "," << k->grid[1] << "," << k->grid[2]
         << " params=";
      for (auto [i, p] : llvm::enumerate(k->params))
        os << (i ? "," : "") << p.name;
      if (batchMax)
        os << " batch_max=" << batchMax;
      module->setAttr(attr, StringAttr::get(ctx, os.str()));
      return true;
    };
    if (spec.smallBatchMax < 0 || spec.smallBatchMax >= spec.maxBatch) {
      module.emitError() << "small-batch-max = " << spec.smallBatchMax
                         << " must be in [0, max-batch = " << spec.maxBatch << ")";
      return signalPassFailure();
    }
    if (!build(spec, "mm01.lightning_decode", 0) ||
        (spec.smallBatchMax &&
         !build(smallBatchSpec(spec), "mm01.lightning_decode_small",
                spec.smallBatchMax)))
      return signalPassFailure();
  }
};

} // namespace

void registerTestLightningDecodeKernelPass() {
  PassRegistration<TestLightningDecodeKernelPass>();
}

} // namespace mm01::gpu
