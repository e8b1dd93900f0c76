//===- LoadPlan.h - what loading an engine onto a GPU takes, host side -*- C++ -*-===//
//
// Everything the loader decides before it touches the GPU: that the engine
// runs on the device (arch, memory for its arenas plus the runtime's reserve,
// shared memory, one rank), and where every weight's bytes come from (a
// packed engine section, or a memory-mapped checkpoint tensor whose file
// fingerprint, dtype and shape match the manifest). Pure host code: the
// refusals are tested without a GPU by passing DeviceProperties by hand.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_LOADPLAN_H
#define MM01_RUNTIME_LOADPLAN_H

#include "mm01/Checkpoint/Safetensors.h"
#include "mm01/Engine/Device.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Support/Result.h"

#include <memory>
#include <string>
#include <vector>

namespace mm01::runtime {

/// One weight to copy host -> device.
struct WeightCopy {
  std::string buffer;       // the weights buffer it fills
  uint64_t arenaOffset = 0; // the buffer's offset in the weights arena
  const void *host = nullptr; // in the engine or checkpoint mapping
  uint64_t bytes = 0;
};

struct LoadPlan {
  engine::MemoryRequirement memory;
  std::vector<WeightCopy> weights;
  /// Keeps the checkpoint mapped while `weights` point into it.
  std::unique_ptr<Checkpoint> checkpoint;
};

/// Checks the engine against the device (checkDevice with `reserveBytes`
/// for the runtime's own allocations) and that it is single-rank, then
/// finds every weight's bytes. Errors are one line, prefixed by the engine
/// path where the engine itself is at fault.
Result<LoadPlan> planLoad(const engine::EngineReader &reader,
                          const engine::DeviceProperties &device,
                          uint64_t reserveBytes);

} // namespace mm01::runtime

#endif // MM01_RUNTIME_LOADPLAN_H
