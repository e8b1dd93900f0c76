//===- OpNumericsTest.cpp - CPU lowering of mm01 ops vs f64 references ----===//
//
// Each test writes a small function of one or a few mm01 ops, compiles it
// with mm01-cpu-pipeline through the JIT runner, runs it on pseudo-random
// inputs and compares with a straightforward double-precision reference.
//
//===----------------------------------------------------------------------===//
#include "CpuTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mm01::cpu;
using namespace mm01::cpu::testing;

namespace {

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

TEST(CpuOps, EmbeddingGathersAndConverts) {
  const int64_t V = 16, d = 8, B = 2, T = 3;
  Rng rng(1);
  std::vector<uint16_t> table = rng.bf16s(V * d, 1.0f);
  std::vector<int64_t> ids = {3, 0, 15, 7, 7, 12};
  std::vector<float> out(B * T * d, -1.0f);
  const char *src = R"mlir(
    func.func @f(%ids: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
      %t = mm01.weight "model.embed_tokens.weight" : tensor<16x8xbf16>
      %x = mm01.embedding %t[%ids] : tensor<16x8xbf16>, tensor<2x3xi64> -> tensor<2x3x8xf32>
      return %x : tensor<2x3x8xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f",
                                {arg(ids, {B, T}), arg(table, {V, d}), arg(out, {B, T, d})}));
  for (int64_t i = 0; i < B * T; ++i)
    for (int64_t c = 0; c < d; ++c)
      ASSERT_EQ(out[i * d + c], bf16ToFloat(table[ids[i] * d + c])) << i << "," << c;
}

//===----------------------------------------------------------------------===//
// rms_norm
//===----------------------------------------------------------------------===//

TEST(CpuOps, RMSNormMatchesDoubleReference) {
  const int64_t B = 2, T = 5, N = 48;
  Rng rng(2);
  std::vector<float> x = rng.floats(B * T * N, 3.0f);
  std::vector<uint16_t> w = rng.bf16s(N, 1.0f);
  std::vector<float> out(B * T * N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<2x5x48xf32>, %w: tensor<48xbf16>) -> tensor<2x5x48xf32> {
      %y = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x5x48xf32>, tensor<48xbf16>
      return %y : tensor<2x5x48xf32>
    })mlir";
  ASSERT_NO_ERROR(
      compileAndRun(src, "f", {arg(x, {B, T, N}), arg(w, {N}), arg(out, {B, T, N})}));
  for (int64_t r = 0; r < B * T; ++r) {
    double ss = 0;
    for (int64_t c = 0; c < N; ++c)
      ss += double(x[r * N + c]) * x[r * N + c];
    double inv = 1.0 / std::sqrt(ss / N + 1e-5);
    for (int64_t c = 0; c < N; ++c) {
      double ref = double(bf16ToFloat(w[c])) * x[r * N + c] * inv;
      ASSERT_NEAR(out[r * N + c], ref, 2e-6 * (1 + std::fabs(ref))) << r << "," << c;
    }
  }
}

TEST(CpuOps, RMSNormBf16RoundsLikeHF) {
  // bf16 activations: normalise in f32, round to bf16, multiply by the bf16
  // weight in bf16 (HF: `w * hidden.to(bf16)`).
  const int64_t N = 32;
  Rng rng(3);
  std::vector<uint16_t> x = rng.bf16s(N, 2.0f), w = rng.bf16s(N, 1.5f);
  std::vector<uint16_t> out(N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<1x1x32xbf16>, %w: tensor<32xbf16>) -> tensor<1x1x32xbf16> {
      %y = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<1x1x32xbf16>, tensor<32xbf16>
      return %y : tensor<1x1x32xbf16>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f", {arg(x, {1, 1, N}), arg(w, {N}), arg(out, {1, 1, N})}));
  float ss = 0;
  for (int64_t c = 0; c < N; ++c)
    ss += bf16ToFloat(x[c]) * bf16ToFloat(x[c]);
  float inv = 1.0f / std::sqrt(ss / N + 1e-5f);
  for (int64_t c = 0; c < N; ++c) {
    float normed = bf16ToFloat(floatToBf16(bf16ToFloat(x[c]) * inv));
    float ref = bf16ToFloat(floatToBf16(bf16ToFloat(w[c]) * normed));
    // The f32 sum of squares may differ from this one in the last bit, which
    // can move a bf16 rounding by one ulp.
    ASSERT_NEAR(bf16ToFloat(out[c]), ref, std::fabs(ref) * (1.0 / 128) + 1e-30) << c;
  }
}

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

TEST(CpuOps, LinearWithBf16WeightsF32Activations) {
  const int64_t B = 2, T = 7, K = 40, N = 24;
  Rng rng(4);
  std::vector<float> x = rng.floats(B * T * K, 1.0f);
  std::vector<uint16_t> w = rng.bf16s(N * K, 0.5f);
  std::vector<float> out(B * T * N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<2x7x40xf32>) -> tensor<2x7x24xf32> {
      %w = mm01.weight "proj.weight" : tensor<24x40xbf16>
      %y = mm01.linear %x, %w : tensor<2x7x40xf32>, tensor<24x40xbf16> -> tensor<2x7x24xf32>
      return %y : tensor<2x7x24xf32>
    })mlir";
  ASSERT_NO_ERROR(
      compileAndRun(src, "f", {arg(x, {B, T, K}), arg(w, {N, K}), arg(out, {B, T, N})}));
  for (int64_t m = 0; m < B * T; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        double p = double(x[m * K + k]) * bf16ToFloat(w[n * K + k]);
        ref += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(out[m * N + n], ref, 1e-6 * mag + 1e-7) << m << "," << n;
    }
}

