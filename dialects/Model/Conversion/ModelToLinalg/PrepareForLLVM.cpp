//===- PrepareForLLVM.cpp - small buffer-level steps of the CPU pipeline --===//
//
// mm01-runner-abi, mm01-strided-copy-to-linalg and mm01-outline-loops: what
// the JIT runner needs around the upstream bufferization and LLVM passes.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToLinalg/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01RUNNERABI
#define GEN_PASS_DEF_MM01STRIDEDCOPYTOLINALG
#define GEN_PASS_DEF_MM01OUTLINELOOPS
#define GEN_PASS_DEF_MM01VECTORIZEHINTS
#define GEN_PASS_DEF_MM01FINALIZELLVMATTRIBUTES
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

/// Argument positions of an outlined function's buffers that alias no other
/// argument (under the bare-pointer calling convention one LLVM argument per
/// MLIR argument).
constexpr llvm::StringLiteral kNoAliasAttrName = "mm01.noalias_args";

/// Whether `buffer` is one the runner or the function owns outright: an
/// allocation, a global, or an argument of the function (the runner's
/// buffers never overlap).
bool isDistinctBuffer(Value buffer) {
  if (auto arg = dyn_cast<BlockArgument>(buffer))
    return isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
  Operation *def = buffer.getDefiningOp();
  return def && isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp>(def);
}

struct RunnerABIPass : mm01::model::impl::MM01RunnerABIBase<RunnerABIPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto readOnly = BoolAttr::get(ctx, false);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      // The bare-pointer convention passes a buffer as one pointer, so every
      // shaped operand at a function boundary needs a static shape.
      auto check = [&](Type type, StringRef what, unsigned i) -> bool {
        auto shaped = dyn_cast<ShapedType>(type);
        if (!shaped || (shaped.hasRank() && shaped.hasStaticShape()))
          return true;
        func.emitError() << what << " " << i << " of @" << func.getName()
                         << " has type " << type
                         << ": the CPU pipeline passes buffers as bare pointers "
                            "and needs static shapes";
        return false;
      };
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (!check(type, "argument", i))
          return signalPassFailure();
      for (auto [i, type] : llvm::enumerate(func.getResultTypes()))
        if (!check(type, "result", i))
          return signalPassFailure();
      if (!func.isPublic() || func.isExternal())
        continue;
      // Keep one copy of the body: the JIT's packed wrapper calls it
      // instead of inlining it.
      func->setAttr("passthrough", ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
        func.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                        readOnly);
    }
  }
};

struct StridedCopyToLinalgPass
    : mm01::model::impl::MM01StridedCopyToLinalgBase<StridedCopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (source && target &&
          !(source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};

/// Outlines loop nests into private functions, reusing one function for
/// nests that are the same code (the layers of a model repeat the same nests
/// on different buffers).
class NestOutliner {
public:
  explicit NestOutliner(ModuleOp module) : symbols(module) {}

  /// Moves `op` (a nest at the top of `func`) into a function and replaces it
  /// with a call.
  void outline(Operation *op, func::FuncOp func) {
    MLIRContext *ctx = op->getContext();
    llvm::SetVector<Value> captured;
    for (Value v : op->getOperands())
      captured.insert(v);
    getUsedValuesDefinedAbove(op->getRegions(), captured);

    // Constants and views (subview, reshapes, casts) are cloned into the
    // callee rather than passed: trip counts stay static, and every memref
    // argument is a whole buffer (an allocation, a global or an argument of
    // the caller) with a static identity layout, which the bare-pointer
    // calling convention passes as one pointer.
    SmallVector<Value> args;
    llvm::SetVector<Operation *> cloned;
    for (size_t i = 0; i < captured.size(); ++i) {
      Value v = captured[i];
      Operation *def = v.getDefiningOp();
      bool isView = def && isa<ViewLikeOpInterface>(def) && isMemoryEffectFree(def) &&
                    def->getBlock() == op->getBlock();
      if (def && (def->hasTrait<OpTrait::ConstantLike>() || isView)) {
        cloned.insert(def);
        for (Value operand : def->getOperands())
          captured.insert(operand);
      } else {
        args.push_back(v);
      }
    }
    SmallVector<Operation *> clones(cloned.begin(), cloned.end());
    llvm::sort(clones, [](Operation *a, Operation *b) {
      return a->getBlock() == b->getBlock() ? a->isBeforeInBlock(b)
                                            : a->getBlock() < b->getBlock();
    });

    // Whole buffers owned outright (allocations, globals, the caller's
    // arguments) never overlap: mark them noalias (positions are argument
    // indices under the bare-pointer convention). A buffer of unknown origin
    // (e.g. returned by a call) might be one of the others: then nothing is.
    SmallVector<int64_t> noAlias;
    bool allKnown = llvm::all_of(args, [](Value v) {
      return !isa<BaseMemRefType>(v.getType()) || isDistinctBuffer(v);
    });
    for (auto [i, v] : llvm::enumerate(args))
      if (allKnown && isa<MemRefType>(v.getType()))
        noAlias.push_back(i);

    OpBuilder b(func);
    auto type = FunctionType::get(ctx, ValueRange(args).getTypes(), op->getResultTypes());
    auto callee = func::FuncOp::create(b, op->getLoc(), "__mm01_outlined", type);
    callee.setPrivate();
    callee->setAttr("passthrough",
                    ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
    if (!noAlias.empty())
      callee->setAttr(kNoAliasAttrName, DenseI64ArrayAttr::get(ctx, noAlias));
    Block *body = callee.addEntryBlock();
    OpBuilder cb = OpBuilder::atBlockEnd(body);
    IRMapping mapping;
    for (auto [v, arg] : llvm::zip(args, body->getArguments()))
      mapping.map(v, arg);
    for (Operation *c : clones)
      cb.clone(*c, mapping);
    Operation *clone = cb.clone(*op, mapping);
    func::ReturnOp::create(cb, op->getLoc(), clone->getResults());

    // The printed form (without locations, under the placeholder name) is
    // the identity of the code.
    std::string key;
    llvm::raw_string_ostream os(key);
    callee->print(os, OpPrintingFlags().useLocalScope().printGenericOpForm());
    auto [it, inserted] = byCode.try_emplace(key, callee);
    if (inserted) {
      callee.setName((func.getName() + "__loop" + llvm::Twine(count++)).str());
      symbols.insert(callee);
    } else {
      callee.erase();
      callee = it->second;
    }

    OpBuilder ob(op);
    auto call = func::CallOp::create(ob, op->getLoc(), callee, args);
    op->replaceAllUsesWith(call.getResults());
    op->erase();
  }

private:
  SymbolTable symbols;
  llvm::StringMap<func::FuncOp> byCode;
  unsigned count = 0;
};

struct OutlineLoopsPass : mm01::model::impl::MM01OutlineLoopsBase<OutlineLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    NestOutliner outliner(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      SmallVector<Operation *> nests;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (isa<scf::ForOp, scf::WhileOp, scf::ParallelOp, scf::IfOp>(op))
            nests.push_back(&op);
      for (Operation *op : nests)
        outliner.outline(op, func);
    }
  }
};

