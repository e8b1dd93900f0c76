//===- Passes.h - mm01 model IR to GPU kernels and a schedule ---*- C++ -*-===//
#ifndef MM01_CONVERSION_MODELTOGPU_PASSES_H
#define MM01_CONVERSION_MODELTOGPU_PASSES_H

#include "Kernel/IR/KernelDialect.h"
#include "Model/IR/ModelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mm01::model {
#define GEN_PASS_DECL
#include "Model/Conversion/ModelToGPU/Passes.h.inc"

/// Registers mm01-model-to-kernels, mm01-plan-buffers and the
/// mm01-gpu-engine pipeline.
void registerMM01ModelToGPUPasses();
} // namespace mm01::model

#endif // MM01_CONVERSION_MODELTOGPU_PASSES_H
