//===- SampleEngine.h - a small, complete engine for tests ------*- C++ -*-===//
//
// Builds an engine that uses every part of the format: kernel images (cubin
// and PTX, fake bytes), packed weights, an opaque schedule blob, an empty
// section, buffers of every lifetime class, kernels with expression grids,
// and prefill/decode entry points with every kind of step. With a
// checkpoint directory, the model config comes from it and two weights are
// referenced from the checkpoint instead of packed.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TEST_UNIT_ENGINE_SAMPLEENGINE_H
#define MM01_TEST_UNIT_ENGINE_SAMPLEENGINE_H

#include "mm01/Engine/Engine.h"

#include <string>

namespace mm01::engine::test {

/// A valid 2-layer config (lightning, softmax), hidden 64, 4 heads of 16.
ModelConfig sampleModelConfig();

struct SampleOptions {
  std::string checkpointDir;  // empty: every weight packed
  std::string recordedPath;   // the checkpoint path stored in the manifest
                              // (defaults to checkpointDir)
};

Result<EngineWriter> makeSampleEngine(const SampleOptions &options = {});

} // namespace mm01::engine::test

#endif // MM01_TEST_UNIT_ENGINE_SAMPLEENGINE_H
