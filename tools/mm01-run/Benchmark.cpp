//===- Benchmark.cpp - time to first token, prefill and decode tokens/s ----===//
#include "Benchmark.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace mm01;
using namespace mm01::runtime;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<int32_t> argmaxRows(const std::vector<float> &logits, int64_t vocab) {
  std::vector<int32_t> ids(logits.size() / vocab);
  for (size_t b = 0; b < ids.size(); ++b) {
    const float *row = logits.data() + b * vocab;
    ids[b] = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
  }
  return ids;
}

/// GPU time between two events recorded on the session's stream.
class GpuTimer {
public:
  GpuTimer() {
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
  }
  ~GpuTimer() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  void begin(cudaStream_t s) { cudaEventRecord(start, s); }
  void end(cudaStream_t s) { cudaEventRecord(stop, s); }
  double seconds() {
    float ms = 0;
    cudaEventSynchronize(stop);
    cudaEventElapsedTime(&ms, start, stop);
    return ms / 1e3;
  }

private:
  cudaEvent_t start = nullptr, stop = nullptr;
};

/// One prefill and `steps` greedy decode steps; times them when `r` is set.
Status generation(EngineSession &session, const std::vector<std::vector<int32_t>> &prompts,
                  int64_t steps, bool useGraph, BenchmarkResult *r) {
  if (Status s = session.reset(); !s)
    return s;
  if (Status s = session.synchronize(); !s)
    return s;
  GpuTimer timer;
  auto t0 = Clock::now();
  timer.begin(session.stream());
  if (Status s = session.prefill(prompts); !s)
    return s;
  timer.end(session.stream());
  Result<std::vector<float>> logits = session.lastLogits();
  if (!logits)
    return logits.takeError();
  std::vector<int32_t> next = argmaxRows(*logits, session.vocabSize());
  if (r) {
    r->ttftSeconds = since(t0);
    r->prefillGpuSeconds = timer.seconds();
  }
  t0 = Clock::now();
  double gpu = 0;
  for (int64_t i = 0; i < steps; ++i) {
    timer.begin(session.stream());
    if (Status s = session.decode(next, useGraph); !s)
      return s;
    timer.end(session.stream());
    logits = session.lastLogits();
    if (!logits)
      return logits.takeError();
    gpu += timer.seconds();
    next = argmaxRows(*logits, session.vocabSize());
  }
  if (r) {
    r->decodeSeconds = since(t0);
    r->decodeGpuSeconds = gpu;
  }
  return Status::success();
}
} // namespace

Result<BenchmarkResult> mm01::runBenchmark(EngineSession &session,
                                           const std::vector<std::vector<int32_t>> &prompts,
                                           const BenchmarkOptions &options) {
  BenchmarkResult r;
  int64_t longest = 0;
  for (const auto &p : prompts) {
    r.lengths.push_back(static_cast<int64_t>(p.size()));
    r.prefillTokens += static_cast<int64_t>(p.size());
    longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
  }
  const int64_t maxContext = session.engine().manifest().options.maxContext;
  if (options.decodeSteps < 0)
    return makeError("--benchmark-steps must be non-negative");
  if (longest + options.decodeSteps > maxContext)
    return makeError("--benchmark-steps " + std::to_string(options.decodeSteps) +
                     ": the longest prompt (" + std::to_string(longest) +
                     " tokens) plus the decode steps exceed the engine's max context " +
                     std::to_string(maxContext));
  r.decodeSteps = options.decodeSteps;
  // Warm-up: loads lazily initialized code (cuBLASLt kernels), captures the
  // decode graph for this batch size.
  if (Status s = generation(session, prompts, std::min<int64_t>(options.decodeSteps, 2),
                            options.useGraph, nullptr);
      !s)
    return Error{s.error()};
  if (Status s = generation(session, prompts, options.decodeSteps, options.useGraph, &r); !s)
    return Error{s.error()};
  return r;
}

std::string mm01::formatBenchmark(const BenchmarkResult &r, const EngineSession &session,
                                  const std::string &enginePath, bool useGraph) {
  const auto &device = session.engine().device();
  std::string lengths;
  for (int64_t l : r.lengths)
    lengths += (lengths.empty() ? "" : ",") + std::to_string(l);
  const int64_t B = static_cast<int64_t>(r.lengths.size());
  char text[1024];
  int n = std::snprintf(
      text, sizeof(text),
      "benchmark    %s\n"
      "device       %s (sm_%d%d)\n"
      "batch        %lld, prompt lengths %s (%lld tokens)\n"
      "ttft         %.3f ms (prefill on the GPU %.3f ms)\n"
      "prefill      %.1f tokens/s\n",
      enginePath.c_str(), device.name.c_str(), device.major, device.minor, (long long)B,
      lengths.c_str(), (long long)r.prefillTokens, r.ttftSeconds * 1e3,
      r.prefillGpuSeconds * 1e3, r.prefillTokens / r.ttftSeconds);
  std::string out(text, static_cast<size_t>(std::max(n, 0)));
  if (r.decodeSteps > 0) {
    std::snprintf(text, sizeof(text),
                  "decode       %.1f tokens/s (%lld steps of batch %lld, %s: %.3f ms/step, "
                  "%.3f ms on the GPU)\n",
                  B * r.decodeSteps / r.decodeSeconds, (long long)r.decodeSteps,
                  (long long)B, useGraph ? "CUDA graph" : "eager launches",
                  r.decodeSeconds / r.decodeSteps * 1e3,
                  r.decodeGpuSeconds / r.decodeSteps * 1e3);
    out += text;
  }
  return out;
}
