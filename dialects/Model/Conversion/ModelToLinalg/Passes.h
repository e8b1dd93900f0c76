//===- Passes.h - mm01 model-level IR to linalg, CPU pipeline ---*- C++ -*-===//
#ifndef MM01_MODEL_CONVERSION_MODELTOLINALG_PASSES_H
#define MM01_MODEL_CONVERSION_MODELTOLINALG_PASSES_H

#include "Model/IR/ModelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mm01::model {
#define GEN_PASS_DECL
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"

/// The function attribute listing weight names in argument order.
inline constexpr llvm::StringLiteral kWeightsAttrName = "mm01.weights";

/// Options of `mm01-cpu-pipeline`.
struct CPUPipelineOptions : mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<int64_t> chunkSize{*this, "chunk-size",
                            llvm::cl::desc("lightning attention chunk size"),
                            llvm::cl::init(64)};
};

/// Model-level IR -> linalg on tensors, weights as arguments (everything
/// before bufferization). After it, each func.func has its final signature:
/// the original arguments, then the weights listed in `mm01.weights`.
void buildCPUTensorPipeline(mlir::OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// Tensor-level IR -> LLVM dialect: bufferization with results turned into
/// caller-allocated out-parameters (appended after all arguments), loops,
/// LLVM, and `_mlir_ciface_` wrappers for every function.
void buildCPULLVMPipeline(mlir::OpPassManager &pm);

/// Both of the above: `mm01-cpu-pipeline`.
void buildCPUPipeline(mlir::OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers the ModelToLinalg passes and `mm01-cpu-pipeline` (and the
/// attention lowerings when they are built).
void registerCPUPipeline();

} // namespace mm01::model

#endif // MM01_MODEL_CONVERSION_MODELTOLINALG_PASSES_H
