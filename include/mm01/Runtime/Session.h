//===- Session.h - requests on a loaded engine: prefill, decode, logits -*- C++ -*-===//
//
// The request-level API over GpuEngine, following docs/gpu-engine-abi.md:
// sequence b of a call owns slot b; the session keeps each slot's context
// length on the host, packs the new tokens of a call (mixed lengths, no
// padding) into the per-call input buffers, sets the DimEnv and runs
// `prefill` eagerly or `decode` through its CUDA graph. Inputs are staged in
// pinned host memory so that a decode step's uploads are asynchronous.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_SESSION_H
#define MM01_RUNTIME_SESSION_H

#include "mm01/Runtime/Call.h"
#include "mm01/Runtime/GpuEngine.h"

#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

namespace mm01::runtime {

class EngineSession {
public:
  /// Creates the session's stream and staging memory; the engine must
  /// outlive the session. Refuses engines without `token_ids` or `logits`.
  static Result<std::unique_ptr<EngineSession>> create(GpuEngine &engine);
  ~EngineSession();
  EngineSession(const EngineSession &) = delete;
  EngineSession &operator=(const EngineSession &) = delete;

  /// Starts a fresh generation: zeroes the state and kv_cache arenas and
  /// every slot's context length.
  Status reset();
  /// New tokens of sequences 0..B-1 (at least one each), each continuing its
  /// slot's context; runs `prefill`.
  Status prefill(const std::vector<std::vector<int32_t>> &tokens);
  /// One new token per sequence 0..B-1; runs `decode` through its CUDA
  /// graph (or eagerly with useGraph = false).
  Status decode(const std::vector<int32_t> &tokens, bool useGraph = true);
  /// The last call's logits, float32 [tokens, vocab], row i = packed token i
  /// (waits for the call).
  Result<std::vector<float>> logits();
  /// The logits of each sequence's last new token in the last call, float32
  /// [batch, vocab]: what picks the next tokens (waits for the call).
  Result<std::vector<float>> lastLogits();
  /// Waits for the last call; reports errors of kernels run asynchronously.
  Status synchronize();

  /// Context length (cached tokens) of every slot.
  const std::vector<int64_t> &contextLengths() const { return context_; }
  /// New tokens of the last call.
  int64_t lastTokens() const { return lastTokens_; }
  int64_t vocabSize() const { return vocab_; }
  cudaStream_t stream() const { return stream_; }
  GpuEngine &engine() { return engine_; }
  const GpuEngine &engine() const { return engine_; }

private:
  explicit EngineSession(GpuEngine &engine) : engine_(engine) {}
  Status call(const std::string &entry, const PackedCall &packed, bool useGraph);

  GpuEngine &engine_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t uploaded_ = nullptr; // the staging memory may be rewritten
  int32_t *staging_ = nullptr;     // pinned
  size_t stagingInts_ = 0;
  std::vector<int64_t> context_;
  std::vector<int32_t> lastCuSeqlens_; // of the last call
  int64_t lastTokens_ = 0;
  int64_t vocab_ = 0;
};

} // namespace mm01::runtime

#endif // MM01_RUNTIME_SESSION_H
