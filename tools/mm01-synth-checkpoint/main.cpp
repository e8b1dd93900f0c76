//===- main.cpp - mm01-synth-checkpoint -----------------------------------===//
//
// Writes a MiniMax-01-shaped checkpoint with deterministic random weights:
// config.json (modelConfigToJson) plus model.safetensors, or N shards and
// model.safetensors.index.json. Same arguments give byte-identical files.
//
// Every tensor draws from its own splitmix64 stream seeded by (seed, name),
// so a tensor's values do not depend on which other tensors exist. Only
// integer ops, + - * / and sqrt are used: no libm transcendental whose last
// bit could differ between machines.
//
//===----------------------------------------------------------------------===//

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace mm01;

namespace {

const char *const toolName = "mm01-synth-checkpoint";

const char *const usageText =
    "usage: mm01-synth-checkpoint OUTDIR [options]\n"
    "Writes OUTDIR/config.json and OUTDIR/model.safetensors (or shards and\n"
    "model.safetensors.index.json) with deterministic random bf16 weights.\n"
    "  --layers N         decoder layers (8)\n"
    "  --hidden D         hidden size d (256)\n"
    "  --heads H          attention heads (4; a power of two for lightning)\n"
    "  --head-dim D       head dim (hidden / heads)\n"
    "  --kv-heads K       KV heads of the softmax layers (2)\n"
    "  --experts E        experts per MoE layer (8)\n"
    "  --top-k k          experts per token (2)\n"
    "  --intermediate I   expert intermediate size (128)\n"
    "  --vocab V          vocabulary size (1024)\n"
    "  --softmax-every M  layers M-1, 2M-1, ... are softmax, the rest\n"
    "                     lightning; 0 = no softmax layer (8)\n"
    "  --seed S           PRNG seed (0)\n"
    "  --shards N         number of safetensors shards (1)\n";

/// Bad command line: one line on stderr, exit code 2.
[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", toolName, message.c_str());
  std::exit(2);
}

/// Runtime failure (I/O): one line on stderr, exit code 1.
[[noreturn]] void fatal(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", toolName, message.c_str());
  std::exit(1);
}

struct Options {
  std::string outDir;
  int64_t layers = 8, hidden = 256, heads = 4, headDim = -1, kvHeads = 2;
  int64_t experts = 8, topK = 2, intermediate = 128, vocab = 1024;
  int64_t softmaxEvery = 8, shards = 1;
  uint64_t seed = 0;
};

uint64_t parseUnsigned(const std::string &option, const char *text) {
  if (!*text || *text == '-' || *text == '+')
    usageError("option " + option + " expects a non-negative integer, got '" +
               text + "'");
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0')
    usageError("option " + option + " expects a non-negative integer, got '" +
               text + "'");
  return v;
}

/// Sizes: positive and small enough that every product stays in int64.
int64_t parseSize(const std::string &option, const char *text, int64_t min) {
  uint64_t v = parseUnsigned(option, text);
  if (v < static_cast<uint64_t>(min) || v > (uint64_t(1) << 31))
    usageError("option " + option + " must be in [" + std::to_string(min) +
               ", 2^31], got " + text);
  return static_cast<int64_t>(v);
}

Options parseArgs(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(usageText, stdout);
      std::exit(0);
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      if (!arg.empty() && arg[0] == '-')
        usageError("unknown option '" + arg + "' (see --help)");
      if (!opts.outDir.empty())
        usageError("more than one output directory: '" + opts.outDir +
                   "' and '" + arg + "'");
      if (arg.empty())
        usageError("the output directory is an empty string");
      opts.outDir = arg;
      continue;
    }
    // --name VALUE or --name=VALUE
    std::string name = arg;
    const char *value = nullptr;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = argv[i] + eq + 1;
    }
    struct SizeOption {
      const char *name;
      int64_t *field;
      int64_t min;
    } sizeOptions[] = {{"--layers", &opts.layers, 1},
                       {"--hidden", &opts.hidden, 1},
                       {"--heads", &opts.heads, 1},
                       {"--head-dim", &opts.headDim, 1},
                       {"--kv-heads", &opts.kvHeads, 1},
                       {"--experts", &opts.experts, 1},
                       {"--top-k", &opts.topK, 1},
                       {"--intermediate", &opts.intermediate, 1},
                       {"--vocab", &opts.vocab, 1},
                       {"--softmax-every", &opts.softmaxEvery, 0},
                       {"--shards", &opts.shards, 1}};
    bool known = name == "--seed";
    for (const SizeOption &o : sizeOptions)
      known |= name == o.name;
    if (!known)
      usageError("unknown option '" + name + "' (see --help)");
    if (!value) {
      if (i + 1 >= argc)
        usageError("option " + name + " needs a value");
      value = argv[++i];
    }
    if (name == "--seed") {
      opts.seed = parseUnsigned(name, value);
      continue;
    }
    for (const SizeOption &o : sizeOptions)
      if (name == o.name)
        *o.field = parseSize(name, value, o.min);
  }
  if (opts.outDir.empty())
    usageError("missing output directory (usage: mm01-synth-checkpoint OUTDIR "
               "[options])");
  return opts;
}

