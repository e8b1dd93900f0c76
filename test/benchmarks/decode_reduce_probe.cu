// Where should the decode step reduce o? The generated kernel (docs/gpu-
// codegen.md) lays a block's threads out as column groups × row groups, so
// o_j = Σ_i q_i S'_ij is summed by shuffles inside a warp and then across
// warps through shared memory behind a barrier, at the tail of the kernel.
// This probe writes the whole step (q, k, v, decay, state update, o) by
// hand twice, replayed from a CUDA graph like the decode benchmark:
//   smem:       that layout (the per-thread accesses the generator emitted
//               when this was measured: rows rg + r·RG, q_i and k_i as
//               scalars; since 6f60379 it reads rows rg·R + r and q_i, k_i
//               as 4-element vectors);
//   warp-local: each warp owns whole columns over all D rows, so o needs
//               shuffles only, at the price of accesses that span rows.
// Both give the same state (and o up to summation order).
//
// Built with the tree as build/test/gpu/decode_reduce_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU: decode_reduce_probe
// (docs/benchmarks/decode-state-probe-h200-2026-11-29.md).
#include "cuda_check.h"
#include "graph_timer.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <vector>
constexpr int D = 128;
__constant__ float kDecay[64];

/// One thread's share of the step: rows row0, row0 + rowStride, ... (R of
/// them) of columns [col, col + 4) of slab bh, updated in place; returns
/// its partial o over those rows.
template <int R>
__device__ __forceinline__ float4 stepRows(const __nv_bfloat16 *q, const __nv_bfloat16 *k,
                                           const __nv_bfloat16 *v, float *state, int bh, int h,
                                           int col, int row0, int rowStride) {
  const float d = kDecay[h];
  const __nv_bfloat16 *qb = q + size_t(bh) * D, *kb = k + size_t(bh) * D;
  uint2 vr = *reinterpret_cast<const uint2 *>(v + size_t(bh) * D + col);
  float4 s[R];
  float qs[R], ks[R];
  float *st = state + size_t(bh) * D * D + col;
#pragma unroll
  for (int r = 0; r < R; ++r) { // every load in flight before any use
    const int i = row0 + r * rowStride;
    s[r] = *reinterpret_cast<const float4 *>(st + size_t(i) * D);
    ks[r] = __bfloat162float(kb[i]);
    qs[r] = __bfloat162float(qb[i]);
  }
  __nv_bfloat162 v01 = *reinterpret_cast<__nv_bfloat162 *>(&vr.x),
                 v23 = *reinterpret_cast<__nv_bfloat162 *>(&vr.y);
  float4 vv = {__low2float(v01), __high2float(v01), __low2float(v23), __high2float(v23)};
  float4 acc = {0, 0, 0, 0};
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int i = row0 + r * rowStride;
    float4 n = {fmaf(s[r].x, d, ks[r] * vv.x), fmaf(s[r].y, d, ks[r] * vv.y),
                fmaf(s[r].z, d, ks[r] * vv.z), fmaf(s[r].w, d, ks[r] * vv.w)};
    *reinterpret_cast<float4 *>(st + size_t(i) * D) = n;
    acc.x = fmaf(qs[r], n.x, acc.x);
    acc.y = fmaf(qs[r], n.y, acc.y);
    acc.z = fmaf(qs[r], n.z, acc.z);
    acc.w = fmaf(qs[r], n.w, acc.w);
  }
  return acc;
}

/// Sum over the lanes lane ^ from, lane ^ 2·from, ..., lane ^ 16.
__device__ __forceinline__ float4 laneSum(float4 acc, int from) {
  for (int off = from; off < 32; off *= 2) {
    acc.x += __shfl_xor_sync(~0u, acc.x, off);
    acc.y += __shfl_xor_sync(~0u, acc.y, off);
    acc.z += __shfl_xor_sync(~0u, acc.z, off);
    acc.w += __shfl_xor_sync(~0u, acc.w, off);
  }
  return acc;
}

