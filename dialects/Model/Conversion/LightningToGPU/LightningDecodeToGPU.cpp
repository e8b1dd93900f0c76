//===- LightningDecodeToGPU.cpp - lightning decode as a GPU kernel --------===//
//
// mm01.lightning_decode -> gpu.module @mm01_lightning_decode { gpu.func }
// + a host func.func holding the gpu.launch_func + a bufferization boundary
// in place of the op. See Passes.td for the contract and docs/gpu-codegen.md
// for the kernel's layout.
//
// Thread layout of one block (one (b, h) pair and one tile of `cols` state
// columns, all D rows):
//
//   CG = cols / 4        column groups: a thread owns 4 adjacent columns
//   RG = threads / CG    row groups: thread tid = rg * CG + cg
//   R  = D / RG          rows per thread: i = rg + r * RG, r = 0..R-1
//
// A warp covers 32 / CG consecutive rows of 4·CG contiguous floats each, so
// the state loads/stores are 16-byte vectors, coalesced along the columns.
// The code for the R rows is emitted unrolled (R independent loads in
// flight). o_j partial sums are reduced over the row groups of a warp with
// gpu.shuffle xor (offsets CG, 2·CG, ..., 16), then across warps through
// workgroup memory.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/LightningToGPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"

#include <cmath>

namespace mm01::model {
#define GEN_PASS_DEF_MM01LIGHTNINGDECODETOGPU
#include "Model/Conversion/LightningToGPU/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

constexpr StringLiteral kPassName = "mm01-lightning-decode-to-gpu";
constexpr StringLiteral kGpuModuleName = "mm01_lightning_decode";
constexpr int64_t kVec = 4; // state columns per thread (one 16-byte vector)

/// Everything a kernel is specialized for.
struct KernelSpec {
  int64_t heads = 0, dim = 0, cols = 0, threads = 0;
  Type elt;
  SmallVector<double> decay;

  int64_t colGroups() const { return cols / kVec; }
  int64_t rowGroups() const { return threads / colGroups(); }
  int64_t rowsPerThread() const { return dim / rowGroups(); }
  int64_t warps() const { return threads / 32; }

