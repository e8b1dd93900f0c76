//===- Benchmark.h - prefill and decode throughput of an engine -*- C++ -*-===//
#ifndef MM01_TOOLS_MM01RUN_BENCHMARK_H
#define MM01_TOOLS_MM01RUN_BENCHMARK_H

#include "mm01/Runtime/Session.h"

#include <string>
#include <vector>

namespace mm01 {

struct BenchmarkOptions {
  int64_t decodeSteps = 32;
  bool useGraph = true;
};

struct BenchmarkResult {
  std::vector<int64_t> lengths; // prompt tokens per sequence
  int64_t prefillTokens = 0;
  double ttftSeconds = 0;      // prefill + the first tokens' logits on the host
  double prefillGpuSeconds = 0; // prefill on the GPU (events)
  int64_t decodeSteps = 0;
  double decodeSeconds = 0;    // all steps, host loop included
  double decodeGpuSeconds = 0; // uploads + graph, on the GPU (events)
};

/// After a warm-up (one prefill and a few decode steps, which also captures
/// the decode graph), times a fresh prefill of `prompts` (time to first
/// token: until the first tokens are chosen on the host) and `decodeSteps`
/// greedy decode steps (each: upload, graph replay, last logits to the
/// host, argmax).
Result<BenchmarkResult> runBenchmark(runtime::EngineSession &session,
                                     const std::vector<std::vector<int32_t>> &prompts,
                                     const BenchmarkOptions &options);

/// The report mm01-run --benchmark prints.
std::string formatBenchmark(const BenchmarkResult &result,
                            const runtime::EngineSession &session,
                            const std::string &enginePath, bool useGraph);

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_BENCHMARK_H