TEST(CpuOps, LinearRank2AndF32Weights) {
  const int64_t M = 5, K = 17, N = 9;
  Rng rng(5);
  std::vector<float> x = rng.floats(M * K, 1.0f), w = rng.floats(N * K, 1.0f);
  std::vector<float> out(M * N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<5x17xf32>, %w: tensor<9x17xf32>) -> tensor<5x9xf32> {
      %y = mm01.linear %x, %w : tensor<5x17xf32>, tensor<9x17xf32> -> tensor<5x9xf32>
      return %y : tensor<5x9xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f", {arg(x, {M, K}), arg(w, {N, K}), arg(out, {M, N})}));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        ref += double(x[m * K + k]) * w[n * K + k];
        mag += std::fabs(double(x[m * K + k]) * w[n * K + k]);
      }
      ASSERT_NEAR(out[m * N + n], ref, 1e-6 * mag + 1e-7);
    }
}

TEST(CpuOps, LinearBf16ActivationsAccumulateInF32) {
  const int64_t M = 3, K = 64, N = 16;
  Rng rng(6);
  std::vector<uint16_t> x = rng.bf16s(M * K, 1.0f), w = rng.bf16s(N * K, 1.0f);
  std::vector<uint16_t> out(M * N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<1x3x64xbf16>, %w: tensor<16x64xbf16>) -> tensor<1x3x16xbf16> {
      %y = mm01.linear %x, %w : tensor<1x3x64xbf16>, tensor<16x64xbf16> -> tensor<1x3x16xbf16>
      return %y : tensor<1x3x16xbf16>
    })mlir";
  ASSERT_NO_ERROR(
      compileAndRun(src, "f", {arg(x, {1, M, K}), arg(w, {N, K}), arg(out, {1, M, N})}));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double ref = 0;
      for (int64_t k = 0; k < K; ++k)
        ref += double(bf16ToFloat(x[m * K + k])) * bf16ToFloat(w[n * K + k]);
      // One rounding to bf16 of an f32-accurate sum: within half an ulp of the
      // exact value, plus the f32 error.
      double got = bf16ToFloat(out[m * N + n]);
      ASSERT_NEAR(got, ref, std::fabs(ref) / 256 + 1e-5) << m << "," << n;
    }
}

//===----------------------------------------------------------------------===//
// elementwise
//===----------------------------------------------------------------------===//

