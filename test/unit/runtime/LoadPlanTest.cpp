//===- LoadPlanTest.cpp - refusals before the GPU is touched ---------------===//
#include "mm01/Runtime/LoadPlan.h"

#include "ToyEngine.h"

#include "../TestUtil.h"

#include <cstring>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;
using namespace mm01::runtime::test;
using mm01::test::TempDir;

namespace {
DeviceProperties h100() {
  DeviceProperties d;
  d.name = "NVIDIA H100 80GB HBM3";
  d.major = 9;
  d.minor = 0;
  d.totalMemory = d.freeMemory = 80ull << 30;
  d.maxSharedMemPerBlockOptin = 232448;
  return d;
}

Result<LoadPlan> plan(const std::string &path, const DeviceProperties &device,
                      uint64_t reserve = 0) {
  auto reader = EngineReader::open(path);
  if (!reader)
    return reader.takeError();
  // The plan points into the reader's mapping: keep it alive for the test.
  static std::vector<std::unique_ptr<EngineReader>> keep;
  keep.push_back(std::move(reader).value());
  return planLoad(*keep.back(), device, reserve);
}
} // namespace

TEST(LoadPlan, FindsPackedAndCheckpointWeights) {
  TempDir dir;
  auto path = writeToyEngine(dir.path());
  ASSERT_TRUE(path.ok()) << path.error();
  auto p = plan(*path, h100());
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->weights.size(), 3u);
  Manifest m = toyManifest();
  EXPECT_EQ(p->memory.of(Lifetime::Weights), m.arenaBytes(Lifetime::Weights));
  for (const WeightCopy &w : p->weights) {
    EXPECT_EQ(w.arenaOffset, m.findBuffer(w.buffer)->offset) << w.buffer;
    if (w.buffer == "embed") {
      ASSERT_EQ(w.bytes, uint64_t(kVocab * kHidden * 4));
      float f;
      std::memcpy(&f, static_cast<const uint8_t *>(w.host) + 4 * (3 * kHidden + 5), 4);
      EXPECT_EQ(f, embedValue(3, 5));
    } else if (w.buffer == "lm_head") {
      ASSERT_EQ(w.bytes, uint64_t(kVocab * kHidden * 2));
      uint16_t bits;
      std::memcpy(&bits, static_cast<const uint8_t *>(w.host) + 2 * (7 * kHidden + 9), 2);
      EXPECT_EQ(bits, lmHeadBits(7, 9));
    } else {
      EXPECT_EQ(w.buffer, "proj");
      EXPECT_EQ(w.bytes, uint64_t(kHidden * kProj * 4));
    }
  }
}

TEST(LoadPlan, RefusesAnotherArch) {
  TempDir dir;
  auto path = writeToyEngine(dir.path());
  ASSERT_TRUE(path.ok()) << path.error();
  DeviceProperties a100 = h100();
  a100.name = "NVIDIA A100-SXM4-80GB";
  a100.major = 8;
  EXPECT_ERROR_CONTAINS(plan(*path, a100),
                        "toy.mm01: engine built for sm_90a, device 0 is NVIDIA A100-SXM4-80GB "
                        "(sm_80)");
  DeviceProperties b200 = h100();
  b200.major = 10;
  EXPECT_ERROR_CONTAINS(plan(*path, b200), "engine built for sm_90a, device 0 is");
}

TEST(LoadPlan, RefusesTooLittleMemoryWithTheBreakdown) {
  TempDir dir;
  auto path = writeToyEngine(dir.path());
  ASSERT_TRUE(path.ok()) << path.error();
  DeviceProperties small = h100();
  small.freeMemory = 1ull << 30;
  // The runtime's reserve (the cuBLASLt workspace) counts.
  EXPECT_ERROR_CONTAINS(plan(*path, small, 2ull << 30),
                        "engine needs 2.0 GiB of device memory (weights 0.0, states 0.0, "
                        "kv cache 0.0, activations 0.0, runtime reserve 2.0), device 0 has "
                        "1.0 GiB free");
  EXPECT_TRUE(plan(*path, small, 32ull << 20).ok());
}

TEST(LoadPlan, RefusesMissingOrMismatchedCheckpointWeights) {
  {
    TempDir dir;
    ToyOptions o;
    o.checkpointTensor = "lm_head.renamed";
    auto path = writeToyEngine(dir.path(), o);
    ASSERT_TRUE(path.ok()) << path.error();
    EXPECT_ERROR_CONTAINS(plan(*path, h100()),
                          "weight 'lm_head': checkpoint " + dir.path() +
                              "/ckpt has no tensor 'lm_head.weight'");
  }
  {
    TempDir dir;
    ToyOptions o;
    o.checkpointDType = DType::F32;
    auto path = writeToyEngine(dir.path(), o);
    ASSERT_TRUE(path.ok()) << path.error();
    auto p = plan(*path, h100());
    EXPECT_ERROR_CONTAINS(p, "toy.mm01: weight 'lm_head': ");
    EXPECT_ERROR_CONTAINS(p, "ckpt/model.safetensors: tensor 'lm_head.weight': expected "
                             "shape [96, 64] BF16, found [96, 64] F32");
  }
  {
    // Rewritten after the engine was built: refused before any tensor is read.
    TempDir dir;
    auto path = writeToyEngine(dir.path());
    ASSERT_TRUE(path.ok()) << path.error();
    TensorData t{"lm_head.weight", DType::BF16, {kVocab, kHidden - 1},
                 std::vector<uint8_t>(kVocab * (kHidden - 1) * 2)};
    ASSERT_TRUE(writeSafetensors(dir.file("ckpt/model.safetensors"), {t}).ok());
    EXPECT_ERROR_CONTAINS(plan(*path, h100()), "changed since the engine was built");
  }
  {
    TempDir dir;
    auto path = writeToyEngine(dir.path());
    ASSERT_TRUE(path.ok()) << path.error();
    ASSERT_EQ(std::remove(dir.file("ckpt/model.safetensors").c_str()), 0);
    auto p = plan(*path, h100());
    EXPECT_ERROR_CONTAINS(p, "model.safetensors");
  }
}

TEST(LoadPlan, RefusesMultiRankEngines) {
  TempDir dir;
  ToyOptions o;
  o.worldSize = 2;
  auto path = writeToyEngine(dir.path(), o);
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_ERROR_CONTAINS(plan(*path, h100()),
                        "engine is rank 0 of 2: multi-rank engines (NCCL) are not supported "
                        "by this runtime yet");
}
