// How fast can one lightning decode step move its state? The step reads
// and writes every f32 element of the B·H states [D, D] once; at small and
// middle batch sizes the generated kernel (each thread loads R rows of 16
// bytes, updates them, stores them) is latency-bound: the whole state is
// in flight in one go, but ncu shows DRAM at ~30% of its peak over the
// kernel (docs/gpu-codegen.md, "Decode tiling"). This probe times the same
// in-place update, with the generated kernel's block shape (one (b, h) and
// COLS columns per block), two ways:
//   lsu:  per-thread 16-byte loads and stores (what the generator emits;
//         rows rg + r·RG here, rg·R + r in the generator since 6f60379;
//         either way a warp instruction covers 32/CG rows of 4·CG floats);
//   bulk: the block's D rows of COLS floats arrive in shared memory by
//         cp.async.bulk (one copy per row, issued by one warp, completing
//         on one mbarrier), then each thread updates its values from
//         shared memory and stores them with 16-byte stores;
//   bulk load+store: the same, the updated rows written back to shared
//         memory and from there to global memory by cp.async.bulk.
// Each launch shape is replayed from a CUDA graph of 20 launches rotating
// over enough states to miss L2 (>= 256 MB), like the decode benchmark.
//
// Built with the tree as build/test/gpu/decode_state_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU: decode_state_probe
// Prints per (B·H, COLS, THREADS): µs per step for each, and whether all
// give the same state.
#include "cuda_check.h"
#include "graph_timer.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

constexpr int D = 128;

__device__ __forceinline__ float update(float s, int i, int j) {
  return 0.99f * s + 1e-3f * float(i - j); // stands in for e^{-λ} s + k_i v_j
}

template <int COLS, int THREADS>
__global__ void __launch_bounds__(THREADS) lsuUpdate(float *state) {
  constexpr int CG = COLS / 4, RG = THREADS / CG, R = D / RG;
  const int cg = threadIdx.x % CG, rg = threadIdx.x / CG;
  float *tile = state + size_t(blockIdx.x) * D * D + blockIdx.y * COLS + cg * 4;
  float4 v[R];
#pragma unroll
  for (int r = 0; r < R; ++r)
    v[r] = *reinterpret_cast<const float4 *>(tile + size_t(rg + r * RG) * D);
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int i = rg + r * RG, j = blockIdx.y * COLS + cg * 4;
    float4 o = {update(v[r].x, i, j), update(v[r].y, i, j + 1), update(v[r].z, i, j + 2),
                update(v[r].w, i, j + 3)};
    *reinterpret_cast<float4 *>(tile + size_t(i) * D) = o;
  }
}

__device__ __forceinline__ uint32_t smem(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

template <int COLS, int THREADS, bool BULK_STORE>
__global__ void __launch_bounds__(THREADS) bulkUpdate(float *state) {
  constexpr int CG = COLS / 4, RG = THREADS / CG, R = D / RG;
  __shared__ alignas(128) float buf[D * COLS];
  __shared__ alignas(8) uint64_t bar;
  float *tile = state + size_t(blockIdx.x) * D * D + blockIdx.y * COLS;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem(&bar)));
    asm volatile("fence.mbarrier_init.release.cluster;");
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem(&bar)),
                 "r"(D * COLS * 4));
  }
  __syncthreads();
  if (threadIdx.x < 32)
    for (int i = threadIdx.x; i < D; i += 32)
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes"
                   " [%0], [%1], %2, [%3];" ::"r"(smem(buf + i * COLS)),
                   "l"(tile + size_t(i) * D), "r"(COLS * 4), "r"(smem(&bar))
                   : "memory");
  uint32_t done = 0;
  while (!done)
    asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0;"
                 " selp.u32 %0, 1, 0, p; }"
                 : "=r"(done)
                 : "r"(smem(&bar))
                 : "memory");
  const int cg = threadIdx.x % CG, rg = threadIdx.x / CG;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int i = rg + r * RG, j = blockIdx.y * COLS + cg * 4;
    float4 v = *reinterpret_cast<const float4 *>(buf + i * COLS + cg * 4);
    float4 o = {update(v.x, i, j), update(v.y, i, j + 1), update(v.z, i, j + 2),
                update(v.w, i, j + 3)};
    if (BULK_STORE)
      *reinterpret_cast<float4 *>(buf + i * COLS + cg * 4) = o;
    else
      *reinterpret_cast<float4 *>(tile + size_t(i) * D + cg * 4) = o;
  }
  if (BULK_STORE) { // the rows go back by cp.async.bulk too
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    __syncthreads();
    if (threadIdx.x < 32) {
      for (int i = threadIdx.x; i < D; i += 32)
        asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(
                         tile + size_t(i) * D),
                     "r"(smem(buf + i * COLS)), "r"(COLS * 4)
                     : "memory");
      asm volatile("cp.async.bulk.commit_group;");
      asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
    }
  }
}

