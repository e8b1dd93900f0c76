//===- Options.cpp - mm01-run's command line, parsed without LLVM ----------===//
#include "Options.h"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>

using namespace mm01;

const char *mm01::runUsage() {
  return R"(USAGE: mm01-run MODEL --input-ids IDS.npy [options]

MODEL is a checkpoint directory (config.json + safetensors: the CPU target,
JIT-compiled) or an mm01 engine file (magic MM01ENGN: runs on the GPU).

  --input-ids IDS.npy      int64 [batch, seq] prompt token ids (required)
  --generate N             tokens to generate after the prompt (default: the
                           length of --force-ids, else 0)
  --force-ids F.npy        int64 [batch, N] tokens to feed instead of the
                           greedy choice (teacher forcing)
  --dump OUT.npz           write logits, generated_ids, generated_logits
                           (and hidden_states)
  --prefill-chunk P        prefill the prompt in pieces of P tokens
  -v                       print times

CPU target (checkpoint directory):
  --target=cpu             the JIT-compiled CPU target (the default)
  --dtype f32|bf16         compute dtype (default f32)
  --chunk-size N           lightning attention chunk size (default 64)
  --hidden-states          also dump every layer's hidden state

GPU engine (engine file):
  --prompt-lengths L0,L1,..  row b of IDS uses its first L_b tokens (prompts
                           of different lengths, packed without padding)
  --benchmark              time prefill and decode (after a warm-up) and print
                           time to first token, prefill and decode tokens/s
  --benchmark-steps N      decode steps of --benchmark (default 32)
  --no-graph               launch decode steps eagerly instead of replaying
                           their CUDA graph
  --device N               CUDA device ordinal (default 0)
)";
}

namespace {
Result<int64_t> parseInt(const std::string &option, const std::string &text) {
  if (text.empty())
    return makeError("--" + option + ": expected an integer, found nothing");
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    return makeError("--" + option + ": '" + text + "' is not an integer");
  return static_cast<int64_t>(v);
}

Result<std::vector<int64_t>> parseIntList(const std::string &option,
                                          const std::string &text) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    Result<int64_t> v = parseInt(option, item);
    if (!v)
      return makeError("--" + option + ": '" + text +
                       "' is not a comma-separated list of integers");
    values.push_back(*v);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return values;
}
} // namespace

Result<RunOptions> mm01::parseRunOptions(int argc, char **argv) {
  RunOptions o;
  using Setter = std::function<Status(const std::string &)>;
  auto intOpt = [](const char *name, int64_t &field) -> Setter {
    return [name, &field](const std::string &v) -> Status {
      Result<int64_t> n = parseInt(name, v);
      if (!n)
        return Error{n.error()};
      field = *n;
      return Status::success();
    };
  };
  auto strOpt = [](std::string &field) -> Setter {
    return [&field](const std::string &v) {
      field = v;
      return Status::success();
    };
  };
  const std::map<std::string, Setter> valued = {
      {"target", strOpt(o.target)},
      {"input-ids", strOpt(o.inputIds)},
      {"generate", intOpt("generate", o.generate)},
      {"force-ids", strOpt(o.forceIds)},
      {"dump", strOpt(o.dump)},
      {"dtype", strOpt(o.dtype)},
      {"chunk-size", intOpt("chunk-size", o.chunkSize)},
      {"prefill-chunk", intOpt("prefill-chunk", o.prefillChunk)},
      {"benchmark-steps", intOpt("benchmark-steps", o.benchmarkSteps)},
      {"device", intOpt("device", o.device)},
      {"prompt-lengths",
       [&o](const std::string &v) -> Status {
         Result<std::vector<int64_t>> list = parseIntList("prompt-lengths", v);
         if (!list)
           return Error{list.error()};
         o.promptLengths = *list;
         return Status::success();
       }},
  };
  const std::map<std::string, bool *> flags = {
      {"hidden-states", &o.hiddenStates}, {"v", &o.verbose},
      {"benchmark", &o.benchmark},        {"no-graph", &o.noGraph},
      {"help", &o.help},                  {"h", &o.help}};

  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool hasValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    if (auto f = flags.find(name); f != flags.end()) {
      if (hasValue)
        return makeError("--" + name + " takes no value");
      *f->second = true;
    } else if (auto v = valued.find(name); v != valued.end()) {
      if (!hasValue) {
        if (i + 1 >= argc)
          return makeError("--" + name + " needs a value");
        value = argv[++i];
      }
      if (Status s = v->second(value); !s)
        return Error{s.error()};
    } else {
      return makeError("unknown option '" + arg + "' (see --help)");
    }
    o.given.insert(name);
  }
  if (o.help)
    return o;
  if (positional.size() != 1)
    return makeError(positional.empty()
                         ? "expected a checkpoint directory or an engine file (see --help)"
                         : "expected one model path, found '" + positional[1] + "' too");
  o.model = positional[0];
  if (o.inputIds.empty())
    return makeError("--input-ids is required");
  return o;
}
