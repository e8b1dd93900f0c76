//===- ModelDialect.h - mm01 model-level dialect ----------------*- C++ -*-===//
#ifndef MM01_MODEL_IR_MODELDIALECT_H
#define MM01_MODEL_IR_MODELDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "Model/IR/ModelDialect.h.inc"

#endif // MM01_MODEL_IR_MODELDIALECT_H
