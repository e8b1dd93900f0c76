//===- ModelOps.h - mm01 model-level operations -----------------*- C++ -*-===//
#ifndef MM01_MODEL_IR_MODELOPS_H
#define MM01_MODEL_IR_MODELOPS_H

#include "Model/IR/ModelDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include "Model/IR/ModelEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "Model/IR/ModelAttrs.h.inc"

#define GET_OP_CLASSES
#include "Model/IR/ModelOps.h.inc"

#endif // MM01_MODEL_IR_MODELOPS_H
