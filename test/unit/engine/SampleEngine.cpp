//===- SampleEngine.cpp - a small, complete engine for tests --------------===//

#include "SampleEngine.h"

#include <cstring>

using namespace mm01;
using namespace mm01::engine;

ModelConfig mm01::engine::test::sampleModelConfig() {
  ModelConfig c;
  c.hiddenSize = 64;
  c.numLayers = 2;
  c.numHeads = 4;
  c.headDim = 16;
  c.numKVHeads = 2;
  c.layerKinds = {LayerKind::Lightning, LayerKind::Softmax};
  c.numExperts = 4;
  c.topK = 2;
  c.intermediateSize = 32;
  c.vocabSize = 128;
  c.ropeTheta = 10000;
  c.rotaryDim = 8;
  c.rmsNormEps = 1e-5;
  c.linearAlpha = c.fullAlpha = c.mlpAlpha = 1.5;
  c.linearBeta = c.fullBeta = c.mlpBeta = 1;
  return c;
}

namespace {

/// Deterministic filler bytes.
std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    bytes[i] = static_cast<uint8_t>(x);
  }
  return bytes;
}

/// Appends a buffer to its lifetime arena, 256-byte aligned.
void addBuffer(Manifest &m, const std::string &name, Lifetime lifetime,
               uint64_t bytes) {
  uint64_t end = m.arenaBytes(lifetime);
  Buffer b;
  b.name = name;
  b.lifetime = lifetime;
  b.bytes = bytes;
  b.alignment = 256;
  b.offset = (end + 255) / 256 * 256;
  m.buffers.push_back(b);
}

KernelParam param(const char *name, ParamType type) { return {name, type}; }

} // namespace

