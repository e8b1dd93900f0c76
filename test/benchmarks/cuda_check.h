// CHECK(call): exit with the file, line, call and CUDA's message when a CUDA
// runtime call fails (the measurement programs in this folder).
#ifndef MM01_TEST_BENCHMARKS_CUDA_CHECK_H
#define MM01_TEST_BENCHMARKS_CUDA_CHECK_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(x)                                                              \
  do {                                                                        \
    cudaError_t e_ = (x);                                                     \
    if (e_ != cudaSuccess) {                                                  \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x,         \
                   cudaGetErrorString(e_));                                   \
      std::exit(1);                                                           \
    }                                                                         \
  } while (0)

#endif // MM01_TEST_BENCHMARKS_CUDA_CHECK_H
