//===- Pipeline.cpp - the mm01-gpu-codegen pipeline ------------------------===//
//
// mm01-lightning-decode-to-gpu followed by upstream MLIR's GPU lowering:
//
//   nvvm-attach-target{chip features O}
//   gpu.module(canonicalize, cse, convert-scf-to-cf, convert-gpu-to-nvvm,
//              canonicalize, cse)
//   reconcile-unrealized-casts
//   gpu-module-to-binary{format toolkit}
//
// Only the gpu.module is lowered: the host side (func.func + gpu.launch_func)
// stays at the func/memref/gpu level; the MLIR-free launcher (test/gpu) loads
// the cubin and launches the kernel itself.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/LightningToGPU/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

namespace mm01::model::detail {
#define GEN_PASS_REGISTRATION
#include "Model/Conversion/LightningToGPU/Passes.h.inc"
} // namespace mm01::model::detail

using namespace mlir;

namespace {

struct GPUCodegenOptions : public PassPipelineOptions<GPUCodegenOptions> {
  Option<int64_t> blockColumns{*this, "block-columns",
                               llvm::cl::desc("state columns per thread block"),
                               llvm::cl::init(64)};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("threads per block"),
                          llvm::cl::init(256)};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("NVVM target chip"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("NVVM target features (pair every chip with a PTX "
                     "version)"),
      llvm::cl::init("+ptx80")};
  Option<unsigned> optLevel{*this, "O", llvm::cl::desc("LLVM/ptxas -O level"),
                            llvm::cl::init(3)};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("gpu-module-to-binary format: isa (PTX), bin (cubin via "
                     "ptxas), fatbin, offload"),
      llvm::cl::init("isa")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit root for ptxas (format=bin/fatbin); empty: "
                     "CUDA_HOME/CUDA_PATH/PATH"),
      llvm::cl::init("")};
};

void buildGPUCodegenPipeline(OpPassManager &pm, const GPUCodegenOptions &o) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "mm01-lightning-decode-to-gpu{block-columns=" << o.blockColumns
     << " threads=" << o.threads << "},"
     << "nvvm-attach-target{chip=" << o.chip << " features=" << o.features
     << " O=" << o.optLevel << "},"
     << "gpu.module(canonicalize,cse,convert-scf-to-cf,convert-gpu-to-nvvm,"
        "canonicalize,cse),"
     << "reconcile-unrealized-casts,"
     << "gpu-module-to-binary{format=" << o.format;
  if (!o.toolkit.empty())
    os << " toolkit=" << o.toolkit;
  os << "}";
  if (failed(parsePassPipeline(os.str(), pm, llvm::errs())))
    llvm::report_fatal_error("mm01-gpu-codegen: cannot build the pipeline");
}

} // namespace

void mm01::model::registerMM01LightningToGPUPasses() {
  detail::registerMM01LightningToGPUPasses();
  PassPipelineRegistration<GPUCodegenOptions>(
      "mm01-gpu-codegen",
      "mm01-lightning-decode-to-gpu, then upstream NVVM lowering and "
      "gpu-module-to-binary (PTX or cubin) for sm_90a",
      buildGPUCodegenPipeline);
}
