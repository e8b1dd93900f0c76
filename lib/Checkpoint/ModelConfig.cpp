//===- ModelConfig.cpp - MiniMax-01 config.json parsing -------------------===//
//
// Accepts the HF field names and the original MiniMax ones, rejects a config
// that is missing a field, has a wrong JSON type or contradicts itself. Every
// message is one line: "<source>: field '<name>' ...".
//
// nlohmann reports errors by throwing; this file is built with -fexceptions
// and catches everything before returning, so no exception crosses the API.
//
//===----------------------------------------------------------------------===//

#include "mm01/Checkpoint/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

using namespace mm01;
using json = nlohmann::json;

const char *mm01::layerKindName(LayerKind kind) {
  return kind == LayerKind::Lightning ? "linear_attention" : "full_attention";
}

int64_t ModelConfig::numLightningLayers() const {
  int64_t n = 0;
  for (LayerKind kind : layerKinds)
    n += kind == LayerKind::Lightning;
  return n;
}

int64_t ModelConfig::numSoftmaxLayers() const {
  return static_cast<int64_t>(layerKinds.size()) - numLightningLayers();
}

double ModelConfig::lightningDecay(int64_t layer, int64_t head) const {
  // HF's form (the fixtures use it); the 1e-5 terms keep the last layer's
  // rate non-zero. The base is the ALiBi slope for power-of-two H.
  double base = std::pow(2.0, -8.0 * static_cast<double>(head + 1) /
                                  static_cast<double>(numHeads));
  double depth = static_cast<double>(layer) /
                 (static_cast<double>(numLayers) - 1.0 + 1e-5);
  return base * (1.0 - depth + 1e-5);
}

namespace {

bool isPowerOfTwo(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

/// Messages are one line: replace any newline a JSON dump could contain.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}

/// The shortest %g spelling that reads back as `v` (0.3, not 0.29999...).
std::string formatDouble(double v) {
  char buffer[32];
  if (std::fabs(v) < 1e15 && v == std::trunc(v)) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", v); // 10000000, not 1e+07
    return buffer;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v)
      break;
  }
  return buffer;
}

/// A short rendering of a JSON value for "found ..." messages.
std::string describe(const json &v) {
  std::string text = oneLine(v.dump());
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

/// Thrown inside this file only; parseModelConfig turns it into an Error.
struct ConfigError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw ConfigError{std::move(message)}; }

std::string fieldRef(const std::string &name) { return "field '" + name + "'"; }

/// Looks up `key` in `obj`; JSON null counts as absent (HF writes nulls for
/// unset optional fields).
const json *lookup(const json &obj, const std::string &key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return nullptr;
  return &*it;
}

int64_t asInt(const json &v, const std::string &name) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(fieldRef(name) + " is " + std::to_string(u) + ", too large");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer())
    return v.get<int64_t>();
  fail(fieldRef(name) + " must be an integer, found " + describe(v));
}

double asDouble(const json &v, const std::string &name) {
  if (!v.is_number())
    fail(fieldRef(name) + " must be a number, found " + describe(v));
  return v.get<double>();
}

std::optional<int64_t> optInt(const json &obj, const std::string &key,
                              const std::string &name) {
  if (const json *v = lookup(obj, key))
    return asInt(*v, name);
  return std::nullopt;
}

std::optional<double> optDouble(const json &obj, const std::string &key,
                                const std::string &name) {
  if (const json *v = lookup(obj, key))
    return asDouble(*v, name);
  return std::nullopt;
}

int64_t requirePositiveInt(const json &obj, const std::string &key) {
  std::optional<int64_t> v = optInt(obj, key, key);
  if (!v)
    fail(fieldRef(key) + " is missing");
  if (*v <= 0)
    fail(fieldRef(key) + " must be positive, found " + std::to_string(*v));
  return *v;
}

