//===- DeviceCheck.cpp - engine vs. device, as pure functions -------------===//
//
// No CUDA here: the checks take a DeviceProperties value, which the CUDA
// query (DeviceQuery.cpp) fills in on a GPU machine and tests fill in by
// hand.
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/Device.h"

#include <cctype>
#include <cstdio>

using namespace mm01;
using namespace mm01::engine;

Result<ArchTarget> mm01::engine::parseArch(const std::string &arch) {
  auto bad = [&]() {
    return makeError("arch '" + arch +
                     "' is not of the form sm_<major><minor>[a|f] (e.g. sm_90a)");
  };
  if (arch.size() < 5 || arch.compare(0, 3, "sm_") != 0)
    return bad();
  size_t end = arch.size();
  ArchTarget target;
  if (arch.back() == 'a' || arch.back() == 'f') {
    target.suffix = arch.back();
    --end;
  }
  std::string digits = arch.substr(3, end - 3);
  if (digits.size() < 2 || digits.size() > 4)
    return bad();
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return bad();
  // The last digit is the minor version: sm_90 -> 9.0, sm_100 -> 10.0.
  target.minor = digits.back() - '0';
  target.major = std::stoi(digits.substr(0, digits.size() - 1));
  if (target.major == 0)
    return bad();
  return target;
}

std::string mm01::engine::archName(const ArchTarget &arch) {
  std::string name = "sm_" + std::to_string(arch.major) + std::to_string(arch.minor);
  if (arch.suffix)
    name += arch.suffix;
  return name;
}

bool mm01::engine::archRunsOn(const ArchTarget &arch, int major, int minor) {
  if (arch.suffix == 'a')
    return major == arch.major && minor == arch.minor;
  return major == arch.major && minor >= arch.minor;
}

uint64_t MemoryRequirement::total() const {
  uint64_t sum = 0;
  for (uint64_t b : bytes)
    sum += b;
  return sum;
}

MemoryRequirement mm01::engine::memoryRequirement(const Manifest &manifest) {
  MemoryRequirement req;
  for (int i = 0; i < kNumLifetimes; ++i)
    req.bytes[i] = manifest.arenaBytes(static_cast<Lifetime>(i));
  return req;
}

std::string mm01::engine::formatGiB(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f",
                static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

namespace {
std::string deviceName(const DeviceProperties &device) {
  return "device " + std::to_string(device.ordinal);
}
} // namespace

Status mm01::engine::checkArch(const Manifest &manifest,
                               const DeviceProperties &device) {
  Result<ArchTarget> arch = parseArch(manifest.arch);
  if (!arch)
    return makeError("engine: " + arch.error());
  if (archRunsOn(*arch, device.major, device.minor))
    return Status::success();
  ArchTarget found{device.major, device.minor, 0};
  return makeError("engine built for " + manifest.arch + ", " + deviceName(device) +
                   " is " + device.name + " (" + archName(found) + ")");
}

Status mm01::engine::checkMemory(const Manifest &manifest,
                                 const DeviceProperties &device,
                                 uint64_t reserveBytes) {
  MemoryRequirement req = memoryRequirement(manifest);
  uint64_t need = req.total() + reserveBytes;
  if (need <= device.freeMemory)
    return Status::success();
  static const char *const labels[kNumLifetimes] = {
      "weights", "states", "kv cache", "activations", "workspace"};
  std::string parts;
  for (int i = 0; i < kNumLifetimes; ++i) {
    if (i != 0 && req.bytes[i] == 0)
      continue;
    parts += parts.empty() ? "" : ", ";
    parts += std::string(labels[i]) + " " + formatGiB(req.bytes[i]);
  }
  if (reserveBytes > 0)
    parts += ", runtime reserve " + formatGiB(reserveBytes);
  return makeError("engine needs " + formatGiB(need) +
                   " GiB of device memory (" + parts + "), " +
                   deviceName(device) + " has " + formatGiB(device.freeMemory) +
                   " GiB free");
}

Status mm01::engine::checkSharedMemory(const Manifest &manifest,
                                       const DeviceProperties &device) {
  for (const Kernel &k : manifest.kernels)
    if (k.dynamicSmemBytes > device.maxSharedMemPerBlockOptin)
      return makeError("kernel '" + k.name + "' needs " +
                       std::to_string(k.dynamicSmemBytes) +
                       " bytes of dynamic shared memory, " + deviceName(device) +
                       " allows " + std::to_string(device.maxSharedMemPerBlockOptin) +
                       " per block");
  return Status::success();
}

Status mm01::engine::checkDevice(const Manifest &manifest,
                                 const DeviceProperties &device,
                                 uint64_t reserveBytes) {
  Status ok = checkArch(manifest, device);
  if (!ok)
    return ok;
  ok = checkMemory(manifest, device, reserveBytes);
  if (!ok)
    return ok;
  return checkSharedMemory(manifest, device);
}

Status mm01::engine::checkRequest(const Manifest &manifest, int64_t batch,
                                  int64_t context) {
  if (batch < 1)
    return makeError("batch " + std::to_string(batch) + " must be at least 1");
  if (batch > manifest.options.maxBatch)
    return makeError("batch " + std::to_string(batch) +
                     " exceeds the engine's max batch " +
                     std::to_string(manifest.options.maxBatch));
  if (context < 1)
    return makeError("context " + std::to_string(context) + " must be at least 1");
  if (context > manifest.options.maxContext)
    return makeError("context " + std::to_string(context) +
                     " exceeds the engine's max context " +
                     std::to_string(manifest.options.maxContext));
  return Status::success();
}
