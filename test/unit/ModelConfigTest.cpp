//===- ModelConfigTest.cpp - config.json parsing and validation -----------===//
#include "TestUtil.h"

#include "mm01/Checkpoint/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

using namespace mm01;
using namespace mm01::test;
using json = nlohmann::json;

namespace {

/// A small valid HF-style config (the fixture's shape, written inline so
/// these tests do not need the fixture).
json tinyConfig() {
  json types = json::array();
  for (int i = 0; i < 8; ++i)
    types.push_back(i == 7 ? "full_attention" : "linear_attention");
  return json{{"model_type", "minimax"},
              {"hidden_size", 256},
              {"num_hidden_layers", 8},
              {"num_attention_heads", 4},
              {"head_dim", 64},
              {"num_key_value_heads", 2},
              {"layer_types", types},
              {"num_local_experts", 8},
              {"num_experts_per_tok", 2},
              {"intermediate_size", 64},
              {"vocab_size", 512},
              {"rms_norm_eps", 1e-5},
              {"rope_parameters",
               {{"rope_type", "default"},
                {"rope_theta", 1e7},
                {"partial_rotary_factor", 0.5}}},
              {"linear_attn_alpha_factor", 2.0},
              {"linear_attn_beta_factor", 1.0},
              {"full_attn_alpha_factor", 2.0},
              {"full_attn_beta_factor", 1.0},
              {"mlp_alpha_factor", 2.0},
              {"mlp_beta_factor", 1.0}};
}

Result<ModelConfig> parseJson(const json &j) {
  return parseModelConfig(j.dump(), "config.json");
}

Result<ModelConfig> parseMutated(const std::function<void(json &)> &mutate) {
  json j = tinyConfig();
  mutate(j);
  return parseJson(j);
}

std::vector<LayerKind> textO1Kinds() {
  std::vector<LayerKind> kinds;
  for (int i = 0; i < 80; ++i)
    kinds.push_back((i + 1) % 8 == 0 ? LayerKind::Softmax : LayerKind::Lightning);
  return kinds;
}

void expectTextO1(const ModelConfig &c) {
  EXPECT_EQ(c.hiddenSize, 6144);
  EXPECT_EQ(c.numLayers, 80);
  EXPECT_EQ(c.numHeads, 64);
  EXPECT_EQ(c.headDim, 128);
  EXPECT_EQ(c.attentionWidth(), 8192);
  EXPECT_EQ(c.numKVHeads, 8);
  EXPECT_EQ(c.kvWidth(), 1024);
  EXPECT_EQ(c.layerKinds, textO1Kinds());
  EXPECT_EQ(c.numLightningLayers(), 70);
  EXPECT_EQ(c.numSoftmaxLayers(), 10);
  EXPECT_EQ(c.numExperts, 32);
  EXPECT_EQ(c.topK, 2);
  EXPECT_EQ(c.intermediateSize, 9216);
  EXPECT_EQ(c.vocabSize, 200064);
  EXPECT_EQ(c.ropeTheta, 1e7);
  EXPECT_EQ(c.rotaryDim, 64);
  EXPECT_EQ(c.rmsNormEps, 1e-5);
  EXPECT_EQ(c.lightningNormEps, 1e-6);
  const double alpha = std::pow(160.0, 0.25);
  EXPECT_NEAR(alpha, 3.5565588, 1e-7);
  EXPECT_DOUBLE_EQ(c.linearAlpha, alpha);
  EXPECT_DOUBLE_EQ(c.fullAlpha, alpha);
  EXPECT_DOUBLE_EQ(c.mlpAlpha, alpha);
  EXPECT_EQ(c.linearBeta, 1.0);
  EXPECT_EQ(c.fullBeta, 1.0);
  EXPECT_EQ(c.mlpBeta, 1.0);
  EXPECT_EQ(c.blockSize, 256);
}

} // namespace

//===----------------------------------------------------------------------===//
// Valid configs
//===----------------------------------------------------------------------===//