/// A quantity that has an HF spelling and an older MiniMax one: either may be
/// given, both must agree when both are.
double requireDoubleEither(const json &obj, const std::string &hfName,
                           const std::string &origName) {
  std::optional<double> hf = optDouble(obj, hfName, hfName);
  std::optional<double> orig = optDouble(obj, origName, origName);
  if (hf && orig && *hf != *orig)
    fail("fields '" + hfName + "' (" + formatDouble(*hf) + ") and '" +
         origName + "' (" + formatDouble(*orig) + ") disagree");
  if (!hf && !orig)
    fail(fieldRef(hfName) + " is missing (or the older '" + origName + "')");
  return hf ? *hf : *orig;
}

std::vector<LayerKind> parseLayerKinds(const json &root, int64_t numLayers) {
  std::optional<std::vector<LayerKind>> fromTypes, fromList;
  if (const json *types = lookup(root, "layer_types")) {
    if (!types->is_array())
      fail("field 'layer_types' must be an array of strings, found " +
           describe(*types));
    std::vector<LayerKind> kinds;
    for (size_t i = 0; i < types->size(); ++i) {
      const json &t = (*types)[i];
      std::string name = "layer_types[" + std::to_string(i) + "]";
      if (!t.is_string())
        fail(fieldRef(name) + " must be a string, found " + describe(t));
      const std::string &s = t.get_ref<const std::string &>();
      if (s == "linear_attention")
        kinds.push_back(LayerKind::Lightning);
      else if (s == "full_attention")
        kinds.push_back(LayerKind::Softmax);
      else
        fail(fieldRef(name) + " is '" + oneLine(s) +
             "', expected 'linear_attention' or 'full_attention'");
    }
    if (static_cast<int64_t>(kinds.size()) != numLayers)
      fail("field 'layer_types' has " + std::to_string(kinds.size()) +
           " entries, expected num_hidden_layers = " + std::to_string(numLayers));
    fromTypes = std::move(kinds);
  }
  if (const json *list = lookup(root, "attn_type_list")) {
    if (!list->is_array())
      fail("field 'attn_type_list' must be an array of 0/1, found " +
           describe(*list));
    std::vector<LayerKind> kinds;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string name = "attn_type_list[" + std::to_string(i) + "]";
      int64_t v = asInt((*list)[i], name);
      if (v != 0 && v != 1)
        fail(fieldRef(name) + " is " + std::to_string(v) +
             ", expected 0 (linear) or 1 (full)");
      kinds.push_back(v == 0 ? LayerKind::Lightning : LayerKind::Softmax);
    }
    if (static_cast<int64_t>(kinds.size()) != numLayers)
      fail("field 'attn_type_list' has " + std::to_string(kinds.size()) +
           " entries, expected num_hidden_layers = " + std::to_string(numLayers));
    fromList = std::move(kinds);
  }
  if (fromTypes && fromList) {
    for (size_t i = 0; i < fromTypes->size(); ++i)
      if ((*fromTypes)[i] != (*fromList)[i])
        fail("fields 'layer_types' and 'attn_type_list' disagree at layer " +
             std::to_string(i) + ": '" + layerKindName((*fromTypes)[i]) +
             "' vs " + ((*fromList)[i] == LayerKind::Lightning ? "0" : "1"));
  }
  if (fromTypes)
    return *fromTypes;
  if (fromList)
    return *fromList;
  fail("field 'layer_types' is missing (or the older 'attn_type_list')");
}

