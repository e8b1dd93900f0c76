// Unsupported specs of the MoE kernel generators fail with a clear error.
// RUN: not mm01-opt %s --mm01-test-moe-kernels="hidden=250 inter=64" 2>&1 | FileCheck %s --check-prefix=HIDDEN
// RUN: not mm01-opt %s --mm01-test-moe-kernels="experts=2 top-k=3" 2>&1 | FileCheck %s --check-prefix=TOPK
// RUN: not mm01-opt %s --mm01-test-moe-kernels="experts=300" 2>&1 | FileCheck %s --check-prefix=EXPERTS
// RUN: not mm01-opt %s --mm01-test-moe-kernels="tile-m=32 thread-m=3" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not mm01-opt %s --mm01-test-moe-kernels="elt=f16" 2>&1 | FileCheck %s --check-prefix=ELT

// HIDDEN: error: moe experts kernels: hidden = 250 and inter = 64 must be multiples of 8 (16-byte vectors of 'bf16')
// TOPK: error: moe route kernel: unsupported experts = 2, top-k = 3 (need 1 <= top-k <= experts <= 256)
// TOPK: error: moe experts kernels: unsupported experts = 2, top-k = 3
// EXPERTS: error: moe route kernel: unsupported experts = 300, top-k = 2
// TILE: error: moe experts kernels: tileM/tileN must be positive multiples of threadM/threadN
// ELT: error: mm01-test-moe-kernels: elt must be bf16 or f32, not 'f16'
module {
}
