// Memory skeleton of the single-read lightning prefill plan for small
// batch x heads (docs/lightning-prefill.md, "What remains" 1): does K, V of
// a segment stay in L2 between its two uses, and does a scanner block per
// head keep the prefix chain ahead of the work? The probe moves the plan's
// bytes with its synchronisation and no arithmetic beyond keeping loads
// live, so its times bound what the real kernel could reach.
//
// Plans timed on the same buffers (B = 1, H heads, D = 128, bf16 rows):
//   two-pass   kernel 1 reads K, V; kernel 2 reads Q, K, V and writes O
//              (the traffic of the plan the engine uses now);
//   single/L   one launch: H scanner blocks, then one block per (segment of
//              L tokens, head), segments outermost. A block reads its K, V
//              (optionally with an L2 evict-last policy), publishes a 64 KB
//              aggregate, waits for the prefix of the previous segment
//              (release/acquire flags), reads it, then reads Q, K, V again
//              and writes O. Scanner h folds aggregates into prefixes
//              (64 KB in, 64 KB out per link).
//   copy       cudaMemcpy device to device of Q + K + V (reads + writes).
// Prints ms, the bandwidth on the bytes that must move (Q, K, V, O) and its
// ratio to the copy bandwidth.
//
// Built with the tree as build/test/gpu/single_read_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU:
//   single_read_probe [T ...]            (default 32768 131072 524288)
#include "cuda_check.h"
#include "event_timer.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>


constexpr int kD = 128;
constexpr int kThreads = 256;
constexpr int kRowVecs = kD * 2 / 16;           // uint4 per token-head row
constexpr int kStateVecs = kD * kD / 4;         // float4 per 64 KB state
constexpr int kStatePerThread = kStateVecs / kThreads;

struct Buffers {
  const uint4 *q, *k, *v;
  uint4 *o;
  float4 *agg, *pre; // [H][nseg][kStateVecs]
  int *flagA, *flagP; // [H][nseg]
  int T, H;
};

