//===- Passes.h - lowering of the mm01 attention ops ------------*- C++ -*-===//
#ifndef MM01_CONVERSION_ATTENTIONTOLINALG_PASSES_H
#define MM01_CONVERSION_ATTENTIONTOLINALG_PASSES_H

#include "Model/IR/ModelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mm01::model {
#define GEN_PASS_DECL
#include "Model/Conversion/AttentionToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Model/Conversion/AttentionToLinalg/Passes.h.inc"
} // namespace mm01::model

#endif // MM01_CONVERSION_ATTENTIONTOLINALG_PASSES_H
