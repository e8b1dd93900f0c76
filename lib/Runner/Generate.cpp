//===- Generate.cpp - prompt, prefill and greedy decode ---------------------===//
#include "mm01/Runner/Generate.h"

#include <chrono>
#include <cstring>

namespace mm01 {

Backend::~Backend() = default;

Status Backend::prefillMixed(const NpyArray &, const std::vector<int64_t> &, NpyArray &) {
  return makeError("this backend does not support prompts of different lengths");
}

namespace {
std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// Copies columns [t0, t0 + t) of a [B, T, ...] int64 array.
NpyArray sliceTokens(const NpyArray &a, int64_t t0, int64_t t) {
  int64_t B = a.shape[0], T = a.shape[1];
  NpyArray out = NpyArray::make(a.type, {B, t});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(out.data<int64_t>() + b * t, a.data<int64_t>() + b * T + t0,
                t * sizeof(int64_t));
  return out;
}

int64_t argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) // ties: the lower index, as torch.argmax
      best = i;
  return best;
}
} // namespace

Status checkTokenIds(const NpyArray &ids, int64_t vocab, const std::string &what) {
  if (ids.type != NpyType::I64 || ids.shape.size() != 2)
    return makeError(what + ": expected int64 [batch, seq] token ids, found " +
                     npyTypeName(ids.type) + " " + shapeStr(ids.shape));
  if (ids.shape[0] < 1 || ids.shape[1] < 1)
    return makeError(what + ": empty token ids " + shapeStr(ids.shape));
  for (int64_t i = 0; i < ids.numElements(); ++i) {
    int64_t id = ids.data<int64_t>()[i];
    if (id < 0 || id >= vocab)
      return makeError(what + ": token id " + std::to_string(id) + " at [" +
                       std::to_string(i / ids.shape[1]) + ", " +
                       std::to_string(i % ids.shape[1]) +
                       "] is out of range for vocab size " + std::to_string(vocab));
  }
  return Status::success();
}

Result<GenerateResult> generate(Backend &backend, const NpyArray &ids,
                                const GenerateOptions &options) {
  const int64_t V = backend.vocabSize();
  if (Status s = checkTokenIds(ids, V, "input ids"); !s)
    return makeError(s.error());
  const int64_t B = ids.shape[0], T = ids.shape[1], N = options.generate;
  if (N < 0)
    return makeError("generate count must be non-negative, found " + std::to_string(N));
  if (options.forcedIds) {
    if (Status s = checkTokenIds(*options.forcedIds, V, "forced ids"); !s)
      return makeError(s.error());
    if (options.forcedIds->shape != std::vector<int64_t>{B, N})
      return makeError("forced ids: expected shape " + shapeStr({B, N}) +
                       " (batch of the prompt, tokens to generate), found " +
                       shapeStr(options.forcedIds->shape));
  }
  const int64_t piece = options.prefillChunk > 0 ? options.prefillChunk : T;
  std::vector<int64_t> lengths = options.promptLengths;
  if (lengths.empty())
    lengths.assign(B, T);
  if (static_cast<int64_t>(lengths.size()) != B)
    return makeError("prompt lengths: expected " + std::to_string(B) +
                     " (one per row of the input ids), found " +
                     std::to_string(lengths.size()));
  bool mixed = false;
  for (int64_t b = 0; b < B; ++b) {
    if (lengths[b] < 1 || lengths[b] > T)
      return makeError("prompt length " + std::to_string(lengths[b]) + " of row " +
                       std::to_string(b) + " must lie in [1, " + std::to_string(T) +
                       "] (the input ids' length)");
    mixed = mixed || lengths[b] != T;
  }
  if (mixed && piece < T)
    return makeError("prefilling in pieces is not supported with prompts of "
                     "different lengths");
  if (mixed && options.hiddenStates)
    return makeError("hidden states are not supported with prompts of different "
                     "lengths");

  GenerateResult result;
  result.logits = NpyArray::make(NpyType::F32, {B, T, V});
  const int64_t L1 = backend.numLayers() + 1, d = backend.hiddenSize();
  if (options.hiddenStates)
    result.hiddenStates = NpyArray::make(NpyType::F32, {L1, B, T, d});

  auto start = std::chrono::steady_clock::now();
  if (mixed) {
    NpyArray logits;
    if (Status s = backend.prefillMixed(ids, lengths, logits); !s)
      return makeError(s.error());
    if (logits.type != NpyType::F32 || logits.shape != std::vector<int64_t>{B, T, V})
      return makeError("internal error: mixed-length prefill returned logits " +
                       shapeStr(logits.shape));
    result.logits = std::move(logits);
  }
  for (int64_t t0 = 0; !mixed && t0 < T; t0 += piece) {
    int64_t t = std::min(piece, T - t0);
    NpyArray pieceIds = sliceTokens(ids, t0, t);
    NpyArray positions = NpyArray::make(NpyType::I64, {B, t});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < t; ++i)
        positions.data<int64_t>()[b * t + i] = t0 + i;
    NpyArray logits, hidden;
    if (Status s = backend.prefill(pieceIds, positions, logits,
                                   options.hiddenStates ? &hidden : nullptr);
        !s)
      return makeError(s.error());
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(result.logits.data<float>() + (b * T + t0) * V,
                  logits.data<float>() + b * t * V, t * V * sizeof(float));
    if (options.hiddenStates)
      for (int64_t l = 0; l < L1; ++l)
        for (int64_t b = 0; b < B; ++b)
          std::memcpy(result.hiddenStates.data<float>() + ((l * B + b) * T + t0) * d,
                      hidden.data<float>() + ((l * B + b) * t) * d, t * d * sizeof(float));
  }
  result.prefillSeconds = seconds(start);

  result.generatedIds = NpyArray::make(NpyType::I64, {B, N});
  result.generatedLogits = NpyArray::make(NpyType::F32, {B, N, V});
  start = std::chrono::steady_clock::now();
  NpyArray stepLogits;
  for (int64_t s = 0; s < N; ++s) {
    if (s > 0) {
      NpyArray stepIds = NpyArray::make(NpyType::I64, {B, 1});
      NpyArray positions = NpyArray::make(NpyType::I64, {B, 1});
      for (int64_t b = 0; b < B; ++b) {
        stepIds.data<int64_t>()[b] = result.generatedIds.data<int64_t>()[b * N + s - 1];
        positions.data<int64_t>()[b] = lengths[b] + s - 1;
      }
      if (Status st = backend.decode(stepIds, positions, stepLogits); !st)
        return makeError(st.error());
    }
    for (int64_t b = 0; b < B; ++b) {
      const float *row = s == 0 ? result.logits.data<float>() + (b * T + lengths[b] - 1) * V
                                : stepLogits.data<float>() + b * V;
      std::memcpy(result.generatedLogits.data<float>() + (b * N + s) * V, row,
                  V * sizeof(float));
      result.generatedIds.data<int64_t>()[b * N + s] =
          options.forcedIds ? options.forcedIds->data<int64_t>()[b * N + s]
                            : argmax(row, V);
    }
  }
  result.decodeSeconds = seconds(start);
  return result;
}

} // namespace mm01