__device__ __forceinline__ void storeO(__nv_bfloat16 *out, int bh, int col, float4 acc) {
  __nv_bfloat162 o01 = __floats2bfloat162_rn(acc.x, acc.y),
                 o23 = __floats2bfloat162_rn(acc.z, acc.w);
  uint2 o;
  o.x = *reinterpret_cast<unsigned *>(&o01);
  o.y = *reinterpret_cast<unsigned *>(&o23);
  *reinterpret_cast<uint2 *>(out + size_t(bh) * D + col) = o;
}

// The generator's layout: thread tid = rg * CG + cg, o across warps
// through shared memory.
template <int COLS, int THREADS>
__global__ void __launch_bounds__(THREADS)
    smemKernel(const __nv_bfloat16 *q, const __nv_bfloat16 *k, const __nv_bfloat16 *v, float *state,
               __nv_bfloat16 *out, int H) {
  constexpr int CG = COLS / 4, RG = THREADS / CG, R = D / RG, NW = THREADS / 32;
  __shared__ alignas(16) float part[NW][COLS];
  const int bh = blockIdx.x, cg = threadIdx.x % CG, rg = threadIdx.x / CG;
  const int col = blockIdx.y * COLS + cg * 4;
  float4 acc = laneSum(stepRows<R>(q, k, v, state, bh, bh % H, col, rg, RG), CG);
  const int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (NW > 1) {
    if (lane < CG)
      *reinterpret_cast<float4 *>(&part[w][cg * 4]) = acc;
    __syncthreads();
    if (threadIdx.x >= CG)
      return;
    acc = {0, 0, 0, 0};
#pragma unroll
    for (int x = 0; x < NW; ++x) {
      float4 p = *reinterpret_cast<float4 *>(&part[x][cg * 4]);
      acc.x += p.x;
      acc.y += p.y;
      acc.z += p.z;
      acc.w += p.w;
    }
  } else if (lane >= CG) {
    return;
  }
  storeO(out, bh, col, acc);
}

// Warp w owns CGW column groups and all D rows: lane = rgw * CGW + cgw.
template <int COLS, int THREADS>
__global__ void __launch_bounds__(THREADS)
    warpKernel(const __nv_bfloat16 *q, const __nv_bfloat16 *k, const __nv_bfloat16 *v, float *state,
               __nv_bfloat16 *out, int H) {
  constexpr int NW = THREADS / 32, CGW = COLS / 4 / NW, RGW = 32 / CGW, R = D / RGW;
  static_assert(CGW >= 1 && 32 % CGW == 0, "layout");
  const int bh = blockIdx.x, w = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int cgw = lane % CGW, rgw = lane / CGW;
  const int col = blockIdx.y * COLS + (w * CGW + cgw) * 4;
  float4 acc = laneSum(stepRows<R>(q, k, v, state, bh, bh % H, col, rgw, RGW), CGW);
  if (rgw == 0)
    storeO(out, bh, col, acc);
}

struct Set {
  __nv_bfloat16 *q, *k, *v, *o;
  float *s;
};