TEST(CpuOps, SiluSigmoidDeepNormAndMulf) {
  const int64_t N = 64;
  Rng rng(7);
  std::vector<float> x = rng.floats(N, 6.0f), u = rng.floats(N, 2.0f);
  std::vector<float> silu(N), sig(N), res(N), prod(N);
  const char *src = R"mlir(
    func.func @f(%x: tensor<1x64xf32>, %u: tensor<1x64xf32>)
        -> (tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>) {
      %s = mm01.silu %x : tensor<1x64xf32>
      %g = mm01.sigmoid %x : tensor<1x64xf32>
      %r = mm01.deepnorm_residual %x, %u alpha(3.5565588) beta(0.5) : tensor<1x64xf32>
      %p = arith.mulf %x, %u : tensor<1x64xf32>
      return %s, %g, %r, %p : tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f",
                                {arg(x, {1, N}), arg(u, {1, N}), arg(silu, {1, N}),
                                 arg(sig, {1, N}), arg(res, {1, N}), arg(prod, {1, N})}));
  for (int64_t i = 0; i < N; ++i) {
    double xi = x[i];
    double s = 1 / (1 + std::exp(-xi));
    EXPECT_NEAR(silu[i], xi * s, 1e-6 * (1 + std::fabs(xi)));
    EXPECT_NEAR(sig[i], s, 1e-7);
    EXPECT_NEAR(res[i], 3.5565588 * xi + 0.5 * u[i], 1e-6 * (1 + std::fabs(xi)));
    EXPECT_EQ(prod[i], x[i] * u[i]);
  }
}

//===----------------------------------------------------------------------===//
// head reshapes
//===----------------------------------------------------------------------===//

TEST(CpuOps, SplitQKVIsPerHeadInterleaved) {
  const int64_t B = 2, T = 3, H = 2, D = 4;
  std::vector<float> qkv(B * T * 3 * H * D);
  std::iota(qkv.begin(), qkv.end(), 0.0f);
  std::vector<float> q(B * T * H * D), k(q.size()), v(q.size()), merged(q.size());
  const char *src = R"mlir(
    func.func @f(%qkv: tensor<2x3x24xf32>)
        -> (tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x8xf32>) {
      %q, %k, %v = mm01.split_qkv %qkv : tensor<2x3x24xf32> -> tensor<2x3x2x4xf32>
      %m = mm01.merge_heads %k : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
      return %q, %k, %v, %m : tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>, tensor<2x3x8xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f",
                                {arg(qkv, {B, T, 3 * H * D}), arg(q, {B, T, H, D}),
                                 arg(k, {B, T, H, D}), arg(v, {B, T, H, D}),
                                 arg(merged, {B, T, H * D})}));
  for (int64_t bt = 0; bt < B * T; ++bt)
    for (int64_t n = 0; n < H; ++n)
      for (int64_t c = 0; c < D; ++c) {
        const float *row = &qkv[bt * 3 * H * D];
        int64_t o = (bt * H + n) * D + c;
        ASSERT_EQ(q[o], row[3 * D * n + c]);
        ASSERT_EQ(k[o], row[3 * D * n + D + c]);
        ASSERT_EQ(v[o], row[3 * D * n + 2 * D + c]);
        ASSERT_EQ(merged[o], k[o]);
      }
}

TEST(CpuOps, SplitHeadsRoundTrip) {
  std::vector<float> x(2 * 3 * 8), y(x.size());
  std::iota(x.begin(), x.end(), 1.0f);
  const char *src = R"mlir(
    func.func @f(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
      %h = mm01.split_heads %x : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
      %s = mm01.silu %h : tensor<2x3x2x4xf32>
      %m = mm01.merge_heads %h : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
      return %m : tensor<2x3x8xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f", {arg(x, {2, 3, 8}), arg(y, {2, 3, 8})}));
  EXPECT_EQ(x, y);
}

//===----------------------------------------------------------------------===//
// moe_route
//===----------------------------------------------------------------------===//

struct RouteRef {
  std::vector<int64_t> experts;
  std::vector<double> weights;
};

RouteRef routeReference(const float *logits, int64_t E, int64_t K) {
  double mx = *std::max_element(logits, logits + E);
  std::vector<double> p(E);
  double sum = 0;
  for (int64_t e = 0; e < E; ++e)
    sum += p[e] = std::exp(double(logits[e]) - mx);
  for (double &v : p)
    v /= sum;
  std::vector<int64_t> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  RouteRef r;
  double chosen = 0;
  for (int64_t j = 0; j < K; ++j) {
    r.experts.push_back(order[j]);
    chosen += p[order[j]];
  }
  for (int64_t j = 0; j < K; ++j)
    r.weights.push_back(p[order[j]] / chosen);
  return r;
}

TEST(CpuOps, MoERouteTopKWithTies) {
  const int64_t T = 6, E = 4, K = 2;
  // Rows 0-3 have exact ties: the lower index must win.
  std::vector<float> logits = {1.0f, 3.0f, 3.0f, 0.5f,   //
                               2.0f, 2.0f, 2.0f, 2.0f,   //
                               5.0f, 1.0f, 5.0f, 1.0f,   //
                               0.0f, 1.0f, 2.0f, 2.0f,   //
                               0.3f, -1.2f, 0.9f, 0.1f,  //
                               -2.0f, 4.0f, 1.5f, 3.9f};
  std::vector<float> weights(T * K);
  std::vector<int64_t> experts(T * K, -1);
  const char *src = R"mlir(
    func.func @f(%l: tensor<1x6x4xf32>) -> (tensor<1x6x2xf32>, tensor<1x6x2xi64>) {
      %w, %e = mm01.moe_route %l top_k(2) : tensor<1x6x4xf32> -> tensor<1x6x2xf32>, tensor<1x6x2xi64>
      return %w, %e : tensor<1x6x2xf32>, tensor<1x6x2xi64>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f",
                                {arg(logits, {1, T, E}), arg(weights, {1, T, K}),
                                 arg(experts, {1, T, K})}));
  std::vector<std::vector<int64_t>> expected = {{1, 2}, {0, 1}, {0, 2}, {2, 3}, {2, 0}, {1, 3}};
  for (int64_t t = 0; t < T; ++t) {
    RouteRef ref = routeReference(&logits[t * E], E, K);
    for (int64_t j = 0; j < K; ++j) {
      EXPECT_EQ(experts[t * K + j], expected[t][j]) << "token " << t << " slot " << j;
      EXPECT_EQ(experts[t * K + j], ref.experts[j]);
      EXPECT_NEAR(weights[t * K + j], ref.weights[j], 1e-6);
    }
  }
  EXPECT_EQ(weights[0], 0.5f);
  EXPECT_EQ(weights[2], 0.5f);
}

