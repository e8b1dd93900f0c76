//===- ToyEngine.cpp - a small engine following the GPU calling convention -===//
#include "ToyEngine.h"

#include <cmath>
#include <cstring>
#include <sys/stat.h>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime::test;

float mm01::runtime::test::embedValue(int64_t token, int64_t c) {
  return std::sin(0.37f * static_cast<float>(token * kHidden + c) + 0.5f);
}
uint16_t mm01::runtime::test::lmHeadBits(int64_t v, int64_t c) {
  return floatToBF16(std::cos(0.11f * static_cast<float>(v * kHidden + c)) * 0.5f);
}
float mm01::runtime::test::projValue(int64_t c, int64_t p) {
  return std::sin(0.05f * static_cast<float>(c * kProj + p) + 1.0f) * 0.25f;
}

namespace {
void addBuffer(Manifest &m, const std::string &name, Lifetime lifetime, uint64_t bytes) {
  Buffer b;
  b.name = name;
  b.lifetime = lifetime;
  b.bytes = bytes;
  b.alignment = 256;
  b.offset = (m.arenaBytes(lifetime) + 255) / 256 * 256;
  m.buffers.push_back(b);
}

DimExpr expr(const std::string &text) { return DimExpr::parse(text).value(); }

ModelConfig toyConfig() {
  ModelConfig c;
  c.hiddenSize = kHidden;
  c.numLayers = 2;
  c.numHeads = 4;
  c.headDim = 16;
  c.numKVHeads = 2;
  c.layerKinds = {LayerKind::Lightning, LayerKind::Softmax};
  c.numExperts = 4;
  c.topK = 2;
  c.intermediateSize = 32;
  c.vocabSize = kVocab;
  c.ropeTheta = 10000;
  c.rotaryDim = 8;
  c.rmsNormEps = 1e-5;
  c.linearAlpha = c.fullAlpha = c.mlpAlpha = 1.5;
  c.linearBeta = c.fullBeta = c.mlpBeta = 1;
  return c;
}

/// The steps of one entry point; `n` is the row count ("tokens" or "batch").
EntryPoint entryPoint(const std::string &name, const std::string &n) {
  EntryPoint e;
  e.name = name;
  e.inputs = {"token_ids", "positions", "token_seq", "cu_seqlens", "context_lens"};
  e.outputs = {"logits"};
  const std::string suffix = name == "prefill" ? "_prefill" : "_decode";
  e.steps.push_back(Step{
      "embed", KernelLaunch{"embed" + suffix,
                            {KernelArg::bufferArg("token_ids"), KernelArg::bufferArg("positions"),
                             KernelArg::bufferArg("embed"), KernelArg::bufferArg("x"),
                             KernelArg::bufferArg("xb"), KernelArg::intArg(expr(n)),
                             KernelArg::intArg(kHidden), KernelArg::floatArg(kPosScale)}}});
  e.steps.push_back(Step{
      "accumulate",
      KernelLaunch{"accumulate" + suffix,
                   {KernelArg::bufferArg("token_seq"), KernelArg::bufferArg("positions"),
                    KernelArg::bufferArg("x"), KernelArg::bufferArg("state"),
                    KernelArg::bufferArg("cache"), KernelArg::intArg(expr(n)),
                    KernelArg::intArg(kHidden), KernelArg::intArg(kMaxContext)}}});
  GemmCall lm;
  lm.m = expr(n);
  lm.n = kVocab;
  lm.k = kHidden;
  lm.a = {"xb", 0};
  lm.b = {"lm_head", 0};
  lm.c = {"logits", 0};
  lm.aType = lm.bType = DType::BF16;
  lm.cType = DType::F32;
  lm.transB = true;
  e.steps.push_back(Step{"lm_head", lm});
  GemmCall hb = lm;
  hb.n = kHb; // the first kHb rows of lm_head: a partial B
  hb.c = {"hb", 0};
  hb.cType = DType::BF16;
  e.steps.push_back(Step{"hb", hb});
  e.steps.push_back(Step{"zero_aux", MemsetCall{{"aux", 0}, expr(n + " * " + std::to_string(kProj * 4)), 0}});
  GemmCall proj;
  proj.m = expr(n);
  proj.n = kProj;
  proj.k = kHidden;
  proj.a = {"x", 0};
  proj.b = {"proj", 0};
  proj.c = {"aux", 0};
  proj.aType = proj.bType = proj.cType = DType::F32;
  proj.alpha = 0.5;
  proj.beta = 1;
  e.steps.push_back(Step{"proj", proj});
  e.steps.push_back(Step{"copy_aux", CopyCall{{"aux", 0}, {"aux_copy", 0},
                                              expr(n + " * " + std::to_string(kProj * 4))}});
  e.steps.push_back(Step{"marker", MemsetCall{{"marker", 0}, expr(n), 0x5a}});
  CollectiveCall reduce;
  reduce.op = CollectiveOp::AllReduce;
  reduce.send = reduce.recv = {"logits", 0};
  reduce.count = expr(n + " * " + std::to_string(kVocab));
  reduce.dtype = DType::F32;
  e.steps.push_back(Step{"all_reduce", reduce});
  return e;
}

Kernel kernel(const std::string &name, const std::string &entry, const std::string &n,
              std::vector<KernelParam> params) {
  Kernel k;
  k.name = name;
  k.section = "kernels";
  k.entry = entry;
  k.grid = {expr("cdiv(" + n + " * " + std::to_string(kHidden) + ", 128)"), 1, 1};
  k.block = {128, 1, 1};
  k.params = std::move(params);
  return k;
}
} // namespace

