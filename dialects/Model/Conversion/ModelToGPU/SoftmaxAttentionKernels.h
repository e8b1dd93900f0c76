//===- SoftmaxAttentionKernels.h - softmax attention GPU kernels -*- C++ -*-===//
//
// Generator of the kernels of one softmax-attention layer (prefill and decode
// share them), launched in order:
//
//   1. softmax_attention_cache_write_*   grid (tokens, 1, 1)
//        key_cache[token_seq[i], positions[i]]   = RoPE(k_i, positions[i])
//        value_cache[token_seq[i], positions[i]] = v_i
//   2. softmax_attention_*               grid (tokens, Hkv, 1)
//        out[i, h] = softmax_j(RoPE(q_i, pos_i)·key_cache[slot_i, j, h/G] ·
//                    scale) · value_cache[slot_i, j, h/G],  j = 0..pos_i
//
// (G = H / Hkv). Everything is computed in f32; RoPE(q) is rounded to the
// element type (as the CPU path's mm01.rope result is) and the output is
// rounded once. Grids depend on `tokens` only: the context is looped over
// inside the kernel, so decode graphs can be replayed.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_SOFTMAXATTENTIONKERNELS_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_SOFTMAXATTENTIONKERNELS_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <vector>

namespace mm01::gpu {

struct SoftmaxAttentionSpec {
  /// H, Hkv (H % Hkv == 0), D (a multiple of 32 in [32, 256]), R (even, in
  /// [2, D]: RoPE on channels [0, R), rotate-half pairing c <-> c + R/2).
  int64_t heads = 0, kvHeads = 0, dim = 0, rotaryDim = 0;
  /// RoPE base; softmax scale (1/sqrt(D) for MiniMax-01).
  double theta = 10000.0, scale = 0.0;
  /// Activation and KV-cache element type: bf16 or f32.
  mlir::Type elt;
  /// Elements between consecutive tokens; heads are contiguous (stride D)
  /// inside a token. q's stride must be a multiple of D / 32 (q is read in
  /// D/32-element vectors) and every pointer aligned to such a vector.
  int64_t qTokenStride = 0, kTokenStride = 0, vTokenStride = 0,
          outTokenStride = 0;
  /// Upper bounds (memref extents). Rows outside the cache (slot >= maxBatch
  /// or position >= maxContext) are neither written nor attended.
  int64_t maxBatch = 0, maxContext = 0, maxTokens = 0;

  // Tile configuration.
  /// Warps of an attention block; warp w takes the key rows j = w (mod
  /// warps) of the token's context with its own online softmax, the warps
  /// are merged through workgroup memory at the end. 0: the most of 8, 4,
  /// 2, 1 whose merge buffer fits 48 KiB (8 for MiniMax-01's H/Hkv = 8,
  /// D = 128: 1.8x faster decode than 4 on H200).
  int64_t warps = 0;
  /// Threads of a cache-write block (one block per new token).
  int64_t writeThreads = 128;
};

/// Builds the kernels of `spec` at the end of `module` (reusing those that
/// an earlier call built for the same spec) and returns them in launch
/// order. Parameters are named after docs/gpu-engine-abi.md (`q`, `k`, `v`,
/// `key_cache`, `value_cache`, `out`, `positions`, `token_seq`). Emits an
/// error at `loc` naming the problem and fails for an unsupported spec.
mlir::FailureOr<std::vector<GeneratedKernel>>
buildSoftmaxAttention(mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                      const SoftmaxAttentionSpec &spec, mlir::Location loc);

/// Registers mm01-test-softmax-attention-kernels (mm01-opt): builds the
/// kernels of a spec given as pass options into gpu.module
/// @mm01_softmax_attention, and records them in the module attribute
/// `mm01.softmax_attention.manifest` (read by test/gpu's launcher).
void registerSoftmaxAttentionTestPass();

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_SOFTMAXATTENTIONKERNELS_H