Result<EngineWriter>
mm01::engine::test::makeSampleEngine(const SampleOptions &options) {
  Manifest m;
  m.arch = "sm_90a";
  m.options.maxBatch = 4;
  m.options.maxContext = 128;
  m.options.dtype = DType::BF16;

  std::unique_ptr<Checkpoint> checkpoint;
  if (!options.checkpointDir.empty()) {
    Result<ModelConfig> config =
        loadModelConfig(options.checkpointDir + "/config.json");
    if (!config)
      return config.takeError();
    m.model = *config;
    Result<std::unique_ptr<Checkpoint>> opened = Checkpoint::open(options.checkpointDir);
    if (!opened)
      return opened.takeError();
    checkpoint = std::move(opened).value();
  } else {
    m.model = sampleModelConfig();
  }
  const ModelConfig &c = m.model;
  const int64_t B = m.options.maxBatch, C = m.options.maxContext;
  const int64_t V = c.vocabSize, d = c.hiddenSize, H = c.numHeads,
                D = c.headDim, Hkv = c.numKVHeads;

  // Buffers of every lifetime class, sized at max batch and context.
  addBuffer(m, "model.embed_tokens.weight", Lifetime::Weights, V * d * 2);
  addBuffer(m, "model.norm.weight", Lifetime::Weights, d * 2);
  addBuffer(m, "lm_head.weight", Lifetime::Weights, V * d * 2);
  addBuffer(m, "lightning_state", Lifetime::State, B * H * D * D * 4);
  addBuffer(m, "kv_cache", Lifetime::KVCache, 2 * B * C * Hkv * D * 2);
  addBuffer(m, "ids", Lifetime::Activation, B * C * 4);
  addBuffer(m, "hidden", Lifetime::Activation, B * C * d * 2);
  addBuffer(m, "normed", Lifetime::Activation, B * C * d * 2);
  addBuffer(m, "logits", Lifetime::Activation, B * C * V * 4);
  addBuffer(m, "cublaslt_workspace", Lifetime::Workspace, 1 << 20);

  // Kernels: two in a cubin, one in PTX.
  Kernel embed;
  embed.name = "embed";
  embed.section = "kernels";
  embed.entry = "mm01_embed_bf16";
  embed.grid = {DimExpr::parse("tokens").value(), 1, 1};
  embed.block = {64, 1, 1};
  embed.params = {param("ids", ParamType::Ptr), param("table", ParamType::Ptr),
                  param("out", ParamType::Ptr), param("tokens", ParamType::I32)};
  Kernel norm;
  norm.name = "rmsnorm";
  norm.section = "kernels";
  norm.entry = "mm01_rmsnorm_bf16";
  norm.grid = {DimExpr::parse("cdiv(tokens, 4)").value(), 1, 1};
  norm.block = {32, 4, 1};
  norm.dynamicSmemBytes = 512;
  norm.params = {param("x", ParamType::Ptr), param("w", ParamType::Ptr),
                 param("y", ParamType::Ptr), param("eps", ParamType::F32),
                 param("rows", ParamType::I64)};
  Kernel attn;
  attn.name = "decode_attention";
  attn.section = "kernels.ptx";
  attn.entry = "mm01_decode_attention";
  attn.grid = {DimExpr::parse("batch").value(), H, 1};
  attn.block = {128, 1, 1};
  attn.dynamicSmemBytes = 64 * 1024;
  attn.params = {param("q", ParamType::Ptr), param("kv", ParamType::Ptr),
                 param("out", ParamType::Ptr), param("context", ParamType::U32)};
  m.kernels = {embed, norm, attn};

  auto launchEmbed = [&]() {
    return Step{"embed", KernelLaunch{"embed",
                                      {KernelArg::bufferArg("ids"),
                                       KernelArg::bufferArg("model.embed_tokens.weight"),
                                       KernelArg::bufferArg("hidden"),
                                       KernelArg::intArg(DimExpr::parse("tokens").value())}}};
  };
  auto lmHead = [&]() {
    GemmCall g;
    g.m = DimExpr::parse("tokens").value();
    g.n = V;
    g.k = d;
    g.a = {"normed", 0};
    g.b = {"lm_head.weight", 0};
    g.c = {"logits", 0};
    g.cType = DType::F32;
    g.transB = true;
    return Step{"lm_head", g};
  };

  EntryPoint prefill;
  prefill.name = "prefill";
  prefill.inputs = {"ids"};
  prefill.outputs = {"logits"};
  prefill.steps.push_back(
      Step{"zero_state", MemsetCall{{"lightning_state", 0}, B * H * D * D * 4, 0}});
  prefill.steps.push_back(launchEmbed());
  prefill.steps.push_back(Step{
      "final_norm",
      KernelLaunch{"rmsnorm",
                   {KernelArg::bufferArg("hidden"),
                    KernelArg::bufferArg("model.norm.weight"),
                    KernelArg::bufferArg("normed"), KernelArg::floatArg(c.rmsNormEps),
                    KernelArg::intArg(DimExpr::parse("tokens").value())}}});
  prefill.steps.push_back(lmHead());
  CollectiveCall reduce;
  reduce.send = {"logits", 0};
  reduce.recv = {"logits", 0};
  reduce.count = DimExpr::parse("tokens * " + std::to_string(V)).value();
  reduce.dtype = DType::F32;
  prefill.steps.push_back(Step{"", reduce});

  EntryPoint decode;
  decode.name = "decode";
  decode.inputs = {"ids"};
  decode.outputs = {"logits"};
  decode.steps.push_back(launchEmbed());
  decode.steps.push_back(Step{
      "attention",
      KernelLaunch{"decode_attention",
                   {KernelArg::bufferArg("hidden"), KernelArg::bufferArg("kv_cache"),
                    KernelArg::bufferArg("normed",
                                         DimExpr::parse("past * 0").value()),
                    KernelArg::intArg(DimExpr::parse("context").value())}}});
  decode.steps.push_back(Step{
      "keep",
      CopyCall{{"normed", 0}, {"hidden", 0}, DimExpr::parse("tokens * " +
                                                            std::to_string(d * 2))
                                                 .value()}});
  decode.steps.push_back(lmHead());
  m.entryPoints = {prefill, decode};

  EngineWriter writer(std::move(m));
  std::vector<uint8_t> cubin = pattern(3000, 1);
  std::memcpy(cubin.data(), "\x7f" "ELF", 4);
  Status ok = writer.addSection("kernels", SectionKind::Cubin, cubin);
  if (ok) {
    std::string ptx = "//\n// fake PTX for tests\n//\n.version 8.8\n.target sm_90a\n"
                      ".address_size 64\n";
    ok = writer.addSection("kernels.ptx", SectionKind::Ptx,
                           std::vector<uint8_t>(ptx.begin(), ptx.end()));
  }
  if (ok)
    ok = writer.addSection("schedule", SectionKind::Schedule, pattern(100, 2));
  if (ok)
    ok = writer.addSection("empty", SectionKind::Data, {});
  if (!ok)
    return Error{ok.error()};

  // Weights: packed, except the two a checkpoint provides.
  auto packed = [&](const std::string &name, std::vector<int64_t> shape,
                    uint32_t seed) -> Status {
    Weight w;
    w.buffer = name;
    w.sources = {name};
    w.dtype = DType::BF16;
    w.shape = std::move(shape);
    std::vector<uint8_t> bytes = pattern(w.byteSize(), seed);
    return writer.addPackedWeight(w, bytes.data(), bytes.size());
  };
  ok = packed("model.embed_tokens.weight", {V, d}, 3);
  for (const std::string name : {"model.norm.weight", "lm_head.weight"}) {
    if (!ok)
      break;
    std::vector<int64_t> shape = name == "lm_head.weight"
                                     ? std::vector<int64_t>{V, d}
                                     : std::vector<int64_t>{d};
    if (!checkpoint) {
      ok = packed(name, shape, name == "lm_head.weight" ? 4 : 5);
      continue;
    }
    const TensorInfo *info = checkpoint->find(name);
    if (!info)
      return makeError("checkpoint has no tensor '" + name + "'");
    Weight w;
    w.buffer = name;
    w.sources = {name};
    w.dtype = info->dtype;
    w.shape = info->shape;
    w.storage = WeightStorage::Checkpoint;
    writer.manifest().weights.push_back(w);
  }
  if (!ok)
    return Error{ok.error()};
  if (checkpoint) {
    Result<CheckpointRef> ref = fingerprintCheckpoint(
        options.checkpointDir, {"model.norm.weight", "lm_head.weight"},
        options.recordedPath.empty() ? options.checkpointDir : options.recordedPath);
    if (!ref)
      return ref.takeError();
    writer.manifest().checkpoint = std::move(ref).value();
  }
  return std::move(writer);
}
