//===- RunEngine.cpp - mm01-run on an engine file: the GPU runtime ---------===//
#include "Run.h"

#ifdef MM01_RUN_HAVE_CUDA
#include "Benchmark.h"
#include "GPUBackend.h"

#include "mm01/Runtime/GpuEngine.h"
#include "mm01/Runtime/Session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#endif

using namespace mm01;

#ifndef MM01_RUN_HAVE_CUDA
int mm01::runEngine(const RunOptions &o) {
  return fail("'" + o.model + "' is an mm01 engine, but this mm01-run was built "
              "without CUDA");
}
#else
int mm01::runEngine(const RunOptions &o) {
  for (const char *cpuOnly : {"target", "dtype", "chunk-size", "hidden-states"})
    if (o.given.count(cpuOnly))
      return fail(std::string("--") + cpuOnly +
                  " applies to the CPU target; '" + o.model +
                  "' is an engine (its target, dtype and kernels are fixed when it is "
                  "compiled)");
  if (o.device < 0)
    return fail("--device must be non-negative");

  auto start = std::chrono::steady_clock::now();
  runtime::LoadOptions load;
  load.device = static_cast<int>(o.device);
  auto engine = runtime::GpuEngine::load(o.model, load);
  if (!engine)
    return fail(engine.error());
  double loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const engine::Manifest &m = (*engine)->manifest();

  Result<RunInputs> inputs = readRunInputs(o, m.model.vocabSize);
  if (!inputs)
    return fail(inputs.error());
  const int64_t B = inputs->ids.shape[0], T = inputs->ids.shape[1], N = inputs->generate;
  std::vector<int64_t> lengths = o.promptLengths.empty() ? std::vector<int64_t>(B, T)
                                                         : o.promptLengths;
  if (static_cast<int64_t>(lengths.size()) != B)
    return fail("--prompt-lengths: expected " + std::to_string(B) +
                " lengths (one per row of " + o.inputIds + "), found " +
                std::to_string(lengths.size()));
  for (int64_t b = 0; b < B; ++b)
    if (lengths[b] < 1 || lengths[b] > T)
      return fail("--prompt-lengths: length " + std::to_string(lengths[b]) + " of row " +
                  std::to_string(b) + " must lie in [1, " + std::to_string(T) + "]");
  if (B > m.options.maxBatch)
    return fail(o.inputIds + ": batch " + std::to_string(B) +
                " exceeds the engine's max batch " + std::to_string(m.options.maxBatch));
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  // The last generated token is chosen, not fed back: N - 1 decode steps.
  if (longest + std::max<int64_t>(N - 1, 0) > m.options.maxContext)
    return fail("a prompt of " + std::to_string(longest) + " tokens and " +
                std::to_string(N) + " generated tokens exceed the engine's max context " +
                std::to_string(m.options.maxContext));

  auto session = runtime::EngineSession::create(**engine);
  if (!session)
    return fail(session.error());

  if (o.benchmark) {
    std::vector<std::vector<int32_t>> prompts(B);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < lengths[b]; ++i)
        prompts[b].push_back(static_cast<int32_t>(inputs->ids.data<int64_t>()[b * T + i]));
    BenchmarkOptions bench;
    bench.decodeSteps = o.benchmarkSteps;
    bench.useGraph = !o.noGraph;
    auto result = runBenchmark(**session, prompts, bench);
    if (!result)
      return fail(result.error());
    std::fputs(formatBenchmark(*result, **session, o.model, bench.useGraph).c_str(), stdout);
    if (o.dump.empty() && !o.given.count("generate") && o.forceIds.empty())
      return 0; // a benchmark alone
  }

  if (Status s = (*session)->reset(); !s)
    return fail(s.error());
  GPUBackend backend(**session, !o.noGraph);
  auto result = generate(backend, inputs->ids, generateOptions(o, *inputs));
  if (!result.ok())
    return fail(result.error());
  if (o.verbose)
    std::fprintf(stderr,
                 "mm01-run: engine on %s, batch %lld, prompt %lld, generated %lld: load "
                 "%.2f s, prefill %.3f s, decode %.3f s (%s)\n",
                 (*engine)->device().name.c_str(), (long long)B, (long long)T,
                 (long long)N, loadSeconds, result->prefillSeconds, result->decodeSeconds,
                 o.noGraph ? "eager" : "CUDA graph");
  return writeResults(o, *result);
}
#endif