  std::string baseName() const {
    std::string t = elt.isF32() ? "f32" : "bf16";
    return ("lightning_decode_h" + Twine(heads) + "_d" + Twine(dim) + "_" + t +
            "_c" + Twine(cols) + "_t" + Twine(threads))
        .str();
  }
};

bool isPowerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/// Checks the op and the options; emits an error on the op when unsupported.
FailureOr<KernelSpec> analyze(LightningDecodeOp op, int64_t cols,
                              int64_t threads) {
  auto fail = [&]() {
    return op.emitOpError() << "cannot be lowered by " << kPassName << ": ";
  };
  auto qt = dyn_cast<RankedTensorType>(op.getQuery().getType());
  auto st = dyn_cast<RankedTensorType>(op.getState().getType());
  if (!qt || !st || qt.getRank() != 4 || st.getRank() != 4) {
    fail() << "expects ranked [B, 1, H, D] activations and a ranked "
              "[B, H, D, D] state";
    return failure();
  }
  if (qt.isDynamicDim(1) || qt.isDynamicDim(2) || qt.isDynamicDim(3)) {
    fail() << "T, H and D must be static (only B may be dynamic)";
    return failure();
  }
  Type elt = qt.getElementType();
  if (!elt.isF32() && !elt.isBF16()) {
    fail() << "element type " << elt << " is not supported (f32 or bf16)";
    return failure();
  }
  if (!isPowerOfTwo(cols) || cols < kVec || cols > 32 * kVec) {
    fail() << "block-columns = " << cols
           << " must be a power of two in [4, 128]";
    return failure();
  }
  if (threads < 32 || threads > 1024 || threads % 32 != 0) {
    fail() << "threads = " << threads
           << " must be a multiple of 32 in [32, 1024]";
    return failure();
  }
  KernelSpec spec;
  spec.heads = qt.getDimSize(2);
  spec.dim = qt.getDimSize(3);
  spec.cols = cols;
  spec.threads = threads;
  spec.elt = elt;
  spec.decay.assign(op.getDecay().begin(), op.getDecay().end());
  if (spec.dim % cols != 0) {
    fail() << "D = " << spec.dim << " is not divisible by block-columns = "
           << cols;
    return failure();
  }
  if (spec.dim % spec.rowGroups() != 0) {
    fail() << "D = " << spec.dim << " is not divisible by the "
           << spec.rowGroups()
           << " row groups of a block (threads / (block-columns / 4))";
    return failure();
  }
  if ((int64_t)spec.decay.size() != spec.heads) {
    fail() << "expects " << spec.heads << " decay rates";
    return failure();
  }
  return spec;
}

/// memref type of a tensor type, with the leading (batch) dim made dynamic
/// when `dynamicBatch`.
MemRefType memrefOf(RankedTensorType t, bool dynamicBatch) {
  SmallVector<int64_t> shape(t.getShape());
  if (dynamicBatch)
    shape[0] = ShapedType::kDynamic;
  return MemRefType::get(shape, t.getElementType());
}

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value mul(Value x, int64_t c) { return arith::MulIOp::create(b, loc, x, idx(c)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value div(Value x, int64_t c) { return arith::DivUIOp::create(b, loc, x, idx(c)); }
  Value rem(Value x, int64_t c) { return arith::RemUIOp::create(b, loc, x, idx(c)); }
  Value toF32(Value x) {
    Type t = x.getType();
    Type f32 = b.getF32Type();
    if (getElementTypeOrSelf(t).isF32())
      return x;
    if (auto vt = dyn_cast<VectorType>(t))
      return arith::ExtFOp::create(b, loc, VectorType::get(vt.getShape(), f32), x);
    return arith::ExtFOp::create(b, loc, f32, x);
  }

  OpBuilder &b;
  Location loc;
};

/// Builds the kernel gpu.func (and its decay table) at the end of `gpuModule`.
gpu::GPUFuncOp buildKernel(gpu::GPUModuleOp gpuModule, const KernelSpec &spec,
                           StringRef name, Location loc) {
  MLIRContext *ctx = gpuModule.getContext();
  OpBuilder mb = OpBuilder::atBlockEnd(gpuModule.getBody());
  Type f32 = mb.getF32Type();
  const int64_t H = spec.heads, D = spec.dim, CG = spec.colGroups(),
                RG = spec.rowGroups(), R = spec.rowsPerThread(),
                NW = spec.warps(), cols = spec.cols;

  // The per-head factors e^{-λ_h}: f64 exp, rounded to f32.
  SmallVector<float> factors;
  for (double lambda : spec.decay)
    factors.push_back(static_cast<float>(std::exp(-lambda)));
  auto tableType = MemRefType::get({H}, f32);
  std::string tableName = (name + "_decay").str();
  auto tableInit = DenseElementsAttr::get(RankedTensorType::get({H}, f32),
                                          ArrayRef<float>(factors));
  memref::GlobalOp::create(mb, loc, tableName, mb.getStringAttr("private"),
                           tableType, tableInit, /*constant=*/true,
                           mb.getI64IntegerAttr(16));

  auto actType = MemRefType::get({ShapedType::kDynamic, 1, H, D}, spec.elt);
  auto stateType = MemRefType::get({ShapedType::kDynamic, H, D, D}, f32);
  auto fnType = FunctionType::get(
      ctx, {actType, actType, actType, stateType, actType}, {});
  SmallVector<Type> workgroup;
  auto wgSpace = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  if (NW > 1)
    workgroup.push_back(MemRefType::get({NW, cols}, f32, AffineMap(), wgSpace));
  auto kernel = gpu::GPUFuncOp::create(mb, loc, name, fnType, workgroup);
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), mb.getUnitAttr());
  // The partial sums are read and written as 16-byte vectors: the
  // workgroup buffer must be 16-byte aligned (the lowering defaults to the
  // element's alignment).
  if (NW > 1)
    kernel.setWorkgroupAttributionAttr(0, LLVM::LLVMDialect::getAlignAttrName(),
                                       mb.getI64IntegerAttr(16));
  kernel.setKnownBlockSizeAttr(mb.getDenseI32ArrayAttr(
      {static_cast<int32_t>(spec.threads), 1, 1}));

  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(&entry);
  KernelBuilder kb(b, loc);
  Value q = entry.getArgument(0), k = entry.getArgument(1),
        v = entry.getArgument(2), state = entry.getArgument(3),
        out = entry.getArgument(4);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value bIdx = kb.div(bx, H);
  Value hIdx = kb.rem(bx, H);
  Value cg = kb.rem(tid, CG);
  Value rg = kb.div(tid, CG);
  Value col = kb.add(kb.mul(by, cols), kb.mul(cg, kVec));
  Value zero = kb.idx(0);

