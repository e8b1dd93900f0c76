//===- ToyEngine.h - a small engine following the GPU calling convention -*- C++ -*-===//
//
// An engine shaped like what the compiler emits (docs/gpu-engine-abi.md):
// `prefill` and `decode` entry points over packed tokens, the per-call
// input buffers, a float32 `logits` [tokens, vocab] output, persistent
// `state` and `kv_cache` arenas, a packed and a checkpoint weight. Its
// "model" is small enough to recompute on the host:
//
//   x[r]       = embed[ids[r]] + kPosScale * positions[r]       (kernel)
//   xb[r]      = bf16(x[r])
//   state[s]  += x[r] for the rows r of sequence s              (kernel)
//   cache[s, positions[r]] = x[r]                               (kernel)
//   logits[r]  = xb[r] · lm_headᵀ        BF16 x BF16 -> F32, trans_b
//   hb[r]      = bf16(xb[r] · lm_head[:kHb]ᵀ)  BF16 -> BF16, a partial B
//   aux[r]     = 0.5 · x[r] · proj + 1 · aux[r], aux zeroed first
//                                        F32, no transpose, beta 1
//   aux_copy   = aux (copy), marker[:tokens] = 0x5a (memset),
//   an in-place one-rank all_reduce of logits (a no-op).
//
// The kernels are supplied by the caller (the GPU test compiles
// toy_kernels.cu to PTX; the unit tests pass placeholder bytes, as nothing
// is launched there).
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TEST_UNIT_RUNTIME_TOYENGINE_H
#define MM01_TEST_UNIT_RUNTIME_TOYENGINE_H

#include "mm01/Engine/Engine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm01::runtime::test {

inline constexpr int64_t kVocab = 96, kHidden = 64, kProj = 16, kHb = 16;
inline constexpr int64_t kMaxBatch = 4, kMaxContext = 64, kTokenCapacity = 128;
inline constexpr float kPosScale = 0.125f;

struct ToyOptions {
  std::string arch = "sm_90a";
  engine::SectionKind kernelKind = engine::SectionKind::Ptx;
  std::vector<uint8_t> kernelImage = {'/', '/', ' ', 'n', 'o', 'n', 'e'};
  int64_t worldSize = 1;
  /// The checkpoint as written may differ from what the manifest expects,
  /// to test the refusals: another tensor name or dtype.
  std::string checkpointTensor = "lm_head.weight";
  DType checkpointDType = DType::BF16;
};

/// Writes `dir`/ckpt/model.safetensors and `dir`/toy.mm01; returns the
/// engine path.
Result<std::string> writeToyEngine(const std::string &dir, const ToyOptions &options = {});
/// The manifest alone (the checkpoint reference left empty).
engine::Manifest toyManifest(const ToyOptions &options = {});

// The weights (deterministic, not exactly representable in few bits).
float embedValue(int64_t token, int64_t c);
uint16_t lmHeadBits(int64_t v, int64_t c); // BF16
float projValue(int64_t c, int64_t p);

} // namespace mm01::runtime::test

#endif // MM01_TEST_UNIT_RUNTIME_TOYENGINE_H
