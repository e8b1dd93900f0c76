//===- SynthCheckpointTest.cpp - mm01-synth-checkpoint end to end ---------===//
#include "TestUtil.h"

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <sys/wait.h>

using namespace mm01;
using namespace mm01::test;

namespace {

struct RunResult {
  int exitCode;
  std::string stderrText;
};

/// Runs the tool with `args` (already shell-quoted where needed).
RunResult runTool(const TempDir &tmp, const std::string &args) {
  std::string errPath = tmp.file("stderr.txt");
  std::string command =
      std::string("'") + MM01_SYNTH_TOOL + "' " + args + " 2>'" + errPath + "'";
  int status = std::system(command.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return {code, readFile(errPath)};
}

/// Mean and standard deviation of a bf16 tensor.
std::pair<double, double> stats(Checkpoint &ckpt, const std::string &name) {
  const TensorInfo *info = ckpt.find(name);
  EXPECT_NE(info, nullptr) << name;
  if (!info)
    return {NAN, NAN};
  Result<const void *> data = ckpt.data(name);
  EXPECT_TRUE(data.ok()) << data.error();
  if (!data.ok())
    return {NAN, NAN};
  const auto *bytes = static_cast<const uint8_t *>(*data);
  double sum = 0, sumSq = 0;
  int64_t n = info->numElements();
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    double v = bf16ToFloat(bits);
    sum += v;
    sumSq += v * v;
  }
  double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sumSq / n - mean * mean))};
}

} // namespace

TEST(SynthCheckpoint, DefaultModelIsCompleteAndDeterministic) {
  TempDir tmp;
  std::string a = tmp.file("a"), b = tmp.file("b/nested");
  RunResult ra = runTool(tmp, "'" + a + "'");
  ASSERT_EQ(ra.exitCode, 0) << ra.stderrText;
  RunResult rb = runTool(tmp, "'" + b + "' --seed 0");
  ASSERT_EQ(rb.exitCode, 0) << rb.stderrText;
  EXPECT_EQ(readFile(a + "/config.json"), readFile(b + "/config.json"));
  std::string weights = readFile(a + "/model.safetensors");
  EXPECT_FALSE(weights.empty());
  EXPECT_TRUE(weights == readFile(b + "/model.safetensors"))
      << "same arguments must give byte-identical output";

  Result<ModelConfig> config = loadModelConfig(a + "/config.json");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->numLayers, 8);
  EXPECT_EQ(config->hiddenSize, 256);
  EXPECT_EQ(config->numHeads, 4);
  EXPECT_EQ(config->headDim, 64);
  EXPECT_EQ(config->numKVHeads, 2);
  EXPECT_EQ(config->numExperts, 8);
  EXPECT_EQ(config->topK, 2);
  EXPECT_EQ(config->intermediateSize, 128);
  EXPECT_EQ(config->vocabSize, 1024);
  EXPECT_EQ(config->numSoftmaxLayers(), 1);
  EXPECT_EQ(config->layerKinds[7], LayerKind::Softmax);
  EXPECT_EQ(config->rotaryDim, 32);
  EXPECT_DOUBLE_EQ(config->linearAlpha, std::pow(16.0, 0.25));
  EXPECT_EQ(config->mlpBeta, 1.0);

  auto ckpt = Checkpoint::open(a);
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  auto expected = expectedTensors(*config);
  EXPECT_EQ((*ckpt)->tensorNames().size(), expected.size());
  for (const auto &[name, shape] : expected) {
    Status s = (*ckpt)->expect(name, DType::BF16, shape);
    EXPECT_TRUE(s.ok()) << s.error();
  }
  // Linear weights ~ N(0, 1/fan_in), norm weights ~ 1.
  auto [wMean, wStd] = stats(**ckpt, "model.layers.0.self_attn.qkv_proj.weight");
  EXPECT_NEAR(wMean, 0.0, 2e-3);
  EXPECT_NEAR(wStd, 1.0 / 16, 2e-3);
  auto [dMean, dStd] =
      stats(**ckpt, "model.layers.3.block_sparse_moe.experts.5.w2.weight");
  EXPECT_NEAR(dMean, 0.0, 2e-3);
  EXPECT_NEAR(dStd, 1.0 / std::sqrt(128.0), 2e-3);
  auto [nMean, nStd] = stats(**ckpt, "model.layers.7.input_layernorm.weight");
  EXPECT_NEAR(nMean, 1.0, 0.02);
  EXPECT_GT(nStd, 0.0);
  EXPECT_LT(nStd, 0.1);
}

