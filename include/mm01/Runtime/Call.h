//===- Call.h - one call of an entry point: limits and packed inputs -*- C++ -*-===//
//
// A call runs `batch` sequences; sequence b owns slot b of the persistent
// buffers and its new tokens are packed in sequence order without padding
// (docs/gpu-engine-abi.md). This header builds the per-call input buffers
// (token_ids, positions, token_seq, cu_seqlens, context_lens) and the DimEnv
// of the schedule's expressions from the tokens of each sequence, and checks
// a call against what the engine was compiled for. Pure host code (no CUDA),
// so it is tested without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_CALL_H
#define MM01_RUNTIME_CALL_H

#include "mm01/Engine/Engine.h"
#include "mm01/Support/Result.h"

#include <cstdint>
#include <vector>

namespace mm01::runtime {

/// Names of the per-call input buffers and the output of the ABI.
inline constexpr const char *kTokenIds = "token_ids";
inline constexpr const char *kPositions = "positions";
inline constexpr const char *kTokenSeq = "token_seq";
inline constexpr const char *kCuSeqlens = "cu_seqlens";
inline constexpr const char *kContextLens = "context_lens";
inline constexpr const char *kLogits = "logits";

/// What one call may ask of an engine.
struct CallLimits {
  int64_t maxBatch = 1;
  int64_t maxContext = 1;
  /// Entries of the token_ids buffer (bytes / 4): the most new tokens of a
  /// call. INT64_MAX when the engine has no token_ids buffer.
  int64_t tokenCapacity = 0;
};
CallLimits callLimits(const engine::Manifest &manifest);

/// Checks the symbols of one call: batch, seq and context at least 1, seq
/// at most context, batch <= tokens <= batch * seq, and the engine's
/// limits. The messages name the limit ("batch 16 exceeds the engine's max
/// batch 8", "tokens 5000 exceed the capacity of the engine's token_ids
/// buffer (4096 tokens)").
Status checkCall(const engine::DimEnv &env, const CallLimits &limits);

/// The per-call input buffers of one call, host side (int32 each).
struct PackedCall {
  engine::DimEnv env;
  std::vector<int32_t> tokenIds;    // [tokens]
  std::vector<int32_t> positions;   // [tokens]
  std::vector<int32_t> tokenSeq;    // [tokens]
  std::vector<int32_t> cuSeqlens;   // [batch + 1]
  std::vector<int32_t> contextLens; // [batch]
};

/// Packs the new tokens of sequences 0..B-1 (B = newTokens.size()), sequence
/// b continuing after past[b] cached tokens, and checks the call.
Result<PackedCall> packCall(const std::vector<std::vector<int32_t>> &newTokens,
                            const std::vector<int64_t> &past,
                            const CallLimits &limits);

} // namespace mm01::runtime

#endif // MM01_RUNTIME_CALL_H
