//===- Importer.cpp - HF checkpoint -> mm01 model-level IR -----------------===//
#include "Model/Import/Importer.h"

#include "Model/IR/ModelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace mm01::model;

namespace mm01 {

namespace {

std::string layerPrefix(int64_t layer) {
  return "model.layers." + std::to_string(layer) + ".";
}

} // namespace

std::vector<WeightSpec> requiredWeights(const ModelConfig &c) {
  const int64_t d = c.hiddenSize, hd = c.attentionWidth(), kv = c.kvWidth();
  std::vector<WeightSpec> specs;
  specs.push_back({"model.embed_tokens.weight", {c.vocabSize, d}, 0});
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = layerPrefix(l);
    specs.push_back({p + "input_layernorm.weight", {d}, 0});
    if (c.layerKinds[l] == LayerKind::Lightning) {
      specs.push_back({p + "self_attn.qkv_proj.weight", {3 * hd, d}, 0});
      specs.push_back({p + "self_attn.output_gate.weight", {hd, d}, 0});
      specs.push_back({p + "self_attn.norm.weight", {hd}, 0});
      specs.push_back({p + "self_attn.out_proj.weight", {d, hd}, 0});
    } else {
      specs.push_back({p + "self_attn.q_proj.weight", {hd, d}, 0});
      specs.push_back({p + "self_attn.k_proj.weight", {kv, d}, 0});
      specs.push_back({p + "self_attn.v_proj.weight", {kv, d}, 0});
      specs.push_back({p + "self_attn.o_proj.weight", {d, hd}, 0});
    }
    specs.push_back({p + "post_attention_layernorm.weight", {d}, 0});
    std::string moe = p + "block_sparse_moe.";
    specs.push_back({moe + "gate.weight", {c.numExperts, d}, 0});
    specs.push_back({moe + "experts.{e}.w1.weight", {c.intermediateSize, d}, c.numExperts});
    specs.push_back({moe + "experts.{e}.w3.weight", {c.intermediateSize, d}, c.numExperts});
    specs.push_back({moe + "experts.{e}.w2.weight", {d, c.intermediateSize}, c.numExperts});
  }
  specs.push_back({"model.norm.weight", {d}, 0});
  specs.push_back({"lm_head.weight", {c.vocabSize, d}, 0});
  return specs;
}

static std::string expertName(const std::string &format, int64_t e) {
  std::string name = format;
  return name.replace(name.find("{e}"), 3, std::to_string(e));
}

Result<DType> checkWeights(const ModelConfig &config, const Checkpoint &checkpoint) {
  std::optional<DType> weightType;
  std::string firstName;
  auto check = [&](const std::string &name,
                   const std::vector<int64_t> &shape) -> Status {
    const TensorInfo *info = checkpoint.find(name);
    if (!info)
      return makeError("checkpoint " + checkpoint.directory() +
                       " has no tensor '" + name + "' (expected shape " +
                       shapeToString(shape) + ")");
    if (info->shape != shape)
      return makeError("tensor '" + name + "': expected shape " +
                       shapeToString(shape) + ", found " +
                       shapeToString(info->shape) + " (" + info->file + ")");
    if (info->dtype != DType::BF16 && info->dtype != DType::F16 &&
        info->dtype != DType::F32)
      return makeError("tensor '" + name + "': expected a BF16, F16 or F32 "
                       "tensor, found " + dtypeName(info->dtype));
    if (!weightType) {
      weightType = info->dtype;
      firstName = name;
    } else if (*weightType != info->dtype) {
      return makeError("tensor '" + name + "' is " + dtypeName(info->dtype) +
                       " but '" + firstName + "' is " + dtypeName(*weightType) +
                       ": mixed weight dtypes are not supported");
    }
    return Status::success();
  };
  for (const WeightSpec &spec : requiredWeights(config)) {
    if (spec.numExperts == 0) {
      if (Status s = check(spec.name, spec.shape); !s)
        return makeError(s.error());
      continue;
    }
    for (int64_t e = 0; e < spec.numExperts; ++e)
      if (Status s = check(expertName(spec.name, e), spec.shape); !s)
        return makeError(s.error());
  }
  return *weightType;
}

