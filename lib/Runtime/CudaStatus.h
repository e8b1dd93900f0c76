//===- CudaStatus.h - CUDA runtime errors as one-line Status -----*- C++ -*-===//
#ifndef MM01_LIB_RUNTIME_CUDASTATUS_H
#define MM01_LIB_RUNTIME_CUDASTATUS_H

#include "mm01/Support/Result.h"

#include <cuda_runtime_api.h>

#include <string>

namespace mm01::runtime {

/// Success, or "<what>: <CUDA's message>". Clears the sticky last error of
/// non-fatal failures so that the next call does not report it again.
inline Status cudaStatus(cudaError_t err, const std::string &what) {
  if (err == cudaSuccess)
    return Status::success();
  cudaGetLastError();
  return makeError(what + ": " + cudaGetErrorName(err) + " (" +
                   cudaGetErrorString(err) + ")");
}

} // namespace mm01::runtime

#endif // MM01_LIB_RUNTIME_CUDASTATUS_H
