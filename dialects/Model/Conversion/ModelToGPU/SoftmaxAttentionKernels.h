//===- SoftmaxAttentionKernels.h - softmax attention GPU kernels -*- C++ -*-===//
//
// Generator of the kernels of one softmax-attention layer, launched in order:
//
//   1. softmax_attention_cache_write_*   grid (tokens, 1, 1)
//        key_cache[token_seq[i], positions[i]]   = RoPE(k_i, positions[i])
//        value_cache[token_seq[i], positions[i]] = v_i
//   2. the attention, one of two kernels (spec.queryTile selects):
//      queryTile = 0: softmax_attention_*_w<warps>   grid (tokens, Hkv, 1)
//        per-token SIMT kernel (decode: one token per sequence is
//        memory-bound; also the f32 path)
//      queryTile > 0: softmax_attention_*_q<BM>k<BN>w<W>s<S>
//        grid (cdiv(tokens·G, BM) + batch, Hkv, 1), the tensor-core prefill
//        kernel: a block takes BM query rows of ONE sequence (the G query
//        heads sharing a KV head stacked as rows), loops over key tiles of
//        its slot's cache up to the causal limit (mma.sync, online softmax)
//      both compute
//        out[i, h] = softmax_j(RoPE(q_i, pos_i)·key_cache[slot_i, j, h/G] ·
//                    scale) · value_cache[slot_i, j, h/G],  j = 0..pos_i
//
// (G = H / Hkv). Everything is computed in f32; RoPE(q) is rounded to the
// element type (as the CPU path's mm01.rope result is) and the output is
// rounded once. The tensor-core kernel also rounds the probabilities P to
// bf16 for the P·V product (the usual flash-attention approximation; the
// row sums are taken over the rounded P, so the output is an exact convex
// combination of the values with weights perturbed by at most one bf16
// rounding each: |error| <= u/(1-u) Σ_j p_j |v_j - out|, u = 2^-8).
// Grids depend on `tokens` and `batch` only: the context is looped over
// inside the kernels, so decode graphs can be replayed.
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

  // Tile configuration. Fields left at 0 are filled by
  // chooseSoftmaxAttentionTiles (buildSoftmaxAttention calls it with
  // prefill = false: it never switches kernels); explicit values are
  // honoured or refused with an error.

  /// Selects the attention kernel: 0 = the per-token SIMT kernel, BM > 0 =
  /// the tensor-core kernel with BM query rows per block (a multiple of 16
  /// in [16, 128]; bf16 only, D a multiple of 16 up to 128).
  int64_t queryTile = 0;
  /// Tensor-core kernel: key rows per pipelined tile (BN, a multiple of 16
  /// in [16, 128]), warps per block (BM / 16: each warp owns 16 query rows)
  /// and cp.async stages of K/V tiles (2..4; shared memory 2·(D+8)·(BM +
  /// 2·BN·stages) bytes + 4·BM must fit 227 KiB).
  int64_t keyTile = 0, tileWarps = 0, tileStages = 0;
  /// SIMT kernel: warps of a block; warp w takes the key rows j = w (mod
  /// warps) of the token's context with its own online softmax, the warps
  /// are merged through workgroup memory at the end. 0: the most of 8, 4,
  /// 2, 1 whose merge buffer fits 48 KiB (8 for MiniMax-01's H/Hkv = 8,
  /// D = 128: 1.8x faster decode than 4 on H200).
  int64_t warps = 0;
  /// Threads of a cache-write block (one block per new token).
  int64_t writeThreads = 128;
};

/// Fills the tile fields of `spec` that are 0. With `prefill`, a spec that
/// the tensor-core kernel supports (bf16, D a multiple of 16 up to 128) and
/// whose queryTile is 0 gets it: BM = 64, BN = 64, 4 warps, 2 stages (two
/// blocks per SM at D = 128; the fastest of the tiles benchmarked on an
/// H100 for MiniMax-01's layer, ahead of BM 128, BN 32/128 and 3 stages);
/// without, queryTile stays as it is (0: the per-token kernel, used for
/// decode). The SIMT kernel's `warps` is filled as documented above.
void chooseSoftmaxAttentionTiles(SoftmaxAttentionSpec &spec, bool prefill);

/// Builds the kernels of `spec` at the end of `module` (reusing those that
/// an earlier call built for the same spec: the cache-write kernel is shared
/// by specs that differ only in the attention tiles) and returns them in
/// launch order. Parameters are named after docs/gpu-engine-abi.md (`q`,
/// `k`, `v`, `key_cache`, `value_cache`, `out`, `positions`, `token_seq`,
/// `cu_seqlens`, and the i32 `batch`). Emits an error at `loc` naming the
/// problem and fails for an unsupported spec.
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