TEST(ModelConfig, ParsesFixtureConfig) {
  MM01_REQUIRE_FIXTURE(dir);
  Result<ModelConfig> c = loadModelConfig(dir + "/config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->hiddenSize, 256);
  EXPECT_EQ(c->numLayers, 8);
  EXPECT_EQ(c->numHeads, 4);
  EXPECT_EQ(c->headDim, 64);
  EXPECT_EQ(c->numKVHeads, 2);
  ASSERT_EQ(c->layerKinds.size(), 8u);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(c->layerKinds[i], LayerKind::Lightning) << "layer " << i;
  EXPECT_EQ(c->layerKinds[7], LayerKind::Softmax);
  EXPECT_EQ(c->numExperts, 8);
  EXPECT_EQ(c->topK, 2);
  EXPECT_EQ(c->intermediateSize, 64);
  EXPECT_EQ(c->vocabSize, 512);
  EXPECT_EQ(c->ropeTheta, 1e7);
  EXPECT_EQ(c->rotaryDim, 32);
  EXPECT_EQ(c->rmsNormEps, 1e-5);
  EXPECT_EQ(c->lightningNormEps, 1e-6);
  EXPECT_EQ(c->linearAlpha, 2.0);
  EXPECT_EQ(c->fullAlpha, 2.0);
  EXPECT_EQ(c->mlpAlpha, 2.0);
  EXPECT_EQ(c->linearBeta, 1.0);
  EXPECT_EQ(c->fullBeta, 1.0);
  EXPECT_EQ(c->mlpBeta, 1.0);
  EXPECT_EQ(c->blockSize, 256);
  EXPECT_TRUE(c->validate().ok());
  // The inline tinyConfig() mirrors the fixture.
  Result<ModelConfig> inlineCopy = parseJson(tinyConfig());
  ASSERT_TRUE(inlineCopy.ok()) << inlineCopy.error();
  EXPECT_EQ(*c, *inlineCopy);
}

TEST(ModelConfig, ParsesMiniMaxText01HFNames) {
  Result<ModelConfig> c =
      loadModelConfig(inputsDir() + "/minimax-text-01/config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  expectTextO1(*c);
}

TEST(ModelConfig, ParsesMiniMaxText01OriginalNames) {
  Result<ModelConfig> orig =
      loadModelConfig(inputsDir() + "/minimax-text-01-orig/config.json");
  ASSERT_TRUE(orig.ok()) << orig.error();
  expectTextO1(*orig);
  Result<ModelConfig> hf =
      loadModelConfig(inputsDir() + "/minimax-text-01/config.json");
  ASSERT_TRUE(hf.ok()) << hf.error();
  EXPECT_EQ(*orig, *hf);
}

TEST(ModelConfig, OptionalFieldsDefault) {
  // head_dim absent (or null) -> d / H; block_size absent -> 256.
  for (bool useNull : {false, true}) {
    Result<ModelConfig> c = parseMutated([&](json &j) {
      if (useNull)
        j["head_dim"] = nullptr;
      else
        j.erase("head_dim");
      j["hidden_size"] = 512;
      j.erase("block_size");
    });
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->headDim, 128);
    EXPECT_EQ(c->rotaryDim, 64);
    EXPECT_EQ(c->blockSize, 256);
  }
  Result<ModelConfig> c = parseMutated([](json &j) { j["block_size"] = 128; });
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->blockSize, 128);
}

TEST(ModelConfig, HeadDimMayDifferFromHiddenOverHeads) {
  Result<ModelConfig> c = parseMutated([](json &j) { j["head_dim"] = 128; });
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->attentionWidth(), 512);
  EXPECT_EQ(c->rotaryDim, 64);
}

TEST(ModelConfig, AgreeingDuplicatesAreAccepted) {
  Result<ModelConfig> c = parseMutated([](json &j) {
    j["attn_type_list"] = {0, 0, 0, 0, 0, 0, 0, 1};
    j["rotary_dim"] = 32;
    j["rope_theta"] = 10000000;
    j["layernorm_mlp_alpha"] = 2;
  });
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->rotaryDim, 32);
  EXPECT_EQ(c->mlpAlpha, 2.0);
}

TEST(ModelConfig, AllLightningAllowsAnyKVHeads) {
  // H % Hkv only matters with a softmax layer.
  Result<ModelConfig> c = parseMutated([](json &j) {
    j["layer_types"] = json::array();
    for (int i = 0; i < 8; ++i)
      j["layer_types"].push_back("linear_attention");
    j["num_key_value_heads"] = 3;
  });
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->numSoftmaxLayers(), 0);
}

