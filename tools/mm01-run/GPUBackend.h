//===- GPUBackend.h - a loaded engine as a runner backend -------*- C++ -*-===//
//
// Lets generate() (lib/Runner) drive an engine on the GPU exactly as it
// drives the CPU target: prefill (uniform lengths, possibly in pieces, or
// mixed lengths packed without padding) and decode steps, the latter through
// the decode entry point's CUDA graph unless told otherwise. Each sequence
// b runs in slot b; the session keeps the slots' context lengths.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TOOLS_MM01RUN_GPUBACKEND_H
#define MM01_TOOLS_MM01RUN_GPUBACKEND_H

#include "mm01/Runner/Generate.h"
#include "mm01/Runtime/Session.h"

namespace mm01 {

class GPUBackend : public Backend {
public:
  /// The session should be fresh (EngineSession::reset()).
  GPUBackend(runtime::EngineSession &session, bool useGraph)
      : session(session), useGraph(useGraph) {}

  int64_t vocabSize() const override;
  int64_t numLayers() const override;
  int64_t hiddenSize() const override;
  Status prefill(const NpyArray &ids, const NpyArray &positions, NpyArray &logits,
                 NpyArray *hidden) override;
  Status decode(const NpyArray &ids, const NpyArray &positions,
                NpyArray &logits) override;
  Status prefillMixed(const NpyArray &ids, const std::vector<int64_t> &lengths,
                      NpyArray &logits) override;

private:
  /// The engine keeps positions itself (slot context lengths); check that
  /// the caller's agree, so that a mismatch is an error, not wrong output.
  Status checkPositions(const NpyArray &positions) const;

  runtime::EngineSession &session;
  bool useGraph;
};

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_GPUBACKEND_H
