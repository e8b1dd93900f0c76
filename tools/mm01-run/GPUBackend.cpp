//===- GPUBackend.cpp - generate() on an engine -----------------------------===//
#include "GPUBackend.h"

#include <cstring>

using namespace mm01;

int64_t GPUBackend::vocabSize() const { return session.vocabSize(); }
int64_t GPUBackend::numLayers() const {
  return session.engine().manifest().model.numLayers;
}
int64_t GPUBackend::hiddenSize() const {
  return session.engine().manifest().model.hiddenSize;
}

Status GPUBackend::checkPositions(const NpyArray &positions) const {
  const int64_t B = positions.shape[0], t = positions.shape[1];
  const std::vector<int64_t> &context = session.contextLengths();
  for (int64_t b = 0; b < B; ++b) {
    int64_t p = positions.data<int64_t>()[b * t];
    if (b >= static_cast<int64_t>(context.size()) || p != context[b])
      return makeError("internal error: row " + std::to_string(b) + " starts at position " +
                       std::to_string(p) + " but its slot holds " +
                       std::to_string(b < static_cast<int64_t>(context.size()) ? context[b] : -1) +
                       " tokens");
  }
  return Status::success();
}

namespace {
std::vector<std::vector<int32_t>> rows(const NpyArray &ids,
                                       const std::vector<int64_t> &lengths) {
  const int64_t B = ids.shape[0], T = ids.shape[1];
  std::vector<std::vector<int32_t>> out(B);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < lengths[b]; ++i)
      out[b].push_back(static_cast<int32_t>(ids.data<int64_t>()[b * T + i]));
  return out;
}
} // namespace

Status GPUBackend::prefill(const NpyArray &ids, const NpyArray &positions,
                           NpyArray &logits, NpyArray *hidden) {
  if (hidden)
    return makeError("hidden states are not available from an engine");
  if (Status s = checkPositions(positions); !s)
    return s;
  const int64_t B = ids.shape[0], t = ids.shape[1], V = vocabSize();
  if (Status s = session.prefill(rows(ids, std::vector<int64_t>(B, t))); !s)
    return s;
  Result<std::vector<float>> packed = session.logits();
  if (!packed)
    return packed.takeError();
  // Equal lengths: packed row b * t + i is [b, i].
  logits = NpyArray::make(NpyType::F32, {B, t, V});
  std::memcpy(logits.data<float>(), packed->data(), packed->size() * sizeof(float));
  return Status::success();
}

Status GPUBackend::prefillMixed(const NpyArray &ids, const std::vector<int64_t> &lengths,
                                NpyArray &logits) {
  const int64_t B = ids.shape[0], T = ids.shape[1], V = vocabSize();
  for (int64_t b = 0; b < B; ++b)
    if (session.contextLengths()[b] != 0)
      return makeError("internal error: a mixed-length prefill starts a generation");
  if (Status s = session.prefill(rows(ids, lengths)); !s)
    return s;
  Result<std::vector<float>> packed = session.logits();
  if (!packed)
    return packed.takeError();
  logits = NpyArray::make(NpyType::F32, {B, T, V}); // zero past each prompt
  int64_t row = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < lengths[b]; ++i, ++row)
      std::memcpy(logits.data<float>() + (b * T + i) * V, packed->data() + row * V,
                  V * sizeof(float));
  return Status::success();
}

Status GPUBackend::decode(const NpyArray &ids, const NpyArray &positions,
                          NpyArray &logits) {
  if (Status s = checkPositions(positions); !s)
    return s;
  const int64_t B = ids.shape[0], V = vocabSize();
  std::vector<int32_t> tokens(B);
  for (int64_t b = 0; b < B; ++b)
    tokens[b] = static_cast<int32_t>(ids.data<int64_t>()[b]);
  if (Status s = session.decode(tokens, useGraph); !s)
    return s;
  Result<std::vector<float>> last = session.lastLogits();
  if (!last)
    return last.takeError();
  logits = NpyArray::make(NpyType::F32, {B, 1, V});
  std::memcpy(logits.data<float>(), last->data(), last->size() * sizeof(float));
  return Status::success();
}
