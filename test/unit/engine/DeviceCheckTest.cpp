//===- DeviceCheckTest.cpp - engine vs. device, without a GPU -------------===//

#include "SampleEngine.h"

#include "mm01/Engine/Device.h"

#include "../TestUtil.h"

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::engine::test;

namespace {

constexpr uint64_t GiB = 1ull << 30;

DeviceProperties h100() {
  DeviceProperties d;
  d.ordinal = 0;
  d.name = "NVIDIA H100 80GB HBM3";
  d.major = 9;
  d.minor = 0;
  d.totalMemory = 80 * GiB;
  d.freeMemory = 79 * GiB;
  d.maxSharedMemPerBlockOptin = 232448;
  d.multiProcessorCount = 132;
  return d;
}

DeviceProperties a100() {
  DeviceProperties d = h100();
  d.name = "NVIDIA A100";
  d.major = 8;
  d.minor = 0;
  d.maxSharedMemPerBlockOptin = 166912;
  return d;
}

Manifest sampleManifest() {
  Result<EngineWriter> writer = makeSampleEngine();
  EXPECT_TRUE(writer.ok()) << writer.error();
  return writer->manifest();
}

/// A manifest whose arenas have the given sizes (one buffer per class).
Manifest withArenas(uint64_t weights, uint64_t state, uint64_t kv,
                    uint64_t activation, uint64_t workspace) {
  Manifest m;
  const std::pair<Lifetime, uint64_t> sizes[] = {{Lifetime::Weights, weights},
                                                 {Lifetime::State, state},
                                                 {Lifetime::KVCache, kv},
                                                 {Lifetime::Activation, activation},
                                                 {Lifetime::Workspace, workspace}};
  for (const auto &[lifetime, bytes] : sizes)
    if (bytes)
      m.buffers.push_back(Buffer{std::string(lifetimeName(lifetime)) + "_arena",
                                 lifetime, bytes, 256, 0});
  return m;
}

} // namespace

TEST(EngineDevice, ParseArch) {
  Result<ArchTarget> a = parseArch("sm_90a");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->major, 9);
  EXPECT_EQ(a->minor, 0);
  EXPECT_EQ(a->suffix, 'a');
  EXPECT_EQ(archName(*a), "sm_90a");
  Result<ArchTarget> b = parseArch("sm_100f");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->major, 10);
  EXPECT_EQ(b->minor, 0);
  EXPECT_EQ(b->suffix, 'f');
  Result<ArchTarget> c = parseArch("sm_86");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(archName(*c), "sm_86");
  for (const char *bad : {"sm90", "sm_9", "compute_90", "sm_90b", "sm_", "sm_0a",
                          "sm_x0", "", "sm_123456"})
    EXPECT_ERROR_CONTAINS(parseArch(bad), std::string("arch '") + bad + "'");
}

TEST(EngineDevice, ArchCompatibility) {
  ArchTarget sm90a = parseArch("sm_90a").value();
  EXPECT_TRUE(archRunsOn(sm90a, 9, 0));
  EXPECT_FALSE(archRunsOn(sm90a, 10, 0));
  EXPECT_FALSE(archRunsOn(sm90a, 8, 0));
  ArchTarget sm80 = parseArch("sm_80").value();
  EXPECT_TRUE(archRunsOn(sm80, 8, 0));
  EXPECT_TRUE(archRunsOn(sm80, 8, 6));
  EXPECT_FALSE(archRunsOn(sm80, 9, 0));
  ArchTarget sm100f = parseArch("sm_100f").value();
  EXPECT_TRUE(archRunsOn(sm100f, 10, 3));
  EXPECT_FALSE(archRunsOn(sm100f, 12, 0));
}

TEST(EngineDevice, ArchMismatch) {
  Manifest m = sampleManifest();
  EXPECT_TRUE(checkArch(m, h100()).ok());
  Status s = checkArch(m, a100());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "engine built for sm_90a, device 0 is NVIDIA A100 (sm_80)");
  DeviceProperties b200 = h100();
  b200.ordinal = 3;
  b200.name = "NVIDIA B200";
  b200.major = 10;
  EXPECT_EQ(checkArch(m, b200).error(),
            "engine built for sm_90a, device 3 is NVIDIA B200 (sm_100)");
  EXPECT_EQ(checkDevice(m, a100()).error(),
            "engine built for sm_90a, device 0 is NVIDIA A100 (sm_80)");
}