  Value table = memref::GetGlobalOp::create(b, loc, tableType, tableName);
  Value decay = memref::LoadOp::create(b, loc, table, ValueRange{hIdx});

  auto vecF32 = VectorType::get({kVec}, f32);
  auto vecAct = VectorType::get({kVec}, spec.elt);
  unsigned actBytes = spec.elt.getIntOrFloatBitWidth() / 8;
  llvm::MaybeAlign actAlign(kVec * actBytes), stateAlign(kVec * 4);

  Value vRow = kb.toF32(vector::LoadOp::create(
      b, loc, vecAct, v, ValueRange{bIdx, zero, hIdx, col},
      /*nontemporal=*/false, actAlign));
  Value decaySplat = vector::BroadcastOp::create(b, loc, vecF32, decay);
  Value acc = arith::ConstantOp::create(
      b, loc, vecF32, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.0f)));

  // Load phase first (all R state vectors and q_i, k_i in flight), then the
  // arithmetic and the stores.
  SmallVector<Value> rows, sOld, qs, ks;
  for (int64_t r = 0; r < R; ++r) {
    Value i = kb.add(rg, r * RG);
    rows.push_back(i);
    sOld.push_back(vector::LoadOp::create(b, loc, vecF32, state,
                                          ValueRange{bIdx, hIdx, i, col},
                                          /*nontemporal=*/false, stateAlign));
    ks.push_back(kb.toF32(memref::LoadOp::create(
        b, loc, k, ValueRange{bIdx, zero, hIdx, i})));
    qs.push_back(kb.toF32(memref::LoadOp::create(
        b, loc, q, ValueRange{bIdx, zero, hIdx, i})));
  }
  for (int64_t r = 0; r < R; ++r) {
    Value kSplat = vector::BroadcastOp::create(b, loc, vecF32, ks[r]);
    Value kv = arith::MulFOp::create(b, loc, kSplat, vRow);
    // S' = e^{-λ} S + k_i v
    Value sNew = vector::FMAOp::create(b, loc, vecF32, sOld[r], decaySplat, kv);
    vector::StoreOp::create(b, loc, sNew, state,
                            ValueRange{bIdx, hIdx, rows[r], col},
                            /*nontemporal=*/false, stateAlign);
    Value qSplat = vector::BroadcastOp::create(b, loc, vecF32, qs[r]);
    acc = vector::FMAOp::create(b, loc, vecF32, qSplat, sNew, acc);
  }

  // Reduce over the row groups inside a warp: lanes tid, tid ^ CG, ...
  if (CG < 32) {
    SmallVector<Value> lanes;
    for (int64_t e = 0; e < kVec; ++e) {
      Value x = vector::ExtractOp::create(b, loc, acc, ArrayRef<int64_t>{e});
      for (int64_t off = CG; off < 32; off *= 2) {
        Value y = gpu::ShuffleOp::create(b, loc, x, static_cast<int32_t>(off),
                                         32, gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        x = arith::AddFOp::create(b, loc, x, y);
      }
      lanes.push_back(x);
    }
    acc = vector::FromElementsOp::create(b, loc, vecF32, lanes);
  }

  auto storeOut = [&](OpBuilder &ob, Value sum) {
    Value o = sum;
    if (!spec.elt.isF32())
      o = arith::TruncFOp::create(ob, loc, vecAct, sum);
    vector::StoreOp::create(ob, loc, o, out, ValueRange{bIdx, zero, hIdx, col},
                            /*nontemporal=*/false, actAlign);
  };

  Value isFirstRowGroup = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, tid, kb.idx(CG));
  if (NW == 1) {
    auto ifOp = scf::IfOp::create(b, loc, isFirstRowGroup, false);
    OpBuilder tb = OpBuilder::atBlockTerminator(ifOp.thenBlock());
    storeOut(tb, acc);
  } else {
    // Lane < CG of each warp writes the warp's partial sums, then the first
    // CG threads add the NW partials and write o.
    Value smem = kernel.getWorkgroupAttributions()[0];
    Value lane = kb.rem(tid, 32);
    Value warp = kb.div(tid, 32);
    Value isWriter = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           lane, kb.idx(CG));
    Value c = kb.mul(cg, kVec);
    SmallVector<Value> warpIdx;
    for (int64_t w = 0; w < NW; ++w)
      warpIdx.push_back(kb.idx(w));
    {
      auto ifOp = scf::IfOp::create(b, loc, isWriter, false);
      OpBuilder tb = OpBuilder::atBlockTerminator(ifOp.thenBlock());
      vector::StoreOp::create(tb, loc, acc, smem, ValueRange{warp, c},
                              /*nontemporal=*/false, stateAlign);
    }
    gpu::BarrierOp::create(b, loc);
    auto ifOp = scf::IfOp::create(b, loc, isFirstRowGroup, false);
    OpBuilder tb = OpBuilder::atBlockTerminator(ifOp.thenBlock());
    Value sum;
    for (int64_t w = 0; w < NW; ++w) {
      Value part = vector::LoadOp::create(
          tb, loc, vecF32, smem,
          ValueRange{warpIdx[w], c},
          /*nontemporal=*/false, stateAlign);
      sum = sum ? arith::AddFOp::create(tb, loc, sum, part).getResult() : part;
    }
    storeOut(tb, sum);
  }
  gpu::ReturnOp::create(b, loc);
  return kernel;
}