TEST(CpuOps, MoERouteRandomBf16LogitsI32Indices) {
  const int64_t T = 33, E = 8, K = 3;
  Rng rng(8);
  std::vector<uint16_t> logits = rng.bf16s(T * E, 3.0f);
  std::vector<float> weights(T * K);
  std::vector<int32_t> experts(T * K, -1);
  const char *src = R"mlir(
    func.func @f(%l: tensor<33x8xbf16>) -> (tensor<33x3xf32>, tensor<33x3xi32>) {
      %w, %e = mm01.moe_route %l top_k(3) : tensor<33x8xbf16> -> tensor<33x3xf32>, tensor<33x3xi32>
      return %w, %e : tensor<33x3xf32>, tensor<33x3xi32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(
      src, "f", {arg(logits, {T, E}), arg(weights, {T, K}), arg(experts, {T, K})}));
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> row(E);
    for (int64_t e = 0; e < E; ++e)
      row[e] = bf16ToFloat(logits[t * E + e]);
    RouteRef ref = routeReference(row.data(), E, K);
    for (int64_t j = 0; j < K; ++j) {
      EXPECT_EQ(experts[t * K + j], ref.experts[j]) << t << "," << j;
      EXPECT_NEAR(weights[t * K + j], ref.weights[j], 1e-6);
    }
  }
}

//===----------------------------------------------------------------------===//
// moe_experts
//===----------------------------------------------------------------------===//

