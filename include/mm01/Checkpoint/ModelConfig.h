//===- ModelConfig.h - MiniMax-01 model configuration -----------*- C++ -*-===//
//
// The hyper-parameters of a MiniMax-01-class model, parsed from an HF
// `config.json` (HF field names and the original MiniMax ones; see
// docs/model-config.md). No LLVM: the runtime uses it too.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_CHECKPOINT_MODELCONFIG_H
#define MM01_CHECKPOINT_MODELCONFIG_H

#include "mm01/Support/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm01 {

enum class LayerKind { Lightning, Softmax };

const char *layerKindName(LayerKind kind); // "linear_attention" / "full_attention"

struct ModelConfig {
  int64_t hiddenSize = 0;        // d
  int64_t numLayers = 0;         // L
  int64_t numHeads = 0;          // H
  int64_t headDim = 0;           // D (d / H when absent)
  int64_t numKVHeads = 0;        // Hkv (softmax layers)
  std::vector<LayerKind> layerKinds; // one per layer
  int64_t numExperts = 0;        // E
  int64_t topK = 0;              // k
  int64_t intermediateSize = 0;  // I (per expert)
  int64_t vocabSize = 0;         // V
  double ropeTheta = 0;
  int64_t rotaryDim = 0;         // R = D * partial_rotary_factor
  double rmsNormEps = 0;         // layer and final norms
  double lightningNormEps = 1e-6; // the lightning output norm (fixed by the model)
  double linearAlpha = 1, linearBeta = 1; // DeepNorm after lightning attention
  double fullAlpha = 1, fullBeta = 1;     // DeepNorm after softmax attention
  double mlpAlpha = 1, mlpBeta = 1;       // DeepNorm after the MoE
  int64_t blockSize = 256;       // lightning block size of the reference code

  int64_t attentionWidth() const { return numHeads * headDim; }
  int64_t kvWidth() const { return numKVHeads * headDim; }
  int64_t numLightningLayers() const;
  int64_t numSoftmaxLayers() const;

  /// Decay rate λ of head `head` in layer `layer` (layers counted over all
  /// layers), computed in double:
  ///   2^(-8(n+1)/H) · (1 - l/(L-1+1e-5) + 1e-5).
  double lightningDecay(int64_t layer, int64_t head) const;

  /// Checks internal consistency (positive sizes, power-of-two lightning
  /// heads, H % Hkv, rotary_dim even and <= D, top_k <= E, one kind per
  /// layer). Names the offending field.
  Status validate() const;
};

/// Field-wise equality (doubles compared exactly: parse(toJson(c)) == c).
bool operator==(const ModelConfig &a, const ModelConfig &b);
inline bool operator!=(const ModelConfig &a, const ModelConfig &b) {
  return !(a == b);
}

/// Parses `config.json` text. `source` names the file in messages.
Result<ModelConfig> parseModelConfig(const std::string &jsonText,
                                     const std::string &source = "config.json");

/// Reads and parses a `config.json` file.
Result<ModelConfig> loadModelConfig(const std::string &path);

/// The config as HF-style JSON (what mm01-synth-checkpoint writes).
std::string modelConfigToJson(const ModelConfig &config);

} // namespace mm01

#endif // MM01_CHECKPOINT_MODELCONFIG_H
