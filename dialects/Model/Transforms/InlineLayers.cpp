//===- InlineLayers.cpp - inline mm01.decoder_layer bodies -----------------===//
#include "Model/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01INLINELAYERS
#include "Model/Transforms/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {
struct InlineLayersPass : mm01::model::impl::MM01InlineLayersBase<InlineLayersPass> {
  void runOnOperation() override {
    SmallVector<DecoderLayerOp> layers;
    getOperation().walk([&](DecoderLayerOp op) { layers.push_back(op); });
    for (DecoderLayerOp layer : layers) {
      Block &body = layer.getBody().front();
      auto yield = cast<YieldOp>(body.getTerminator());
      for (auto [arg, input] : llvm::zip(body.getArguments(), layer.getInputs()))
        arg.replaceAllUsesWith(input);
      layer->replaceAllUsesWith(yield.getValues());
      yield->erase();
      Block *parent = layer->getBlock();
      parent->getOperations().splice(Block::iterator(layer), body.getOperations());
      layer->erase();
    }
  }
};
} // namespace
