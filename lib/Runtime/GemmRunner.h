//===- GemmRunner.h - the schedule's GEMMs through cuBLASLt ------*- C++ -*-===//
//
// One cuBLASLt handle and a preallocated workspace per engine (so that
// GEMMs can be captured in CUDA graphs), and a cache of matmul descriptors,
// layouts and the heuristic's algorithm per distinct problem (sizes, types,
// transposes, leading dimensions, pointer alignment).
//
//===----------------------------------------------------------------------===//
#ifndef MM01_LIB_RUNTIME_GEMMRUNNER_H
#define MM01_LIB_RUNTIME_GEMMRUNNER_H

#include "mm01/Runtime/Resolve.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <tuple>

namespace mm01::runtime {

class GemmRunner {
public:
  static Result<std::unique_ptr<GemmRunner>> create(uint64_t workspaceBytes);
  ~GemmRunner();
  GemmRunner(const GemmRunner &) = delete;
  GemmRunner &operator=(const GemmRunner &) = delete;

  /// Builds (once per problem) the descriptors and picks the algorithm;
  /// done before a stream capture so that the capture only records matmuls.
  Status prepare(const ResolvedGemm &gemm);
  Status run(const ResolvedGemm &gemm, cudaStream_t stream);
  size_t cachedPlans() const { return plans.size(); }

private:
  GemmRunner() = default;
  using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool, int64_t, int64_t,
                         int64_t, int, int, unsigned, unsigned, unsigned>;
  struct Plan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  static Key keyOf(const ResolvedGemm &gemm);
  Result<Plan *> plan(const ResolvedGemm &gemm);

  cublasLtHandle_t handle = nullptr;
  void *workspace = nullptr;
  uint64_t workspaceBytes = 0;
  std::map<Key, Plan> plans;
};

} // namespace mm01::runtime

#endif // MM01_LIB_RUNTIME_GEMMRUNNER_H