/// µs per launch, replayed from a graph of 20 launches over rotating states.
template <int COLS, int THREADS> void run(int slabs, const char *what) {
  const size_t n = size_t(slabs) * D * D, bytes = n * 4;
  const int sets = int(std::min<size_t>(64, (size_t(256) << 20) / (2 * bytes) + 1));
  std::vector<float *> st(sets);
  for (float *&p : st) {
    CHECK(cudaMalloc(&p, bytes));
    CHECK(cudaMemset(p, 0, bytes));
  }
  const dim3 grid(slabs, D / COLS);
  // Same result from both: one step each on equal states.
  float *a, *b, *c;
  CHECK(cudaMalloc(&a, bytes));
  CHECK(cudaMalloc(&b, bytes));
  CHECK(cudaMalloc(&c, bytes));
  std::vector<float> h(n), ha(n), hb(n), hc(n);
  for (size_t i = 0; i < n; ++i)
    h[i] = float(int(i % 1000) - 500) * 1e-3f;
  for (float *p : {a, b, c})
    CHECK(cudaMemcpy(p, h.data(), bytes, cudaMemcpyHostToDevice));
  lsuUpdate<COLS, THREADS><<<grid, THREADS>>>(a);
  bulkUpdate<COLS, THREADS, false><<<grid, THREADS>>>(b);
  bulkUpdate<COLS, THREADS, true><<<grid, THREADS>>>(c);
  CHECK(cudaGetLastError());
  CHECK(cudaMemcpy(ha.data(), a, bytes, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(hb.data(), b, bytes, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(hc.data(), c, bytes, cudaMemcpyDeviceToHost));
  const bool same = ha == hb && ha == hc && ha != h;
  const float lsu = graphMedianUs(sets, [&](cudaStream_t s, int i) {
    lsuUpdate<COLS, THREADS><<<grid, THREADS, 0, s>>>(st[i]);
  });
  const float bulk = graphMedianUs(sets, [&](cudaStream_t s, int i) {
    bulkUpdate<COLS, THREADS, false><<<grid, THREADS, 0, s>>>(st[i]);
  });
  const float bulk2 = graphMedianUs(sets, [&](cudaStream_t s, int i) {
    bulkUpdate<COLS, THREADS, true><<<grid, THREADS, 0, s>>>(st[i]);
  });
  auto gbps = [&](float us) { return 2.0 * bytes / (us * 1e-6) / 1e9; };
  std::printf("%-8s B*H=%-5d cols=%-3d threads=%-4d  lsu %7.2f us (%5.0f GB/s)  bulk load %7.2f us "
              "(%5.0f)  bulk load+store %7.2f us (%5.0f)  same state: %s\n",
              what, slabs, COLS, THREADS, lsu, gbps(lsu), bulk, gbps(bulk), bulk2, gbps(bulk2),
              same ? "yes" : "NO");
  for (float *p : st)
    CHECK(cudaFree(p));
  for (float *p : {a, b, c})
    CHECK(cudaFree(p));
}

} // namespace

int main() {
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (%d SMs)\n", prop.name, prop.multiProcessorCount);
  run<16, 512>(8, "H8 B1");
  run<16, 512>(64, "H8 B8");
  run<16, 512>(64, "H64 B1");
  run<64, 512>(128, "H8 B16");
  run<64, 512>(128 * 8, "H64 B16");
  run<64, 512>(2048, "H8 B256");
  run<64, 512>(64 * 64, "H64 B64");
  run<32, 256>(128, "H8 B16");
  run<64, 256>(128, "H8 B16");
  return 0;
}