TEST(CpuOps, MoEExpertsComputesChosenExperts) {
  const int64_t B = 2, T = 3, d = 16, E = 4, I = 12, K = 2;
  Rng rng(9);
  std::vector<float> x = rng.floats(B * T * d, 1.0f);
  std::vector<uint16_t> w1 = rng.bf16s(E * I * d, 0.5f), w3 = rng.bf16s(E * I * d, 0.5f),
                        w2 = rng.bf16s(E * d * I, 0.5f);
  std::vector<int64_t> experts = {0, 3, 2, 1, 3, 0, 1, 2, 2, 3, 0, 1};
  std::vector<float> weights(B * T * K);
  for (int64_t t = 0; t < B * T; ++t) {
    float a = 0.2f + 0.6f * rng.uniform();
    weights[t * K] = a;
    weights[t * K + 1] = 1 - a;
  }
  std::vector<float> out(B * T * d);
  const char *src = R"mlir(
    func.func @f(%x: tensor<2x3x16xf32>, %w: tensor<2x3x2xf32>, %e: tensor<2x3x2xi64>)
        -> tensor<2x3x16xf32> {
      %w1 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x12x16xbf16>
      %w3 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x12x16xbf16>
      %w2 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x12xbf16>
      %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2)
          : tensor<2x3x16xf32>, tensor<2x3x2xf32>, tensor<2x3x2xi64>,
            tensor<4x12x16xbf16>, tensor<4x12x16xbf16>, tensor<4x16x12xbf16>
      return %y : tensor<2x3x16xf32>
    })mlir";
  ASSERT_NO_ERROR(compileAndRun(src, "f",
                                {arg(x, {B, T, d}), arg(weights, {B, T, K}),
                                 arg(experts, {B, T, K}), arg(w1, {E, I, d}),
                                 arg(w3, {E, I, d}), arg(w2, {E, d, I}),
                                 arg(out, {B, T, d})}));
  for (int64_t t = 0; t < B * T; ++t) {
    std::vector<double> ref(d, 0.0);
    for (int64_t j = 0; j < K; ++j) {
      int64_t e = experts[t * K + j];
      std::vector<double> g(I);
      for (int64_t i = 0; i < I; ++i) {
        double h1 = 0, h3 = 0;
        for (int64_t c = 0; c < d; ++c) {
          h1 += double(x[t * d + c]) * bf16ToFloat(w1[(e * I + i) * d + c]);
          h3 += double(x[t * d + c]) * bf16ToFloat(w3[(e * I + i) * d + c]);
        }
        g[i] = h1 / (1 + std::exp(-h1)) * h3;
      }
      for (int64_t c = 0; c < d; ++c) {
        double y = 0;
        for (int64_t i = 0; i < I; ++i)
          y += g[i] * bf16ToFloat(w2[(e * d + c) * I + i]);
        ref[c] += weights[t * K + j] * y;
      }
    }
    for (int64_t c = 0; c < d; ++c)
      ASSERT_NEAR(out[t * d + c], ref[c], 1e-5 * (1 + std::fabs(ref[c]))) << t << "," << c;
  }
}

//===----------------------------------------------------------------------===//
// weights as arguments: what the runner sees
//===----------------------------------------------------------------------===//

TEST(CpuRunner, DescribesWeightsAndChecksOperands) {
  const char *src = R"mlir(
    func.func @f(%x: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
      %w = mm01.weight "a.weight" : tensor<4xbf16>
      %y = mm01.rms_norm %x, %w eps(1.0e-6) : tensor<1x2x4xf32>, tensor<4xbf16>
      %w2 = mm01.weight "b.weight" : tensor<4x4xbf16>
      %z = mm01.linear %y, %w2 : tensor<1x2x4xf32>, tensor<4x4xbf16> -> tensor<1x2x4xf32>
      %w3 = mm01.weight "a.weight" : tensor<4xbf16>
      %u = mm01.rms_norm %z, %w3 eps(1.0e-6) : tensor<1x2x4xf32>, tensor<4xbf16>
      return %u : tensor<1x2x4xf32>
    })mlir";
  mlir::MLIRContext ctx(jitRegistry());
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &ctx);
  ASSERT_TRUE(module);
  auto runner = JitRunner::compileModel(*module);
  ASSERT_NO_ERROR(runner.takeError());
  const FunctionInfo *info = (*runner)->function("f");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->weights, (std::vector<std::string>{"a.weight", "b.weight"}));
  EXPECT_EQ(info->firstWeight, 1u);
  ASSERT_EQ(info->inputs.size(), 3u);
  EXPECT_EQ(info->inputs[2].str(), "4x4xbf16");
  ASSERT_EQ(info->results.size(), 1u);
  EXPECT_EQ(info->results[0].str(), "1x2x4xf32");

  std::vector<float> x(8, 1.0f), out(8);
  std::vector<uint16_t> a(4, floatToBf16(1.0f)), b(16, floatToBf16(0.25f));
  llvm::Error wrong = (*runner)->invoke("f", {arg(x, {1, 2, 4}), arg(b, {4, 4}),
                                              arg(b, {4, 4}), arg(out, {1, 2, 4})});
  ASSERT_TRUE(bool(wrong));
  EXPECT_NE(llvm::toString(std::move(wrong)).find("weight 'a.weight'"), std::string::npos);
  ASSERT_NO_ERROR((*runner)->invoke(
      "f", {arg(x, {1, 2, 4}), arg(a, {4}), arg(b, {4, 4}), arg(out, {1, 2, 4})}));
  for (float v : out)
    EXPECT_NEAR(v, 1.0f, 1e-5);
}

} // namespace
