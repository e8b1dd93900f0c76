//===- mm01-run.cpp - run a model: prefill, greedy/forced decode, dump ------===//
//
//   mm01-run CHECKPOINT [--target=cpu] --input-ids IDS.npy [--generate N]
//            [--force-ids FORCED.npy] [--dump OUT.npz] [--dtype f32|bf16]
//            [--chunk-size 64] [--prefill-chunk P] [--hidden-states]
//   mm01-run ENGINE.mm01 --input-ids IDS.npy [--generate N] [--force-ids F]
//            [--dump OUT.npz] [--prompt-lengths L0,L1,..] [--benchmark
//            [--benchmark-steps N]] [--no-graph]
//
// OUT.npz holds `logits` [B, T, V], `generated_ids` [B, N], `generated_logits`
// [B, N, V] (the names of the fixture's reference.npz) and, with
// --hidden-states, `hidden_states` [L+1, B, T, d].
//
// This executable links no LLVM/MLIR (GPU machines have none): the CPU
// target is a plugin it loads only for a checkpoint directory (CPUModel.h).
//
//===----------------------------------------------------------------------===//
#include "Run.h"

#include "mm01/Engine/Engine.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

using namespace mm01;

namespace {
/// An engine file starts with the magic "MM01ENGN".
bool isEngineFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(engine::kMagic)] = {};
  return in.read(magic, sizeof(magic)) &&
         std::memcmp(magic, engine::kMagic, sizeof(magic)) == 0;
}
} // namespace

int mm01::fail(const std::string &message) {
  std::fprintf(stderr, "mm01-run: error: %s\n", message.c_str());
  return 1;
}

Result<RunInputs> mm01::readRunInputs(const RunOptions &o, int64_t vocab) {
  RunInputs in;
  auto ids = readNpy(o.inputIds);
  if (!ids.ok())
    return ids.takeError();
  if (Status s = checkTokenIds(*ids, vocab, o.inputIds); !s)
    return Error{s.error()};
  in.ids = std::move(ids.value());
  if (!o.forceIds.empty()) {
    auto f = readNpy(o.forceIds);
    if (!f.ok())
      return f.takeError();
    if (Status s = checkTokenIds(*f, vocab, o.forceIds); !s)
      return Error{s.error()};
    in.forced = std::move(f.value());
  }
  in.generate = o.generate >= 0 ? o.generate : in.forced ? in.forced->shape[1] : 0;
  if (in.forced && in.forced->shape[1] != in.generate)
    return makeError(o.forceIds + ": has " + std::to_string(in.forced->shape[1]) +
                     " tokens per sequence but --generate is " +
                     std::to_string(in.generate));
  return in;
}

GenerateOptions mm01::generateOptions(const RunOptions &o, const RunInputs &in) {
  GenerateOptions g;
  g.generate = in.generate;
  g.forcedIds = in.forced ? &*in.forced : nullptr;
  g.prefillChunk = o.prefillChunk;
  g.hiddenStates = o.hiddenStates;
  g.promptLengths = o.promptLengths;
  return g;
}

int mm01::writeResults(const RunOptions &o, GenerateResult &result) {
  if (!o.dump.empty()) {
    std::vector<std::pair<std::string, NpyArray>> arrays;
    arrays.emplace_back("logits", std::move(result.logits));
    arrays.emplace_back("generated_ids", std::move(result.generatedIds));
    arrays.emplace_back("generated_logits", std::move(result.generatedLogits));
    if (o.hiddenStates)
      arrays.emplace_back("hidden_states", std::move(result.hiddenStates));
    if (Status s = writeNpz(o.dump, arrays); !s)
      return fail(s.error());
    return 0;
  }
  const int64_t B = result.generatedIds.shape[0], N = result.generatedIds.shape[1];
  std::printf("generated ids:");
  for (int64_t b = 0; b < B; ++b) {
    std::printf("\n  [%lld]", static_cast<long long>(b));
    for (int64_t s = 0; s < N; ++s)
      std::printf(" %lld",
                  static_cast<long long>(result.generatedIds.data<int64_t>()[b * N + s]));
  }
  std::printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  Result<RunOptions> options = parseRunOptions(argc, argv);
  if (!options)
    return fail(options.error());
  if (options->help) {
    std::fputs(runUsage(), stdout);
    return 0;
  }
  const RunOptions &o = *options;
  if (o.prefillChunk < 0)
    return fail("--prefill-chunk must be non-negative");
  struct stat st;
  if (stat(o.model.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return runCheckpoint(o);
  if (isEngineFile(o.model))
    return runEngine(o);
  return fail("'" + o.model + "' is not a checkpoint directory or an mm01 engine file");
}
