// Unsupported specs of the MoE kernel generators fail with a clear error.
// RUN: not mm01-opt %s --mm01-test-moe-kernels="hidden=250 inter=64" 2>&1 | FileCheck %s --check-prefix=HIDDEN
// RUN: not mm01-opt %s --mm01-test-moe-kernels="experts=2 top-k=3" 2>&1 | FileCheck %s --check-prefix=TOPK
// RUN: not mm01-opt %s --mm01-test-moe-kernels="experts=300" 2>&1 | FileCheck %s --check-prefix=EXPERTS
// RUN: not mm01-opt %s --mm01-test-moe-kernels="elt=f16" 2>&1 | FileCheck %s --check-prefix=ELT
// Explicit tiles are honoured when valid, refused otherwise (SIMT GEMMs:
// tensor-cores=0 or f32; tensor-core GEMMs: bf16).
// RUN: not mm01-opt %s --mm01-test-moe-kernels="tensor-cores=0 gate-up-tiles=32,64,32,3,4" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not mm01-opt %s --mm01-test-moe-kernels="elt=f32 down-tiles=32,64,32,8,16" 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not mm01-opt %s --mm01-test-moe-kernels="gate-up-tiles=48,64,32,2,2,3" 2>&1 | FileCheck %s --check-prefix=TC-M
// RUN: not mm01-opt %s --mm01-test-moe-kernels="down-tiles=64,64,24,2,2,3" 2>&1 | FileCheck %s --check-prefix=TC-K
// RUN: not mm01-opt %s --mm01-test-moe-kernels="down-tiles=64,64,32,2,2,1" 2>&1 | FileCheck %s --check-prefix=TC-STAGES
// RUN: not mm01-opt %s --mm01-test-moe-kernels="gate-up-tiles=128,128,32,2,2,2" 2>&1 | FileCheck %s --check-prefix=TC-ACC
// RUN: not mm01-opt %s --mm01-test-moe-kernels="gate-up-tiles=128,128,128,4,4,8" 2>&1 | FileCheck %s --check-prefix=TC-SMEM
// RUN: not mm01-opt %s --mm01-test-moe-kernels="gate-up-tiles=16,1024,32,1,64,2" 2>&1 | FileCheck %s --check-prefix=TC-WARPS
// RUN: not mm01-opt %s --mm01-test-moe-kernels="down-tiles=-16,64,32,1,4,2" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not mm01-opt %s --mm01-test-moe-kernels="gate-up-tiles=32,64,32,2,4" 2>&1 | FileCheck %s --check-prefix=LIST

// HIDDEN: error: moe experts kernels: hidden = 250 and inter = 64 must be multiples of 8 (16-byte vectors of 'bf16')
// TOPK: error: moe route kernel: unsupported experts = 2, top-k = 3 (need 1 <= top-k <= experts <= 256)
// TOPK: error: moe experts kernels: unsupported experts = 2, top-k = 3
// EXPERTS: error: moe route kernel: unsupported experts = 300, top-k = 2
// ELT: error: mm01-test-moe-kernels: elt must be bf16 or f32, not 'f16'
// TILE: error: moe experts kernels: gate_up tiles (32x64x32): tileM/tileN must be positive multiples of threadM/threadN
// THREADS: error: moe experts kernels: down tiles (32x64x32): (tileM/threadM)*(tileN/threadN) = 16 threads per GEMM block must be a multiple of 32 in [32, 1024]
// TC-M: error: moe experts kernels: gate_up tiles (48x64x32): tileM must be a multiple of 16*warpsM (32) and tileN of 16*warpsN (32): each warp takes whole 16-row m-tiles and pairs of 8-column n-tiles
// TC-K: error: moe experts kernels: down tiles (64x64x24): tileK must be a multiple of 16 (the mma.sync k)
// TC-STAGES: error: moe experts kernels: down tiles (64x64x32): stages = 1 must be in [2, 8]
// TC-ACC: error: moe experts kernels: gate_up tiles (128x128x32): warp tiles of 64x64 need 256 f32 accumulators per thread (> 128)
// TC-SMEM: error: moe experts kernels: gate_up tiles (128x128x128): 8 stages need 835584 bytes of shared memory (> 232448)
// TC-WARPS: error: moe experts kernels: gate_up tiles (16x1024x32): warpsM*warpsN = 64 warps exceed 32 (1024 threads)
// NEGATIVE: error: moe experts kernels: tile sizes must be >= 0 (0: chosen)
// LIST: error: mm01-test-moe-kernels: gate-up-tiles takes 6 values (M,N,K,warpsM,warpsN,stages), got 5
module {
}
