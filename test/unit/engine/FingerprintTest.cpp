//===- FingerprintTest.cpp - checkpoint fingerprints ----------------------===//

#include "SampleEngine.h"

#include "mm01/Engine/XXHash.h"

#include "EngineTestUtil.h"
#include "../TestUtil.h"

#include <cstdio>
#include <cstring>

#include <sys/stat.h>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::engine::test;
using mm01::test::TempDir;

namespace {

/// A one-file checkpoint with two tensors.
void writeCheckpoint(const std::string &dir, uint8_t fill = 1) {
  std::vector<TensorData> tensors = {
      {"model.norm.weight", DType::BF16, {4}, std::vector<uint8_t>(8, fill)},
      {"lm_head.weight", DType::BF16, {2, 4}, std::vector<uint8_t>(16, fill)}};
  ASSERT_TRUE(writeSafetensors(dir + "/model.safetensors", tensors).ok());
}

} // namespace

TEST(EngineFingerprint, RecordsSizeAndHeaderHash) {
  TempDir dir;
  writeCheckpoint(dir.path());
  Result<CheckpointRef> ref = fingerprintCheckpoint(dir.path(), {"lm_head.weight"}, "ck");
  ASSERT_TRUE(ref.ok()) << ref.error();
  EXPECT_EQ(ref->path, "ck");
  ASSERT_EQ(ref->files.size(), 1u);
  std::vector<uint8_t> bytes = readBytes(dir.file("model.safetensors"));
  EXPECT_EQ(ref->files[0].file, "model.safetensors");
  EXPECT_EQ(ref->files[0].size, bytes.size());
  uint64_t headerLength = getU64(bytes, 0);
  EXPECT_EQ(ref->files[0].headerHash, xxh64(bytes.data(), 8 + headerLength));
  EXPECT_TRUE(checkCheckpoint(*ref, dir.path()).ok());

  EXPECT_ERROR_CONTAINS(fingerprintCheckpoint(dir.path(), {"nope"}, "ck"),
                        "has no tensor 'nope'");
  Result<CheckpointRef> all = fingerprintCheckpoint(dir.path(), {}, dir.path());
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(all->files.size(), 1u);
}

TEST(EngineFingerprint, RefusesAChangedCheckpoint) {
  TempDir dir;
  writeCheckpoint(dir.path());
  CheckpointRef ref = fingerprintCheckpoint(dir.path(), {}, "ck").value();
  std::string file = dir.file("model.safetensors");
  std::vector<uint8_t> good = readBytes(file);

  // Same size, different header (a renamed tensor).
  std::vector<uint8_t> renamed = good;
  std::string text(renamed.begin(), renamed.end());
  size_t at = text.find("lm_head");
  ASSERT_NE(at, std::string::npos);
  renamed[at] = 'L';
  writeBytes(file, renamed);
  EXPECT_ERROR_CONTAINS(checkCheckpoint(ref, dir.path()),
                        "checkpoint file 'model.safetensors' in " + dir.path() +
                            " changed since the engine was built (header hash 0x");

  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  writeBytes(file, longer);
  EXPECT_ERROR_CONTAINS(checkCheckpoint(ref, dir.path()),
                        "changed since the engine was built (size " +
                            std::to_string(good.size() + 1) +
                            " bytes, the engine expects " + std::to_string(good.size()) +
                            ")");

  // Documented limit: only the header is hashed, new values in the same
  // layout pass.
  writeCheckpoint(dir.path(), 2);
  EXPECT_TRUE(checkCheckpoint(ref, dir.path()).ok());

  std::remove(file.c_str());
  EXPECT_ERROR_CONTAINS(checkCheckpoint(ref, dir.path()),
                        "checkpoint file 'model.safetensors' is not readable");
}

TEST(EngineFingerprint, ResolvesRelativePathsAgainstTheEngine) {
  CheckpointRef ref;
  ref.path = "ckpt";
  EXPECT_EQ(resolveCheckpointDir(ref, "/a/b/engine.mm01"), "/a/b/ckpt");
  EXPECT_EQ(resolveCheckpointDir(ref, "engine.mm01"), "ckpt");
  EXPECT_EQ(resolveCheckpointDir(ref, "out/engine.mm01"), "out/ckpt");
  ref.path = "/abs/ckpt";
  EXPECT_EQ(resolveCheckpointDir(ref, "/a/b/engine.mm01"), "/abs/ckpt");
}

TEST(EngineFingerprint, SampleEngineWithCheckpointWeights) {
  TempDir dir;
  std::string ckpt = dir.file("ckpt");
  ASSERT_EQ(::mkdir(ckpt.c_str(), 0755), 0);
  // The sample needs a config matching its tensors.
  ModelConfig config = sampleModelConfig();
  mm01::test::writeFile(ckpt + "/config.json", modelConfigToJson(config));
  std::vector<TensorData> tensors = {
      {"model.norm.weight", DType::BF16, {64}, std::vector<uint8_t>(128, 1)},
      {"lm_head.weight", DType::BF16, {128, 64}, std::vector<uint8_t>(128 * 64 * 2, 2)}};
  ASSERT_TRUE(writeSafetensors(ckpt + "/model.safetensors", tensors).ok());

  SampleOptions options;
  options.checkpointDir = ckpt;
  options.recordedPath = "ckpt";
  Result<EngineWriter> writer = makeSampleEngine(options);
  ASSERT_TRUE(writer.ok()) << writer.error();
  std::string path = dir.file("e.mm01");
  ASSERT_TRUE(writer->write(path).ok());
  auto reader = EngineReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error();
  const Manifest &m = (*reader)->manifest();
  ASSERT_TRUE(m.checkpoint.has_value());
  EXPECT_EQ(m.checkpoint->path, "ckpt");
  size_t fromCheckpoint = 0;
  for (const Weight &w : m.weights)
    fromCheckpoint += w.storage == WeightStorage::Checkpoint;
  EXPECT_EQ(fromCheckpoint, 2u);
  EXPECT_TRUE(checkCheckpoint(*m.checkpoint, resolveCheckpointDir(*m.checkpoint, path)).ok());
}
