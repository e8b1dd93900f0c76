//===- KernelDialect.h - mm01k kernel/schedule-level dialect ----*- C++ -*-===//
#ifndef MM01_KERNEL_IR_KERNELDIALECT_H
#define MM01_KERNEL_IR_KERNELDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "Kernel/IR/KernelDialect.h.inc"

#define GET_OP_CLASSES
#include "Kernel/IR/KernelOps.h.inc"

#endif // MM01_KERNEL_IR_KERNELDIALECT_H