void loadImporterDialects(MLIRContext &context) {
  context.loadDialect<MM01Dialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
}

namespace {

/// Emits one model function (@prefill or @decode).
class ModelBuilder {
public:
  ModelBuilder(MLIRContext &ctx, const ModelConfig &config, Type weightType,
               Type actType, const ImportOptions &options)
      : ctx(ctx), c(config), b(&ctx), loc(UnknownLoc::get(&ctx)),
        weightType(weightType), actType(actType), options(options) {}

  func::FuncOp build(ModuleOp module, StringRef name, bool decode);

private:
  int64_t dim(int64_t size) const { return size > 0 ? size : ShapedType::kDynamic; }
  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) const {
    return RankedTensorType::get(shape, element);
  }
  /// [B, T, ...] activation tensor of `act` type.
  RankedTensorType act(ArrayRef<int64_t> tail) const {
    SmallVector<int64_t> shape = {batch, seq};
    shape.append(tail.begin(), tail.end());
    return tensor(shape, actType);
  }
  Value weight(const std::string &name, ArrayRef<int64_t> shape) {
    return WeightOp::create(b, loc, tensor(shape, weightType), b.getStringAttr(name));
  }
  Value expertWeights(const std::string &format, ArrayRef<int64_t> shape) {
    SmallVector<int64_t> stacked = {c.numExperts};
    stacked.append(shape.begin(), shape.end());
    return ExpertWeightsOp::create(b, loc, tensor(stacked, weightType),
                                   b.getStringAttr(format));
  }
  Value linear(Value x, const std::string &name, int64_t out, int64_t in) {
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(xType.getShape());
    shape.back() = out;
    return LinearOp::create(b, loc, tensor(shape, actType), x,
                            weight(name, {out, in}));
  }
  Value rmsNorm(Value x, const std::string &name, int64_t width, double eps) {
    return RMSNormOp::create(b, loc, x, weight(name, {width}), eps);
  }

  Value buildMoE(Value h2, int64_t layer);
  /// DeepNorm residual of the token mixer's output `attn` on the normed input
  /// `h`, then the post-attention norm, the MoE and its residual.
  Value finishLayer(int64_t layer, Value h, Value attn, double alpha, double beta);
  /// Emits the layer body; returns the new hidden state and states.
  SmallVector<Value> buildLightning(int64_t layer, Value x, Value state, bool decode);
  SmallVector<Value> buildSoftmax(int64_t layer, Value x, Value positions,
                                  Value keyCache, Value valueCache);

  MLIRContext &ctx;
  const ModelConfig &c;
  OpBuilder b;
  Location loc;
  Type weightType, actType;
  const ImportOptions &options;
  int64_t batch = ShapedType::kDynamic, seq = ShapedType::kDynamic;
};

Value ModelBuilder::buildMoE(Value h2, int64_t layer) {
  std::string p = layerPrefix(layer) + "block_sparse_moe.";
  Value logits = linear(h2, p + "gate.weight", c.numExperts, c.hiddenSize);
  auto routeType = [&](Type element) {
    return tensor({batch, seq, c.topK}, element);
  };
  auto route = MoERouteOp::create(b, loc, routeType(b.getF32Type()),
                                  routeType(b.getI64Type()), logits,
                                  b.getI64IntegerAttr(c.topK));
  Value w1 = expertWeights(p + "experts.{e}.w1.weight", {c.intermediateSize, c.hiddenSize});
  Value w3 = expertWeights(p + "experts.{e}.w3.weight", {c.intermediateSize, c.hiddenSize});
  Value w2 = expertWeights(p + "experts.{e}.w2.weight", {c.hiddenSize, c.intermediateSize});
  return MoEExpertsOp::create(b, loc, h2.getType(), h2, route.getWeights(),
                              route.getExperts(), w1, w3, w2);
}

