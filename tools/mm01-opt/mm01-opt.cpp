//===- mm01-opt.cpp - mlir-opt for the mm01 dialects and passes -----------===//
#include "Model/Conversion/AttentionToLinalg/Passes.h"
#include "Model/Conversion/LightningToGPU/Passes.h"
#include "Model/Conversion/ModelToGPU/Passes.h"
#include "Kernel/IR/KernelDialect.h"
#include "Model/Conversion/ModelToGPU/LightningDecodeKernel.h"
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"
#include "Model/Conversion/ModelToGPU/MoEKernels.h"
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"
#include "Model/Conversion/ModelToLinalg/Passes.h"
#include "Model/IR/ModelDialect.h"
#include "Model/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mm01::model::registerMM01ModelPasses();
  mm01::model::registerCPUPipeline();
  mm01::model::registerMM01AttentionToLinalgPasses();
  mm01::model::registerMM01LightningToGPUPasses();
  mm01::model::registerMM01ModelToGPUPasses();
  mm01::gpu::registerTestLightningPrefillKernelPass();
  mm01::gpu::registerTestLightningDecodeKernelPass();
  mm01::gpu::registerMoETestPass();
  mm01::gpu::registerSoftmaxAttentionTestPass();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates gpu.modules to LLVM IR (as mlir-opt does).
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<mm01::model::MM01Dialect, mm01::kernel::MM01KDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mm01 optimizer driver\n", registry));
}