template <int COLS, int THREADS, int WCOLS, int WTHREADS> void run(int H, int B, const char *what) {
  const int bh = H * B;
  const size_t sb = size_t(bh) * D * D * 4, ab = size_t(bh) * D * 2;
  const int sets = int(std::min<size_t>(64, (size_t(256) << 20) / (2 * sb) + 1));
  std::vector<Set> st(sets);
  std::vector<uint16_t> hb(size_t(bh) * D);
  std::vector<float> hs(size_t(bh) * D * D);
  for (size_t i = 0; i < hb.size(); ++i)
    hb[i] = 0x3f80 ^ uint16_t((i * 2654435761u) & 0x807f);
  for (size_t i = 0; i < hs.size(); ++i)
    hs[i] = float(int((i * 40503u) % 2001) - 1000) * 1e-3f;
  for (Set &x : st) {
    for (auto **p : {&x.q, &x.k, &x.v, &x.o}) {
      CHECK(cudaMalloc(p, ab));
      CHECK(cudaMemcpy(*p, hb.data(), ab, cudaMemcpyHostToDevice));
    }
    CHECK(cudaMalloc(&x.s, sb));
    CHECK(cudaMemcpy(x.s, hs.data(), sb, cudaMemcpyHostToDevice));
  }
  // equal results: one step of each from equal inputs
  float *s2;
  __nv_bfloat16 *o2;
  CHECK(cudaMalloc(&s2, sb));
  CHECK(cudaMalloc(&o2, ab));
  CHECK(cudaMemcpy(s2, hs.data(), sb, cudaMemcpyHostToDevice));
  smemKernel<COLS, THREADS>
      <<<dim3(bh, D / COLS), THREADS>>>(st[0].q, st[0].k, st[0].v, st[0].s, st[0].o, H);
  warpKernel<WCOLS, WTHREADS>
      <<<dim3(bh, D / WCOLS), WTHREADS>>>(st[0].q, st[0].k, st[0].v, s2, o2, H);
  CHECK(cudaGetLastError());
  std::vector<float> a(hs.size()), c(hs.size());
  std::vector<uint16_t> oa(hb.size()), oc(hb.size());
  CHECK(cudaMemcpy(a.data(), st[0].s, sb, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(c.data(), s2, sb, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(oa.data(), st[0].o, ab, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(oc.data(), o2, ab, cudaMemcpyDeviceToHost));
  double odiff = 0;
  for (size_t i = 0; i < oa.size(); ++i) {
    uint32_t ua = uint32_t(oa[i]) << 16, uc = uint32_t(oc[i]) << 16;
    float x, y;
    std::memcpy(&x, &ua, 4);
    std::memcpy(&y, &uc, 4);
    odiff = std::max(odiff, double(std::abs(x - y)) / (std::abs(x) + 1e-3));
  }
  const float us1 = graphMedianUs(sets, [&](cudaStream_t s, int i) {
    Set &x = st[i];
    smemKernel<COLS, THREADS><<<dim3(bh, D / COLS), THREADS, 0, s>>>(x.q, x.k, x.v, x.s, x.o, H);
  });
  const float us2 = graphMedianUs(sets, [&](cudaStream_t s, int i) {
    Set &x = st[i];
    warpKernel<WCOLS, WTHREADS>
        <<<dim3(bh, D / WCOLS), WTHREADS, 0, s>>>(x.q, x.k, x.v, x.s, x.o, H);
  });
  std::printf("%-8s smem %3dx%-4d %6.2f us   warp-local %3dx%-4d %6.2f us   state equal %s, o max "
              "rel diff %.1e\n",
              what, COLS, THREADS, us1, WCOLS, WTHREADS, us2, a == c ? "yes" : "NO", odiff);
  for (Set &x : st) {
    cudaFree(x.q);
    cudaFree(x.k);
    cudaFree(x.v);
    cudaFree(x.o);
    cudaFree(x.s);
  }
  cudaFree(s2);
  cudaFree(o2);
}

int main() {
  float dec[64];
  for (int h = 0; h < 64; ++h)
    dec[h] = 0.99f - 0.001f * h;
  CHECK(cudaMemcpyToSymbol(kDecay, dec, sizeof dec));
  run<16, 512, 16, 128>(8, 1, "H8 B1");
  run<16, 512, 16, 128>(64, 1, "H64 B1");
  run<16, 512, 32, 256>(64, 1, "H64 B1");
  run<16, 512, 16, 128>(8, 8, "H8 B8");
  run<64, 512, 64, 512>(8, 16, "H8 B16");
  run<64, 512, 64, 256>(8, 16, "H8 B16");
  run<64, 512, 128, 512>(8, 16, "H8 B16");
  run<64, 512, 128, 1024>(8, 16, "H8 B16");
  run<64, 512, 32, 256>(8, 16, "H8 B16");
  run<64, 512, 64, 512>(64, 16, "H64 B16");
  run<64, 512, 128, 512>(64, 16, "H64 B16");
  run<64, 512, 64, 512>(8, 256, "H8 B256");
  run<64, 512, 128, 512>(8, 256, "H8 B256");
  run<64, 512, 64, 512>(64, 64, "H64 B64");
  return 0;
}