Manifest mm01::runtime::test::toyManifest(const ToyOptions &options) {
  Manifest m;
  m.arch = options.arch;
  m.model = toyConfig();
  m.options.maxBatch = kMaxBatch;
  m.options.maxContext = kMaxContext;
  m.options.dtype = DType::BF16;
  m.options.worldSize = options.worldSize;
  const int64_t T = kTokenCapacity, B = kMaxBatch, K = kHidden;
  addBuffer(m, "embed", Lifetime::Weights, kVocab * K * 4);
  addBuffer(m, "lm_head", Lifetime::Weights, kVocab * K * 2);
  addBuffer(m, "proj", Lifetime::Weights, K * kProj * 4);
  addBuffer(m, "state", Lifetime::State, B * K * 4);
  addBuffer(m, "cache", Lifetime::KVCache, B * kMaxContext * K * 4);
  for (const char *input : {"token_ids", "positions", "token_seq"})
    addBuffer(m, input, Lifetime::Activation, T * 4);
  addBuffer(m, "cu_seqlens", Lifetime::Activation, (B + 1) * 4);
  addBuffer(m, "context_lens", Lifetime::Activation, B * 4);
  addBuffer(m, "x", Lifetime::Activation, T * K * 4);
  addBuffer(m, "xb", Lifetime::Activation, T * K * 2);
  addBuffer(m, "logits", Lifetime::Activation, T * kVocab * 4);
  addBuffer(m, "hb", Lifetime::Activation, T * kHb * 2);
  addBuffer(m, "aux", Lifetime::Activation, T * kProj * 4);
  addBuffer(m, "aux_copy", Lifetime::Activation, T * kProj * 4);
  addBuffer(m, "marker", Lifetime::Activation, T);

  auto p = [](const char *name, ParamType type) { return KernelParam{name, type}; };
  std::vector<KernelParam> embedParams = {
      p("ids", ParamType::Ptr),  p("positions", ParamType::Ptr), p("table", ParamType::Ptr),
      p("x", ParamType::Ptr),    p("xb", ParamType::Ptr),        p("rows", ParamType::I32),
      p("cols", ParamType::I32), p("pos_scale", ParamType::F32)};
  std::vector<KernelParam> accParams = {
      p("token_seq", ParamType::Ptr), p("positions", ParamType::Ptr), p("x", ParamType::Ptr),
      p("state", ParamType::Ptr),     p("cache", ParamType::Ptr),     p("rows", ParamType::I64),
      p("cols", ParamType::U32),      p("max_context", ParamType::I32)};
  // Several kernels share an entry symbol (different launch shapes).
  m.kernels = {kernel("embed_prefill", "toy_embed", "tokens", embedParams),
               kernel("embed_decode", "toy_embed", "batch", embedParams),
               kernel("accumulate_prefill", "toy_accumulate", "tokens", accParams),
               kernel("accumulate_decode", "toy_accumulate", "batch", accParams)};
  m.entryPoints = {entryPoint("prefill", "tokens"), entryPoint("decode", "batch")};
  return m;
}