ModelConfig makeConfig(const Options &opts) {
  ModelConfig c;
  c.hiddenSize = opts.hidden;
  c.numLayers = opts.layers;
  c.numHeads = opts.heads;
  if (opts.headDim > 0) {
    c.headDim = opts.headDim;
  } else {
    if (opts.hidden % opts.heads != 0)
      usageError("--hidden " + std::to_string(opts.hidden) +
                 " is not divisible by --heads " + std::to_string(opts.heads) +
                 ": pass --head-dim");
    c.headDim = opts.hidden / opts.heads;
  }
  c.numKVHeads = opts.kvHeads;
  for (int64_t l = 0; l < opts.layers; ++l)
    c.layerKinds.push_back(opts.softmaxEvery > 0 &&
                                   (l + 1) % opts.softmaxEvery == 0
                               ? LayerKind::Softmax
                               : LayerKind::Lightning);
  c.numExperts = opts.experts;
  c.topK = opts.topK;
  c.intermediateSize = opts.intermediate;
  c.vocabSize = opts.vocab;
  c.ropeTheta = 1e7;
  c.rotaryDim = c.headDim / 2;
  if (c.rotaryDim % 2 != 0)
    c.rotaryDim -= 1; // keep RoPE pairs whole for odd head_dim/2
  c.rmsNormEps = 1e-5;
  // DeepNorm as in MiniMax-Text-01: alpha = (2L)^(1/4), beta = 1.
  double alpha = std::sqrt(std::sqrt(2.0 * static_cast<double>(opts.layers)));
  c.linearAlpha = c.fullAlpha = c.mlpAlpha = alpha;
  c.linearBeta = c.fullBeta = c.mlpBeta = 1.0;
  Status status = c.validate();
  if (!status)
    usageError("invalid model: " + status.error());
  return c;
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : s)
    h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  double mean, stddev; // of the (approximately normal) values
  uint64_t bytes() const {
    uint64_t n = 1;
    for (int64_t d : shape)
      n *= static_cast<uint64_t>(d);
    return n * dtypeSize(DType::BF16);
  }
};

/// Approximately N(mean, stddev): Irwin-Hall sum of four 24-bit uniforms,
/// centred and scaled to unit variance (bounded at ±2√3 σ: no outliers).
TensorData generate(const TensorSpec &spec, uint64_t seed) {
  uint64_t state = seed ^ fnv1a(spec.name);
  splitmix64(state); // decorrelate nearby seeds
  TensorData t;
  t.name = spec.name;
  t.dtype = DType::BF16;
  t.shape = spec.shape;
  uint64_t n = spec.bytes() / 2;
  t.bytes.resize(n * 2);
  const double scale = std::sqrt(3.0) * spec.stddev;
  for (uint64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < 4; ++j)
      sum += static_cast<double>(splitmix64(state) >> 40) * 0x1p-24;
    float v = static_cast<float>(spec.mean + (sum - 2.0) * scale);
    uint16_t bits = floatToBF16(v);
    t.bytes[2 * i] = static_cast<uint8_t>(bits & 0xff);
    t.bytes[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
  }
  return t;
}

/// Every tensor of the spec, in file order. The lightning decay tables are
/// left out: consumers must recompute them.
///
/// Linear weights are N(0, 1/fan_in) (LeCun): each projection keeps the
/// activation scale, so attention and MoE outputs are O(1) next to the
/// α·h residual and a bug in any of them moves the logits visibly (HF's
/// N(0, 0.02) leaves the MoE at ~0.5% of the residual for d = 256). Norm
/// weights are 1 plus small noise so a swapped norm weight shows too. The
/// embedding is only ever read through RMSNorm: its scale does not matter.
std::vector<TensorSpec> tensorSpecs(const ModelConfig &c) {
  const double normNoise = 0.05;
  const int64_t d = c.hiddenSize, hd = c.attentionWidth();
  std::vector<TensorSpec> specs;
  auto add = [&](std::string name, std::vector<int64_t> shape, double mean,
                 double stddev) {
    specs.push_back({std::move(name), std::move(shape), mean, stddev});
  };
  auto linear = [&](std::string name, int64_t out, int64_t in) {
    add(std::move(name), {out, in}, 0, 1.0 / std::sqrt(static_cast<double>(in)));
  };
  add("model.embed_tokens.weight", {c.vocabSize, d}, 0, 1.0);
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {d}, 1, normNoise);
    if (c.layerKinds[l] == LayerKind::Lightning) {
      linear(p + "self_attn.qkv_proj.weight", 3 * hd, d);
      linear(p + "self_attn.output_gate.weight", hd, d);
      add(p + "self_attn.norm.weight", {hd}, 1, normNoise);
      linear(p + "self_attn.out_proj.weight", d, hd);
    } else {
      linear(p + "self_attn.q_proj.weight", hd, d);
      linear(p + "self_attn.k_proj.weight", c.kvWidth(), d);
      linear(p + "self_attn.v_proj.weight", c.kvWidth(), d);
      linear(p + "self_attn.o_proj.weight", d, hd);
    }
    add(p + "post_attention_layernorm.weight", {d}, 1, normNoise);
    linear(p + "block_sparse_moe.gate.weight", c.numExperts, d);
    for (int64_t e = 0; e < c.numExperts; ++e) {
      std::string ep = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
      linear(ep + "w1.weight", c.intermediateSize, d);
      linear(ep + "w2.weight", d, c.intermediateSize);
      linear(ep + "w3.weight", c.intermediateSize, d);
    }
  }
  add("model.norm.weight", {d}, 1, normNoise);
  linear("lm_head.weight", c.vocabSize, d);
  return specs;
}
/// Splits the tensors, in order, into `numShards` contiguous non-empty groups
/// of roughly equal bytes. Returns the first tensor index of each shard.
std::vector<size_t> splitShards(const std::vector<TensorSpec> &specs,
                                size_t numShards) {
  uint64_t total = 0;
  for (const TensorSpec &s : specs)
    total += s.bytes();
  std::vector<size_t> starts = {0};
  uint64_t done = 0;
  for (size_t i = 0; i < specs.size() && starts.size() < numShards; ++i) {
    done += specs[i].bytes();
    size_t shardsLeft = numShards - starts.size();
    size_t tensorsLeft = specs.size() - (i + 1);
    // Close the current shard once it reached its share of the bytes, or
    // when every remaining tensor is needed to keep later shards non-empty.
    bool full = done * numShards >= total * starts.size();
    if (tensorsLeft >= shardsLeft && (full || tensorsLeft == shardsLeft))
      starts.push_back(i + 1);
  }
  return starts;
}

