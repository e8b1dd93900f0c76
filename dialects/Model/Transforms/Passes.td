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

def MM01Fuse : Pass<"mm01-fuse", "mlir::ModuleOp"> {
  let summary = "Group producer/consumer chains that one kernel computes into mm01.fusion";
  let description = [{
    Makes the GPU target's fusion decisions explicit (Fuse.cpp): a DeepNorm
    residual with the norm it feeds, an RMSNorm with the sigmoid gate that
    multiplies it, SiLU and the q/k/v split with the lightning op they feed,
    RoPE of q and k with the softmax attention. A chain is grouped only when
    every intermediate value's single use is inside it. `mm01-model-to-kernels`
    lowers each group to one kernel (or one kernel family); ops outside
    groups get kernels of their own.
  }];
  let dependentDialects = ["::mm01::model::MM01Dialect"];
}

#endif // MM01_MODEL_PASSES
