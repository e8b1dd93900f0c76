//===- Importer.h - HF checkpoint -> mm01 model-level IR --------*- C++ -*-===//
//
// Builds the whole model as model-level IR from a parsed config and (when
// given) a checkpoint's safetensors headers: a @prefill and a @decode
// function whose lightning states and KV caches are explicit operands and
// results, with weights referenced by checkpoint name. Every weight the model
// needs is checked against the checkpoint (name, shape, float dtype) before
// any IR is built.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_IMPORT_IMPORTER_H
#define MM01_MODEL_IMPORT_IMPORTER_H

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm01 {

/// What the importer emits. Sizes <= 0 mean dynamic (`?`).
struct ImportOptions {
  int64_t batch = 0;         // B
  int64_t prefillLength = 0; // T of @prefill
  int64_t cacheCapacity = 0; // C of the KV caches
  /// Activation dtype: "f32" or "bf16". States stay f32.
  std::string dtype = "f32";
  bool emitPrefill = true;
  bool emitDecode = true;
  /// Also return every layer's hidden state from @prefill (first sequence
  /// semantics are the caller's): embedding output, each layer's output, and
  /// the last one after the final norm.
  bool emitHiddenStates = false;
};

/// One weight the model reads: its checkpoint name(s) and expected shape.
struct WeightSpec {
  std::string name;            // tensor name, or name format with "{e}"
  std::vector<int64_t> shape;  // per tensor (without the expert dimension)
  int64_t numExperts = 0;      // > 0: one tensor per expert, stacked
};

/// Every weight a model with this config reads, in a stable order.
std::vector<WeightSpec> requiredWeights(const ModelConfig &config);

/// Checks every required weight against the checkpoint (exists, shape, float
/// dtype, one dtype throughout). Returns the checkpoint's weight dtype.
Result<DType> checkWeights(const ModelConfig &config, const Checkpoint &checkpoint);

/// Builds the module. `weightDType` is the element type of weight tensors
/// (the checkpoint's; bf16 when importing from a config alone).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const ModelConfig &config,
            DType weightDType, const ImportOptions &options);

/// Loads the dialects the importer emits.
void loadImporterDialects(mlir::MLIRContext &context);

} // namespace mm01

#endif // MM01_MODEL_IMPORT_IMPORTER_H
