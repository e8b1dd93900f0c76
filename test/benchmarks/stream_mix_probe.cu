// How fast can this GPU move the lightning prefill's bytes at all? The
// outputs kernel reads Q, K, V and writes O: three reads to one write, where
// the benchmark's "copy" bandwidth (torch's copy_) is one to one. The probe
// streams that mix with plain 16-byte loads and stores (no arithmetic to
// speak of) over tensors of the benchmark's B1 H64 T32K D128 size (512 MiB
// each), next to a copy and a read-only stream of the same kernel shape and
// cudaMemcpy, so that the plan's time can be compared with the fastest any
// kernel moves its must-move bytes (docs/lightning-prefill.md, "What limits
// it now").
//
// Built with the tree as build/test/gpu/stream_mix_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU:
//   stream_mix_probe [MiB per tensor] [--sustain SECONDS]   (default 512)
// Prints per launch shape (blocks per SM x threads) GB/s counted as bytes
// read plus bytes written, median of 21 runs after 3. With --sustain, the
// 3 : 1 stream then runs back to back for that long (after 3 s idle), each
// batch of 10 printed as `SUSTAIN {json}` with the host time it ended, to
// line up with nvidia-smi's clock and power samples: whether moving the
// bytes alone holds the board at its power cap (docs/benchmarks/power-*.md).
#include "cuda_check.h"
#include "event_timer.h"

#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

// o = a (one read, one write per element).
__global__ void copyStream(const int4 *__restrict__ a, int4 *__restrict__ o, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    o[i] = a[i];
}

// o = a ^ b ^ c (the outputs kernel's mix: three reads, one write).
__global__ void threeToOneStream(const int4 *__restrict__ a, const int4 *__restrict__ b,
                                 const int4 *__restrict__ c, int4 *__restrict__ o,
                                 size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    int4 x = a[i], y = b[i], z = c[i];
    o[i] = make_int4(x.x ^ y.x ^ z.x, x.y ^ y.y ^ z.y, x.z ^ y.z ^ z.z, x.w ^ y.w ^ z.w);
  }
}

// Reads a; writes one element only if the xor of everything hits a value
// the fill never produces (so the loads are not dead).
__global__ void readStream(const int4 *__restrict__ a, int4 *__restrict__ o, size_t n) {
  int4 acc = make_int4(0, 0, 0, 0);
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    int4 x = a[i];
    acc.x ^= x.x, acc.y ^= x.y, acc.z ^= x.z, acc.w ^= x.w;
  }
  if (acc.x == 0x12345 && acc.y == 7)
    o[0] = acc;
}

int main(int argc, char **argv) {
  size_t mib = 512;
  double sustainSeconds = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--sustain") && i + 1 < argc)
      sustainSeconds = std::atof(argv[++i]);
    else
      mib = std::strtoull(argv[i], nullptr, 10);
  }
  const size_t bytes = mib << 20, n = bytes / sizeof(int4);
  int4 *a, *b, *c, *o;
  for (int4 **p : {&a, &b, &c, &o})
    CHECK(cudaMalloc(p, bytes));
  CHECK(cudaMemset(a, 1, bytes));
  CHECK(cudaMemset(b, 2, bytes));
  CHECK(cudaMemset(c, 3, bytes));
  CHECK(cudaMemset(o, 0, bytes));
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const int sms = prop.multiProcessorCount;
  EventTimer timer;
  auto median = [&](auto launch) { return timer.median(launch); };
  auto gbps = [](double moved, float ms) { return moved / (ms * 1e-3) / 1e9; };
  std::printf("device %s, %d SMs, %zu MiB per tensor\n", prop.name, sms, mib);
  for (int perSM : {2, 4, 8})
    for (int threads : {256, 512}) {
      int grid = sms * perSM;
      float tc = median([&] { copyStream<<<grid, threads>>>(a, o, n); });
      float t3 = median([&] { threeToOneStream<<<grid, threads>>>(a, b, c, o, n); });
      float tr = median([&] { readStream<<<grid, threads>>>(a, o, n); });
      std::printf("%4d x %3d: copy %6.0f GB/s   3 reads : 1 write %6.0f GB/s (%.3f ms)"
                  "   read %6.0f GB/s\n",
                  grid, threads, gbps(2.0 * bytes, tc), gbps(4.0 * bytes, t3), t3,
                  gbps(double(bytes), tr));
    }
  float tm = median([&] { CHECK(cudaMemcpyAsync(o, a, bytes, cudaMemcpyDeviceToDevice)); });
  std::printf("cudaMemcpy device to device: %.0f GB/s\n", gbps(2.0 * bytes, tm));
  if (sustainSeconds > 0) {
    using Clock = std::chrono::system_clock;
    const int grid = sms * 4, threads = 512;
    CHECK(cudaDeviceSynchronize());
    std::this_thread::sleep_for(std::chrono::seconds(3)); // clocks back up
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));
    const auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < sustainSeconds) {
      CHECK(cudaEventRecord(e0));
      for (int r = 0; r < 10; ++r)
        threeToOneStream<<<grid, threads>>>(a, b, c, o, n);
      CHECK(cudaEventRecord(e1));
      CHECK(cudaEventSynchronize(e1));
      float ms = 0;
      CHECK(cudaEventElapsedTime(&ms, e0, e1));
      long long wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                           Clock::now().time_since_epoch())
                           .count();
      std::printf("SUSTAIN {\"wall_ms\": %lld, \"ms\": %.6f}\n", wall, ms / 10);
    }
    CHECK(cudaEventDestroy(e0));
    CHECK(cudaEventDestroy(e1));
  }
  return 0;
}
