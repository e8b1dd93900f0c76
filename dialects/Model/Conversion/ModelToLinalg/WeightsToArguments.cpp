//===- WeightsToArguments.cpp - weights become function arguments ---------===//
#include "Model/Conversion/ModelToLinalg/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01WEIGHTSTOARGUMENTS
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

/// The checkpoint name an op stands for (name_format for expert stacks).
StringRef weightName(Operation *op) {
  if (auto w = dyn_cast<WeightOp>(op))
    return w.getName();
  return cast<ExpertWeightsOp>(op).getNameFormat();
}

LogicalResult weightsToArguments(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<WeightOp, ExpertWeightsOp>(op))
      ops.push_back(op);
  });
  if (ops.empty())
    return success();

  SmallVector<Attribute> names;
  if (auto existing = func->getAttrOfType<ArrayAttr>(kWeightsAttrName))
    names.append(existing.begin(), existing.end());
  llvm::StringMap<BlockArgument> args;
  for (Operation *op : ops) {
    StringRef name = weightName(op);
    Type type = op->getResult(0).getType();
    Operation *isolated = op->getParentWithTrait<OpTrait::IsIsolatedFromAbove>();
    if (isolated != func.getOperation())
      return op->emitOpError("weight '")
             << name << "' is inside the isolated region of '"
             << isolated->getName() << "': run mm01-inline-layers first";
    auto it = args.find(name);
    if (it == args.end()) {
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, type, DictionaryAttr(), op->getLoc())))
        return op->emitOpError("cannot add an argument for weight '") << name << "'";
      it = args.try_emplace(name, func.getArgument(index)).first;
      names.push_back(StringAttr::get(func.getContext(), name));
    } else if (it->second.getType() != type) {
      return op->emitOpError("weight '")
             << name << "' is used with two types: " << it->second.getType()
             << " and " << type;
    }
    op->getResult(0).replaceAllUsesWith(it->second);
    op->erase();
  }
  func->setAttr(kWeightsAttrName, ArrayAttr::get(func.getContext(), names));
  return success();
}

struct WeightsToArgumentsPass
    : mm01::model::impl::MM01WeightsToArgumentsBase<WeightsToArgumentsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(weightsToArguments(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
