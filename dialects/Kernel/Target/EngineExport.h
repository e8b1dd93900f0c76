//===- EngineExport.h - mm01k schedule -> engine file -----------*- C++ -*-===//
//
// The last step of `mm01-compile --target=sm_90a`: reads the planned
// schedule (mm01-plan-buffers' annotations), the generated kernel images
// (gpu.binary ops from gpu-module-to-binary) and the checkpoint, and fills
// an EngineWriter: buffers, weights (checkpoint-referenced where the device
// layout is the checkpoint tensor, packed where it is re-laid-out), kernels,
// and one entry point per entry function whose steps are the launches and
// GEMMs in schedule order.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_KERNEL_TARGET_ENGINEEXPORT_H
#define MM01_KERNEL_TARGET_ENGINEEXPORT_H

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Engine/Engine.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mm01::kernel {

/// Parameter types of each generated gpu.func (by symbol name), collected
/// before code generation replaces the gpu.modules by binaries.
using KernelSignatures = llvm::StringMap<std::vector<engine::ParamType>>;
Result<KernelSignatures> collectKernelSignatures(mlir::ModuleOp module);

struct EngineExportOptions {
  ModelConfig config;
  engine::CompileOptions options;
  std::string arch = "sm_90a";
  std::string checkpointDir;      // where to read packed weights from
  std::string checkpointRecorded; // the path the manifest records
};

/// Fills `writer` from the compiled module. Errors name the op or buffer.
Status exportEngine(mlir::ModuleOp module, const KernelSignatures &signatures,
                    const EngineExportOptions &options,
                    engine::EngineWriter &writer);

} // namespace mm01::kernel

#endif // MM01_KERNEL_TARGET_ENGINEEXPORT_H
