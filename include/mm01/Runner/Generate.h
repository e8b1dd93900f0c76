//===- Generate.h - prompt, prefill and greedy decode, any backend -*- C++ -*-===//
//
// The part of a runner that does not depend on the target: validating token
// ids, splitting a prompt into prefill pieces, the greedy (or teacher-forced)
// decode loop and the collection of logits. A backend (the CPU JIT, the GPU
// engine runtime) implements `Backend`. No MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNNER_GENERATE_H
#define MM01_RUNNER_GENERATE_H

#include "mm01/Support/Npy.h"
#include "mm01/Support/Result.h"

#include <cstdint>
#include <vector>

namespace mm01 {

/// A model instance with its own recurrent state (lightning states, KV
/// caches) for a fixed batch. Every call continues where the last stopped.
class Backend {
public:
  virtual ~Backend();
  virtual int64_t vocabSize() const = 0;
  virtual int64_t numLayers() const = 0;
  virtual int64_t hiddenSize() const = 0;
  /// Runs prompt tokens `ids` [B, t] at absolute `positions` [B, t] (int64),
  /// writes `logits` [B, t, V] (float32). When `hidden` is non-null, also
  /// writes the L+1 hidden states as [L+1, B, t, d] (float32).
  virtual Status prefill(const NpyArray &ids, const NpyArray &positions,
                         NpyArray &logits, NpyArray *hidden) = 0;
  /// One decode step: `ids`, `positions` [B, 1] -> `logits` [B, 1, V].
  /// Positions may differ between rows (after prompts of different lengths).
  virtual Status decode(const NpyArray &ids, const NpyArray &positions,
                        NpyArray &logits) = 0;
  /// Prefill of prompts of different lengths at the start of a generation:
  /// row b of `ids` [B, T] holds lengths[b] tokens at positions
  /// 0..lengths[b]-1 (the rest of the row is ignored). Writes `logits`
  /// [B, T, V], zero past each prompt's length. The default refuses: a
  /// backend that cannot pack sequences of different lengths says so.
  virtual Status prefillMixed(const NpyArray &ids, const std::vector<int64_t> &lengths,
                              NpyArray &logits);
};

struct GenerateOptions {
  /// Tokens to generate after the prompt.
  int64_t generate = 0;
  /// [B, generate] int64: teacher forcing instead of greedy choice.
  const NpyArray *forcedIds = nullptr;
  /// Prefill the prompt in pieces of this many tokens (0: in one piece).
  int64_t prefillChunk = 0;
  bool hiddenStates = false;
  /// Tokens of each prompt row to use (row b: ids[b, :promptLengths[b]]);
  /// empty: all T. Different lengths need Backend::prefillMixed and exclude
  /// prefillChunk and hiddenStates.
  std::vector<int64_t> promptLengths;
};

struct GenerateResult {
  NpyArray logits;          // [B, T, V] f32 (zero past a prompt's length)
  NpyArray generatedIds;    // [B, N] i64
  NpyArray generatedLogits; // [B, N, V] f32: the logits that chose each token
  NpyArray hiddenStates;    // [L+1, B, T, d] f32 when requested
  double prefillSeconds = 0, decodeSeconds = 0;
};

/// Checks that `ids` is int64 [B, T] with every id in [0, vocab); the error
/// names `what` (a file name) and the first offending element.
Status checkTokenIds(const NpyArray &ids, int64_t vocab, const std::string &what);

/// Prefill of `ids` [B, T] (in pieces if asked), then `generate` decode steps.
/// generated_ids[:, 0] is chosen from the prompt's last logits (row b: at
/// position promptLengths[b] - 1); each later token from a decode step fed
/// the previous one.
Result<GenerateResult> generate(Backend &backend, const NpyArray &ids,
                                const GenerateOptions &options);

} // namespace mm01

#endif // MM01_RUNNER_GENERATE_H
