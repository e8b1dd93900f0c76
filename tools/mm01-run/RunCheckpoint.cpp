//===- RunCheckpoint.cpp - mm01-run on a checkpoint: the CPU target --------===//
#include "CPUModel.h"
#include "Run.h"

#include <algorithm>
#include <cstdio>

using namespace mm01;

int mm01::runCheckpoint(const RunOptions &o) {
  if (!o.target.empty() && o.target != "cpu")
    return fail("--target must be cpu, found '" + o.target +
                "' (an engine file runs on the GPU)");
  for (const char *gpuOnly : {"benchmark", "benchmark-steps", "no-graph", "device"})
    if (o.given.count(gpuOnly))
      return fail(std::string("--") + gpuOnly +
                  " applies to engine files; '" + o.model + "' is a checkpoint directory");
  if (o.dtype != "f32" && o.dtype != "bf16")
    return fail("--dtype must be f32 or bf16, found '" + o.dtype + "'");
  if (o.chunkSize < 1)
    return fail("--chunk-size must be positive");

  Result<std::unique_ptr<CPUModel>> model = openCPUModel(o.model);
  if (!model)
    return fail(model.error());
  Result<RunInputs> inputs = readRunInputs(o, (*model)->vocabSize());
  if (!inputs)
    return fail(inputs.error());

  const int64_t B = inputs->ids.shape[0], T = inputs->ids.shape[1], N = inputs->generate;
  CPUBackendOptions options;
  options.batch = B;
  options.cacheCapacity = T + std::max<int64_t>(N, 1);
  options.dtype = o.dtype;
  options.chunkSize = o.chunkSize;
  options.verbose = o.verbose;
  std::unique_ptr<Backend> backend = (*model)->createBackend(options);

  auto result = generate(*backend, inputs->ids, generateOptions(o, *inputs));
  if (!result.ok())
    return fail(result.error());
  if (o.verbose)
    std::fprintf(stderr,
                 "mm01-run: cpu %s, batch %lld, prompt %lld, generated %lld: compile "
                 "%.2f s, prefill %.2f s (incl. compile), decode %.2f s\n",
                 o.dtype.c_str(), (long long)B, (long long)T, (long long)N,
                 (*model)->compileSeconds(*backend), result->prefillSeconds,
                 result->decodeSeconds);
  return writeResults(o, *result);
}
