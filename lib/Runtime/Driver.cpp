//===- Driver.cpp - driver entry points through the CUDA runtime -----------===//
#include "Driver.h"

#include <cuda_runtime_api.h>

using namespace mm01;
using namespace mm01::runtime;

namespace {
template <typename Fn>
Status fetch(const char *symbol, Fn &fn) {
  void *ptr = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  // 12000: the ABI of these functions has not changed since CUDA 12.0.
  cudaError_t err =
      cudaGetDriverEntryPointByVersion(symbol, &ptr, 12000, cudaEnableDefault, &found);
  if (err != cudaSuccess || found != cudaDriverEntryPointSuccess || !ptr) {
    cudaGetLastError();
    return makeError(std::string("cannot find the CUDA driver function ") + symbol +
                     (err != cudaSuccess ? std::string(" (") + cudaGetErrorString(err) + ")"
                                         : std::string()));
  }
  fn = reinterpret_cast<Fn>(ptr);
  return Status::success();
}

Result<Driver> load() {
  Driver d;
  Status s;
  if (!(s = fetch("cuModuleLoadDataEx", d.moduleLoadDataEx)) ||
      !(s = fetch("cuModuleUnload", d.moduleUnload)) ||
      !(s = fetch("cuModuleGetFunction", d.moduleGetFunction)) ||
      !(s = fetch("cuFuncSetAttribute", d.funcSetAttribute)) ||
      !(s = fetch("cuLaunchKernel", d.launchKernel)) ||
      !(s = fetch("cuLaunchKernelEx", d.launchKernelEx)) ||
      !(s = fetch("cuGetErrorName", d.getErrorName)))
    return Error{s.error()};
  return d;
}
} // namespace

Result<const Driver *> Driver::get() {
  static const Result<Driver> driver = load();
  if (!driver)
    return makeError(driver.error());
  return &driver.value();
}

std::string Driver::errorName(CUresult result) const {
  const char *name = nullptr;
  if (getErrorName && getErrorName(result, &name) == CUDA_SUCCESS && name)
    return name;
  return "CUresult " + std::to_string(static_cast<int>(result));
}