TEST(EngineDevice, NotEnoughMemory) {
  // 10.1 + 1.2 + 1.0 GiB against 9.8 GiB free.
  Manifest m = withArenas(10844792422ull, 1288490189ull, 0, 1073741824ull, 0);
  MemoryRequirement req = memoryRequirement(m);
  EXPECT_EQ(req.of(Lifetime::Weights), 10844792422ull);
  EXPECT_EQ(req.total(), 10844792422ull + 1288490189ull + 1073741824ull);
  DeviceProperties d = h100();
  d.freeMemory = 10522669875ull;
  Status s = checkMemory(m, d);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "engine needs 12.3 GiB of device memory (weights 10.1, states "
                       "1.2, activations 1.0), device 0 has 9.8 GiB free");

  Manifest all = withArenas(GiB, GiB, 2 * GiB, GiB, GiB / 2);
  d.freeMemory = 6 * GiB;
  EXPECT_TRUE(checkMemory(all, d).ok());
  EXPECT_EQ(checkMemory(all, d, GiB).error(),
            "engine needs 6.5 GiB of device memory (weights 1.0, states 1.0, kv "
            "cache 2.0, activations 1.0, workspace 0.5, runtime reserve 1.0), device "
            "0 has 6.0 GiB free");
  d.freeMemory = 5.5 * GiB; // exactly enough
  EXPECT_TRUE(checkMemory(all, d).ok());
  d.freeMemory -= 1;
  EXPECT_FALSE(checkMemory(all, d).ok());
}

TEST(EngineDevice, ArenaSizesCountOverlapsOnce) {
  Manifest m;
  m.buffers.push_back(Buffer{"a", Lifetime::Activation, 1000, 256, 0});
  m.buffers.push_back(Buffer{"b", Lifetime::Activation, 500, 256, 256});
  m.buffers.push_back(Buffer{"c", Lifetime::Activation, 100, 256, 0});
  m.buffers.push_back(Buffer{"w", Lifetime::Weights, 100, 256, 512});
  EXPECT_EQ(m.arenaBytes(Lifetime::Activation), 1000u);
  EXPECT_EQ(m.arenaBytes(Lifetime::Weights), 612u);
  EXPECT_EQ(m.arenaBytes(Lifetime::State), 0u);
}

TEST(EngineDevice, SharedMemory) {
  Manifest m = sampleManifest();
  EXPECT_TRUE(checkSharedMemory(m, h100()).ok());
  m.kernels[2].dynamicSmemBytes = 232448;
  EXPECT_TRUE(checkSharedMemory(m, h100()).ok());
  m.kernels[2].dynamicSmemBytes = 232449;
  EXPECT_EQ(checkSharedMemory(m, h100()).error(),
            "kernel 'decode_attention' needs 232449 bytes of dynamic shared memory, "
            "device 0 allows 232448 per block");
  EXPECT_ERROR_CONTAINS(checkDevice(m, h100()), "kernel 'decode_attention'");
}

TEST(EngineDevice, RequestLimits) {
  Manifest m = sampleManifest();
  m.options.maxBatch = 8;
  m.options.maxContext = 4096;
  EXPECT_TRUE(checkRequest(m, 1, 1).ok());
  EXPECT_TRUE(checkRequest(m, 8, 4096).ok());
  EXPECT_EQ(checkRequest(m, 16, 100).error(), "batch 16 exceeds the engine's max batch 8");
  EXPECT_EQ(checkRequest(m, 8, 4097).error(),
            "context 4097 exceeds the engine's max context 4096");
  EXPECT_EQ(checkRequest(m, 0, 10).error(), "batch 0 must be at least 1");
  EXPECT_EQ(checkRequest(m, 1, 0).error(), "context 0 must be at least 1");
}

TEST(EngineDevice, SampleFitsAnH100) {
  EXPECT_TRUE(checkDevice(sampleManifest(), h100()).ok());
}

TEST(EngineDevice, FormatGiB) {
  EXPECT_EQ(formatGiB(0), "0.0");
  EXPECT_EQ(formatGiB(GiB), "1.0");
  EXPECT_EQ(formatGiB(GiB + GiB / 4), "1.2"); // 1.25 rounds to even
  EXPECT_EQ(formatGiB(80 * GiB), "80.0");
}