/// rope_theta and the rotary width: HF nests them in rope_parameters (with
/// partial_rotary_factor), older configs have rope_theta + rotary_dim.
void parseRope(const json &root, ModelConfig &c) {
  const json *params = lookup(root, "rope_parameters");
  if (params && !params->is_object())
    fail("field 'rope_parameters' must be an object, found " + describe(*params));
  if (const json *scaling = lookup(root, "rope_scaling"))
    fail("field 'rope_scaling' is " + describe(*scaling) +
         ": RoPE scaling is not supported");

  std::optional<double> thetaNested, factorNested;
  if (params) {
    if (const json *type = lookup(*params, "rope_type")) {
      if (!type->is_string())
        fail("field 'rope_parameters.rope_type' must be a string, found " +
             describe(*type));
      if (type->get_ref<const std::string &>() != "default")
        fail("field 'rope_parameters.rope_type' is '" +
             oneLine(type->get<std::string>()) + "', expected 'default'");
    }
    thetaNested = optDouble(*params, "rope_theta", "rope_parameters.rope_theta");
    factorNested = optDouble(*params, "partial_rotary_factor",
                             "rope_parameters.partial_rotary_factor");
  }
  std::optional<double> thetaTop = optDouble(root, "rope_theta", "rope_theta");
  std::optional<double> factorTop =
      optDouble(root, "partial_rotary_factor", "partial_rotary_factor");
  std::optional<int64_t> rotaryDim = optInt(root, "rotary_dim", "rotary_dim");

  if (thetaNested && thetaTop && *thetaNested != *thetaTop)
    fail("fields 'rope_parameters.rope_theta' (" + formatDouble(*thetaNested) +
         ") and 'rope_theta' (" + formatDouble(*thetaTop) + ") disagree");
  if (!thetaNested && !thetaTop)
    fail("field 'rope_parameters.rope_theta' is missing (or the older "
         "'rope_theta')");
  c.ropeTheta = thetaNested ? *thetaNested : *thetaTop;
  if (!(c.ropeTheta > 0) || !std::isfinite(c.ropeTheta))
    fail(std::string("field '") + (thetaNested ? "rope_parameters." : "") +
         "rope_theta' must be positive, found " + formatDouble(c.ropeTheta));

  if (factorNested && factorTop && *factorNested != *factorTop)
    fail("fields 'rope_parameters.partial_rotary_factor' (" +
         formatDouble(*factorNested) + ") and 'partial_rotary_factor' (" +
         formatDouble(*factorTop) + ") disagree");
  std::optional<double> factor = factorNested ? factorNested : factorTop;
  std::string factorName = factorNested ? "rope_parameters.partial_rotary_factor"
                                        : "partial_rotary_factor";
  std::optional<int64_t> fromFactor;
  if (factor) {
    double r = *factor * static_cast<double>(c.headDim);
    double rounded = std::round(r);
    if (!std::isfinite(r) || std::fabs(r - rounded) > 1e-6 || rounded < 0)
      fail(fieldRef(factorName) + " is " + formatDouble(*factor) +
           ": times head_dim " + std::to_string(c.headDim) + " gives " +
           formatDouble(r) + ", not a whole number of channels");
    fromFactor = static_cast<int64_t>(rounded);
  }
  if (fromFactor && rotaryDim && *fromFactor != *rotaryDim)
    fail("fields 'rotary_dim' (" + std::to_string(*rotaryDim) + ") and '" +
         factorName + "' (" + formatDouble(*factor) + " x head_dim " +
         std::to_string(c.headDim) + " = " + std::to_string(*fromFactor) +
         ") disagree");
  if (!fromFactor && !rotaryDim)
    fail("field 'rope_parameters.partial_rotary_factor' is missing (or the "
         "older 'rotary_dim')");
  c.rotaryDim = fromFactor ? *fromFactor : *rotaryDim;
}

