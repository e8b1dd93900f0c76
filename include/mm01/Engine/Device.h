//===- Device.h - can this engine run on this GPU? ---------------*- C++ -*-===//
//
// The checks the runtime makes before loading an engine onto a GPU, as pure
// functions of (manifest, device properties) so that they are tested
// without a GPU, plus a thin CUDA query (queryDevice, in the separate
// MM01EngineDevice library, built only when the CUDA toolkit is found).
//
// Every refusal is one line that says what the engine needs and what the
// device has, e.g.
//   engine built for sm_90a, device 0 is NVIDIA A100 (sm_80)
//   engine needs 12.3 GiB of device memory (weights 10.1, states 1.2,
//     activations 1.0), device 0 has 9.8 GiB free
//   batch 16 exceeds the engine's max batch 8
//
//===----------------------------------------------------------------------===//
#ifndef MM01_ENGINE_DEVICE_H
#define MM01_ENGINE_DEVICE_H

#include "mm01/Engine/Engine.h"
#include "mm01/Support/Result.h"

#include <cstdint>
#include <string>

namespace mm01::engine {

/// What the runtime needs to know about one GPU (cudaDeviceProp subset plus
/// cudaMemGetInfo).
struct DeviceProperties {
  int ordinal = 0;
  std::string name;              // "NVIDIA H100 80GB HBM3"
  int major = 0, minor = 0;      // compute capability
  uint64_t totalMemory = 0;      // bytes
  uint64_t freeMemory = 0;       // bytes, at query time
  uint64_t maxSharedMemPerBlockOptin = 0; // bytes (sharedMemPerBlockOptin)
  int multiProcessorCount = 0;
};

/// A compile target "sm_<major><minor>[a|f]".
struct ArchTarget {
  int major = 0, minor = 0;
  char suffix = 0; // 0, 'a' (arch-specific: exactly this CC) or 'f' (family)
};
Result<ArchTarget> parseArch(const std::string &arch);
/// "sm_90", "sm_90a".
std::string archName(const ArchTarget &arch);
/// Whether code built for `arch` runs on compute capability major.minor:
/// 'a' targets need exactly that capability; plain and 'f' targets run on the
/// same major with an equal or higher minor.
bool archRunsOn(const ArchTarget &arch, int major, int minor);

/// Device memory an engine needs, per lifetime class (its arena sizes).
struct MemoryRequirement {
  uint64_t bytes[kNumLifetimes] = {};
  uint64_t of(Lifetime lifetime) const { return bytes[static_cast<int>(lifetime)]; }
  uint64_t total() const;
};
MemoryRequirement memoryRequirement(const Manifest &manifest);

/// Bytes as GiB with one decimal: "12.3".
std::string formatGiB(uint64_t bytes);

/// The device's compute capability runs the engine's arch.
Status checkArch(const Manifest &manifest, const DeviceProperties &device);
/// The engine's arenas (plus `reserveBytes` for the runtime's own use) fit
/// in the device's free memory.
Status checkMemory(const Manifest &manifest, const DeviceProperties &device,
                   uint64_t reserveBytes = 0);
/// Every kernel's dynamic shared memory fits the device's per-block opt-in
/// limit.
Status checkSharedMemory(const Manifest &manifest, const DeviceProperties &device);
/// checkArch, checkMemory, checkSharedMemory in that order.
Status checkDevice(const Manifest &manifest, const DeviceProperties &device,
                   uint64_t reserveBytes = 0);
/// A request of `batch` sequences and `context` tokens (the longest
/// sequence, cached plus new) fits the compiled maxima.
Status checkRequest(const Manifest &manifest, int64_t batch, int64_t context);

//===----------------------------------------------------------------------===//
// CUDA queries (library MM01EngineDevice; only with the CUDA toolkit)
//===----------------------------------------------------------------------===//

/// Number of CUDA devices; 0 when there is no device or no driver.
int cudaDeviceCount();
/// Properties and free memory of device `ordinal` (makes it current).
/// "no CUDA device found" when there is none.
Result<DeviceProperties> queryDevice(int ordinal);
/// queryDevice + checkDevice.
Result<DeviceProperties> selectDevice(const Manifest &manifest, int ordinal,
                                      uint64_t reserveBytes = 0);

} // namespace mm01::engine

#endif // MM01_ENGINE_DEVICE_H
