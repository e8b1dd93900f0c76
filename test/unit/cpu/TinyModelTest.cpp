//===- TinyModelTest.cpp - CPU runner on a whole (random) tiny model ------===//
//
// Compile-and-run budget of the CPU target: a linear of the tiny model's
// prefill size, and the whole minimax-tiny-shaped model (d=256, 8 layers:
// 7 lightning + 1 softmax, E=8, I=64, V=512) on 2 x 600 tokens, f32, with
// random weights. Timings are printed; the test fails only far above them.
//
//===----------------------------------------------------------------------===//
#include "CpuTestUtil.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <cmath>
#include <sstream>

using namespace mm01::cpu;
using namespace mm01::cpu::testing;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(CpuPerf, Linear1200x256To768) {
  const int64_t M = 1200, K = 256, N = 768;
  Rng rng(11);
  std::vector<float> x = rng.floats(M * K, 1.0f), out(M * N);
  std::vector<uint16_t> w = rng.bf16s(N * K, 0.1f);
  const char *src = R"mlir(
    func.func @f(%x: tensor<2x600x256xf32>) -> tensor<2x600x768xf32> {
      %w = mm01.weight "qkv.weight" : tensor<768x256xbf16>
      %y = mm01.linear %x, %w : tensor<2x600x256xf32>, tensor<768x256xbf16> -> tensor<2x600x768xf32>
      return %y : tensor<2x600x768xf32>
    })mlir";
  mlir::MLIRContext ctx(jitRegistry());
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &ctx);
  ASSERT_TRUE(module);
  auto runner = JitRunner::compileModel(*module);
  ASSERT_NO_ERROR(runner.takeError());
  std::vector<MemRefArg> args = {arg(x, {2, 600, K}), arg(w, {N, K}), arg(out, {2, 600, N})};
  ASSERT_NO_ERROR((*runner)->invoke("f", args)); // warm-up
  const int reps = 5;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r)
    ASSERT_NO_ERROR((*runner)->invoke("f", args));
  double run = secondsSince(start) / reps;
  const CompileStats &s = (*runner)->stats();
  std::printf("[perf] linear 1200x256->768: pipeline %.3f s, jit %.3f s, run %.2f ms "
              "(%.2f GFLOP/s)\n",
              s.pipelineSeconds, s.jitSeconds, run * 1e3, 2.0 * M * K * N / run * 1e-9);
  // Spot-check a few outputs.
  for (int64_t m : {int64_t(0), int64_t(777), M - 1})
    for (int64_t n : {int64_t(0), int64_t(400), N - 1}) {
      double ref = 0;
      for (int64_t k = 0; k < K; ++k)
        ref += double(x[m * K + k]) * bf16ToFloat(w[n * K + k]);
      EXPECT_NEAR(out[m * N + n], ref, 1e-5);
    }
  EXPECT_LT(run, 1.0);
}

//===----------------------------------------------------------------------===//
// A whole model, written the way the importer writes it (flat, static).
//===----------------------------------------------------------------------===//

struct TinyConfig {
  int64_t B = 2, T = 600, C = 600, d = 256, H = 4, D = 64, Hkv = 2, E = 8, K = 2,
          I = 64, V = 512, L = 8;
  double alpha = 2.0, theta = 1e7;
  int64_t rotary = 32;
  bool isSoftmax(int64_t l) const { return l % 8 == 7; }
};

class IRWriter {
public:
  std::ostringstream os;
  int next = 0;
  std::string fresh() { return "%v" + std::to_string(next++); }
  std::string t(std::initializer_list<int64_t> dims, const char *elt = "f32") {
    std::string s = "tensor<";
    for (int64_t d : dims)
      s += std::to_string(d) + "x";
    return s + elt + ">";
  }
};