/// Fields that, when present, must have the one value this implementation
/// supports (they would change the computation otherwise).
void checkUnsupported(const json &root) {
  if (const json *v = lookup(root, "model_type")) {
    if (!v->is_string())
      fail("field 'model_type' must be a string, found " + describe(*v));
    const std::string &s = v->get_ref<const std::string &>();
    // "MiniMaxText01" is what the original MiniMax-Text-01 release says.
    if (s != "minimax" && s != "MiniMaxText01")
      fail("field 'model_type' is '" + oneLine(s) + "', expected 'minimax'");
  }
  if (const json *v = lookup(root, "hidden_act")) {
    if (!v->is_string() || v->get_ref<const std::string &>() != "silu")
      fail("field 'hidden_act' is " + describe(*v) + ", expected \"silu\"");
  }
  if (const json *v = lookup(root, "tie_word_embeddings")) {
    if (!v->is_boolean())
      fail("field 'tie_word_embeddings' must be a boolean, found " + describe(*v));
    if (v->get<bool>())
      fail("field 'tie_word_embeddings' is true: tied embeddings are not "
           "supported (MiniMax-01 has a separate lm_head)");
  }
  if (const json *v = lookup(root, "postnorm")) {
    if (!v->is_boolean())
      fail("field 'postnorm' must be a boolean, found " + describe(*v));
    if (!v->get<bool>())
      fail("field 'postnorm' is false: only the post-norm (DeepNorm) layer "
           "is supported");
  }
  if (std::optional<int64_t> shared =
          optInt(root, "shared_intermediate_size", "shared_intermediate_size"))
    if (*shared != 0)
      fail("field 'shared_intermediate_size' is " + std::to_string(*shared) +
           ": shared experts are not supported");
  if (const json *v = lookup(root, "sliding_window"))
    fail("field 'sliding_window' is " + describe(*v) +
         ": sliding-window attention is not supported");
}

ModelConfig parseRoot(const json &root) {
  if (!root.is_object())
    fail("expected a JSON object at the top level, found " + describe(root));
  checkUnsupported(root);

  ModelConfig c;
  c.hiddenSize = requirePositiveInt(root, "hidden_size");
  c.numLayers = requirePositiveInt(root, "num_hidden_layers");
  c.numHeads = requirePositiveInt(root, "num_attention_heads");
  if (lookup(root, "head_dim")) {
    c.headDim = requirePositiveInt(root, "head_dim");
  } else {
    if (c.hiddenSize % c.numHeads != 0)
      fail("field 'head_dim' is missing and hidden_size " +
           std::to_string(c.hiddenSize) + " is not divisible by "
           "num_attention_heads " + std::to_string(c.numHeads));
    c.headDim = c.hiddenSize / c.numHeads;
  }
  c.numKVHeads = requirePositiveInt(root, "num_key_value_heads");
  c.layerKinds = parseLayerKinds(root, c.numLayers);
  c.numExperts = requirePositiveInt(root, "num_local_experts");
  c.topK = requirePositiveInt(root, "num_experts_per_tok");
  c.intermediateSize = requirePositiveInt(root, "intermediate_size");
  c.vocabSize = requirePositiveInt(root, "vocab_size");
  if (lookup(root, "block_size"))
    c.blockSize = requirePositiveInt(root, "block_size");

  std::optional<double> eps = optDouble(root, "rms_norm_eps", "rms_norm_eps");
  if (!eps)
    fail("field 'rms_norm_eps' is missing");
  c.rmsNormEps = *eps;

  parseRope(root, c);

  c.linearAlpha = requireDoubleEither(root, "linear_attn_alpha_factor",
                                      "layernorm_linear_attention_alpha");
  c.linearBeta = requireDoubleEither(root, "linear_attn_beta_factor",
                                     "layernorm_linear_attention_beta");
  c.fullAlpha = requireDoubleEither(root, "full_attn_alpha_factor",
                                    "layernorm_full_attention_alpha");
  c.fullBeta = requireDoubleEither(root, "full_attn_beta_factor",
                                   "layernorm_full_attention_beta");
  c.mlpAlpha =
      requireDoubleEither(root, "mlp_alpha_factor", "layernorm_mlp_alpha");
  c.mlpBeta = requireDoubleEither(root, "mlp_beta_factor", "layernorm_mlp_beta");
  return c;
}

} // namespace

