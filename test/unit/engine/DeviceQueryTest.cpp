//===- DeviceQueryTest.cpp - the CUDA query (skips without a GPU) ---------===//

#include "SampleEngine.h"

#include "mm01/Engine/Device.h"

#include "../TestUtil.h"

using namespace mm01;
using namespace mm01::engine;

TEST(EngineDeviceQuery, NoDeviceIsAnErrorNotACrash) {
  if (cudaDeviceCount() > 0)
    GTEST_SKIP() << "a CUDA device is present";
  EXPECT_ERROR_CONTAINS(queryDevice(0), "no CUDA device found");
  Result<EngineWriter> writer = mm01::engine::test::makeSampleEngine();
  ASSERT_TRUE(writer.ok()) << writer.error();
  EXPECT_ERROR_CONTAINS(selectDevice(writer->manifest(), 0), "no CUDA device found");
}

TEST(EngineDeviceQuery, QueriesDevice0) {
  int count = cudaDeviceCount();
  if (count == 0)
    GTEST_SKIP() << "no CUDA device";
  Result<DeviceProperties> device = queryDevice(0);
  ASSERT_TRUE(device.ok()) << device.error();
  EXPECT_FALSE(device->name.empty());
  EXPECT_GE(device->major, 3);
  EXPECT_GT(device->totalMemory, 0u);
  EXPECT_LE(device->freeMemory, device->totalMemory);
  EXPECT_GT(device->freeMemory, 0u);
  EXPECT_GE(device->maxSharedMemPerBlockOptin, 48u * 1024);
  EXPECT_GT(device->multiProcessorCount, 0);
  std::printf("device 0: %s, sm_%d%d, %.1f GiB free of %.1f, %llu B smem/block, "
              "%d SMs\n",
              device->name.c_str(), device->major, device->minor,
              device->freeMemory / double(1ull << 30),
              device->totalMemory / double(1ull << 30),
              (unsigned long long)device->maxSharedMemPerBlockOptin,
              device->multiProcessorCount);
  EXPECT_ERROR_CONTAINS(queryDevice(count), "no CUDA device " + std::to_string(count));

  // The sample engine, retargeted to this device's arch, passes; built for
  // another arch, it is refused with the device's name.
  Result<EngineWriter> writer = mm01::engine::test::makeSampleEngine();
  ASSERT_TRUE(writer.ok()) << writer.error();
  Manifest m = writer->manifest();
  m.arch = "sm_" + std::to_string(device->major) + std::to_string(device->minor);
  if (device->major >= 9)
    m.arch += "a";
  Result<DeviceProperties> selected = selectDevice(m, 0);
  EXPECT_TRUE(selected.ok()) << selected.error();
  m.arch = device->major == 8 ? "sm_90a" : "sm_80";
  EXPECT_ERROR_CONTAINS(selectDevice(m, 0), "engine built for " + m.arch +
                                                ", device 0 is " + device->name);
}