__device__ __forceinline__ int ldAcquire(const int *p) {
  int v;
  asm volatile("ld.acquire.gpu.global.b32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}
__device__ __forceinline__ void stRelease(int *p, int v) {
  asm volatile("st.release.gpu.global.b32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}
__device__ __forceinline__ uint4 ldEvictLast(const uint4 *p, uint64_t pol) {
  uint4 r;
  asm volatile("ld.global.L2::cache_hint.v4.u32 {%0, %1, %2, %3}, [%4], %5;"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p), "l"(pol));
  return r;
}
__device__ __forceinline__ uint32_t fold(uint4 x) { return x.x ^ x.y ^ x.z ^ x.w; }

// Rows [t0, t0 + L) of head h: 16-byte pieces, 16 threads per row, 8
// loads in flight per thread (32 KB per block, like the generated kernels'
// cp.async rings).
template <bool kEvictLast>
__device__ uint32_t readRows(const uint4 *x, const Buffers &b, int h, int t0, int L,
                             uint64_t pol) {
  constexpr int kBatch = 8;
  uint32_t acc = 0;
  for (int p0 = 0; p0 < L * kRowVecs; p0 += kThreads * kBatch) {
    uint4 r[kBatch];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      int p = p0 + u * kThreads + threadIdx.x;
      int t = t0 + p / kRowVecs;
      const uint4 *src = x + (size_t(t) * b.H + h) * kRowVecs + p % kRowVecs;
      r[u] = kEvictLast ? ldEvictLast(src, pol) : __ldcg(src);
    }
#pragma unroll
    for (int u = 0; u < kBatch; ++u)
      acc ^= fold(r[u]);
  }
  return acc;
}

__global__ void __launch_bounds__(kThreads) readKV(Buffers b, uint32_t *sink) {
  int h = blockIdx.y, seg = blockIdx.x, L = b.T / gridDim.x;
  uint32_t acc = readRows<false>(b.k, b, h, seg * L, L, 0) ^
                 readRows<false>(b.v, b, h, seg * L, L, 0);
  if (acc == 0x9e3779b9u)
    sink[0] = acc;
}

__global__ void __launch_bounds__(kThreads) readQKVwriteO(Buffers b) {
  int h = blockIdx.y, seg = blockIdx.x, L = b.T / gridDim.x;
  uint32_t acc = readRows<false>(b.k, b, h, seg * L, L, 0) ^
                 readRows<false>(b.v, b, h, seg * L, L, 0);
  for (int p = threadIdx.x; p < L * kRowVecs; p += kThreads) {
    size_t i = (size_t(seg * L + p / kRowVecs) * b.H + h) * kRowVecs + p % kRowVecs;
    uint4 x = __ldcg(b.q + i);
    x.x ^= acc;
    __stcs(b.o + i, x);
  }
}

template <bool kEvictLast>
__global__ void __launch_bounds__(kThreads) singleRead(Buffers b, int L, int nseg) {
  const int H = b.H;
  if (blockIdx.x < H) { // scanner of head h
    // Aggregates are published long before the chain reaches them, so the
    // scanner's loads of A_{s+1} go out with the stores of P_s: per link one
    // round trip, the fence and the flag stay on the chain.
    int h = blockIdx.x;
    float4 P[kStatePerThread], x[kStatePerThread];
    for (int i = 0; i < kStatePerThread; ++i)
      P[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    auto fetch = [&](int s) {
      size_t slot = size_t(h) * nseg + s;
      if (threadIdx.x == 0)
        for (long n = 0; ldAcquire(b.flagA + slot) == 0;)
          if (++n > (1l << 28))
            __trap(); // a block never published: out-of-order dispatch
      __syncthreads();
      const float4 *a = b.agg + slot * kStateVecs;
#pragma unroll
      for (int i = 0; i < kStatePerThread; ++i)
        x[i] = __ldcg(a + threadIdx.x + i * kThreads);
    };
    fetch(0);
    for (int s = 0; s < nseg; ++s) {
      size_t slot = size_t(h) * nseg + s;
      float4 *p = b.pre + slot * kStateVecs;
#pragma unroll
      for (int i = 0; i < kStatePerThread; ++i) {
        P[i].x = 0.99f * P[i].x + x[i].x;
        P[i].y = 0.99f * P[i].y + x[i].y;
        P[i].z = 0.99f * P[i].z + x[i].z;
        P[i].w = 0.99f * P[i].w + x[i].w;
        __stcg(p + threadIdx.x + i * kThreads, P[i]);
      }
      if (s + 1 < nseg) // in flight together with the stores
        fetch(s + 1);
      __threadfence();
      __syncthreads();
      if (threadIdx.x == 0)
        stRelease(b.flagP + slot, 1);
    }
    return;
  }
  int item = blockIdx.x - H, s = item / H, h = item % H, t0 = s * L;
  size_t slot = size_t(h) * nseg + s;
  uint64_t pol = 0;
  if (kEvictLast)
    asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(pol));
  // Phase A: local state from K, V (the values only keep the loads live).
  uint32_t acc = readRows<kEvictLast>(b.k, b, h, t0, L, pol) ^
                 readRows<kEvictLast>(b.v, b, h, t0, L, pol);
  float4 *a = b.agg + slot * kStateVecs;
#pragma unroll
  for (int i = 0; i < kStatePerThread; ++i)
    __stcg(a + threadIdx.x + i * kThreads, make_float4(float(acc & 1), 0.f, 0.f, float(i)));
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0)
    stRelease(b.flagA + slot, 1);
  // The prefix entering the segment.
  float pre = 0.f;
  if (s > 0) {
    if (threadIdx.x == 0)
      for (long n = 0; ldAcquire(b.flagP + slot - 1) == 0;)
        if (++n > (1l << 28))
          __trap();
    __syncthreads();
    const float4 *p = b.pre + (slot - 1) * kStateVecs;
#pragma unroll
    for (int i = 0; i < kStatePerThread; ++i)
      pre += __ldcg(p + threadIdx.x + i * kThreads).x;
  }
  // Phase C: outputs from Q, K, V (K, V read again: L2 hits if they stayed).
  acc ^= readRows<false>(b.k, b, h, t0, L, 0) ^ readRows<false>(b.v, b, h, t0, L, 0);
  acc ^= __float_as_uint(pre);
  for (int p = threadIdx.x; p < L * kRowVecs; p += kThreads) {
    size_t i = (size_t(t0 + p / kRowVecs) * H + h) * kRowVecs + p % kRowVecs;
    uint4 x = __ldcg(b.q + i);
    x.x ^= acc;
    __stcs(b.o + i, x);
  }
}

int main(int argc, char **argv) {
  std::vector<int> Ts;
  for (int i = 1; i < argc; ++i)
    Ts.push_back(std::atoi(argv[i]));
  if (Ts.empty())
    Ts = {32768, 131072, 524288};
  const int H = 8;
  EventTimer timer;
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20);
  for (int T : Ts) {
    size_t rows = size_t(T) * H, bytes = rows * kRowVecs * 16;
    uint4 *q, *k, *v, *o;
    CHECK(cudaMalloc(&q, bytes));
    CHECK(cudaMalloc(&k, bytes));
    CHECK(cudaMalloc(&v, bytes));
    CHECK(cudaMalloc(&o, bytes));
    CHECK(cudaMemset(q, 1, bytes));
    CHECK(cudaMemset(k, 2, bytes));
    CHECK(cudaMemset(v, 3, bytes));
    uint32_t *sink;
    CHECK(cudaMalloc(&sink, 4));
    double must = 4.0 * bytes; // Q, K, V read, O written
    float copyMs = timer.median([&] { CHECK(cudaMemcpyAsync(o, q, bytes, cudaMemcpyDeviceToDevice)); });
    double copyGBs = 2.0 * bytes / (copyMs * 1e-3) / 1e9;
    std::printf("T=%d H=%d: Q/K/V/O %.0f MB each; copy %.0f GB/s\n", T, H, bytes / 1e6,
                copyGBs);
    auto report = [&](const char *what, float ms) {
      double gbs = must / (ms * 1e-3) / 1e9;
      std::printf("  %-28s %8.3f ms  %6.0f GB/s  %4.0f%% of copy\n", what, ms, gbs,
                  100.0 * gbs / copyGBs);
    };
    Buffers b{q, k, v, o, nullptr, nullptr, nullptr, nullptr, T, H};
    // Occupancy of the generated kernels: one outputs block per SM (214 KB
    // of shared memory), two local-states blocks.
    const int smemOne = 200 * 1024, smemTwo = 100 * 1024;
    CHECK(cudaFuncSetAttribute(readKV, cudaFuncAttributeMaxDynamicSharedMemorySize, smemTwo));
    CHECK(cudaFuncSetAttribute(readQKVwriteO, cudaFuncAttributeMaxDynamicSharedMemorySize, smemOne));
    CHECK(cudaFuncSetAttribute(singleRead<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, smemOne));
    CHECK(cudaFuncSetAttribute(singleRead<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, smemOne));
    int nsplit = 33;
    while (T % nsplit)
      --nsplit;
    report("two-pass (K,V; then Q,K,V,O)", timer.median([&] {
             readKV<<<dim3(nsplit, H), kThreads, smemTwo>>>(b, sink);
             readQKVwriteO<<<dim3(nsplit, H), kThreads, smemOne>>>(b);
           }));
    for (int L : {256, 512, 1024, 2048}) {
      if (T % L)
        continue;
      int nseg = T / L;
      size_t stateBytes = size_t(H) * nseg * kStateVecs * sizeof(float4);
      CHECK(cudaMalloc(&b.agg, stateBytes));
      CHECK(cudaMalloc(&b.pre, stateBytes));
      CHECK(cudaMalloc(&b.flagA, size_t(H) * nseg * sizeof(int)));
      CHECK(cudaMalloc(&b.flagP, size_t(H) * nseg * sizeof(int)));
      for (int el = 0; el < 2; ++el) {
        auto run = [&] {
          CHECK(cudaMemsetAsync(b.flagA, 0, size_t(H) * nseg * sizeof(int)));
          CHECK(cudaMemsetAsync(b.flagP, 0, size_t(H) * nseg * sizeof(int)));
          if (el)
            singleRead<true><<<H + H * nseg, kThreads, smemOne>>>(b, L, nseg);
          else
            singleRead<false><<<H + H * nseg, kThreads, smemOne>>>(b, L, nseg);
        };
        char name[64];
        std::snprintf(name, sizeof name, "single-read L=%d%s", L, el ? " evict-last" : "");
        report(name, timer.median(run));
        CHECK(cudaGetLastError());
      }
      CHECK(cudaFree(b.agg));
      CHECK(cudaFree(b.pre));
      CHECK(cudaFree(b.flagA));
      CHECK(cudaFree(b.flagP));
    }
    CHECK(cudaFree(q));
    CHECK(cudaFree(k));
    CHECK(cudaFree(v));
    CHECK(cudaFree(o));
    CHECK(cudaFree(sink));
  }
  return 0;
}