Status ModelConfig::validate() const {
  auto positive = [](int64_t v, const char *field) -> std::optional<Error> {
    if (v <= 0)
      return makeError(std::string("field '") + field +
                       "' must be positive, found " + std::to_string(v));
    // Keeps every product of two sizes (H·D, V·d, ...) inside int64.
    if (v > (int64_t(1) << 31))
      return makeError(std::string("field '") + field + "' is " +
                       std::to_string(v) + ", larger than 2^31");
    return std::nullopt;
  };
  const std::pair<int64_t, const char *> sizes[] = {
      {hiddenSize, "hidden_size"},
      {numLayers, "num_hidden_layers"},
      {numHeads, "num_attention_heads"},
      {headDim, "head_dim"},
      {numKVHeads, "num_key_value_heads"},
      {numExperts, "num_local_experts"},
      {topK, "num_experts_per_tok"},
      {intermediateSize, "intermediate_size"},
      {vocabSize, "vocab_size"},
      {blockSize, "block_size"}};
  for (const auto &[value, field] : sizes)
    if (std::optional<Error> e = positive(value, field))
      return *e;

  if (static_cast<int64_t>(layerKinds.size()) != numLayers)
    return makeError("field 'layer_types' has " +
                     std::to_string(layerKinds.size()) +
                     " entries, expected num_hidden_layers = " +
                     std::to_string(numLayers));
  if (numLightningLayers() > 0 && !isPowerOfTwo(numHeads))
    return makeError("field 'num_attention_heads' is " +
                     std::to_string(numHeads) +
                     ", not a power of two: non-power-of-two head counts are "
                     "not supported for lightning attention yet");
  if (numSoftmaxLayers() > 0 && numHeads % numKVHeads != 0)
    return makeError("field 'num_attention_heads' (" + std::to_string(numHeads) +
                     ") is not a multiple of 'num_key_value_heads' (" +
                     std::to_string(numKVHeads) + ")");
  if (rotaryDim < 0 || rotaryDim % 2 != 0 || rotaryDim > headDim)
    return makeError("rotary dim (head_dim x partial_rotary_factor, or "
                     "'rotary_dim') is " + std::to_string(rotaryDim) +
                     ", expected an even number in [0, head_dim = " +
                     std::to_string(headDim) + "]");
  if (topK > numExperts)
    return makeError("field 'num_experts_per_tok' (" + std::to_string(topK) +
                     ") exceeds 'num_local_experts' (" +
                     std::to_string(numExperts) + ")");
  if (!(ropeTheta > 0) || !std::isfinite(ropeTheta))
    return makeError("field 'rope_theta' must be positive, found " +
                     formatDouble(ropeTheta));
  if (!(rmsNormEps > 0) || !std::isfinite(rmsNormEps))
    return makeError("field 'rms_norm_eps' must be positive, found " +
                     formatDouble(rmsNormEps));
  if (!(lightningNormEps > 0) || !std::isfinite(lightningNormEps))
    return makeError("lightning norm eps must be positive, found " +
                     formatDouble(lightningNormEps));
  const std::pair<double, const char *> factors[] = {
      {linearAlpha, "linear_attn_alpha_factor"},
      {linearBeta, "linear_attn_beta_factor"},
      {fullAlpha, "full_attn_alpha_factor"},
      {fullBeta, "full_attn_beta_factor"},
      {mlpAlpha, "mlp_alpha_factor"},
      {mlpBeta, "mlp_beta_factor"}};
  for (const auto &[value, field] : factors)
    if (!std::isfinite(value))
      return makeError(std::string("field '") + field + "' must be finite, found " +
                       formatDouble(value));
  return Status::success();
}

