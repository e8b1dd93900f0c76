//===- Passes.td - mm01 model-level passes -------------------*- tablegen -*-===//
#ifndef MM01_MODEL_PASSES
#define MM01_MODEL_PASSES

include "mlir/Pass/PassBase.td"

def MM01InlineLayers : Pass<"mm01-inline-layers", "mlir::ModuleOp"> {
  let summary = "Inline every mm01.decoder_layer body into its parent";
  let description = [{
    Replaces each `mm01.decoder_layer` by the ops of its body, with the block
    arguments replaced by the layer's operands and the layer's results by the
    values of its `mm01.yield`. Passes that work across layers (and the CPU
    lowering) run after it.
  }];
  let dependentDialects = ["::mm01::model::MM01Dialect"];
}

#endif // MM01_MODEL_PASSES
