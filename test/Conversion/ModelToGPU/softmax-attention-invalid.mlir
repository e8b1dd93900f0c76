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

// GQA: error: softmax attention GPU kernels: unsupported spec: heads = 6 must be a positive multiple of kv-heads = 4
// DIM: unsupported spec: dim = 48 must be a multiple of 32 in [32, 256]
// ROT: unsupported spec: rotary-dim = 33 must be even and in [2, dim = 64]
// ROTBIG: unsupported spec: rotary-dim = 80 must be even and in [2, dim = 64]
// ELT: unsupported spec: element type 'f16' is not supported (bf16 or f32)
// STRIDE: unsupported spec: q token stride = 514 must be >= heads * dim = 512 and a multiple of dim / 32 = 4
// OSTRIDE: unsupported spec: out token stride = 100 must be >= heads * dim = 256
// REGS: unsupported spec: heads / kv-heads * dim / 32 = 512 per-lane accumulators exceed 128 (registers)
// WARPS: unsupported spec: warps = 33 must be in [1, 32]
module {
}
