// Does the outputs kernel's access pattern cost DRAM throughput? The long-call
// plan at B1 H64 T32K runs 128 blocks, one per (segment, head). A block
// reads its head's q, k, v of each token, a 768-byte piece of the
// interleaved [T][H][3·D] bf16 rows (token stride 48 KiB), and writes the
// head's 256-byte piece of o ([T][H][D]). An arithmetic-free stream of the
// same bytes read and written linearly (stream_mix_probe) takes ~0.50 ms
// on an H200, the outputs kernel alone ~0.54–0.55 (docs/lightning-prefill.md,
// "What limits it now"). This probe moves the same bytes in the same
// blocks with no arithmetic, per chunk of 64 tokens, in these patterns:
//   pieces       the outputs kernel's: block (s, h) reads its head's pieces;
//   pieces, pairs / quads of adjacent heads in one thread-block cluster
//                that meets at a cluster barrier after every chunk, so
//                that neighbouring pieces of a row are read together;
//   separate     q, k, v as three [T][H][D] tensors (256-byte pieces);
//   linear       every block streams its own contiguous region.
// Each block keeps the next chunk's loads in flight while it stores the
// current one (24 16-byte loads per thread).
//
// Built with the tree as build/test/gpu/head_pieces_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU:
//   head_pieces_probe [tokens] [heads]   (default 32768 64)
// Prints each pattern's median time of 21 runs after 3 and its GB/s on the
// bytes moved (q, k, v read, o written).
#include "cuda_check.h"
#include "event_timer.h"

#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

namespace cg = cooperative_groups;

constexpr int kD = 128;                      // head dim (bf16)
constexpr int kPiece = kD * 2 / 16;          // int4 per head piece of one tensor (16)
constexpr int kChunk = 64;                   // tokens per chunk
constexpr int kThreads = 256;
constexpr int kPerThread = kChunk * kPiece / kThreads; // o int4 per thread a chunk (4)

enum class Layout { Interleaved, Separate, Linear };

// Where output int4 `i` (0..kChunk·kPiece) of the chunk starting at token
// `t` of block `x` (head h, segment length segLen) and its inputs live.
struct Addr {
  size_t q, k, v, o;
};
template <Layout L>
__device__ Addr addrOf(int i, size_t t, int h, int H, int x, int segLen) {
  if constexpr (L == Layout::Linear) {
    // Block x's own regions: its q, k, v one after another in `a`, its o.
    const size_t j = (t % segLen) * kPiece + i, n = size_t(segLen) * kPiece;
    const size_t in = size_t(x) * 3 * n;
    return {in + j, in + n + j, in + 2 * n + j, size_t(x) * n + j};
  }
  const size_t tok = t + i / kPiece, col = i % kPiece;
  if constexpr (L == Layout::Interleaved) {
    const size_t row = (tok * H + h) * 3 * kPiece;
    return {row + col, row + kPiece + col, row + 2 * kPiece + col,
            (tok * H + h) * kPiece + col};
  }
  const size_t row = (tok * H + h) * kPiece;
  return {row + col, row + col, row + col, row + col};
}

