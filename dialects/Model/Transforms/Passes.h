//===- Passes.h - mm01 model-level passes -----------------------*- C++ -*-===//
#ifndef MM01_MODEL_TRANSFORMS_PASSES_H
#define MM01_MODEL_TRANSFORMS_PASSES_H

#include "Model/IR/ModelOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mm01::model {
#define GEN_PASS_DECL
#include "Model/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Model/Transforms/Passes.h.inc"
} // namespace mm01::model

#endif // MM01_MODEL_TRANSFORMS_PASSES_H