/// The attribute convert-scf-to-cf copies from an scf.for onto its latch.
constexpr llvm::StringLiteral kLoopAttrName = "llvm.loop";

/// The loop's stores all write at its induction variable in the last index.
bool streamsContiguously(scf::ForOp loop) {
  if (loop.getNumRegionIterArgs() != 0)
    return false;
  Value iv = loop.getInductionVar();
  bool hasStore = false, ok = true;
  loop.getBody()->walk([&](Operation *op) {
    if (isa<LoopLikeOpInterface>(op)) {
      ok = false;
      return WalkResult::interrupt();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      hasStore = true;
      if (store.getIndices().empty() || store.getIndices().back() != iv)
        ok = false;
    } else if (op->hasTrait<OpTrait::IsTerminator>() ||
               isa<memref::LoadOp>(op) || isMemoryEffectFree(op)) {
      // fine
    } else {
      ok = false; // calls, allocations, other writes
    }
    return ok ? WalkResult::advance() : WalkResult::interrupt();
  });
  return ok && hasStore;
}

struct VectorizeHintsPass
    : mm01::model::impl::MM01VectorizeHintsBase<VectorizeHintsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto vectorize = LLVM::LoopVectorizeAttr::get(
        ctx, /*disable=*/BoolAttr::get(ctx, false), /*predicateEnable=*/nullptr,
        /*scalableEnable=*/nullptr, /*width=*/IntegerAttr::get(IntegerType::get(ctx, 32), 16),
        /*followupVectorized=*/nullptr,
        /*followupEpilogue=*/nullptr, /*followupAll=*/nullptr);
    auto annotation = LLVM::LoopAnnotationAttr::get(
        ctx, /*disableNonforced=*/nullptr, vectorize, /*interleave=*/nullptr,
        /*unroll=*/nullptr, /*unrollAndJam=*/nullptr, /*licm=*/nullptr,
        /*distribute=*/nullptr, /*pipeline=*/nullptr, /*peeled=*/nullptr,
        /*unswitch=*/nullptr, /*mustProgress=*/nullptr, /*isVectorized=*/nullptr,
        /*startLoc=*/nullptr, /*endLoc=*/nullptr, /*parallelAccesses=*/{});
    getOperation().walk([&](scf::ForOp loop) {
      if (streamsContiguously(loop))
        loop->setAttr(kLoopAttrName, annotation);
    });
  }
};

struct FinalizeLLVMAttributesPass
    : mm01::model::impl::MM01FinalizeLLVMAttributesBase<FinalizeLLVMAttributesPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    getOperation().walk([&](Operation *op) {
      if (auto func = dyn_cast<LLVM::LLVMFuncOp>(op)) {
        auto positions = func->getAttrOfType<DenseI64ArrayAttr>(kNoAliasAttrName);
        if (!positions)
          return;
        for (int64_t i : positions.asArrayRef())
          if (i < func.getNumArguments() &&
              isa<LLVM::LLVMPointerType>(func.getArgumentTypes()[i]))
            func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), UnitAttr::get(ctx));
        func->removeAttr(kNoAliasAttrName);
        return;
      }
      auto annotation = op->getAttrOfType<LLVM::LoopAnnotationAttr>(kLoopAttrName);
      if (!annotation)
        return;
      if (auto br = dyn_cast<LLVM::BrOp>(op))
        br.setLoopAnnotationAttr(annotation);
      else if (auto condBr = dyn_cast<LLVM::CondBrOp>(op))
        condBr.setLoopAnnotationAttr(annotation);
      else
        return;
      op->removeAttr(kLoopAttrName);
    });
  }
};

} // namespace
