// Option values the kernel layout cannot use; reported on the op.
// RUN: not mm01-opt %s --mm01-lightning-decode-to-gpu="block-columns=48" 2>&1 | FileCheck %s --check-prefix=COLS
// RUN: not mm01-opt %s --mm01-lightning-decode-to-gpu="block-columns=256" 2>&1 | FileCheck %s --check-prefix=COLS256
// RUN: not mm01-opt %s --mm01-lightning-decode-to-gpu="threads=100" 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not mm01-opt %s --mm01-lightning-decode-to-gpu="block-columns=4 threads=256" 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: mm01-opt %s --mm01-lightning-decode-to-gpu="block-columns=4 threads=64" | FileCheck %s --check-prefix=OK

// COLS: error: 'mm01.lightning_decode' op cannot be lowered by mm01-lightning-decode-to-gpu: block-columns = 48 must be a power of two in [4, 128]
// COLS256: block-columns = 256 must be a power of two in [4, 128]
// THREADS: threads = 100 must be a multiple of 32 in [32, 1024]
// ROWS: D = 64 is not divisible by the 256 row groups of a block (threads / (block-columns / 4))
// OK: gpu.func @lightning_decode_h2_d64_f32_c4_t64(
func.func @f(%q: tensor<1x1x2x64xf32>, %s: tensor<1x2x64x64xf32>) -> tensor<1x1x2x64xf32> {
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x1x2x64xf32>, tensor<1x2x64x64xf32>
  return %o : tensor<1x1x2x64xf32>
}