TEST(ModelConfig, AllSoftmaxAllowsNonPowerOfTwoHeads) {
  Result<ModelConfig> c = parseMutated([](json &j) {
    j["layer_types"] = json::array();
    for (int i = 0; i < 8; ++i)
      j["layer_types"].push_back("full_attention");
    j["num_attention_heads"] = 6;
  });
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->numLightningLayers(), 0);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(ModelConfigErrors, MissingRequiredField) {
  const char *required[] = {"hidden_size",        "num_hidden_layers",
                            "num_attention_heads", "num_key_value_heads",
                            "num_local_experts",   "num_experts_per_tok",
                            "intermediate_size",   "vocab_size",
                            "rms_norm_eps"};
  for (const char *field : required) {
    SCOPED_TRACE(field);
    EXPECT_ERROR_CONTAINS(parseMutated([&](json &j) { j.erase(field); }),
                          std::string("config.json: field '") + field +
                              "' is missing");
  }
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j.erase("layer_types"); }),
                        "config.json: field 'layer_types' is missing (or the "
                        "older 'attn_type_list')");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j.erase("linear_attn_alpha_factor"); }),
      "field 'linear_attn_alpha_factor' is missing (or the older "
      "'layernorm_linear_attention_alpha')");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["rope_parameters"].erase("rope_theta"); }),
      "field 'rope_parameters.rope_theta' is missing");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"].erase("partial_rotary_factor");
                        }),
                        "field 'rope_parameters.partial_rotary_factor' is "
                        "missing (or the older 'rotary_dim')");
  // A null required field counts as missing.
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["vocab_size"] = nullptr; }),
                        "field 'vocab_size' is missing");
}

TEST(ModelConfigErrors, WrongType) {
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["hidden_size"] = "256"; }),
                        "config.json: field 'hidden_size' must be an integer, "
                        "found string \"256\"");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["head_dim"] = 64.5; }),
                        "field 'head_dim' must be an integer, found number 64.5");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["rms_norm_eps"] = true; }),
                        "field 'rms_norm_eps' must be a number, found boolean");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["layer_types"] = "linear_attention"; }),
      "field 'layer_types' must be an array of strings, found string");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["layer_types"][2] = 0; }),
                        "field 'layer_types[2]' must be a string, found number");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["rope_parameters"] = 1e7; }),
                        "field 'rope_parameters' must be an object");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"]["rope_theta"] = "1e7";
                        }),
                        "field 'rope_parameters.rope_theta' must be a number");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["mlp_beta_factor"] = json::array(); }),
      "field 'mlp_beta_factor' must be a number, found array");
  EXPECT_ERROR_CONTAINS(parseModelConfig("[1, 2]", "x/config.json"),
                        "x/config.json: expected a JSON object at the top "
                        "level, found array");
  EXPECT_ERROR_CONTAINS(parseModelConfig("{\"hidden_size\": ", "x/config.json"),
                        "x/config.json: invalid JSON");
}

TEST(ModelConfigErrors, LayerTypesLength) {
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["layer_types"].erase(7); }),
      "config.json: field 'layer_types' has 7 entries, expected "
      "num_hidden_layers = 8");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j.erase("layer_types");
                          j["attn_type_list"] = {0, 0, 0, 0, 0, 0, 0, 1, 0};
                        }),
                        "field 'attn_type_list' has 9 entries, expected "
                        "num_hidden_layers = 8");
}

TEST(ModelConfigErrors, UnknownLayerType) {
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["layer_types"][3] = "sliding_attention"; }),
      "config.json: field 'layer_types[3]' is 'sliding_attention', expected "
      "'linear_attention' or 'full_attention'");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j.erase("layer_types");
                          j["attn_type_list"] = {0, 0, 2, 0, 0, 0, 0, 1};
                        }),
                        "field 'attn_type_list[2]' is 2, expected 0 (linear) "
                        "or 1 (full)");
}

TEST(ModelConfigErrors, NonPowerOfTwoLightningHeads) {
  Result<ModelConfig> c =
      parseMutated([](json &j) { j["num_attention_heads"] = 6; });
  EXPECT_ERROR_CONTAINS(c, "config.json: field 'num_attention_heads' is 6");
  EXPECT_ERROR_CONTAINS(c, "non-power-of-two head counts are not supported "
                           "for lightning attention yet");
}

TEST(ModelConfigErrors, Contradictions) {
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["attn_type_list"] = {0, 0, 0, 1, 0, 0, 0, 1}; }),
      "config.json: fields 'layer_types' and 'attn_type_list' disagree at "
      "layer 3: 'linear_attention' vs 1");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["rotary_dim"] = 64; }),
                        "fields 'rotary_dim' (64) and "
                        "'rope_parameters.partial_rotary_factor' (0.5 x "
                        "head_dim 64 = 32) disagree");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["rope_theta"] = 10000; }),
                        "fields 'rope_parameters.rope_theta' (10000000) and "
                        "'rope_theta' (10000) disagree");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["partial_rotary_factor"] = 1.0; }),
      "fields 'rope_parameters.partial_rotary_factor' (0.5) and "
      "'partial_rotary_factor' (1) disagree");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["layernorm_full_attention_beta"] = 0.5; }),
      "fields 'full_attn_beta_factor' (1) and "
      "'layernorm_full_attention_beta' (0.5) disagree");
}

