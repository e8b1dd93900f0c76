//===- GpuEngine.h - an mm01 engine loaded onto one GPU ----------*- C++ -*-===//
//
// The MLIR-free runtime (docs/runtime.md). load() opens and verifies the
// engine file, checks it against the device, allocates one device arena per
// lifetime class, loads the kernel images and the weights (packed in the
// engine or read from the memory-mapped checkpoint). run() executes an entry
// point's steps on a stream: kernels through the driver API, GEMMs through
// cuBLASLt, memsets and device copies through the CUDA runtime. runGraph()
// captures an entry point that depends on `batch` only (decode) once per
// batch size as a CUDA graph and replays it.
//
// Links the CUDA runtime and cuBLASLt; the driver is reached through the
// runtime (no libcuda link), and no LLVM/MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_GPUENGINE_H
#define MM01_RUNTIME_GPUENGINE_H

#include "mm01/Engine/Device.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Runtime/Call.h"
#include "mm01/Runtime/Resolve.h"
#include "mm01/Support/Result.h"

#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mm01::runtime {

class GemmRunner;
struct Driver;

struct LoadOptions {
  int device = 0;
  /// Checksum every section on open (reads the whole file once).
  bool verifySections = true;
  /// cuBLASLt workspace, allocated once (GEMMs inside CUDA graphs need it
  /// preallocated); counted in the memory check.
  uint64_t gemmWorkspaceBytes = 32ull << 20;
};

class GpuEngine {
public:
  /// Errors are one line: the engine file's (EngineReader), the device's
  /// ("engine built for sm_90a, device 0 is ... (sm_80)", "engine needs
  /// 12.3 GiB ... device 0 has 9.8 GiB free"), a weight's, or CUDA's.
  static Result<std::unique_ptr<GpuEngine>> load(const std::string &path,
                                                 const LoadOptions &options = {});
  ~GpuEngine();
  GpuEngine(const GpuEngine &) = delete;
  GpuEngine &operator=(const GpuEngine &) = delete;

  const engine::Manifest &manifest() const;
  const engine::DeviceProperties &device() const { return device_; }
  const std::string &path() const;
  const CallLimits &limits() const { return limits_; }

  /// Runs the steps of `entry` for `env` on `stream` (asynchronously). The
  /// call is checked against the engine's limits and every step is
  /// evaluated before anything is launched.
  Status run(const std::string &entry, const engine::DimEnv &env, cudaStream_t stream);
  /// As run(), through a CUDA graph captured on first use for env.batch and
  /// replayed afterwards. Refuses entry points that depend on symbols other
  /// than `batch`, and the legacy default stream (which cannot be captured).
  Status runGraph(const std::string &entry, const engine::DimEnv &env,
                  cudaStream_t stream);
  size_t capturedGraphs() const { return graphs_.size(); }

  /// Device address of a buffer; error if the engine has none by that name.
  Result<uint64_t> bufferAddress(const std::string &name) const;
  /// Host <-> device copies into / out of a buffer (stream-ordered; a
  /// download to pageable memory has completed when it returns). `offset +
  /// bytes` must lie inside the buffer.
  Status upload(const std::string &buffer, const void *data, uint64_t bytes,
                cudaStream_t stream, uint64_t offset = 0);
  Status download(const std::string &buffer, void *data, uint64_t bytes,
                  cudaStream_t stream, uint64_t offset = 0) const;
  /// Zeroes a whole arena (a fresh generation clears state and kv_cache).
  Status zeroArena(engine::Lifetime lifetime, cudaStream_t stream);

private:
  GpuEngine() = default;
  const engine::EntryPoint *entryPoint(const std::string &name, Status &error) const;
  Status execute(const engine::EntryPoint &entry,
                 const std::vector<ResolvedStep> &steps, cudaStream_t stream);
  Result<uint64_t> checkedAddress(const std::string &buffer, uint64_t offset,
                                  uint64_t bytes) const;

  std::unique_ptr<engine::EngineReader> reader_;
  engine::DeviceProperties device_;
  CallLimits limits_;
  const Driver *driver_ = nullptr;
  ArenaBases bases_{};
  std::vector<void *> arenas_;         // cudaMalloc'ed, per lifetime
  std::vector<void *> modules_;        // CUmodule per kernel-image section
  std::vector<void *> functions_;      // CUfunction per manifest kernel
  std::unique_ptr<GemmRunner> gemm_;
  std::map<std::pair<std::string, int64_t>, cudaGraphExec_t> graphs_;
};

} // namespace mm01::runtime

#endif // MM01_RUNTIME_GPUENGINE_H