Value ModelBuilder::finishLayer(int64_t layer, Value h, Value attn, double alpha,
                                double beta) {
  Value x1 = DeepNormResidualOp::create(b, loc, h, attn, b.getF64FloatAttr(alpha),
                                        b.getF64FloatAttr(beta));
  Value h2 = rmsNorm(x1, layerPrefix(layer) + "post_attention_layernorm.weight",
                     c.hiddenSize, c.rmsNormEps);
  return DeepNormResidualOp::create(b, loc, h2, buildMoE(h2, layer),
                                    b.getF64FloatAttr(c.mlpAlpha),
                                    b.getF64FloatAttr(c.mlpBeta));
}

SmallVector<Value> ModelBuilder::buildLightning(int64_t layer, Value x, Value state,
                                                bool decode) {
  std::string p = layerPrefix(layer);
  const int64_t d = c.hiddenSize, hd = c.attentionWidth();
  Value h = rmsNorm(x, p + "input_layernorm.weight", d, c.rmsNormEps);
  Value qkv = linear(h, p + "self_attn.qkv_proj.weight", 3 * hd, d);
  qkv = SiLUOp::create(b, loc, qkv);
  RankedTensorType headsType = act({c.numHeads, c.headDim});
  auto split = SplitQKVOp::create(b, loc, headsType, headsType, headsType, qkv);
  SmallVector<double> decay;
  for (int64_t n = 0; n < c.numHeads; ++n)
    decay.push_back(c.lightningDecay(layer, n));
  Value o, newState;
  if (decode) {
    auto op = LightningDecodeOp::create(b, loc, split.getQ(), split.getK(),
                                        split.getV(), state, decay);
    o = op.getOutput();
    newState = op.getNewState();
  } else {
    auto op = LightningAttentionOp::create(b, loc, split.getQ(), split.getK(),
                                           split.getV(), state, decay);
    o = op.getOutput();
    newState = op.getNewState();
  }
  Value merged = MergeHeadsOp::create(b, loc, act({hd}), o);
  Value normed = rmsNorm(merged, p + "self_attn.norm.weight", hd, c.lightningNormEps);
  Value gate = SigmoidOp::create(b, loc, linear(h, p + "self_attn.output_gate.weight", hd, d));
  Value gated = arith::MulFOp::create(b, loc, normed, gate);
  Value attn = linear(gated, p + "self_attn.out_proj.weight", d, hd);
  return {finishLayer(layer, h, attn, c.linearAlpha, c.linearBeta), newState};
}

SmallVector<Value> ModelBuilder::buildSoftmax(int64_t layer, Value x, Value positions,
                                              Value keyCache, Value valueCache) {
  std::string p = layerPrefix(layer);
  const int64_t d = c.hiddenSize, hd = c.attentionWidth(), kv = c.kvWidth();
  Value h = rmsNorm(x, p + "input_layernorm.weight", d, c.rmsNormEps);
  auto heads = [&](Value v, int64_t numHeads) -> Value {
    return SplitHeadsOp::create(b, loc, act({numHeads, c.headDim}), v);
  };
  auto rope = [&](Value v) -> Value {
    return RoPEOp::create(b, loc, v.getType(), v, positions,
                          b.getF64FloatAttr(c.ropeTheta),
                          b.getI64IntegerAttr(c.rotaryDim));
  };
  Value q = rope(heads(linear(h, p + "self_attn.q_proj.weight", hd, d), c.numHeads));
  Value k = rope(heads(linear(h, p + "self_attn.k_proj.weight", kv, d), c.numKVHeads));
  Value v = heads(linear(h, p + "self_attn.v_proj.weight", kv, d), c.numKVHeads);
  auto attn = SoftmaxAttentionOp::create(
      b, loc, q.getType(), keyCache.getType(), keyCache.getType(), q, k, v,
      keyCache, valueCache, positions,
      b.getF64FloatAttr(1.0 / std::sqrt(static_cast<double>(c.headDim))));
  Value merged = MergeHeadsOp::create(b, loc, act({hd}), attn.getOutput());
  Value out = linear(merged, p + "self_attn.o_proj.weight", d, hd);
  return {finishLayer(layer, h, out, c.fullAlpha, c.fullBeta), attn.getNewKeyCache(),
          attn.getNewValueCache()};
}

