//===- Passes.h - mm01 lightning attention to GPU kernels -------*- C++ -*-===//
#ifndef MM01_CONVERSION_LIGHTNINGTOGPU_PASSES_H
#define MM01_CONVERSION_LIGHTNINGTOGPU_PASSES_H

#include "Model/IR/ModelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mm01::model {
#define GEN_PASS_DECL
#include "Model/Conversion/LightningToGPU/Passes.h.inc"

/// Registers `mm01-lightning-decode-to-gpu` and the `mm01-gpu-codegen`
/// pipeline (Pipeline.cpp).
void registerMM01LightningToGPUPasses();
} // namespace mm01::model

#endif // MM01_CONVERSION_LIGHTNINGTOGPU_PASSES_H
