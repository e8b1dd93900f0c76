//===- Registration.cpp - passes and pipelines of the GPU engine path -----===//
//
//   mm01-gpu-schedule: mm01-inline-layers, mm01-fuse, mm01-select-tiles,
//                      mm01-model-to-kernels, mm01-plan-buffers
//   mm01-gpu-kernel-codegen{chip features O format toolkit}:
//                      the generated gpu.module to a cubin (or PTX):
//     nvvm-attach-target, gpu.module(convert-scf-to-cf,
//     convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv}, canonicalize, cse),
//     reconcile-unrealized-casts, gpu-module-to-binary
//
// No canonicalization or CSE runs on the schedule itself: its tensor.empty
// ops are distinct buffers and must not be merged.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

namespace mm01::model::detail {
#define GEN_PASS_REGISTRATION
#include "Model/Conversion/ModelToGPU/Passes.h.inc"
} // namespace mm01::model::detail

using namespace mlir;

namespace {

struct KernelCodegenOptions
    : public PassPipelineOptions<KernelCodegenOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("NVVM target chip"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("NVVM target features"),
                               llvm::cl::init("+ptx80")};
  Option<unsigned> optLevel{*this, "O", llvm::cl::desc("LLVM/ptxas -O level"),
                            llvm::cl::init(3)};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("gpu-module-to-binary format: isa (PTX), bin (cubin)"),
      llvm::cl::init("bin")};
  Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("CUDA toolkit root (ptxas, libdevice)"),
      llvm::cl::init("")};
};

void buildKernelCodegen(OpPassManager &pm, const KernelCodegenOptions &o) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "nvvm-attach-target{chip=" << o.chip << " features=" << o.features
     << " O=" << o.optLevel << "},"
     << "gpu.module(convert-scf-to-cf,"
        "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},"
        "canonicalize,cse),"
     << "reconcile-unrealized-casts,"
     << "gpu-module-to-binary{format=" << o.format;
  if (!o.toolkit.empty())
    os << " toolkit=" << o.toolkit;
  os << "}";
  if (failed(parsePassPipeline(os.str(), pm, llvm::errs())))
    llvm::report_fatal_error("mm01-gpu-kernel-codegen: cannot build the pipeline");
}

struct ScheduleOptions : public PassPipelineOptions<ScheduleOptions> {
  Option<int64_t> smCount{
      *this, "sm-count",
      llvm::cl::desc("streaming multiprocessors of the target GPU (tiling)"),
      llvm::cl::init(132)};
  Option<std::string> lightningStateUpdate{
      *this, "lightning-state-update",
      llvm::cl::desc("lightning prefill state update: hilo-tail, hilo or bf16 "
                     "(mm01-select-tiles)"),
      llvm::cl::init("hilo-tail")};
};

void buildSchedule(OpPassManager &pm, const ScheduleOptions &o) {
  if (failed(parsePassPipeline(
          "mm01-inline-layers,mm01-fuse,mm01-select-tiles{sm-count=" +
              std::to_string(o.smCount) +
              " lightning-state-update=" + o.lightningStateUpdate +
              "},mm01-model-to-kernels,mm01-plan-buffers",
          pm, llvm::errs())))
    llvm::report_fatal_error("mm01-gpu-schedule: cannot build the pipeline");
}

} // namespace

void mm01::model::registerMM01ModelToGPUPasses() {
  detail::registerMM01ModelToGPUPasses();
  PassPipelineRegistration<ScheduleOptions>(
      "mm01-gpu-schedule",
      "mm01-inline-layers, mm01-fuse, mm01-select-tiles, mm01-model-to-kernels, "
      "mm01-plan-buffers: the "
      "model IR as a planned schedule of generated kernels and GEMMs",
      buildSchedule);
  PassPipelineRegistration<KernelCodegenOptions>(
      "mm01-gpu-kernel-codegen",
      "lower the generated gpu.modules to cubin (or PTX) for sm_90a",
      buildKernelCodegen);
}