std::string tinyModelPrefill(const TinyConfig &c) {
  IRWriter w;
  auto &os = w.os;
  std::string act = w.t({c.B, c.T, c.d});
  std::string state = w.t({c.B, c.H, c.D, c.D});
  std::string cache = w.t({c.B, c.C, c.Hkv, c.D});
  std::string ids = w.t({c.B, c.T}, "i64");
  std::string heads = w.t({c.B, c.T, c.H, c.D});
  std::string kvHeads = w.t({c.B, c.T, c.Hkv, c.D});

  std::vector<std::string> argTypes = {ids, ids}, resultTypes = {w.t({c.B, c.T, c.V})};
  os << "func.func @prefill(%ids: " << ids << ", %pos: " << ids;
  for (int64_t l = 0; l < c.L; ++l) {
    if (c.isSoftmax(l)) {
      os << ", %kc" << l << ": " << cache << ", %vc" << l << ": " << cache;
      resultTypes.push_back(cache);
      resultTypes.push_back(cache);
    } else {
      os << ", %s" << l << ": " << state;
      resultTypes.push_back(state);
    }
  }
  os << ") -> (";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    os << (i ? ", " : "") << resultTypes[i];
  os << ") {\n";

  auto weight = [&](const std::string &name, std::initializer_list<int64_t> dims) {
    std::string v = w.fresh();
    os << "  " << v << " = mm01.weight \"" << name << "\" : " << w.t(dims, "bf16") << "\n";
    return v;
  };
  auto linear = [&](const std::string &x, const std::string &xt, const std::string &wname,
                    int64_t n, int64_t k, std::initializer_list<int64_t> outDims) {
    std::string wv = weight(wname, {n, k});
    std::string v = w.fresh();
    os << "  " << v << " = mm01.linear " << x << ", " << wv << " : " << xt << ", "
       << w.t({n, k}, "bf16") << " -> " << w.t(outDims) << "\n";
    return v;
  };
  auto rmsNorm = [&](const std::string &x, const std::string &xt, const std::string &wname,
                     int64_t n, double eps) {
    std::string wv = weight(wname, {n});
    std::string v = w.fresh();
    os << "  " << v << " = mm01.rms_norm " << x << ", " << wv << " eps("
       << llvm::formatv("{0:e}", eps).str() << ") : " << xt << ", " << w.t({n}, "bf16") << "\n";
    return v;
  };

  std::string table = weight("model.embed_tokens.weight", {c.V, c.d});
  std::string x = w.fresh();
  os << "  " << x << " = mm01.embedding " << table << "[%ids] : " << w.t({c.V, c.d}, "bf16")
     << ", " << ids << " -> " << act << "\n";
  std::vector<std::string> newStates;
  for (int64_t l = 0; l < c.L; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    std::string h = rmsNorm(x, act, p + "input_layernorm.weight", c.d, 1e-5);
    std::string attn;
    if (!c.isSoftmax(l)) {
      int64_t hd = c.H * c.D;
      std::string qkv0 = linear(h, act, p + "self_attn.qkv_proj.weight", 3 * hd, c.d,
                                {c.B, c.T, 3 * hd});
      std::string qkv = w.fresh();
      os << "  " << qkv << " = mm01.silu " << qkv0 << " : " << w.t({c.B, c.T, 3 * hd}) << "\n";
      std::string q = w.fresh(), k = w.fresh(), v = w.fresh();
      os << "  " << q << ", " << k << ", " << v << " = mm01.split_qkv " << qkv << " : "
         << w.t({c.B, c.T, 3 * hd}) << " -> " << heads << "\n";
      std::string o = w.fresh(), s1 = w.fresh();
      os << "  " << o << ", " << s1 << " = mm01.lightning_attention " << q << ", " << k << ", "
         << v << ", %s" << l << " decay([";
      for (int64_t n = 0; n < c.H; ++n) {
        double rate = std::pow(2.0, -8.0 * (n + 1) / c.H) *
                      (1 - double(l) / (c.L - 1 + 1e-5) + 1e-5);
        os << (n ? ", " : "") << llvm::formatv("{0:e16}", rate).str();
      }
      os << "]) : " << heads << ", " << state << "\n";
      newStates.push_back(s1);
      std::string om = w.fresh();
      os << "  " << om << " = mm01.merge_heads " << o << " : " << heads << " -> "
         << w.t({c.B, c.T, hd}) << "\n";
      std::string on = rmsNorm(om, w.t({c.B, c.T, hd}), p + "self_attn.norm.weight", hd, 1e-6);
      std::string g0 = linear(h, act, p + "self_attn.output_gate.weight", hd, c.d,
                              {c.B, c.T, hd});
      std::string g = w.fresh();
      os << "  " << g << " = mm01.sigmoid " << g0 << " : " << w.t({c.B, c.T, hd}) << "\n";
      std::string prod = w.fresh();
      os << "  " << prod << " = arith.mulf " << on << ", " << g << " : "
         << w.t({c.B, c.T, hd}) << "\n";
      attn = linear(prod, w.t({c.B, c.T, hd}), p + "self_attn.out_proj.weight", c.d, hd,
                    {c.B, c.T, c.d});
    } else {
      int64_t qd = c.H * c.D, kvd = c.Hkv * c.D;
      auto projHeads = [&](const char *name, int64_t heads_, int64_t width) {
        std::string y = linear(h, act, p + "self_attn." + name + ".weight", width, c.d,
                               {c.B, c.T, width});
        std::string s = w.fresh();
        os << "  " << s << " = mm01.split_heads " << y << " : " << w.t({c.B, c.T, width})
           << " -> " << w.t({c.B, c.T, heads_, c.D}) << "\n";
        return s;
      };
      auto rope = [&](const std::string &in, const std::string &type) {
        std::string r = w.fresh();
        os << "  " << r << " = mm01.rope " << in << ", %pos theta("
           << llvm::formatv("{0:e}", c.theta).str() << ") rotary_dim(" << c.rotary
           << ") : " << type << ", " << ids << "\n";
        return r;
      };
      std::string q = rope(projHeads("q_proj", c.H, qd), heads);
      std::string k = rope(projHeads("k_proj", c.Hkv, kvd), kvHeads);
      std::string v = projHeads("v_proj", c.Hkv, kvd);
      std::string o = w.fresh(), kc = w.fresh(), vc = w.fresh();
      os << "  " << o << ", " << kc << ", " << vc << " = mm01.softmax_attention " << q << ", "
         << k << ", " << v << ", cache(%kc" << l << ", %vc" << l << ") positions(%pos) scale("
         << llvm::formatv("{0:e16}", 1.0 / std::sqrt(double(c.D))).str() << ") : " << heads
         << ", " << kvHeads << ", " << cache << ", " << ids << "\n";
      newStates.push_back(kc);
      newStates.push_back(vc);
      std::string om = w.fresh();
      os << "  " << om << " = mm01.merge_heads " << o << " : " << heads << " -> "
         << w.t({c.B, c.T, qd}) << "\n";
      attn = linear(om, w.t({c.B, c.T, qd}), p + "self_attn.o_proj.weight", c.d, qd,
                    {c.B, c.T, c.d});
    }
    std::string x1 = w.fresh();
    os << "  " << x1 << " = mm01.deepnorm_residual " << h << ", " << attn << " alpha("
       << llvm::formatv("{0:e16}", c.alpha).str() << ") beta(1.0) : " << act << "\n";
    std::string h2 = rmsNorm(x1, act, p + "post_attention_layernorm.weight", c.d, 1e-5);
    std::string logits = linear(h2, act, p + "block_sparse_moe.gate.weight", c.E, c.d,
                                {c.B, c.T, c.E});
    std::string rw = w.fresh(), re = w.fresh();
    std::string routeT = w.t({c.B, c.T, c.K}), idxT = w.t({c.B, c.T, c.K}, "i64");
    os << "  " << rw << ", " << re << " = mm01.moe_route " << logits << " top_k(" << c.K
       << ") : " << w.t({c.B, c.T, c.E}) << " -> " << routeT << ", " << idxT << "\n";
    std::string ew[3];
    const char *names[3] = {"w1", "w3", "w2"};
    for (int i = 0; i < 3; ++i) {
      ew[i] = w.fresh();
      os << "  " << ew[i] << " = mm01.expert_weights \"" << p << "block_sparse_moe.experts.{e}."
         << names[i] << ".weight\" : "
         << (i < 2 ? w.t({c.E, c.I, c.d}, "bf16") : w.t({c.E, c.d, c.I}, "bf16")) << "\n";
    }
    std::string y = w.fresh();
    os << "  " << y << " = mm01.moe_experts " << h2 << ", " << rw << ", " << re << " experts("
       << ew[0] << ", " << ew[1] << ", " << ew[2] << ") : " << act << ", " << routeT << ", "
       << idxT << ", " << w.t({c.E, c.I, c.d}, "bf16") << ", " << w.t({c.E, c.I, c.d}, "bf16")
       << ", " << w.t({c.E, c.d, c.I}, "bf16") << "\n";
    x = w.fresh();
    os << "  " << x << " = mm01.deepnorm_residual " << h2 << ", " << y << " alpha("
       << llvm::formatv("{0:e16}", c.alpha).str() << ") beta(1.0) : " << act << "\n";
  }
  std::string hn = rmsNorm(x, act, "model.norm.weight", c.d, 1e-5);
  std::string logits = linear(hn, act, "lm_head.weight", c.V, c.d, {c.B, c.T, c.V});
  os << "  return " << logits;
  for (const std::string &s : newStates)
    os << ", " << s;
  os << " : ";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    os << (i ? ", " : "") << resultTypes[i];
  os << "\n}\n";
  return os.str();
}