Result<std::string> mm01::runtime::test::writeToyEngine(const std::string &dir,
                                                        const ToyOptions &options) {
  const std::string ckpt = dir + "/ckpt";
  mkdir(ckpt.c_str(), 0755);
  TensorData lm;
  lm.name = options.checkpointTensor;
  lm.dtype = options.checkpointDType;
  lm.shape = {kVocab, kHidden};
  for (int64_t v = 0; v < kVocab; ++v)
    for (int64_t c = 0; c < kHidden; ++c) {
      uint16_t bits = lmHeadBits(v, c);
      if (lm.dtype == DType::BF16) {
        lm.bytes.push_back(static_cast<uint8_t>(bits));
        lm.bytes.push_back(static_cast<uint8_t>(bits >> 8));
      } else {
        float f = bf16ToFloat(bits);
        uint8_t b[4];
        std::memcpy(b, &f, 4);
        lm.bytes.insert(lm.bytes.end(), b, b + 4);
      }
    }
  if (Status s = writeSafetensors(ckpt + "/model.safetensors", {lm}); !s)
    return Error{s.error()};

  Manifest m = toyManifest(options);
  Result<CheckpointRef> ref = fingerprintCheckpoint(ckpt, {}, "ckpt");
  if (!ref)
    return ref.takeError();
  m.checkpoint = *ref;
  EngineWriter writer(m);
  if (Status s = writer.addSection("kernels", options.kernelKind, options.kernelImage); !s)
    return Error{s.error()};

  Weight embed;
  embed.buffer = "embed";
  embed.sources = {"model.embed_tokens.weight"};
  embed.dtype = DType::F32;
  embed.shape = {kVocab, kHidden};
  std::vector<float> table(kVocab * kHidden);
  for (int64_t v = 0; v < kVocab; ++v)
    for (int64_t c = 0; c < kHidden; ++c)
      table[v * kHidden + c] = embedValue(v, c);
  if (Status s = writer.addPackedWeight(embed, table.data(), table.size() * 4); !s)
    return Error{s.error()};
  Weight proj = embed;
  proj.buffer = "proj";
  proj.sources = {"proj.weight"};
  proj.shape = {kHidden, kProj};
  std::vector<float> projData(kHidden * kProj);
  for (int64_t c = 0; c < kHidden; ++c)
    for (int64_t q = 0; q < kProj; ++q)
      projData[c * kProj + q] = projValue(c, q);
  if (Status s = writer.addPackedWeight(proj, projData.data(), projData.size() * 4); !s)
    return Error{s.error()};
  Weight head;
  head.buffer = "lm_head";
  head.sources = {"lm_head.weight"};
  head.dtype = DType::BF16;
  head.shape = {kVocab, kHidden};
  head.storage = WeightStorage::Checkpoint;
  writer.manifest().weights.push_back(head);

  const std::string path = dir + "/toy.mm01";
  if (Status s = writer.write(path); !s)
    return Error{s.error()};
  return path;
}