func::FuncOp ModelBuilder::build(ModuleOp module, StringRef name, bool decode) {
  batch = dim(options.batch);
  seq = decode ? 1 : dim(options.prefillLength);
  const int64_t cache = dim(options.cacheCapacity);
  const int64_t D = c.headDim;
  Type i64 = b.getI64Type(), f32 = b.getF32Type();
  bool hidden = options.emitHiddenStates && !decode;

  // Signature: ids, positions, then each layer's state(s) in layer order.
  SmallVector<Type> argTypes = {tensor({batch, seq}, i64), tensor({batch, seq}, i64)};
  SmallVector<std::string> argNames = {"ids", "positions"};
  SmallVector<Type> resultTypes = {act({c.vocabSize})};
  SmallVector<std::string> resultNames = {"logits"};
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string tag = "layer" + std::to_string(l) + ".";
    if (c.layerKinds[l] == LayerKind::Lightning) {
      Type s = tensor({batch, c.numHeads, D, D}, f32);
      argTypes.push_back(s);
      argNames.push_back(tag + "lightning_state");
    } else {
      Type kvc = tensor({batch, cache, c.numKVHeads, D}, actType);
      argTypes.append({kvc, kvc});
      argNames.push_back(tag + "key_cache");
      argNames.push_back(tag + "value_cache");
    }
  }
  for (size_t i = 2; i < argTypes.size(); ++i) {
    resultTypes.push_back(argTypes[i]);
    resultNames.push_back(argNames[i]);
  }
  if (hidden)
    for (int64_t l = 0; l <= c.numLayers; ++l) {
      resultTypes.push_back(act({c.hiddenSize}));
      resultNames.push_back("hidden_states." + std::to_string(l));
    }

  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(argTypes, resultTypes));
  for (auto [i, n] : llvm::enumerate(argNames))
    func.setArgAttr(i, "mm01.name", b.getStringAttr(n));
  for (auto [i, n] : llvm::enumerate(resultNames))
    func.setResultAttr(i, "mm01.name", b.getStringAttr(n));
  func->setAttr("mm01.entry", b.getStringAttr(decode ? "decode" : "prefill"));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Value ids = entry->getArgument(0), positions = entry->getArgument(1);
  Value x = EmbeddingOp::create(b, loc, act({c.hiddenSize}), 
                                weight("model.embed_tokens.weight", {c.vocabSize, c.hiddenSize}),
                                ids);
  SmallVector<Value> newStates, hiddenStates = {x};
  unsigned nextArg = 2;
  for (int64_t l = 0; l < c.numLayers; ++l) {
    bool lightning = c.layerKinds[l] == LayerKind::Lightning;
    SmallVector<Value> inputs = {x};
    if (!lightning)
      inputs.push_back(positions);
    unsigned numStates = lightning ? 1 : 2;
    for (unsigned s = 0; s < numStates; ++s)
      inputs.push_back(entry->getArgument(nextArg++));
    SmallVector<Type> types = {x.getType()};
    for (unsigned s = 0; s < numStates; ++s)
      types.push_back(inputs[inputs.size() - numStates + s].getType());

    auto layerOp = DecoderLayerOp::create(
        b, loc, l, lightning ? AttentionKind::lightning : AttentionKind::softmax,
        TypeRange(types), ValueRange(inputs));
    {
      OpBuilder::InsertionGuard guard(b);
      Block &body = layerOp.getBody().front();
      b.setInsertionPointToStart(&body);
      SmallVector<Value> results =
          lightning ? buildLightning(l, body.getArgument(0), body.getArgument(1), decode)
                    : buildSoftmax(l, body.getArgument(0), body.getArgument(1),
                                   body.getArgument(2), body.getArgument(3));
      YieldOp::create(b, loc, results);
    }
    x = layerOp.getResult(0);
    for (unsigned s = 0; s < numStates; ++s)
      newStates.push_back(layerOp.getResult(1 + s));
    hiddenStates.push_back(x);
  }
  Value normed = rmsNorm(x, "model.norm.weight", c.hiddenSize, c.rmsNormEps);
  hiddenStates.back() = normed; // HF reports the last layer after the final norm
  Value logits = linear(normed, "lm_head.weight", c.vocabSize, c.hiddenSize);
  SmallVector<Value> results = {logits};
  results.append(newStates);
  if (hidden)
    results.append(hiddenStates);
  func::ReturnOp::create(b, loc, results);
  return func;
}

