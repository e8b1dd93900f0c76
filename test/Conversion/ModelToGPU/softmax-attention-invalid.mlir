// Specs the softmax attention kernel generator cannot build: an error that
// names the problem, and the pass fails.
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="heads=6 kv-heads=4" 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="dim=48 rotary-dim=16" 2>&1 | FileCheck %s --check-prefix=DIM
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="dim=64 rotary-dim=33" 2>&1 | FileCheck %s --check-prefix=ROT
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="dim=64 rotary-dim=80" 2>&1 | FileCheck %s --check-prefix=ROTBIG
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="elt=f16" 2>&1 | FileCheck %s --check-prefix=ELT
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 dim=128 rotary-dim=64 q-stride=514" 2>&1 | FileCheck %s --check-prefix=STRIDE
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 out-stride=100" 2>&1 | FileCheck %s --check-prefix=OSTRIDE
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="heads=64 kv-heads=1 dim=256 rotary-dim=64" 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="warps=33" 2>&1 | FileCheck %s --check-prefix=WARPS
// Tiles of the tensor-core kernel that it cannot take.
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="query-tile=48 key-tile=64 tile-warps=4" 2>&1 | FileCheck %s --check-prefix=TWARPS
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="query-tile=40" 2>&1 | FileCheck %s --check-prefix=QTILE
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="query-tile=64 key-tile=8" 2>&1 | FileCheck %s --check-prefix=KTILE
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="query-tile=64 tile-stages=1" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="dim=128 rotary-dim=64 query-tile=128 key-tile=128 tile-stages=4" 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="elt=f32 query-tile=64" 2>&1 | FileCheck %s --check-prefix=TCF32
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="dim=256 rotary-dim=64 query-tile=64" 2>&1 | FileCheck %s --check-prefix=TCDIM
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 q-stride=260 query-tile=64" 2>&1 | FileCheck %s --check-prefix=TCSTRIDE
// RUN: not mm01-opt %s --mm01-test-softmax-attention-kernels="key-tile=64" 2>&1 | FileCheck %s --check-prefix=NOTC

// GQA: error: softmax attention GPU kernels: unsupported spec: heads = 6 must be a positive multiple of kv-heads = 4
// DIM: unsupported spec: dim = 48 must be a multiple of 32 in [32, 256]
// ROT: unsupported spec: rotary-dim = 33 must be even and in [2, dim = 64]
// ROTBIG: unsupported spec: rotary-dim = 80 must be even and in [2, dim = 64]
// ELT: unsupported spec: element type 'f16' is not supported (bf16 or f32)
// STRIDE: unsupported spec: q token stride = 514 must be >= heads * dim = 512 and a multiple of dim / 32 = 4
// OSTRIDE: unsupported spec: out token stride = 100 must be >= heads * dim = 256
// REGS: unsupported spec: heads / kv-heads * dim / 32 = 512 per-lane accumulators exceed 128 (registers)
// WARPS: unsupported spec: warps = 33 must be in [1, 32]
// TWARPS: unsupported spec: tile-warps = 4 must be query-tile / 16 = 3 (each warp owns 16 query rows)
// QTILE: unsupported spec: query-tile = 40 must be a multiple of 16 in [16, 128]
// KTILE: unsupported spec: key-tile = 8 must be a multiple of 16 in [16, 128]
// STAGES: unsupported spec: tile-stages = 1 must be in [2, 4]
// SMEM: unsupported spec: shared memory of 313856 bytes (query-tile = 128, key-tile = 128, tile-stages = 4, dim = 128) exceeds 232448 bytes
// TCF32: unsupported spec: query-tile = 64: the tensor-core kernel needs bf16 (mma.sync bf16); f32 uses query-tile = 0
// TCDIM: unsupported spec: query-tile = 64: dim = 256 must be a multiple of 16 up to 128 for the tensor-core kernel (its accumulators are registers)
// TCSTRIDE: unsupported spec: q token stride = 260 must be a multiple of 8 for the tensor-core kernel (16-byte cp.async)
// NOTC: unsupported spec: key-tile, tile-warps and tile-stages configure the tensor-core kernel, but query-tile = 0 selects the per-token kernel
module {
}