bool mm01::operator==(const ModelConfig &a, const ModelConfig &b) {
  return a.hiddenSize == b.hiddenSize && a.numLayers == b.numLayers &&
         a.numHeads == b.numHeads && a.headDim == b.headDim &&
         a.numKVHeads == b.numKVHeads && a.layerKinds == b.layerKinds &&
         a.numExperts == b.numExperts && a.topK == b.topK &&
         a.intermediateSize == b.intermediateSize &&
         a.vocabSize == b.vocabSize && a.ropeTheta == b.ropeTheta &&
         a.rotaryDim == b.rotaryDim && a.rmsNormEps == b.rmsNormEps &&
         a.lightningNormEps == b.lightningNormEps &&
         a.linearAlpha == b.linearAlpha && a.linearBeta == b.linearBeta &&
         a.fullAlpha == b.fullAlpha && a.fullBeta == b.fullBeta &&
         a.mlpAlpha == b.mlpAlpha && a.mlpBeta == b.mlpBeta &&
         a.blockSize == b.blockSize;
}

Result<ModelConfig> mm01::parseModelConfig(const std::string &jsonText,
                                           const std::string &source) {
  try {
    json root;
    try {
      root = json::parse(jsonText);
    } catch (const json::exception &e) {
      return makeError(source + ": invalid JSON: " + oneLine(e.what()));
    }
    ModelConfig config = parseRoot(root);
    Status status = config.validate();
    if (!status)
      return makeError(source + ": " + status.error());
    return config;
  } catch (const ConfigError &e) {
    return makeError(source + ": " + e.message);
  } catch (const std::exception &e) {
    return makeError(source + ": " + oneLine(e.what()));
  } catch (...) {
    return makeError(source + ": unexpected error while parsing the config");
  }
}

Result<ModelConfig> mm01::loadModelConfig(const std::string &path) {
  std::string text;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return makeError(path + ": cannot open the config file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
      return makeError(path + ": cannot read the config file");
    text = ss.str();
  } catch (...) {
    return makeError(path + ": cannot read the config file");
  }
  return parseModelConfig(text, path);
}

std::string mm01::modelConfigToJson(const ModelConfig &c) {
  try {
    // ordered_json keeps this order in the file: easier to read than sorted.
    nlohmann::ordered_json j;
    j["architectures"] = {"MiniMaxForCausalLM"};
    j["model_type"] = "minimax";
    j["hidden_size"] = c.hiddenSize;
    j["num_hidden_layers"] = c.numLayers;
    j["num_attention_heads"] = c.numHeads;
    j["head_dim"] = c.headDim;
    j["num_key_value_heads"] = c.numKVHeads;
    nlohmann::ordered_json types = nlohmann::ordered_json::array();
    for (LayerKind kind : c.layerKinds)
      types.push_back(layerKindName(kind));
    j["layer_types"] = std::move(types);
    j["num_local_experts"] = c.numExperts;
    j["num_experts_per_tok"] = c.topK;
    j["intermediate_size"] = c.intermediateSize;
    j["vocab_size"] = c.vocabSize;
    j["rms_norm_eps"] = c.rmsNormEps;
    j["block_size"] = c.blockSize;
    j["rope_parameters"] = {
        {"rope_type", "default"},
        {"rope_theta", c.ropeTheta},
        {"partial_rotary_factor",
         c.headDim > 0 ? static_cast<double>(c.rotaryDim) /
                             static_cast<double>(c.headDim)
                       : 0.0}};
    j["linear_attn_alpha_factor"] = c.linearAlpha;
    j["linear_attn_beta_factor"] = c.linearBeta;
    j["full_attn_alpha_factor"] = c.fullAlpha;
    j["full_attn_beta_factor"] = c.fullBeta;
    j["mlp_alpha_factor"] = c.mlpAlpha;
    j["mlp_beta_factor"] = c.mlpBeta;
    j["hidden_act"] = "silu";
    j["tie_word_embeddings"] = false;
    j["dtype"] = "bfloat16";
    return j.dump(2) + "\n";
  } catch (...) {
    // Only allocation can fail here; an empty string fails any later parse.
    return std::string();
  }
}