DictionaryAttr configAttr(Builder &b, const ModelConfig &c) {
  SmallVector<NamedAttribute> attrs;
  auto i = [&](StringRef n, int64_t v) { attrs.push_back(b.getNamedAttr(n, b.getI64IntegerAttr(v))); };
  auto f = [&](StringRef n, double v) { attrs.push_back(b.getNamedAttr(n, b.getF64FloatAttr(v))); };
  i("hidden_size", c.hiddenSize);
  i("num_hidden_layers", c.numLayers);
  i("num_attention_heads", c.numHeads);
  i("head_dim", c.headDim);
  i("num_key_value_heads", c.numKVHeads);
  i("num_local_experts", c.numExperts);
  i("num_experts_per_tok", c.topK);
  i("intermediate_size", c.intermediateSize);
  i("vocab_size", c.vocabSize);
  i("rotary_dim", c.rotaryDim);
  f("rope_theta", c.ropeTheta);
  f("rms_norm_eps", c.rmsNormEps);
  SmallVector<Attribute> kinds;
  for (LayerKind k : c.layerKinds)
    kinds.push_back(b.getStringAttr(layerKindName(k)));
  attrs.push_back(b.getNamedAttr("layer_types", b.getArrayAttr(kinds)));
  return b.getDictionaryAttr(attrs);
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>> importModel(MLIRContext &context,
                                                  const ModelConfig &config,
                                                  DType weightDType,
                                                  const ImportOptions &options) {
  if (Status s = config.validate(); !s)
    return llvm::createStringError(s.error());
  if (options.dtype != "f32" && options.dtype != "bf16")
    return llvm::createStringError("unsupported activation dtype '" + options.dtype +
                                   "' (expected f32 or bf16)");
  if (!options.emitPrefill && !options.emitDecode)
    return llvm::createStringError("nothing to import: neither prefill nor decode requested");
  loadImporterDialects(context);
  Builder b(&context);
  Type weightType;
  switch (weightDType) {
  case DType::BF16: weightType = b.getBF16Type(); break;
  case DType::F16: weightType = b.getF16Type(); break;
  case DType::F32: weightType = b.getF32Type(); break;
  default:
    return llvm::createStringError(std::string("unsupported weight dtype ") +
                                   dtypeName(weightDType));
  }
  Type actType = options.dtype == "bf16" ? Type(b.getBF16Type()) : Type(b.getF32Type());

  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  (*module)->setAttr("mm01.config", configAttr(b, config));
  ModelBuilder builder(context, config, weightType, actType, options);
  if (options.emitPrefill)
    builder.build(*module, "prefill", /*decode=*/false);
  if (options.emitDecode)
    builder.build(*module, "decode", /*decode=*/true);
  if (failed(verify(*module)))
    return llvm::createStringError("internal error: the imported IR does not verify");
  return std::move(module);
}

} // namespace mm01
