//===- runtime_libraries_smoke.cpp - CUDA runtime, cuBLASLt, NCCL on a GPU -===//
//
// Checks that a binary built on a machine without a GPU (CUDA 13 toolkit,
// cudart / cuBLASLt / NCCL linked dynamically, no LLVM) runs as is on a GPU
// machine: prints the library versions and the device, runs a cuBLASLt f32
// GEMM against a CPU reference, and a single-rank NCCL all-reduce. Exit 77
// (skip) when no device is present.
//
//===----------------------------------------------------------------------===//
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK_CUDA(x)                                                          \
  do {                                                                         \
    cudaError_t e = (x);                                                       \
    if (e != cudaSuccess) {                                                    \
      std::fprintf(stderr, "FAIL: %s: %s\n", #x, cudaGetErrorString(e));       \
      return 1;                                                                \
    }                                                                          \
  } while (0)
#define CHECK_LT(x)                                                            \
  do {                                                                         \
    cublasStatus_t s = (x);                                                    \
    if (s != CUBLAS_STATUS_SUCCESS) {                                          \
      std::fprintf(stderr, "FAIL: %s: cublas status %d\n", #x, int(s));        \
      return 1;                                                                \
    }                                                                          \
  } while (0)
#define CHECK_NCCL(x)                                                          \
  do {                                                                         \
    ncclResult_t r = (x);                                                      \
    if (r != ncclSuccess) {                                                    \
      std::fprintf(stderr, "FAIL: %s: %s\n", #x, ncclGetErrorString(r));       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  int runtime = 0, driver = 0, nccl = 0;
  CHECK_CUDA(cudaRuntimeGetVersion(&runtime));
  CHECK_CUDA(cudaDriverGetVersion(&driver));
  CHECK_NCCL(ncclGetVersion(&nccl));
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device 0: %s (sm_%d%d), %d devices; CUDA runtime %d, driver %d, "
              "cuBLASLt %zu, NCCL %d\n",
              prop.name, prop.major, prop.minor, devices, runtime, driver,
              cublasLtGetVersion(), nccl);

  // cuBLASLt: C[M,N] = A[M,K] · B[K,N], column-major, f32 in and out.
  const int M = 96, N = 80, K = 112;
  std::vector<float> a(M * K), b(K * N), c(M * N, 0.f);
  for (int i = 0; i < M * K; ++i) a[i] = std::sin(0.37f * i);
  for (int i = 0; i < K * N; ++i) b[i] = std::cos(0.11f * i);
  float *dA, *dB, *dC;
  CHECK_CUDA(cudaMalloc(&dA, a.size() * 4));
  CHECK_CUDA(cudaMalloc(&dB, b.size() * 4));
  CHECK_CUDA(cudaMalloc(&dC, c.size() * 4));
  CHECK_CUDA(cudaMemcpy(dA, a.data(), a.size() * 4, cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(dB, b.data(), b.size() * 4, cudaMemcpyHostToDevice));
  cublasLtHandle_t lt;
  CHECK_LT(cublasLtCreate(&lt));
  cublasLtMatmulDesc_t op;
  CHECK_LT(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  cublasLtMatrixLayout_t la, lb, lc;
  CHECK_LT(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, M, K, M));
  CHECK_LT(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, K, N, K));
  CHECK_LT(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, M, N, M));
  float alpha = 1.f, beta = 0.f;
  CHECK_LT(cublasLtMatmul(lt, op, &alpha, dA, la, dB, lb, &beta, dC, lc, dC, lc,
                          nullptr, nullptr, 0, 0));
  CHECK_CUDA(cudaDeviceSynchronize());
  CHECK_CUDA(cudaMemcpy(c.data(), dC, c.size() * 4, cudaMemcpyDeviceToHost));
  double maxErr = 0;
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < M; ++i) {
      double ref = 0;
      for (int k = 0; k < K; ++k)
        ref += double(a[i + k * M]) * double(b[k + j * K]);
      maxErr = std::fmax(maxErr, std::fabs(ref - c[i + j * M]));
    }
  // f32 accumulation over K=112 terms of magnitude <= 1 (TF32 is not enabled).
  bool gemmOk = maxErr < 1e-3;
  std::printf("cuBLASLt f32 GEMM %dx%dx%d: max abs err %.3e %s\n", M, N, K, maxErr,
              gemmOk ? "ok" : "FAIL");

  // NCCL: a one-rank communicator and an all-reduce (sum) leave data unchanged.
  ncclComm_t comm;
  int dev0 = 0;
  CHECK_NCCL(ncclCommInitAll(&comm, 1, &dev0));
  CHECK_NCCL(ncclAllReduce(dC, dA, M * N, ncclFloat, ncclSum, comm, nullptr));
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<float> reduced(M * N);
  CHECK_CUDA(cudaMemcpy(reduced.data(), dA, reduced.size() * 4, cudaMemcpyDeviceToHost));
  bool ncclOk = reduced == c;
  std::printf("NCCL all-reduce (1 rank): %s\n", ncclOk ? "ok" : "FAIL");
  ncclCommDestroy(comm);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(op);
  cublasLtDestroy(lt);
  cudaFree(dA);
  cudaFree(dB);
  cudaFree(dC);
  return gemmOk && ncclOk ? 0 : 1;
}
