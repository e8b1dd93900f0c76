//===- EntryShape.cpp - the call sizes an entry function is compiled for --===//
#include "Model/Conversion/ModelToGPU/EntryShape.h"

#include "Model/IR/ModelOps.h"

#include <algorithm>

using namespace mlir;

namespace mm01::gpu {

std::pair<int64_t, int64_t> entryTokenShape(func::FuncOp fn) {
  std::pair<int64_t, int64_t> shape{0, 0};
  fn.walk([&](model::EmbeddingOp e) {
    auto t = cast<RankedTensorType>(e.getIds().getType());
    shape = {t.getDimSize(0), t.getNumElements()};
  });
  if (shape.second == 0 && fn.getNumArguments() > 0)
    if (auto t = dyn_cast<RankedTensorType>(fn.getArgument(0).getType());
        t && t.getRank() >= 2 && t.hasStaticShape())
      shape = {t.getDimSize(0), t.getDimSize(0) * t.getDimSize(1)};
  return shape;
}

int64_t kernelMaxTokens(ModuleOp module) {
  int64_t n = 0;
  module.walk([&](func::FuncOp fn) {
    if (fn->hasAttr("mm01.entry"))
      n = std::max(n, entryTokenShape(fn).second);
  });
  return n;
}

} // namespace mm01::gpu
