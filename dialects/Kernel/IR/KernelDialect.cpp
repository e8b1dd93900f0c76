//===- KernelDialect.cpp - mm01k kernel/schedule-level dialect ------------===//
#include "Kernel/IR/KernelDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mm01::kernel;

#include "Kernel/IR/KernelDialect.cpp.inc"

#define GET_OP_CLASSES
#include "Kernel/IR/KernelOps.cpp.inc"

void MM01KDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Kernel/IR/KernelOps.cpp.inc"
      >();
}

LogicalResult LaunchOp::verify() {
  if (getGrid().size() != 3)
    return emitOpError() << "grid must have 3 expressions, found "
                         << getGrid().size();
  if (getBlock().size() != 3)
    return emitOpError() << "block must have 3 dimensions, found "
                         << getBlock().size();
  int64_t threads = 1;
  for (int64_t d : getBlock()) {
    if (d < 1)
      return emitOpError() << "block dimensions must be >= 1";
    threads *= d;
  }
  if (threads > 1024)
    return emitOpError() << "block has " << threads
                         << " threads, more than 1024";
  // The I64Attr accessor is unsigned: read the signed value.
  if (getDynamicSmemAttr().getInt() < 0)
    return emitOpError() << "dynamic_smem must be >= 0, got "
                         << getDynamicSmemAttr().getInt();
  size_t n = getParamNames().size();
  if (getParamOperands().size() != n || getParamOffsets().size() != n ||
      getParamExprs().size() != n)
    return emitOpError() << "param_names, param_operands, param_offsets and "
                            "param_exprs must have the same length ("
                         << n << ")";
  int64_t numOperands = getInputs().size() + getOuts().size();
  for (size_t i = 0; i < n; ++i) {
    int64_t idx = getParamOperands()[i];
    auto expr = cast<StringAttr>(getParamExprs()[i]).getValue();
    if (idx == -1) {
      if (expr.empty())
        return emitOpError() << "parameter " << i
                             << " is a scalar without an expression";
      continue;
    }
    if (idx < 0 || idx >= numOperands)
      return emitOpError() << "parameter " << i << " binds operand " << idx
                           << ", but the launch has " << numOperands;
    if (getParamOffsets()[i] < 0)
      return emitOpError() << "parameter " << i << " has a negative offset";
  }
  if (getResults().size() != getOuts().size())
    return emitOpError() << "has " << getResults().size()
                         << " results for " << getOuts().size() << " outs";
  for (auto [r, o] : llvm::zip(getResults(), getOuts()))
    if (r.getType() != o.getType())
      return emitOpError() << "result type " << r.getType()
                           << " differs from its outs operand " << o.getType();
  // The engine parses the expression; an empty one is never meant.
  if (getWhen() && getWhen()->empty())
    return emitOpError() << "when must be a non-empty engine expression";
  // An overlapping launch waits for the grid before it (griddepcontrol.wait),
  // which only a kernel launch provides, and only when that launch ran: both
  // must run for the same calls.
  if (getOverlapPrevious()) {
    Operation *prev = (*this)->getPrevNode();
    while (prev && !isa<LaunchOp, GemmOp>(prev))
      prev = prev->getPrevNode();
    if (!prev || !isa<LaunchOp>(prev))
      return emitOpError() << "overlap_previous needs a kernel launch as the "
                              "previous step, found "
                           << (prev ? "'mm01k.gemm'" : "none");
    std::optional<StringRef> prevWhen = cast<LaunchOp>(prev).getWhen();
    if (prevWhen != getWhen()) {
      auto describe = [](std::optional<StringRef> when) {
        return when ? "when \"" + when->str() + "\"" : std::string("always");
      };
      return emitOpError() << "overlap_previous needs the same 'when' as the "
                              "previous launch, which runs "
                           << describe(prevWhen) << " (this one runs "
                           << describe(getWhen()) << ")";
    }
  }
  // Before code generation the kernel is a gpu.func inside a gpu.module;
  // afterwards the module is a gpu.binary holding its image.
  auto module = (*this)->getParentOfType<ModuleOp>();
  if (module) {
    Operation *root = SymbolTable::lookupSymbolIn(module, getKernelAttr().getRootReference());
    if (!root)
      return emitOpError() << "names no kernel module: " << getKernelAttr();
    if (root->getName().getStringRef() == "gpu.module" &&
        !SymbolTable::lookupNearestSymbolFrom(module, getKernelAttr()))
      return emitOpError() << "names no kernel: " << getKernelAttr();
  }
  return success();
}

LogicalResult GemmOp::verify() {
  if (getResult().getType() != getC().getType())
    return emitOpError() << "result type must equal the type of c";
  for (StringRef e : {getM(), getN(), getK()})
    if (e.empty())
      return emitOpError() << "m, n and k must be non-empty expressions";
  return success();
}
