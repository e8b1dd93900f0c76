//===- mm01-run.cpp - run a model: prefill, greedy/forced decode, dump ------===//
//
//   mm01-run CHECKPOINT --target=cpu --input-ids IDS.npy [--generate N]
//            [--force-ids FORCED.npy] [--dump OUT.npz] [--dtype f32|bf16]
//            [--chunk-size 64] [--prefill-chunk P] [--hidden-states]
//
// OUT.npz holds `logits` [B, T, V], `generated_ids` [B, N], `generated_logits`
// [B, N, V] (the names of the fixture's reference.npz) and, with
// --hidden-states, `hidden_states` [L+1, B, T, d].
//
//===----------------------------------------------------------------------===//
#include "CPUBackend.h"

#include "Model/Import/Importer.h"
#include "mm01/Runner/Generate.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<checkpoint dir>"));
enum class Target { CPU };
cl::opt<Target> target("target", cl::desc("Where to run"), cl::init(Target::CPU),
                       cl::values(clEnumValN(Target::CPU, "cpu",
                                             "JIT-compiled CPU target (the numerical reference)")));
cl::opt<std::string> inputIds("input-ids", cl::Required,
                              cl::desc("int64 [batch, seq] prompt token ids (.npy)"));
cl::opt<int64_t> generateCount("generate", cl::init(-1),
                               cl::desc("Tokens to generate after the prompt (default: "
                                        "the length of --force-ids, else 0)"));
cl::opt<std::string> forceIds("force-ids", cl::init(""),
                              cl::desc("int64 [batch, N] tokens to feed instead of the "
                                       "greedy choice (teacher forcing)"));
cl::opt<std::string> dumpPath("dump", cl::init(""), cl::desc("Write results to this .npz"));
cl::opt<std::string> dtype("dtype", cl::init("f32"), cl::desc("Compute dtype: f32 or bf16"));
cl::opt<int64_t> chunkSize("chunk-size", cl::init(64),
                           cl::desc("Lightning attention chunk size of the prefill lowering"));
cl::opt<int64_t> prefillChunk("prefill-chunk", cl::init(0),
                              cl::desc("Prefill the prompt in pieces of this many tokens"));
cl::opt<bool> hiddenStates("hidden-states", cl::desc("Also dump every layer's hidden state"));
cl::opt<bool> verbose("v", cl::desc("Print compile and run times"));

int fail(const Twine &message) {
  errs() << "mm01-run: error: " << message << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "mm01 runner\n");

  if (dtype != "f32" && dtype != "bf16")
    return fail("--dtype must be f32 or bf16, found '" + dtype + "'");
  if (chunkSize < 1)
    return fail("--chunk-size must be positive");
  if (prefillChunk < 0)
    return fail("--prefill-chunk must be non-negative");
  if (!sys::fs::is_directory(modelPath))
    return fail("'" + modelPath + "' is not a checkpoint directory");

  SmallString<256> configPath(modelPath);
  sys::path::append(configPath, "config.json");
  auto config = mm01::loadModelConfig(std::string(configPath));
  if (!config.ok())
    return fail(config.error());
  if (mm01::Status s = config->validate(); !s)
    return fail(s.error());
  auto checkpoint = mm01::Checkpoint::open(modelPath);
  if (!checkpoint.ok())
    return fail(checkpoint.error());
  auto weightType = mm01::checkWeights(*config, **checkpoint);
  if (!weightType.ok())
    return fail(weightType.error());

  auto ids = mm01::readNpy(inputIds);
  if (!ids.ok())
    return fail(ids.error());
  if (mm01::Status s = mm01::checkTokenIds(*ids, config->vocabSize, inputIds); !s)
    return fail(s.error());
  std::optional<mm01::NpyArray> forced;
  if (!forceIds.empty()) {
    auto f = mm01::readNpy(forceIds);
    if (!f.ok())
      return fail(f.error());
    if (mm01::Status s = mm01::checkTokenIds(*f, config->vocabSize, forceIds); !s)
      return fail(s.error());
    forced = std::move(f.value());
  }
  int64_t N = generateCount >= 0 ? int64_t(generateCount) : forced ? forced->shape[1] : 0;
  if (forced && forced->shape[1] != N)
    return fail(forceIds + ": has " + Twine(forced->shape[1]) +
                " tokens per sequence but --generate is " + Twine(N));

  const int64_t B = ids->shape[0], T = ids->shape[1];
  mm01::CPUBackendOptions options;
  options.batch = B;
  options.cacheCapacity = T + std::max<int64_t>(N, 1);
  options.dtype = dtype;
  options.chunkSize = chunkSize;
  options.verbose = verbose;
  mm01::CPUBackend backend(*config, **checkpoint, *weightType, options);

  mm01::GenerateOptions generate;
  generate.generate = N;
  generate.forcedIds = forced ? &*forced : nullptr;
  generate.prefillChunk = prefillChunk;
  generate.hiddenStates = hiddenStates;
  auto result = mm01::generate(backend, *ids, generate);
  if (!result.ok())
    return fail(result.error());

  if (verbose)
    errs() << format("mm01-run: cpu %s, batch %lld, prompt %lld, generated %lld: compile "
                     "%.2f s, prefill %.2f s (incl. compile), decode %.2f s\n",
                     dtype.c_str(), (long long)B, (long long)T, (long long)N,
                     backend.compileSeconds(), result->prefillSeconds,
                     result->decodeSeconds);
  if (!dumpPath.empty()) {
    std::vector<std::pair<std::string, mm01::NpyArray>> arrays;
    arrays.emplace_back("logits", std::move(result->logits));
    arrays.emplace_back("generated_ids", std::move(result->generatedIds));
    arrays.emplace_back("generated_logits", std::move(result->generatedLogits));
    if (hiddenStates)
      arrays.emplace_back("hidden_states", std::move(result->hiddenStates));
    if (mm01::Status s = mm01::writeNpz(dumpPath, arrays); !s)
      return fail(s.error());
  } else {
    outs() << "generated ids:";
    for (int64_t b = 0; b < B; ++b) {
      outs() << "\n  [" << b << "]";
      for (int64_t s = 0; s < N; ++s)
        outs() << " " << result->generatedIds.data<int64_t>()[b * N + s];
    }
    outs() << "\n";
  }
  return 0;
}