TEST(ModelConfigErrors, NonPositiveSizes) {
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["hidden_size"] = 0; }),
                        "config.json: field 'hidden_size' must be positive, "
                        "found 0");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["num_local_experts"] = -1; }),
                        "field 'num_local_experts' must be positive, found -1");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["block_size"] = 0; }),
                        "field 'block_size' must be positive, found 0");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["rms_norm_eps"] = 0; }),
                        "field 'rms_norm_eps' must be positive, found 0");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"]["rope_theta"] = -1.0;
                        }),
                        "field 'rope_parameters.rope_theta' must be positive");
}

TEST(ModelConfigErrors, InconsistentSizes) {
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["num_key_value_heads"] = 3; }),
                        "field 'num_attention_heads' (4) is not a multiple of "
                        "'num_key_value_heads' (3)");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["num_experts_per_tok"] = 9; }),
                        "field 'num_experts_per_tok' (9) exceeds "
                        "'num_local_experts' (8)");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"].erase("partial_rotary_factor");
                          j["rotary_dim"] = 33;
                        }),
                        "rotary dim (head_dim x partial_rotary_factor, or "
                        "'rotary_dim') is 33, expected an even number in [0, "
                        "head_dim = 64]");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"]["partial_rotary_factor"] = 2.0;
                        }),
                        "is 128, expected an even number in [0, head_dim = 64]");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"]["partial_rotary_factor"] = 0.3;
                        }),
                        "field 'rope_parameters.partial_rotary_factor' is 0.3: "
                        "times head_dim 64 gives 19.2");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j.erase("head_dim");
                          j["hidden_size"] = 250;
                        }),
                        "field 'head_dim' is missing and hidden_size 250 is "
                        "not divisible by num_attention_heads 4");
}

TEST(ModelConfigErrors, UnsupportedVariants) {
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["model_type"] = "llama"; }),
                        "config.json: field 'model_type' is 'llama', expected "
                        "'minimax'");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["tie_word_embeddings"] = true; }),
      "field 'tie_word_embeddings' is true: tied embeddings are not supported");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["sliding_window"] = 4096; }),
                        "field 'sliding_window' is number 4096: "
                        "sliding-window attention is not supported");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) {
                          j["rope_parameters"]["rope_type"] = "yarn";
                        }),
                        "field 'rope_parameters.rope_type' is 'yarn', expected "
                        "'default'");
  EXPECT_ERROR_CONTAINS(parseMutated([](json &j) { j["hidden_act"] = "gelu"; }),
                        "field 'hidden_act' is string \"gelu\", expected "
                        "\"silu\"");
  EXPECT_ERROR_CONTAINS(
      parseMutated([](json &j) { j["shared_intermediate_size"] = 1024; }),
      "field 'shared_intermediate_size' is 1024: shared experts are not "
      "supported");
  // Nulls that HF writes for unset features are fine.
  Result<ModelConfig> c = parseMutated([](json &j) {
    j["sliding_window"] = nullptr;
    j["rope_scaling"] = nullptr;
    j["pad_token_id"] = nullptr;
  });
  EXPECT_TRUE(c.ok()) << c.error();
}

TEST(ModelConfigErrors, MessageNamesTheSourceFile) {
  json j = tinyConfig();
  j.erase("vocab_size");
  EXPECT_ERROR_CONTAINS(parseModelConfig(j.dump(), "/ckpt/dir/config.json"),
                        "/ckpt/dir/config.json: field 'vocab_size' is missing");
  TempDir tmp;
  writeFile(tmp.file("config.json"), j.dump());
  EXPECT_ERROR_CONTAINS(loadModelConfig(tmp.file("config.json")),
                        tmp.file("config.json") +
                            ": field 'vocab_size' is missing");
  EXPECT_ERROR_CONTAINS(loadModelConfig(tmp.file("absent.json")),
                        tmp.file("absent.json") + ": cannot open");
}

TEST(ModelConfigErrors, ValidateNamesTheField) {
  Result<ModelConfig> parsed = parseJson(tinyConfig());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ModelConfig c = *parsed;
  c.layerKinds.pop_back();
  EXPECT_ERROR_CONTAINS(c.validate(), "field 'layer_types' has 7 entries, "
                                      "expected num_hidden_layers = 8");
  c = *parsed;
  c.numHeads = 12;
  EXPECT_ERROR_CONTAINS(c.validate(), "non-power-of-two head counts are not "
                                      "supported for lightning attention yet");
  c = *parsed;
  c.vocabSize = 0;
  EXPECT_ERROR_CONTAINS(c.validate(), "field 'vocab_size' must be positive");
  c = *parsed;
  c.mlpAlpha = NAN;
  EXPECT_ERROR_CONTAINS(c.validate(), "field 'mlp_alpha_factor' must be finite");
}