TEST(CpuPerf, TinyModelPrefillF32) {
  TinyConfig c;
  std::string src = tinyModelPrefill(c);
  if (const char *path = std::getenv("MM01_TINY_MODEL_IR")) // for profiling
    std::ofstream(path) << src;
  mlir::MLIRContext ctx(jitRegistry());
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &ctx);
  ASSERT_TRUE(module) << src;
  auto start = std::chrono::steady_clock::now();
  auto runner = JitRunner::compileModel(*module);
  ASSERT_NO_ERROR(runner.takeError());
  double compile = secondsSince(start);
  const FunctionInfo *info = (*runner)->function("prefill");
  ASSERT_NE(info, nullptr);

  // Inputs: ids, positions, zero states and caches; then random weights of
  // std 1/sqrt(fan-in)-ish scale; then outputs.
  Rng rng(12);
  std::vector<std::vector<char>> buffers;
  std::vector<MemRefArg> args;
  auto add = [&](const TensorSpec &spec) -> MemRefArg & {
    MemRefArg a;
    a.type = spec.type;
    a.sizes.assign(spec.sizes.begin(), spec.sizes.end());
    buffers.emplace_back(a.numBytes(), 0);
    a.data = buffers.back().data();
    args.push_back(a);
    return args.back();
  };
  for (size_t i = 0; i < info->inputs.size(); ++i) {
    MemRefArg &a = add(info->inputs[i]);
    if (i == 0 || i == 1) {
      auto *p = static_cast<int64_t *>(a.data);
      for (int64_t j = 0; j < a.numElements(); ++j)
        p[j] = i == 0 ? (j * 7919) % c.V : j % c.T;
    } else if (i >= info->firstWeight) {
      const std::string &name = info->weights[i - info->firstWeight];
      bool isNorm = name.find("norm") != std::string::npos;
      float scale = isNorm ? 0.0f : 1.0f / std::sqrt(float(a.sizes.back()));
      auto *p = static_cast<uint16_t *>(a.data);
      for (int64_t j = 0; j < a.numElements(); ++j)
        p[j] = floatToBf16(isNorm ? 1.0f + 0.1f * (2 * rng.uniform() - 1)
                                  : (2 * rng.uniform() - 1) * scale * 1.7f);
    }
  }
  size_t firstOutput = args.size();
  for (const TensorSpec &spec : info->results)
    add(spec);
  // embed; per layer 2 norms, 4 attention weights (qkv, norm, gate, out or
  // q, k, v, o), the router and 3 expert stacks; final norm; lm_head.
  EXPECT_EQ(info->weights.size(), 1 + 10 * 8 + 2u);

  start = std::chrono::steady_clock::now();
  ASSERT_NO_ERROR((*runner)->invoke("prefill", args));
  double run = secondsSince(start);
  start = std::chrono::steady_clock::now();
  ASSERT_NO_ERROR((*runner)->invoke("prefill", args));
  double again = secondsSince(start);
  std::printf("[perf] tiny model prefill (2x600, f32): pipeline %.2f s, jit %.2f s, "
              "compile total %.2f s, first run %.2f s, second run %.2f s\n",
              (*runner)->stats().pipelineSeconds, (*runner)->stats().jitSeconds, compile,
              run, again);

  const float *logits = static_cast<const float *>(args[firstOutput].data);
  int64_t n = args[firstOutput].numElements();
  double sumAbs = 0;
  for (int64_t j = 0; j < n; ++j) {
    ASSERT_TRUE(std::isfinite(logits[j])) << "logit " << j;
    sumAbs += std::fabs(logits[j]);
  }
  EXPECT_GT(sumAbs / n, 1e-3);
  EXPECT_LT(compile + run, 30.0);
}

} // namespace