TEST(SynthCheckpoint, SeedChangesWeights) {
  TempDir tmp;
  ASSERT_EQ(runTool(tmp, "'" + tmp.file("a") + "' --layers 2 --vocab 64").exitCode,
            0);
  ASSERT_EQ(runTool(tmp, "'" + tmp.file("b") +
                             "' --layers 2 --vocab 64 --seed=7")
                .exitCode,
            0);
  EXPECT_EQ(readFile(tmp.file("a/config.json")),
            readFile(tmp.file("b/config.json")));
  EXPECT_NE(readFile(tmp.file("a/model.safetensors")),
            readFile(tmp.file("b/model.safetensors")));
}

TEST(SynthCheckpoint, ShardedMatchesSingleFile) {
  TempDir tmp;
  std::string args = " --layers 4 --hidden 128 --heads 2 --kv-heads 1 "
                     "--experts 4 --top-k 1 --intermediate 32 --vocab 96 "
                     "--softmax-every 2 --seed 42";
  std::string single = tmp.file("single"), sharded = tmp.file("sharded");
  RunResult r1 = runTool(tmp, "'" + single + "'" + args);
  ASSERT_EQ(r1.exitCode, 0) << r1.stderrText;
  RunResult r2 = runTool(tmp, "'" + sharded + "'" + args + " --shards 3");
  ASSERT_EQ(r2.exitCode, 0) << r2.stderrText;

  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::exists(sharded + "/model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(sharded + "/model.safetensors"));
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(fs::exists(sharded + "/model-0000" + std::to_string(i) +
                           "-of-00003.safetensors"));

  auto c1 = Checkpoint::open(single);
  auto c2 = Checkpoint::open(sharded);
  ASSERT_TRUE(c1.ok()) << c1.error();
  ASSERT_TRUE(c2.ok()) << c2.error();
  ASSERT_EQ((*c1)->tensorNames(), (*c2)->tensorNames());
  for (const std::string &name : (*c1)->tensorNames()) {
    const TensorInfo *t1 = (*c1)->find(name), *t2 = (*c2)->find(name);
    ASSERT_EQ(t1->shape, t2->shape) << name;
    Result<const void *> d1 = (*c1)->data(name), d2 = (*c2)->data(name);
    ASSERT_TRUE(d1.ok() && d2.ok()) << name;
    EXPECT_EQ(std::memcmp(*d1, *d2, t1->byteSize), 0) << name;
  }
  Result<ModelConfig> config = loadModelConfig(sharded + "/config.json");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->numSoftmaxLayers(), 2);
  EXPECT_EQ(config->layerKinds[1], LayerKind::Softmax);
  EXPECT_EQ(config->layerKinds[2], LayerKind::Lightning);
  for (const auto &[name, shape] : expectedTensors(*config)) {
    Status s = (*c2)->expect(name, DType::BF16, shape);
    EXPECT_TRUE(s.ok()) << s.error();
  }

  // Re-writing as a single file removes the index (it would take precedence).
  ASSERT_EQ(runTool(tmp, "'" + sharded + "'" + args).exitCode, 0);
  EXPECT_FALSE(fs::exists(sharded + "/model.safetensors.index.json"));
  EXPECT_EQ(readFile(sharded + "/model.safetensors"),
            readFile(single + "/model.safetensors"));
}

TEST(SynthCheckpoint, BadArguments) {
  TempDir tmp;
  std::string out = "'" + tmp.file("out") + "'";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"", "missing output directory"},
      {out + " --layers", "option --layers needs a value"},
      {out + " --layers x", "option --layers expects a non-negative integer, "
                            "got 'x'"},
      {out + " --layers 0", "option --layers must be in [1, 2^31], got 0"},
      {out + " --hidden -5", "option --hidden expects a non-negative integer"},
      {out + " --frobnicate 3", "unknown option '--frobnicate'"},
      {out + " -x", "unknown option '-x'"},
      {out + " other", "more than one output directory"},
      {out + " --heads 6 --head-dim 32",
       "non-power-of-two head counts are not supported for lightning "
       "attention yet"},
      {out + " --hidden 250", "--hidden 250 is not divisible by --heads 4"},
      {out + " --kv-heads 3", "'num_key_value_heads' (3)"},
      {out + " --top-k 9", "'num_experts_per_tok' (9) exceeds"},
      {out + " --layers 1 --experts 1 --top-k 1 --shards 100",
       "--shards 100 exceeds the"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.args);
    RunResult r = runTool(tmp, c.args);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.stderrText.find(c.message), std::string::npos)
        << "stderr: " << r.stderrText;
    // One line, newline-terminated.
    EXPECT_EQ(r.stderrText.find('\n'), r.stderrText.size() - 1)
        << "stderr: " << r.stderrText;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.file("out")));
}
