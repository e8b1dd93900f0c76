//===- Session.cpp - prefill / decode requests on a loaded engine ----------===//
#include "mm01/Runtime/Session.h"

#include "CudaStatus.h"

#include <cstring>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;

Result<std::unique_ptr<EngineSession>> EngineSession::create(GpuEngine &engine) {
  const Manifest &m = engine.manifest();
  for (const char *required : {kTokenIds, kLogits})
    if (!m.findBuffer(required))
      return makeError(engine.path() + ": engine has no buffer '" + required +
                       "' (docs/gpu-engine-abi.md)");
  std::unique_ptr<EngineSession> s(new EngineSession(engine));
  s->vocab_ = m.model.vocabSize;
  s->context_.assign(m.options.maxBatch, 0);
  if (Status st = cudaStatus(cudaStreamCreateWithFlags(&s->stream_, cudaStreamNonBlocking),
                             "cudaStreamCreate");
      !st)
    return Error{st.error()};
  if (Status st = cudaStatus(cudaEventCreateWithFlags(&s->uploaded_, cudaEventDisableTiming),
                             "cudaEventCreate");
      !st)
    return Error{st.error()};
  // Room for every input at its largest: tokens x 3 + (batch + 1) + batch.
  s->stagingInts_ = 3 * static_cast<size_t>(engine.limits().tokenCapacity) +
                    2 * static_cast<size_t>(m.options.maxBatch) + 1;
  if (Status st = cudaStatus(cudaMallocHost(reinterpret_cast<void **>(&s->staging_), s->stagingInts_ * 4),
                             "cannot allocate pinned staging memory");
      !st)
    return Error{st.error()};
  return s;
}

EngineSession::~EngineSession() {
  if (stream_)
    cudaStreamSynchronize(stream_);
  if (staging_)
    cudaFreeHost(staging_);
  if (uploaded_)
    cudaEventDestroy(uploaded_);
  if (stream_)
    cudaStreamDestroy(stream_);
}

Status EngineSession::reset() {
  for (Lifetime l : {Lifetime::State, Lifetime::KVCache})
    if (Status s = engine_.zeroArena(l, stream_); !s)
      return s;
  std::fill(context_.begin(), context_.end(), 0);
  lastTokens_ = 0;
  lastCuSeqlens_.clear();
  return Status::success();
}

Status EngineSession::call(const std::string &entry, const PackedCall &packed,
                           bool useGraph) {
  // The previous call's uploads must have read the staging memory before it
  // is rewritten; they are the first thing of that call, so this rarely waits.
  if (Status s = cudaStatus(cudaEventSynchronize(uploaded_), "waiting for uploads"); !s)
    return s;
  const Manifest &m = engine_.manifest();
  struct Input {
    const char *name;
    const std::vector<int32_t> &values;
  } inputs[] = {{kTokenIds, packed.tokenIds},
                {kPositions, packed.positions},
                {kTokenSeq, packed.tokenSeq},
                {kCuSeqlens, packed.cuSeqlens},
                {kContextLens, packed.contextLens}};
  size_t at = 0;
  for (const Input &in : inputs) {
    // An engine whose kernels do not read an input need not declare it.
    if (!m.findBuffer(in.name))
      continue;
    if (at + in.values.size() > stagingInts_)
      return makeError("internal error: staging memory too small");
    std::memcpy(staging_ + at, in.values.data(), in.values.size() * 4);
    if (Status s = engine_.upload(in.name, staging_ + at, in.values.size() * 4, stream_); !s)
      return s;
    at += in.values.size();
  }
  if (Status s = cudaStatus(cudaEventRecord(uploaded_, stream_), "cudaEventRecord"); !s)
    return s;
  Status ran = useGraph ? engine_.runGraph(entry, packed.env, stream_)
                        : engine_.run(entry, packed.env, stream_);
  if (!ran)
    return ran;
  for (size_t b = 0; b < packed.contextLens.size(); ++b)
    context_[b] = packed.contextLens[b];
  lastTokens_ = packed.env.tokens;
  lastCuSeqlens_ = packed.cuSeqlens;
  return Status::success();
}

Status EngineSession::prefill(const std::vector<std::vector<int32_t>> &tokens) {
  Result<PackedCall> packed = packCall(tokens, context_, engine_.limits());
  if (!packed)
    return packed.takeError();
  return call("prefill", *packed, /*useGraph=*/false);
}

Status EngineSession::decode(const std::vector<int32_t> &tokens, bool useGraph) {
  std::vector<std::vector<int32_t>> perSequence;
  perSequence.reserve(tokens.size());
  for (int32_t t : tokens)
    perSequence.push_back({t});
  Result<PackedCall> packed = packCall(perSequence, context_, engine_.limits());
  if (!packed)
    return packed.takeError();
  return call("decode", *packed, useGraph);
}

Result<std::vector<float>> EngineSession::logits() {
  const uint64_t count = static_cast<uint64_t>(lastTokens_) * vocab_;
  std::vector<float> out(count);
  if (Status s = engine_.download(kLogits, out.data(), count * 4, stream_); !s)
    return Error{s.error()};
  return out;
}

Result<std::vector<float>> EngineSession::lastLogits() {
  const size_t B = lastCuSeqlens_.empty() ? 0 : lastCuSeqlens_.size() - 1;
  const uint64_t rowBytes = static_cast<uint64_t>(vocab_) * 4;
  Result<uint64_t> base = engine_.bufferAddress(kLogits);
  if (!base)
    return base.takeError();
  const engine::Buffer *buffer = engine_.manifest().findBuffer(kLogits);
  std::vector<float> out(B * vocab_);
  for (size_t b = 0; b < B; ++b) {
    uint64_t row = static_cast<uint64_t>(lastCuSeqlens_[b + 1] - 1);
    if ((row + 1) * rowBytes > buffer->bytes)
      return makeError("buffer 'logits' (" + std::to_string(buffer->bytes) +
                       " bytes) has no row " + std::to_string(row) + " of " +
                       std::to_string(vocab_) + " floats");
    // One asynchronous copy per row, then a single wait.
    if (Status s = cudaStatus(cudaMemcpyAsync(out.data() + b * vocab_,
                                              reinterpret_cast<void *>(*base + row * rowBytes),
                                              rowBytes, cudaMemcpyDeviceToHost, stream_),
                              "download from buffer 'logits'");
        !s)
      return Error{s.error()};
  }
  if (Status s = synchronize(); !s)
    return Error{s.error()};
  return out;
}

Status EngineSession::synchronize() {
  return cudaStatus(cudaStreamSynchronize(stream_), "running the engine");
}
