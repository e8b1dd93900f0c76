//===- LoadPlan.cpp - device checks and weight sources, host side ----------===//
#include "mm01/Runtime/LoadPlan.h"

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;

Result<LoadPlan> mm01::runtime::planLoad(const EngineReader &reader,
                                         const DeviceProperties &device,
                                         uint64_t reserveBytes) {
  const Manifest &m = reader.manifest();
  const std::string prefix = reader.path() + ": ";
  if (m.options.worldSize != 1)
    return makeError(prefix + "engine is rank " + std::to_string(m.options.rank) +
                     " of " + std::to_string(m.options.worldSize) +
                     ": multi-rank engines (NCCL) are not supported by this runtime yet");
  if (Status s = checkDevice(m, device, reserveBytes); !s)
    return makeError(prefix + s.error());

  LoadPlan plan;
  plan.memory = memoryRequirement(m);
  bool needsCheckpoint = false;
  for (const Weight &w : m.weights)
    needsCheckpoint = needsCheckpoint || w.storage == WeightStorage::Checkpoint;
  std::string checkpointDir;
  if (needsCheckpoint) {
    // validateManifest guarantees the reference; the fingerprint comes first
    // so that a changed checkpoint is refused before any tensor is read.
    checkpointDir = resolveCheckpointDir(*m.checkpoint, reader.path());
    if (Status s = checkCheckpoint(*m.checkpoint, checkpointDir); !s)
      return makeError(prefix + s.error());
    Result<std::unique_ptr<Checkpoint>> opened = Checkpoint::open(checkpointDir);
    if (!opened)
      return makeError(prefix + opened.error());
    plan.checkpoint = std::move(opened).value();
  }

  for (const Weight &w : m.weights) {
    const Buffer *buffer = m.findBuffer(w.buffer);
    if (!buffer || buffer->lifetime != Lifetime::Weights)
      return makeError(prefix + "weight '" + w.buffer + "' has no weights buffer");
    WeightCopy copy;
    copy.buffer = w.buffer;
    copy.arenaOffset = buffer->offset;
    copy.bytes = w.byteSize();
    if (copy.bytes == 0 || copy.bytes > buffer->bytes)
      return makeError(prefix + "weight '" + w.buffer + "' (" + dtypeName(w.dtype) +
                       " " + shapeToString(w.shape) + ") does not fit its buffer (" +
                       std::to_string(buffer->bytes) + " bytes)");
    if (w.storage == WeightStorage::Packed) {
      const SectionInfo *section = reader.findSection(w.section);
      if (!section || w.sectionOffset > section->size ||
          copy.bytes > section->size - w.sectionOffset)
        return makeError(prefix + "weight '" + w.buffer + "' lies outside section '" +
                         w.section + "'");
      copy.host = reader.sectionData(*section) + w.sectionOffset;
    } else {
      const std::string &tensor = w.sources.empty() ? w.buffer : w.sources[0];
      if (!plan.checkpoint->find(tensor))
        return makeError(prefix + "weight '" + w.buffer + "': checkpoint " +
                         checkpointDir + " has no tensor '" + tensor + "'");
      if (Status s = plan.checkpoint->expect(tensor, w.dtype, w.shape); !s)
        return makeError(prefix + "weight '" + w.buffer + "': " + s.error());
      Result<const void *> data = plan.checkpoint->data(tensor);
      if (!data)
        return makeError(prefix + data.error());
      copy.host = *data;
    }
    plan.weights.push_back(copy);
  }
  return plan;
}
