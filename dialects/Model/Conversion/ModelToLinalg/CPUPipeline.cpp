//===- CPUPipeline.cpp - mm01-cpu-pipeline: model IR to the LLVM dialect --===//
//
// The pipeline in textual form (chunk-size N):
//
//   mm01-inline-layers,
//   mm01-lower-lightning{chunk-size=N}, mm01-lower-rope,
//   mm01-lower-softmax-attention,
//   mm01-lower-to-linalg, convert-elementwise-to-linalg,
//   mm01-weights-to-arguments, canonicalize, cse, mm01-interchange-reductions,
//   --- tensors above, buffers below ---
//   mm01-runner-abi,
//   one-shot-bufferize{bufferize-function-boundaries
//                      function-boundary-type-conversion=identity-layout-map},
//   buffer-results-to-out-params{hoist-static-allocs modify-public-functions},
//   canonicalize, buffer-deallocation-pipeline, convert-bufferization-to-memref,
//   mm01-strided-copy-to-linalg, convert-linalg-to-loops, mm01-outline-loops,
//   mm01-vectorize-hints, lower-affine,
//   convert-scf-to-cf, canonicalize, cse,
//   arith-emulate-unsupported-floats{source-types=bf16 target-type=f32},
//   arith-expand{include-bf16}, expand-strided-metadata, lower-affine,
//   convert-math-to-llvm, finalize-memref-to-llvm, convert-arith-to-llvm,
//   convert-index-to-llvm, convert-cf-to-llvm,
//   convert-func-to-llvm{use-bare-ptr-memref-call-conv},
//   reconcile-unrealized-casts, mm01-finalize-llvm-attributes
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToLinalg/Passes.h"
#include "Model/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "Model/Conversion/AttentionToLinalg/Passes.h"

#include <mutex>

using namespace mlir;

namespace mm01::model {

void buildCPUTensorPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  pm.addPass(createMM01InlineLayers());
  MM01LowerLightningOptions lightning;
  lightning.chunkSize = options.chunkSize;
  pm.addPass(createMM01LowerLightning(lightning));
  pm.addPass(createMM01LowerRoPE());
  pm.addPass(createMM01LowerSoftmaxAttention());
  pm.addPass(createMM01LowerToLinalg());
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createMM01WeightsToArguments());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createMM01InterchangeReductions());
}

void buildCPULLVMPipeline(OpPassManager &pm) {
  pm.addPass(createMM01RunnerABI());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));

  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createMM01StridedCopyToLinalg());

  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createMM01OutlineLoops());
  pm.addPass(createMM01VectorizeHints());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createMM01FinalizeLLVMAttributes());
}

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  buildCPUTensorPipeline(pm, options);
  buildCPULLVMPipeline(pm);
}

void registerCPUPipeline() {
  // The attention lowerings the pipeline uses are registered by their own
  // library (registerMM01AttentionToLinalgPasses), as mm01-opt does.
  registerMM01ModelToLinalgPasses();
  static std::once_flag once;
  std::call_once(once, [] {
    PassPipelineRegistration<CPUPipelineOptions>(
        "mm01-cpu-pipeline",
        "Lower model-level IR to the LLVM dialect for the CPU JIT runner",
        buildCPUPipeline);
  });
}

} // namespace mm01::model