// Block x: head x % H (adjacent heads adjacent in x, so in one cluster),
// segment x / H; `segLen` tokens a segment. Separate q, k, v come from
// three tensors (a, b, c); the other layouts read all three from a.
template <Layout L, int Cluster>
__global__ void __launch_bounds__(kThreads)
    headPieces(const int4 *__restrict__ a, const int4 *__restrict__ b,
               const int4 *__restrict__ c, int4 *__restrict__ o, int H, int segLen) {
  const int h = blockIdx.x % H, s = blockIdx.x / H;
  const size_t t0 = size_t(s) * segLen;
  const int nch = segLen / kChunk;
  int4 cur[3 * kPerThread], nxt[3 * kPerThread];
  auto load = [&](int4 *r, int ch) {
#pragma unroll
    for (int e = 0; e < kPerThread; ++e) {
      Addr ad = addrOf<L>(threadIdx.x + e * kThreads, t0 + size_t(ch) * kChunk, h, H,
                          blockIdx.x, segLen);
      if constexpr (L == Layout::Separate) {
        r[3 * e] = a[ad.q], r[3 * e + 1] = b[ad.k], r[3 * e + 2] = c[ad.v];
      } else {
        r[3 * e] = a[ad.q], r[3 * e + 1] = a[ad.k], r[3 * e + 2] = a[ad.v];
      }
    }
  };
  load(cur, 0);
  for (int ch = 0; ch < nch; ++ch) {
    if (ch + 1 < nch)
      load(nxt, ch + 1);
#pragma unroll
    for (int e = 0; e < kPerThread; ++e) {
      Addr ad = addrOf<L>(threadIdx.x + e * kThreads, t0 + size_t(ch) * kChunk, h, H,
                          blockIdx.x, segLen);
      int4 x = cur[3 * e], y = cur[3 * e + 1], z = cur[3 * e + 2];
      o[ad.o] = make_int4(x.x ^ y.x ^ z.x, x.y ^ y.y ^ z.y, x.z ^ y.z ^ z.z, x.w ^ y.w ^ z.w);
    }
#pragma unroll
    for (int e = 0; e < 3 * kPerThread; ++e)
      cur[e] = nxt[e];
    if constexpr (Cluster > 1)
      cg::this_cluster().sync();
  }
}

template <Layout L, int Cluster>
void launch(int blocks, const int4 *a, const int4 *b, const int4 *c, int4 *o, int H,
            int segLen) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(blocks);
  cfg.blockDim = dim3(kThreads);
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = Cluster;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  CHECK(cudaLaunchKernelEx(&cfg, headPieces<L, Cluster>, a, b, c, o, H, segLen));
}

int main(int argc, char **argv) {
  const int T = argc > 1 ? std::atoi(argv[1]) : 32768;
  const int H = argc > 2 ? std::atoi(argv[2]) : 64;
  const int segs = 2, segLen = T / segs;
  if (T <= 0 || H <= 0 || H % 4 != 0 || segLen % kChunk != 0) {
    std::fprintf(stderr, "tokens must be a positive multiple of %d and heads of 4\n",
                 segs * kChunk);
    return 2;
  }
  const size_t tensor = size_t(T) * H * kD * 2; // bytes of one of q, k, v, o
  int4 *qkv, *q, *k, *v, *o;
  CHECK(cudaMalloc(&qkv, 3 * tensor));
  CHECK(cudaMalloc(&o, tensor));
  // The separate tensors reuse qkv's memory (same bytes, other pattern).
  q = qkv, k = qkv + tensor / 16, v = qkv + 2 * tensor / 16;
  CHECK(cudaMemset(qkv, 1, 3 * tensor));
  CHECK(cudaMemset(o, 0, tensor));
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const int blocks = segs * H;
  std::printf("device %s, %d SMs; T %d, H %d, %d blocks of %d threads, %.0f MiB moved\n",
              prop.name, prop.multiProcessorCount, T, H, blocks, kThreads,
              4.0 * tensor / (1 << 20));
  EventTimer timer;
  auto report = [&](const char *what, float ms) {
    std::printf("%-34s %.3f ms  %6.0f GB/s\n", what, ms, 4.0 * tensor / (ms * 1e-3) / 1e9);
  };
  for (int round = 0; round < 2; ++round) {
    report("pieces (the outputs kernel's)", timer.median([&] {
      launch<Layout::Interleaved, 1>(blocks, qkv, qkv, qkv, o, H, segLen);
    }));
    report("pieces, clusters of 2 heads", timer.median([&] {
      launch<Layout::Interleaved, 2>(blocks, qkv, qkv, qkv, o, H, segLen);
    }));
    report("pieces, clusters of 4 heads", timer.median([&] {
      launch<Layout::Interleaved, 4>(blocks, qkv, qkv, qkv, o, H, segLen);
    }));
    report("separate q, k, v", timer.median([&] {
      launch<Layout::Separate, 1>(blocks, q, k, v, o, H, segLen);
    }));
    report("linear per block", timer.median([&] {
      launch<Layout::Linear, 1>(blocks, qkv, qkv, qkv, o, H, segLen);
    }));
  }
  return 0;
}
