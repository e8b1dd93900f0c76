//===- Call.cpp - call limits and packed per-call inputs -------------------===//
#include "mm01/Runtime/Call.h"

#include <algorithm>
#include <limits>
#include <string>

using namespace mm01;
using namespace mm01::runtime;

CallLimits mm01::runtime::callLimits(const engine::Manifest &manifest) {
  CallLimits limits;
  limits.maxBatch = manifest.options.maxBatch;
  limits.maxContext = manifest.options.maxContext;
  const engine::Buffer *ids = manifest.findBuffer(kTokenIds);
  limits.tokenCapacity = ids ? static_cast<int64_t>(ids->bytes / 4)
                             : std::numeric_limits<int64_t>::max();
  return limits;
}

Status mm01::runtime::checkCall(const engine::DimEnv &env, const CallLimits &limits) {
  auto str = [](int64_t v) { return std::to_string(v); };
  if (env.batch < 1)
    return makeError("batch " + str(env.batch) + " must be at least 1");
  if (env.batch > limits.maxBatch)
    return makeError("batch " + str(env.batch) + " exceeds the engine's max batch " +
                     str(limits.maxBatch));
  if (env.seq < 1)
    return makeError("seq " + str(env.seq) + " (new tokens of the longest sequence) "
                     "must be at least 1");
  if (env.context < env.seq)
    return makeError("context " + str(env.context) + " is less than seq " +
                     str(env.seq) + " (a sequence has at least its new tokens)");
  if (env.context > limits.maxContext)
    return makeError("context " + str(env.context) +
                     " exceeds the engine's max context " + str(limits.maxContext));
  int64_t tokens = env.tokens;
  if (tokens < 0 && __builtin_mul_overflow(env.batch, env.seq, &tokens))
    return makeError("tokens (batch * seq) overflows");
  int64_t most = 0;
  if (__builtin_mul_overflow(env.batch, env.seq, &most))
    most = std::numeric_limits<int64_t>::max();
  if (tokens < env.batch || tokens > most)
    return makeError("tokens " + str(tokens) + " must lie between batch " +
                     str(env.batch) + " and batch * seq " + str(most));
  if (tokens > limits.tokenCapacity)
    return makeError("tokens " + str(tokens) +
                     " exceed the capacity of the engine's token_ids buffer (" +
                     str(limits.tokenCapacity) + " tokens)");
  return Status::success();
}

Result<PackedCall>
mm01::runtime::packCall(const std::vector<std::vector<int32_t>> &newTokens,
                        const std::vector<int64_t> &past, const CallLimits &limits) {
  const int64_t B = static_cast<int64_t>(newTokens.size());
  if (B < 1)
    return makeError("a call needs at least one sequence");
  // Before anything that indexes per-slot data sized to the max batch.
  if (B > limits.maxBatch)
    return makeError("batch " + std::to_string(B) + " exceeds the engine's max batch " +
                     std::to_string(limits.maxBatch));
  if (past.size() < newTokens.size())
    return makeError("internal error: " + std::to_string(past.size()) +
                     " cached lengths for " + std::to_string(B) + " sequences");
  PackedCall call;
  call.env.batch = B;
  call.env.tokens = 0;
  call.cuSeqlens.push_back(0);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t> &seq = newTokens[b];
    if (seq.empty())
      return makeError("sequence " + std::to_string(b) + " has no new tokens");
    const int64_t n = static_cast<int64_t>(seq.size()), p = past[b];
    if (p < 0)
      return makeError("sequence " + std::to_string(b) + ": negative cached length " +
                       std::to_string(p));
    const int64_t context = p + n;
    // Check each sequence's context before packing: positions are int32 and
    // the message should name the sequence.
    if (context > limits.maxContext)
      return makeError("sequence " + std::to_string(b) + ": context " +
                       std::to_string(context) + " (" + std::to_string(p) +
                       " cached + " + std::to_string(n) +
                       " new tokens) exceeds the engine's max context " +
                       std::to_string(limits.maxContext));
    call.env.seq = std::max(call.env.seq, n);
    call.env.context = std::max(call.env.context, context);
    call.env.tokens += n;
    if (call.env.tokens > limits.tokenCapacity)
      break; // checkCall below names the limit; stop packing early
    for (int64_t i = 0; i < n; ++i) {
      call.tokenIds.push_back(seq[i]);
      call.positions.push_back(static_cast<int32_t>(p + i));
      call.tokenSeq.push_back(static_cast<int32_t>(b));
    }
    call.cuSeqlens.push_back(static_cast<int32_t>(call.env.tokens));
    call.contextLens.push_back(static_cast<int32_t>(context));
  }
  if (call.env.tokens > limits.tokenCapacity) {
    // The total of all sequences, for the message.
    int64_t total = 0;
    for (const auto &seq : newTokens)
      total += static_cast<int64_t>(seq.size());
    call.env.tokens = total;
  }
  if (Status s = checkCall(call.env, limits); !s)
    return Error{s.error()};
  return call;
}
