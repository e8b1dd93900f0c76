//===- LightningDecodeToGPU.cpp - lightning decode as a GPU kernel --------===//
//
// mm01.lightning_decode -> gpu.module @mm01_lightning_decode { gpu.func }
// + a host func.func holding the gpu.launch_func + a bufferization boundary
// in place of the op. See Passes.td for the contract and docs/gpu-codegen.md
// for the kernel's layout.
//
// The kernel body is the engine generator's (buildLightningDecodeFunc,
// Model/Conversion/ModelToGPU/LightningDecodeKernel.cpp, which describes the
// thread layout); this pass addresses it through rank-4 memref descriptors
// with a dynamic batch: q/k/v/o [B, 1, H, D], state [B, H, D, D].
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/LightningToGPU/Passes.h"
#include "Model/Conversion/ModelToGPU/KernelBuilder.h"
#include "Model/Conversion/ModelToGPU/LightningDecodeKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01LIGHTNINGDECODETOGPU
#include "Model/Conversion/LightningToGPU/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

constexpr StringLiteral kPassName = "mm01-lightning-decode-to-gpu";
constexpr StringLiteral kGpuModuleName = "mm01_lightning_decode";

/// Everything a kernel is specialized for.
struct KernelSpec : mm01::gpu::LightningDecodeTiling {
  SmallVector<double> decay;

  std::string baseName() const {
    std::string t = elt.isF32() ? "f32" : "bf16";
    return ("lightning_decode_h" + Twine(heads) + "_d" + Twine(dim) + "_" + t +
            "_c" + Twine(cols) + "_t" + Twine(threads))
        .str();
  }
};

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
  std::string why = mm01::gpu::checkLightningDecodeTiling(qt.getDimSize(3),
                                                          cols, threads);
  if (!why.empty()) {
    fail() << why;
    return failure();
  }
  KernelSpec spec;
  spec.heads = qt.getDimSize(2);
  spec.dim = qt.getDimSize(3);
  spec.cols = cols;
  spec.threads = threads;
  spec.elt = elt;
  spec.decay.assign(op.getDecay().begin(), op.getDecay().end());
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

/// Builds the kernel gpu.func (and its decay table) at the end of `gpuModule`.
gpu::GPUFuncOp buildKernel(gpu::GPUModuleOp gpuModule, const KernelSpec &spec,
                           StringRef name, Location loc) {
  const int64_t H = spec.heads, D = spec.dim;
  auto actType = MemRefType::get({ShapedType::kDynamic, 1, H, D}, spec.elt);
  auto stateType = MemRefType::get({ShapedType::kDynamic, H, D, D},
                                   Float32Type::get(gpuModule.getContext()));
  mm01::gpu::LightningDecodeAddressing addressing;
  addressing.act = [&](OpBuilder &b, ValueRange args,
                       mm01::gpu::DecodeOperand which, Value bi, Value hi,
                       Value i) {
    static constexpr unsigned argOf[] = {0, 1, 2, 4}; // q, k, v, o
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    return mm01::gpu::DecodeAccess{args[argOf[size_t(which)]],
                                   {bi, zero, hi, i}};
  };
  addressing.state = [&](OpBuilder &, ValueRange args, Value bi, Value hi,
                         Value row, Value col) {
    return mm01::gpu::DecodeAccess{args[3], {bi, hi, row, col}};
  };
  OpBuilder mb(gpuModule.getContext());
  return mm01::gpu::buildLightningDecodeFunc(
      mb, gpuModule, name, spec, spec.decay,
      {actType, actType, actType, stateType, actType}, addressing, loc);
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
  mm01::gpu::KernelBuilder kb(b, loc);

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
