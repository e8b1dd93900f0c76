//===- Driver.h - the CUDA driver API, reached through the runtime -*- C++ -*-===//
//
// Kernel images are loaded and launched with the driver API (cuModuleLoad-
// DataEx, cuLaunchKernel[Ex]). Linking libcuda.so directly would make every
// binary that links the runtime, mm01-run included, unable to start on a
// machine without the NVIDIA driver, where mm01-run must still run the CPU
// target. So the driver entry points are fetched at run time through the
// CUDA runtime (cudaGetDriverEntryPointByVersion), which loads the driver
// lazily and reports its absence as an error.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_LIB_RUNTIME_DRIVER_H
#define MM01_LIB_RUNTIME_DRIVER_H

#include "mm01/Support/Result.h"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>

namespace mm01::runtime {

struct Driver {
  PFN_cuModuleLoadDataEx_v2010 moduleLoadDataEx = nullptr;
  PFN_cuModuleUnload_v2000 moduleUnload = nullptr;
  PFN_cuModuleGetFunction_v2000 moduleGetFunction = nullptr;
  PFN_cuFuncSetAttribute_v9000 funcSetAttribute = nullptr;
  PFN_cuLaunchKernel_v4000 launchKernel = nullptr;
  PFN_cuLaunchKernelEx_v11060 launchKernelEx = nullptr;
  PFN_cuGetErrorName_v6000 getErrorName = nullptr;

  /// The entry points, fetched once (thread-safe).
  static Result<const Driver *> get();
  /// "CUDA_ERROR_INVALID_VALUE".
  std::string errorName(CUresult result) const;
};

} // namespace mm01::runtime

#endif // MM01_LIB_RUNTIME_DRIVER_H