std::string joinPath(const std::string &dir, const std::string &name) {
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

/// mkdir -p
void makeDirectories(const std::string &dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/')
      continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      fatal(prefix + ": cannot create directory: " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fatal(dir + ": not a directory");
}

void writeText(const std::string &path, const std::string &text) {
  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    fatal(path + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  ok &= std::fclose(out) == 0;
  if (!ok)
    fatal(path + ": write failed: " + std::strerror(errno));
}

void removeIfPresent(const std::string &path) {
  if (std::remove(path.c_str()) != 0 && errno != ENOENT)
    fatal(path + ": cannot remove the stale file: " + std::strerror(errno));
}

std::string shardName(size_t index, size_t count) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "model-%05zu-of-%05zu.safetensors",
                index + 1, count);
  return buffer;
}

} // namespace

int main(int argc, char **argv) {
  Options opts = parseArgs(argc, argv);
  ModelConfig config = makeConfig(opts);
  std::vector<TensorSpec> specs = tensorSpecs(config);
  if (static_cast<uint64_t>(opts.shards) > specs.size())
    usageError("--shards " + std::to_string(opts.shards) + " exceeds the " +
               std::to_string(specs.size()) + " tensors of this model");

  // The config must read back as itself: the tool's output is a test input.
  std::string configText = modelConfigToJson(config);
  Result<ModelConfig> reparsed = parseModelConfig(configText, "config.json");
  if (!reparsed || *reparsed != config)
    fatal("internal error: config.json does not round-trip" +
          (reparsed ? std::string() : ": " + reparsed.error()));

  makeDirectories(opts.outDir);
  writeText(joinPath(opts.outDir, "config.json"), configText);

  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  std::string singlePath = joinPath(opts.outDir, "model.safetensors");
  std::string indexPath = joinPath(opts.outDir, "model.safetensors.index.json");
  // Checkpoint::open prefers the index: never leave the other layout behind.
  if (opts.shards == 1) {
    removeIfPresent(indexPath);
    std::vector<TensorData> tensors;
    for (const TensorSpec &spec : specs)
      tensors.push_back(generate(spec, opts.seed));
    Status status = writeSafetensors(singlePath, tensors, metadata);
    if (!status)
      fatal(status.error());
    return 0;
  }

  removeIfPresent(singlePath);
  size_t numShards = static_cast<size_t>(opts.shards);
  std::vector<size_t> starts = splitShards(specs, numShards);
  std::map<std::string, std::string> weightMap;
  uint64_t totalSize = 0;
  for (size_t s = 0; s < numShards; ++s) {
    size_t end = s + 1 < numShards ? starts[s + 1] : specs.size();
    std::string name = shardName(s, numShards);
    // One shard in memory at a time.
    std::vector<TensorData> tensors;
    for (size_t i = starts[s]; i < end; ++i) {
      tensors.push_back(generate(specs[i], opts.seed));
      weightMap[specs[i].name] = name;
      totalSize += specs[i].bytes();
    }
    Status status =
        writeSafetensors(joinPath(opts.outDir, name), tensors, metadata);
    if (!status)
      fatal(status.error());
  }
  Status status = writeSafetensorsIndex(indexPath, weightMap, totalSize);
  if (!status)
    fatal(status.error());
  return 0;
}
