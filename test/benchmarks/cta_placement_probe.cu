// Where does the block scheduler put the working blocks of a grid whose
// tail exits at once? The lightning prefill's local-states kernel runs two
// blocks per SM; under the one-wave rule (docs/lightning-prefill.md, "Plan")
// only its first `active` blocks have a segment, the rest exit. On an H100
// that kernel was slower in a 264-block grid with 120 working blocks (0.228
// ms at B1 H8 T128K) than in a 128-block grid with the same 120 (0.189 ms).
// If two working blocks share an SM while other SMs idle, this shows it.
//
// The probe launches grids of `grid` blocks of 128 threads with enough
// dynamic shared memory for two blocks per SM; blocks below `active` record
// their SM (%smid) and spin ~50 us so that all are resident together,
// the others exit. Printed per grid: how many SMs hold 0, 1 and 2 working
// blocks.
//
// Built with the tree as build/test/gpu/cta_placement_probe (nvcc -O3
// -std=c++17 -arch=sm_90a); run on an sm_90 GPU:
//   cta_placement_probe [active [grid ...]]   (default 120; 128 264)
#include "cuda_check.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>


__global__ void placement(int active, int *smOf) {
  if (blockIdx.x >= unsigned(active))
    return;
  if (threadIdx.x == 0) {
    unsigned sm;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
    smOf[blockIdx.x] = int(sm);
  }
  long long start = clock64();
  while (clock64() - start < 100000) // ~50 us at 2 GHz
    ;
}

int main(int argc, char **argv) {
  int active = argc > 1 ? std::atoi(argv[1]) : 120;
  std::vector<int> grids;
  for (int i = 2; i < argc; ++i)
    grids.push_back(std::atoi(argv[i]));
  if (grids.empty())
    grids = {128, 264};
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  // Two blocks per SM by shared memory, as the local-states kernel has by
  // registers.
  size_t smem = prop.sharedMemPerMultiprocessor / 2 - 2048;
  CHECK(cudaFuncSetAttribute(placement, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             int(smem)));
  int perSm = 0;
  CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, placement, 128, smem));
  std::printf("device: %s, %d SMs, %d blocks of 128 threads per SM (%zu B shared)\n",
              prop.name, prop.multiProcessorCount, perSm, smem);
  int *dSm;
  CHECK(cudaMalloc(&dSm, sizeof(int) * active));
  for (int grid : grids) {
    CHECK(cudaMemset(dSm, 0xff, sizeof(int) * active));
    placement<<<grid, 128, smem>>>(active, dSm);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    std::vector<int> sm(active);
    CHECK(cudaMemcpy(sm.data(), dSm, sizeof(int) * active, cudaMemcpyDeviceToHost));
    std::map<int, int> perSmCount;
    for (int b = 0; b < active && b < grid; ++b)
      ++perSmCount[sm[b]];
    int hist[4] = {0, 0, 0, 0};
    for (auto &[s, n] : perSmCount)
      ++hist[n < 3 ? n : 3];
    hist[0] = prop.multiProcessorCount - int(perSmCount.size());
    std::printf("grid %d, working blocks %d: SMs with 0 / 1 / 2 / more working "
                "blocks: %d / %d / %d / %d\n",
                grid, std::min(active, grid), hist[0], hist[1], hist[2], hist[3]);
  }
  CHECK(cudaFree(dSm));
  return 0;
}