//===----------------------------------------------------------------------===//
// Round trip and decay rates
//===----------------------------------------------------------------------===//

TEST(ModelConfig, ToJsonRoundTrips) {
  std::vector<ModelConfig> configs;
  for (const char *dir : {"minimax-text-01", "minimax-text-01-orig"}) {
    Result<ModelConfig> c =
        loadModelConfig(inputsDir() + "/" + dir + "/config.json");
    ASSERT_TRUE(c.ok()) << c.error();
    configs.push_back(*c);
  }
  Result<ModelConfig> tiny = parseJson(tinyConfig());
  ASSERT_TRUE(tiny.ok()) << tiny.error();
  configs.push_back(*tiny);
  // Awkward values: odd head_dim fraction, non-trivial doubles, block size.
  ModelConfig odd = *tiny;
  odd.headDim = 96;
  odd.rotaryDim = 34;
  odd.ropeTheta = 123456.789;
  odd.rmsNormEps = 1.0 / 3.0;
  odd.linearAlpha = std::pow(2.0 * 8, 0.25);
  odd.fullBeta = 0.1;
  odd.mlpBeta = 1e-300;
  odd.blockSize = 64;
  odd.layerKinds = {LayerKind::Softmax,   LayerKind::Lightning,
                    LayerKind::Lightning, LayerKind::Softmax,
                    LayerKind::Lightning, LayerKind::Lightning,
                    LayerKind::Lightning, LayerKind::Softmax};
  ASSERT_TRUE(odd.validate().ok()) << odd.validate().error();
  configs.push_back(odd);

  for (const ModelConfig &c : configs) {
    std::string text = modelConfigToJson(c);
    Result<ModelConfig> back = parseModelConfig(text, "roundtrip.json");
    ASSERT_TRUE(back.ok()) << back.error() << "\n" << text;
    EXPECT_EQ(*back, c) << text;
    // HF-style names only.
    json j = json::parse(text);
    EXPECT_EQ(j["model_type"], "minimax");
    EXPECT_TRUE(j.contains("layer_types"));
    EXPECT_TRUE(j["rope_parameters"].contains("partial_rotary_factor"));
    EXPECT_TRUE(j.contains("linear_attn_alpha_factor"));
    EXPECT_TRUE(j.contains("mlp_beta_factor"));
    EXPECT_FALSE(j.contains("attn_type_list"));
    EXPECT_FALSE(j.contains("rotary_dim"));
    EXPECT_FALSE(j.contains("layernorm_mlp_alpha"));
  }
}

TEST(ModelConfig, LightningDecay) {
  Result<ModelConfig> tiny = parseJson(tinyConfig());
  ASSERT_TRUE(tiny.ok()) << tiny.error();
  // Values from 2^(-8(n+1)/H) * (1 - l/(L-1+1e-5) + 1e-5), computed in
  // Python double precision.
  EXPECT_NEAR(tiny->lightningDecay(0, 0), 0.2500025, 1e-16);
  EXPECT_NEAR(tiny->lightningDecay(3, 1), 0.03571494897953716, 1e-17);
  EXPECT_NEAR(tiny->lightningDecay(7, 3), 4.4642849170600244e-08, 1e-22);

  Result<ModelConfig> big =
      loadModelConfig(inputsDir() + "/minimax-text-01/config.json");
  ASSERT_TRUE(big.ok()) << big.error();
  EXPECT_NEAR(big->lightningDecay(78, 0), 0.01161693076407124, 1e-17);
  EXPECT_NEAR(big->lightningDecay(0, 63), 0.0039062890625, 1e-18);
  EXPECT_NEAR(big->lightningDecay(40, 31), 0.030855059385514635, 1e-17);

  // And the formula for every (layer, head) of the tiny model.
  for (int64_t l = 0; l < 8; ++l)
    for (int64_t n = 0; n < 4; ++n) {
      double expected = std::pow(2.0, -8.0 * (n + 1) / 4.0) *
                        (1.0 - l / (7.0 + 1e-5) + 1e-5);
      EXPECT_NEAR(tiny->lightningDecay(l, n), expected, 1e-15 * expected)
          << "layer " << l << " head " << n;
    }
}