/// Builds (once per kernel and operand types) the host function
///   func.func @<kernel>_launch[_b<B>](q, k, v, state, o : memrefs)
/// holding the gpu.launch_func.
func::FuncOp getOrBuildLaunch(ModuleOp module, gpu::GPUFuncOp kernel,
                              const KernelSpec &spec, RankedTensorType qt,
                              RankedTensorType st, Location loc) {
  bool dynamicBatch = qt.isDynamicDim(0);
  std::string name = (kernel.getName() + "_launch").str();
  if (!dynamicBatch)
    name += "_b" + std::to_string(qt.getDimSize(0));
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;

  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  MemRefType actType = memrefOf(qt, false), stateType = memrefOf(st, false);
  auto fnType = FunctionType::get(
      module.getContext(), {actType, actType, actType, stateType, actType}, {});
  auto fn = func::FuncOp::create(mb, loc, name, fnType);
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  KernelBuilder kb(b, loc);

  Value batch = dynamicBatch
                    ? memref::DimOp::create(b, loc, entry->getArgument(0), 0)
                          .getResult()
                    : kb.idx(qt.getDimSize(0));
  Value one = kb.idx(1);
  Value gridX = kb.mul(batch, spec.heads);
  Value gridY = kb.idx(spec.dim / spec.cols);
  Value blockX = kb.idx(spec.threads);

  SmallVector<Value> args;
  for (auto [i, arg] : llvm::enumerate(entry->getArguments())) {
    Type want = kernel.getArgumentTypes()[i];
    args.push_back(arg.getType() == want
                       ? Value(arg)
                       : memref::CastOp::create(b, loc, want, arg).getResult());
  }
  gpu::LaunchFuncOp::create(b, loc, kernel, gpu::KernelDim3{gridX, gridY, one},
                            gpu::KernelDim3{blockX, one, one},
                            /*dynamicSharedMemorySize=*/Value(), args);
  func::ReturnOp::create(b, loc);
  return fn;
}

