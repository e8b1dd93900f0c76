//===- TestUtil.cpp - helpers shared by the mm01 unit tests ---------------===//
#include "TestUtil.h"

#include "mm01/Checkpoint/ModelConfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace mm01::test {

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base && *base ? base : "/tmp") + "/mm01-unit-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data()))
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fixtureDir() {
  std::string base;
  if (const char *env = std::getenv("MM01_FIXTURES"); env && *env)
    base = env;
  else
    base = std::string(MM01_SOURCE_DIR) + "/../shared/fixtures";
  std::string dir = base + "/minimax-tiny";
  std::error_code ec;
  if (fs::is_regular_file(dir + "/config.json", ec) &&
      fs::is_regular_file(dir + "/model.safetensors", ec))
    return dir;
  return "";
}

bool runningUnderCI() {
  const char *ci = std::getenv("CI");
  return ci && *ci;
}

// The tensors and shapes of docs/minimax01-model.md for `c`.
std::vector<std::pair<std::string, std::vector<int64_t>>>
expectedTensors(const ModelConfig &c) {
  const int64_t d = c.hiddenSize, hd = c.attentionWidth();
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {
      {"model.embed_tokens.weight", {c.vocabSize, d}},
      {"lm_head.weight", {c.vocabSize, d}},
      {"model.norm.weight", {d}}};
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {d}});
    out.push_back({p + "post_attention_layernorm.weight", {d}});
    if (c.layerKinds[l] == LayerKind::Lightning) {
      out.push_back({p + "self_attn.qkv_proj.weight", {3 * hd, d}});
      out.push_back({p + "self_attn.output_gate.weight", {hd, d}});
      out.push_back({p + "self_attn.norm.weight", {hd}});
      out.push_back({p + "self_attn.out_proj.weight", {d, hd}});
    } else {
      out.push_back({p + "self_attn.q_proj.weight", {hd, d}});
      out.push_back({p + "self_attn.k_proj.weight", {c.kvWidth(), d}});
      out.push_back({p + "self_attn.v_proj.weight", {c.kvWidth(), d}});
      out.push_back({p + "self_attn.o_proj.weight", {d, hd}});
    }
    out.push_back({p + "block_sparse_moe.gate.weight", {c.numExperts, d}});
    for (int64_t e = 0; e < c.numExperts; ++e) {
      std::string ep = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
      out.push_back({ep + "w1.weight", {c.intermediateSize, d}});
      out.push_back({ep + "w2.weight", {d, c.intermediateSize}});
      out.push_back({ep + "w3.weight", {c.intermediateSize, d}});
    }
  }
  return out;
}

std::string inputsDir() { return std::string(MM01_SOURCE_DIR) + "/test/Inputs"; }

} // namespace mm01::test
