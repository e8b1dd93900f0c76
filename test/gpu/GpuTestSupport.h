//===- GpuTestSupport.h - shared pieces of the GPU test launchers ---------===//
//
// The MLIR-free launchers of test/gpu load cubins that mm01-opt wrote into
// the `gpu.binary` of an .mlir file, check the driver API's results, convert
// bf16 and report medians: the same few helpers, kept here once.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TEST_GPU_GPUTESTSUPPORT_H
#define MM01_TEST_GPU_GPUTESTSUPPORT_H

#include <cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace mm01::gputest {

/// ctest's SKIP_RETURN_CODE: no driver or no device.
constexpr int kSkip = 77;

#define CU_CHECK(expr)                                                         \
  do {                                                                         \
    CUresult rc_ = (expr);                                                     \
    if (rc_ != CUDA_SUCCESS) {                                                 \
      const char *msg_ = nullptr;                                              \
      cuGetErrorString(rc_, &msg_);                                            \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,      \
                   #expr, msg_ ? msg_ : "?");                                  \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

/// The contents of the MLIR string literal starting at `pos` (just after the
/// opening quote), with its escapes (`\\`, `\HH`) undone. False when the
/// literal is malformed or unterminated.
inline bool unescapeMLIRString(const std::string &text, size_t pos,
                               std::string &out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"')
      return true;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
      continue;
    }
    if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0)
      return false;
    out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
    i += 2;
  }
  return false;
}

/// f32 -> bf16, round to nearest even (NaN stays a quiet NaN).
inline uint16_t toBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return 0x7fc0;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float fromBF16(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

/// Milliseconds per call of `calls` launches, issued by `launch(stream, i)`,
/// captured into one CUDA graph and replayed (3 warm-up replays, median of
/// `reps`): device time without the launch gaps of back-to-back calls.
/// Kernels launched with programmatic stream serialization keep it as
/// graph edges. -1 where the capture fails (reported on stderr after
/// `what`); a failing launch during the capture counts as a failed capture.
inline double graphMsPerCall(int calls, int reps, const char *what,
                             const std::function<CUresult(CUstream, int)> &launch) {
  CUstream cs;
  CU_CHECK(cuStreamCreate(&cs, CU_STREAM_NON_BLOCKING));
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  CUresult rc = cuStreamBeginCapture(cs, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  if (rc == CUDA_SUCCESS) {
    for (int i = 0; i < calls && rc == CUDA_SUCCESS; ++i)
      rc = launch(cs, i);
    CUresult end = cuStreamEndCapture(cs, &graph); // always leave capture mode
    if (rc == CUDA_SUCCESS)
      rc = end;
  }
  if (rc == CUDA_SUCCESS)
    rc = cuGraphInstantiate(&exec, graph, 0);
  double ms = -1;
  if (rc == CUDA_SUCCESS) {
    CUevent e0, e1;
    CU_CHECK(cuEventCreate(&e0, CU_EVENT_DEFAULT));
    CU_CHECK(cuEventCreate(&e1, CU_EVENT_DEFAULT));
    for (int w = 0; w < 3; ++w)
      CU_CHECK(cuGraphLaunch(exec, cs));
    CU_CHECK(cuStreamSynchronize(cs));
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      CU_CHECK(cuEventRecord(e0, cs));
      CU_CHECK(cuGraphLaunch(exec, cs));
      CU_CHECK(cuEventRecord(e1, cs));
      CU_CHECK(cuEventSynchronize(e1));
      float m = 0;
      CU_CHECK(cuEventElapsedTime(&m, e0, e1));
      t.push_back(double(m) / calls);
    }
    ms = median(t);
    CU_CHECK(cuEventDestroy(e0));
    CU_CHECK(cuEventDestroy(e1));
  } else {
    const char *msg = nullptr;
    cuGetErrorString(rc, &msg);
    std::fprintf(stderr, "%s: CUDA-graph capture failed: %s\n", what, msg ? msg : "?");
  }
  if (exec)
    cuGraphExecDestroy(exec);
  if (graph)
    cuGraphDestroy(graph);
  CU_CHECK(cuStreamDestroy(cs));
  return ms;
}

/// Warm-up before a timing: `launch(i)` for i = 0, 1, ... at least
/// `minCalls` times and until `seconds` have passed, synchronising every
/// `syncEvery` calls (so that the host's clock stays near the GPU's) and at
/// the end. Under sustained calls an H200 lowers its SM clock to the
/// board's power cap within ~0.2 s (docs/benchmarks/power-h200-2026-11-29.md):
/// the benchmarks time ours and the peers (test/benchmarks/warmup.py) after
/// the same 0.5 s of back-to-back calls, so that both see that steady state.
template <class Launch>
void warmUp(Launch launch, int minCalls, double seconds, int syncEvery) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (int i = 0; i < minCalls ||
                  std::chrono::duration<double>(Clock::now() - start).count() < seconds;
       ++i) {
    launch(i);
    if (i % syncEvery == syncEvery - 1)
      CU_CHECK(cuCtxSynchronize());
  }
  CU_CHECK(cuCtxSynchronize());
}

/// The value of command-line option `opt` from `text`: the whole text must
/// be a number >= 0 (an integer when `integer`). False, with a message
/// naming the option, otherwise.
inline bool parseNonNegative(const char *opt, const char *text, bool integer,
                             double &out) {
  char *end = nullptr;
  out = integer ? double(std::strtoll(text, &end, 10)) : std::strtod(text, &end);
  if (end == text || *end != '\0' || !(out >= 0)) {
    std::fprintf(stderr, "%s: '%s' is not %s >= 0\n", opt, text,
                 integer ? "an integer" : "a number");
    return false;
  }
  return true;
}

} // namespace mm01::gputest

#endif // MM01_TEST_GPU_GPUTESTSUPPORT_H
