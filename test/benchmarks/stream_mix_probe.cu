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
//   stream_mix_probe [MiB per tensor]   (default 512)
// Prints per launch shape (blocks per SM x threads) GB/s counted as bytes
// read plus bytes written, median of 21 runs after 3.
#include "cuda_check.h"
#include "event_timer.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

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
  const size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 512;
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
  return 0;
}