struct LightningDecodeToGPU
    : public mm01::model::impl::MM01LightningDecodeToGPUBase<LightningDecodeToGPU> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LightningDecodeOp> ops;
    module.walk([&](LightningDecodeOp op) { ops.push_back(op); });
    if (ops.empty())
      return;

    SmallVector<KernelSpec> specs;
    bool ok = true;
    for (LightningDecodeOp op : ops) {
      FailureOr<KernelSpec> spec = analyze(op, blockColumns, threads);
      if (failed(spec))
        ok = false;
      else
        specs.push_back(*spec);
    }
    if (!ok)
      return signalPassFailure();

    MLIRContext *ctx = module.getContext();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>(kGpuModuleName);
    if (!gpuModule) {
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      gpuModule = gpu::GPUModuleOp::create(mb, module.getLoc(), kGpuModuleName);
    }

    // Kernels are shared between ops with the same spec and decay rates; a
    // different set of rates under the same base name gets a suffix _1, _2...
    llvm::StringMap<gpu::GPUFuncOp> byKey;
    llvm::StringMap<unsigned> nameCount;
    for (auto [op, spec] : llvm::zip(ops, specs)) {
      std::string base = spec.baseName();
      std::string key = base;
      for (double d : spec.decay)
        key += "," + std::to_string(llvm::bit_cast<uint64_t>(d));
      gpu::GPUFuncOp kernel = byKey.lookup(key);
      if (!kernel) {
        unsigned n = nameCount[base]++;
        std::string name = n ? base + "_" + std::to_string(n) : base;
        kernel = buildKernel(gpuModule, spec, name, op.getLoc());
        byKey[key] = kernel;
      }
      auto qt = cast<RankedTensorType>(op.getQuery().getType());
      auto st = cast<RankedTensorType>(op.getState().getType());
      func::FuncOp launch =
          getOrBuildLaunch(module, kernel, spec, qt, st, op.getLoc());
      replaceOp(op, launch, qt, st);
    }
  }

  /// The bufferization boundary that replaces the tensor op.
  void replaceOp(LightningDecodeOp op, func::FuncOp launch,
                 RankedTensorType qt, RankedTensorType st) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    MemRefType actType = memrefOf(qt, false), stateType = memrefOf(st, false);
    auto toBuffer = [&](Value t, MemRefType type) -> Value {
      return bufferization::ToBufferOp::create(b, loc, type, t,
                                               /*read_only=*/true);
    };
    Value q = toBuffer(op.getQuery(), actType);
    Value k = toBuffer(op.getKey(), actType);
    Value v = toBuffer(op.getValue(), actType);
    Value s0 = toBuffer(op.getState(), stateType);
    SmallVector<Value> stateDyn, actDyn;
    if (qt.isDynamicDim(0))
      actDyn.push_back(memref::DimOp::create(b, loc, q, 0));
    if (st.isDynamicDim(0))
      stateDyn.push_back(memref::DimOp::create(b, loc, s0, 0));
    IntegerAttr align = b.getI64IntegerAttr(64);
    // The kernel updates the state in place; a fresh copy keeps the value
    // semantics of the tensor op.
    Value s = memref::AllocOp::create(b, loc, stateType, stateDyn, align);
    memref::CopyOp::create(b, loc, s0, s);
    Value o = memref::AllocOp::create(b, loc, actType, actDyn, align);
    func::CallOp::create(b, loc, launch, ValueRange{q, k, v, s, o});
    Value oT = bufferization::ToTensorOp::create(b, loc, qt, o,
                                                 b.getUnitAttr(), b.getUnitAttr());
    Value sT = bufferization::ToTensorOp::create(b, loc, st, s,
                                                 b.getUnitAttr(), b.getUnitAttr());
    op.getOutput().replaceAllUsesWith(oT);
    op.getNewState().replaceAllUsesWith(sT);
    op.erase();
  }
};

} // namespace
