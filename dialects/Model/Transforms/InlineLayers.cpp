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
    IRRewriter rewriter(&getContext());
    for (DecoderLayerOp layer : layers) {
      Block &body = layer.getBody().front();
      auto yield = cast<YieldOp>(body.getTerminator());
      SmallVector<Value> results(yield.getValues());
      rewriter.inlineBlockBefore(&body, layer, layer.getInputs());
      rewriter.replaceOp(layer, results);
      rewriter.eraseOp(yield);
    }
  }
};
} // namespace
