//===- DeviceQuery.cpp - the CUDA side of the device checks ---------------===//
//
// A thin wrapper over the CUDA runtime (cudaGetDeviceCount,
// cudaGetDeviceProperties, cudaMemGetInfo). Built into MM01EngineDevice only
// when the CUDA toolkit is found; on a machine without a GPU or driver it
// reports "no CUDA device found" instead of failing.
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/Device.h"

#include <cuda_runtime_api.h>

using namespace mm01;
using namespace mm01::engine;

int mm01::engine::cudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError(); // reset the last-error state
    return 0;
  }
  return count;
}

Result<DeviceProperties> mm01::engine::queryDevice(int ordinal) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return makeError(std::string("no CUDA device found (") +
                     cudaGetErrorString(err) + ")");
  }
  if (count == 0)
    return makeError("no CUDA device found");
  if (ordinal < 0 || ordinal >= count)
    return makeError("no CUDA device " + std::to_string(ordinal) + " (found " +
                     std::to_string(count) + ")");
  cudaDeviceProp prop;
  err = cudaGetDeviceProperties(&prop, ordinal);
  if (err != cudaSuccess)
    return makeError("device " + std::to_string(ordinal) +
                     ": cudaGetDeviceProperties failed: " + cudaGetErrorString(err));
  err = cudaSetDevice(ordinal);
  if (err != cudaSuccess)
    return makeError("device " + std::to_string(ordinal) +
                     ": cudaSetDevice failed: " + cudaGetErrorString(err));
  size_t freeBytes = 0, totalBytes = 0;
  err = cudaMemGetInfo(&freeBytes, &totalBytes);
  if (err != cudaSuccess)
    return makeError("device " + std::to_string(ordinal) +
                     ": cudaMemGetInfo failed: " + cudaGetErrorString(err));
  DeviceProperties device;
  device.ordinal = ordinal;
  device.name = prop.name;
  device.major = prop.major;
  device.minor = prop.minor;
  device.totalMemory = totalBytes;
  device.freeMemory = freeBytes;
  device.maxSharedMemPerBlockOptin = prop.sharedMemPerBlockOptin;
  device.multiProcessorCount = prop.multiProcessorCount;
  return device;
}

Result<DeviceProperties> mm01::engine::selectDevice(const Manifest &manifest,
                                                    int ordinal,
                                                    uint64_t reserveBytes) {
  Result<DeviceProperties> device = queryDevice(ordinal);
  if (!device)
    return device;
  Status ok = checkDevice(manifest, *device, reserveBytes);
  if (!ok)
    return Error{ok.error()};
  return device;
}
