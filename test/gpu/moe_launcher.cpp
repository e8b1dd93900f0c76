//===- moe_launcher.cpp - run the compiler-generated MoE kernels ----------===//
//
// MLIR-free GPU test of the kernels that `mm01-opt --mm01-test-moe-kernels`
// generates (route + experts plan), compiled to a cubin at build time. Links
// the CUDA driver API and the engine's DimExpr (grid and workspace sizes are
// the generators' own expressions, read from the module's
// `mm01.moe_manifest`). For each configuration FILE:E:K:D:I:ELT:
//
//   route    random logits (tokens 1, 37, 600) against a float64 softmax /
//            top-k: where the reference's k+1 largest probabilities are
//            separated by a clear margin the ids must match in order, and
//            everywhere the chosen experts' reference probabilities must be
//            the top ones (a near-tie may go either way); renormalised
//            weights within f32 rounding. Tie order (lower index first) on
//            constructed logits with exact ties.
//   experts  tokens 1, 37, 600 with (a) the route kernel's own routing of
//            random logits plus two out-of-range ids (clamped), (b) every
//            token to experts 3 and 5 (others empty), (c) every pair to the
//            last expert; against a float64 reference that rounds to the
//            activation type where the CPU lowering does (h1, h3, silu, g,
//            y, w, each term, out). Tolerance per element: one bf16 ulp
//            (2^-7, or 2^-20 for f32) of the magnitudes that enter it,
//            |ref| + Σ_j |w_j|·(|y_j| + Σ_i |g_ji·w2_ni|); bf16 also needs
//            >= 90% of the outputs bit-identical to the reference (the
//            kernels round at the same points), counted over all outputs
//            of the configuration's runs: the outputs of one token share
//            its ~3(2I+d)k intermediate roundings, so one token is one
//            sample (an intermediate that the tensor cores' f32
//            accumulation, truncating rather than IEEE, rounds the other
//            way moves a large share of them; a skipped rounding point
//            moves every token). The workspace starts as garbage, a second
//            run must give identical bits, and the row after the last
//            token must stay untouched. Every configuration draws the same
//            random inputs (seed 1234): configurations of one shape that
//            differ in tiles print the same output hashes when they compute
//            the same bits (all tensor-core tilings accumulate in the same
//            K order).
//   timing   the experts plan (4 kernels) at tokens 1, 64, 600, 4096.
//
// --bench T1,T2,.. FILE.mlir:E:K:D:I:ELT[:MAXT]... times each plan (the
// files of one shape share its weights: the SIMT and the tensor-core plan
// of a shape run on the same data in one process) at each T <= MAXT with
// CUDA events (warm-up, median of per-iteration times; per kernel too) and
// prints TFLOP/s = 2*T*k*3*d*I / time and the device. The weights repeat a
// random bf16 block of 2^24+43 values (filled on the device: MiniMax-01's
// experts are 10 GB); each plan's output at T is checked on 4 sampled
// tokens against the float64 reference above, with the same tolerance.
//
// usage: mm01-gpu-moe [--no-timing] FILE.mlir:E:K:D:I:ELT...
//        mm01-gpu-moe --bench T1,T2,.. FILE.mlir:E:K:D:I:ELT[:MAXT]...
// Exit: 0 pass, 1 failure, 77 skip (no driver / no GPU).
//
//===----------------------------------------------------------------------===//
#include "GpuTestSupport.h"

#include "mm01/Engine/DimExpr.h"

#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace mm01::gputest;





struct KernelInfo {
  std::string tag, name;
  mm01::engine::DimExpr grid[3];
  unsigned block[3] = {1, 1, 1};
  unsigned smem = 0;
  std::vector<std::string> params;
  CUfunction fn = nullptr;
};

struct Config {
  std::string file;
  int E = 0, K = 0, D = 0, I = 0;
  bool bf16 = true;
  int64_t maxT = INT64_MAX; // --bench: largest T to time
  CUmodule module = nullptr;
  mm01::engine::DimExpr workspace;
  KernelInfo route;
  std::vector<KernelInfo> experts;
};

int64_t eval(const mm01::engine::DimExpr &e, int64_t tokens) {
  mm01::engine::DimEnv env;
  env.batch = tokens;
  env.seq = 1;
  env.context = 1;
  env.tokens = tokens;
  auto r = e.evaluate(env);
  if (!r) {
    std::fprintf(stderr, "cannot evaluate '%s'\n", e.text().c_str());
    std::exit(1);
  }
  return *r;
}

mm01::engine::DimExpr parseExpr(const std::string &s) {
  auto r = mm01::engine::DimExpr::parse(s);
  if (!r) {
    std::fprintf(stderr, "bad expression '%s'\n", s.c_str());
    std::exit(1);
  }
  return *r;
}

bool loadConfig(Config &c) {
  std::ifstream in(c.file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  size_t pos = text.find("gpu.binary");
  if (pos == std::string::npos || (pos = text.find("bin = \"", pos)) == std::string::npos) {
    std::fprintf(stderr, "%s: no gpu.binary with bin = \"...\"\n", c.file.c_str());
    return false;
  }
  std::string cubin;
  if (!unescapeMLIRString(text, pos + 7, cubin))
    return false;
  size_t mpos = text.find("mm01.moe_manifest = \"");
  std::string manifest;
  if (mpos == std::string::npos || !unescapeMLIRString(text, mpos + 21, manifest)) {
    std::fprintf(stderr, "%s: no mm01.moe_manifest\n", c.file.c_str());
    return false;
  }
  CU_CHECK(cuModuleLoadData(&c.module, cubin.data()));
  std::istringstream ms(manifest);
  std::string line;
  while (std::getline(ms, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "workspace") {
      std::string e;
      ls >> e;
      c.workspace = parseExpr(e);
      continue;
    }
    KernelInfo k;
    k.tag = tag;
    std::string word, g[3], params;
    ls >> k.name >> word >> g[0] >> g[1] >> g[2] >> word >> k.block[0] >> k.block[1] >>
        k.block[2] >> word >> k.smem >> word >> params;
    for (int i = 0; i < 3; ++i)
      k.grid[i] = parseExpr(g[i]);
    std::stringstream ps(params);
    std::string p;
    while (std::getline(ps, p, ','))
      k.params.push_back(p);
    CU_CHECK(cuModuleGetFunction(&k.fn, c.module, k.name.c_str()));
    if (k.smem > 48 * 1024)
      CU_CHECK(cuFuncSetAttribute(k.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                  int(k.smem)));
    if (tag == "route")
      c.route = k;
    else
      c.experts.push_back(k);
  }
  std::printf("%s: E=%d k=%d d=%d I=%d %s, kernels:", c.file.c_str(), c.E, c.K, c.D,
              c.I, c.bf16 ? "bf16" : "f32");
  std::printf(" %s", c.route.name.c_str());
  for (auto &k : c.experts)
    std::printf(" %s (smem %u)", k.name.c_str(), k.smem);
  std::printf("\n  workspace bytes = %s\n", c.workspace.text().c_str());
  return c.route.fn && c.experts.size() == 4;
}

/// Device buffers by parameter name.
struct Bindings {
  std::map<std::string, CUdeviceptr> ptrs;
  int32_t tokens = 0;
};

void launch(const KernelInfo &k, Bindings &b, CUstream stream = nullptr) {
  std::vector<void *> args;
  for (const std::string &p : k.params) {
    if (p == "tokens") {
      args.push_back(&b.tokens);
      continue;
    }
    auto it = b.ptrs.find(p);
    if (it == b.ptrs.end()) {
      std::fprintf(stderr, "kernel %s: no buffer for parameter %s\n", k.name.c_str(),
                   p.c_str());
      std::exit(1);
    }
    args.push_back(&it->second);
  }
  unsigned grid[3];
  for (int i = 0; i < 3; ++i) {
    int64_t g = eval(k.grid[i], b.tokens);
    if (g < 1) {
      std::fprintf(stderr, "kernel %s: grid[%d] = %lld\n", k.name.c_str(), i, (long long)g);
      std::exit(1);
    }
    grid[i] = unsigned(g);
  }
  CU_CHECK(cuLaunchKernel(k.fn, grid[0], grid[1], grid[2], k.block[0], k.block[1],
                          k.block[2], k.smem, stream, args.data(), nullptr));
}

// ---- activations on the host: values exactly as the GPU sees them --------

struct Act {
  bool bf16;
  std::vector<float> f; // exact values
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out(f.size() * (bf16 ? 2 : 4));
    for (size_t i = 0; i < f.size(); ++i) {
      if (bf16) {
        uint16_t h = toBF16(f[i]);
        std::memcpy(&out[2 * i], &h, 2);
      } else {
        std::memcpy(&out[4 * i], &f[i], 4);
      }
    }
    return out;
  }
};

Act randomAct(size_t n, bool bf16, float scale, std::mt19937 &rng) {
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  Act a{bf16, std::vector<float>(n)};
  for (auto &v : a.f) {
    v = uni(rng) * scale;
    if (bf16)
      v = fromBF16(toBF16(v));
  }
  return a;
}

CUdeviceptr upload(const void *data, size_t bytes) {
  CUdeviceptr p;
  CU_CHECK(cuMemAlloc(&p, std::max<size_t>(bytes, 16)));
  if (bytes)
    CU_CHECK(cuMemcpyHtoD(p, data, bytes));
  return p;
}

/// Rounds like a value stored in the activation type (f32 -> bf16 RNE).
double rnd(double v, bool bf16) {
  float f = float(v);
  return bf16 ? double(fromBF16(toBF16(f))) : double(f);
}

// ---- route ---------------------------------------------------------------

struct RouteOut {
  std::vector<float> w;
  std::vector<int32_t> ids;
};

RouteOut runRoute(Config &c, const Act &logits, int T) {
  Bindings b;
  b.tokens = T;
  auto lb = logits.bytes();
  b.ptrs["logits"] = upload(lb.data(), lb.size());
  CU_CHECK(cuMemAlloc(&b.ptrs["weights"], size_t(T) * c.K * 4));
  CU_CHECK(cuMemAlloc(&b.ptrs["ids"], size_t(T) * c.K * 4));
  launch(c.route, b);
  CU_CHECK(cuCtxSynchronize());
  RouteOut r{std::vector<float>(size_t(T) * c.K), std::vector<int32_t>(size_t(T) * c.K)};
  CU_CHECK(cuMemcpyDtoH(r.w.data(), b.ptrs["weights"], r.w.size() * 4));
  CU_CHECK(cuMemcpyDtoH(r.ids.data(), b.ptrs["ids"], r.ids.size() * 4));
  for (auto &kv : b.ptrs)
    cuMemFree(kv.second);
  return r;
}

/// Checks the route kernel's output for T tokens against float64.
bool checkRoute(const Config &c, const Act &logits, const RouteOut &r, int T,
                const char *what) {
  const int E = c.E, K = c.K;
  int clear = 0, bad = 0;
  double maxWErr = 0;
  for (int t = 0; t < T; ++t) {
    std::vector<double> p(E);
    double mx = -INFINITY, s = 0;
    for (int e = 0; e < E; ++e)
      mx = std::max(mx, double(logits.f[size_t(t) * E + e]));
    for (int e = 0; e < E; ++e)
      s += p[e] = std::exp(double(logits.f[size_t(t) * E + e]) - mx);
    for (auto &v : p)
      v /= s;
    std::vector<int> order(E);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b2) { return p[a] > p[b2]; });
    const double margin = 1e-5;
    bool isClear = true;
    for (int j = 0; j < K && j + 1 < E; ++j)
      if (p[order[j]] - p[order[j + 1]] < margin)
        isClear = false;
    clear += isClear;
    double chosenSum = 0;
    bool ok = true;
    for (int j = 0; j < K; ++j) {
      int id = r.ids[size_t(t) * K + j];
      if (id < 0 || id >= E) {
        ok = false;
        break;
      }
      // Whatever was chosen must be (within the margin) the j-th largest.
      if (std::fabs(p[id] - p[order[j]]) > margin)
        ok = false;
      if (isClear && id != order[j])
        ok = false;
      chosenSum += p[id];
    }
    if (ok)
      for (int j = 0; j < K; ++j) {
        int id = r.ids[size_t(t) * K + j];
        double want = p[id] / chosenSum;
        double err = std::fabs(r.w[size_t(t) * K + j] - want);
        maxWErr = std::max(maxWErr, err);
        if (err > 2e-6 * std::max(1.0, want) + 1e-7)
          ok = false;
      }
    if (!ok && bad++ < 5) {
      std::printf("    token %d: gpu", t);
      for (int j = 0; j < K; ++j)
        std::printf(" (%d, %.7f)", r.ids[size_t(t) * K + j], r.w[size_t(t) * K + j]);
      std::printf("  ref top");
      for (int j = 0; j < std::min(E, K + 1); ++j)
        std::printf(" (%d, p=%.7f)", order[j], p[order[j]]);
      std::printf("\n");
    }
  }
  std::printf("  route %-10s T=%-4d clear-margin tokens %d/%d, max |w err| %.2e: %s\n",
              what, T, clear, T, maxWErr, bad ? "FAIL" : "ok");
  return bad == 0;
}

/// Constructed exact ties: the lower index must come first.
bool checkTies(Config &c) {
  const int E = c.E, K = c.K;
  std::vector<std::vector<float>> rows;
  std::vector<std::vector<int>> want;
  // all equal -> 0, 1, ..
  rows.push_back(std::vector<float>(E, 0.5f));
  want.push_back({});
  for (int j = 0; j < K; ++j)
    want.back().push_back(j);
  // max tied at E-2 and 1 -> 1, E-2, then the next largest (E-1) tied with 0?
  {
    std::vector<float> r(E, -1.f);
    r[E - 2] = 2.f, r[1] = 2.f, r[E - 1] = 1.f, r[0] = 1.f;
    rows.push_back(r);
    want.push_back({1, E - 2, 0, E - 1});
  }
  // one max at E-1, then a tie between 3 and 2
  {
    std::vector<float> r(E, -3.f);
    r[E - 1] = 1.5f, r[3 % E] = 0.25f, r[2 % E] = 0.25f;
    rows.push_back(r);
    want.push_back({E - 1, 2, 3});
  }
  Act logits{c.bf16, {}};
  for (auto &r : rows)
    logits.f.insert(logits.f.end(), r.begin(), r.end());
  int T = int(rows.size());
  RouteOut out = runRoute(c, logits, T);
  bool ok = true;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < K && j < int(want[t].size()); ++j) {
      int got = out.ids[size_t(t) * K + j];
      if (got != want[t][j]) {
        std::printf("    tie row %d slot %d: got expert %d, want %d\n", t, j, got, want[t][j]);
        ok = false;
      }
    }
  // all-equal row: weights exactly 1/K
  for (int j = 0; j < K; ++j)
    if (std::fabs(out.w[j] - 1.0 / K) > 1e-7)
      ok = false;
  std::printf("  route ties (lower index first): %s\n", ok ? "ok" : "FAIL");
  return ok;
}

// ---- experts ---------------------------------------------------------------

/// Values of one weight tensor: element i is f[i % f.size()] (the test's
/// tensors are stored whole; the benchmark's repeat a random block).
struct Pattern {
  std::vector<float> f;
  /// The `len` values from element `start`, contiguous.
  const float *row(size_t start, size_t len, std::vector<float> &scratch) const {
    size_t s = start % f.size();
    if (s + len <= f.size())
      return &f[s];
    scratch.resize(len);
    for (size_t i = 0; i < len; ++i)
      scratch[i] = f[(s + i) % f.size()];
    return scratch.data();
  }
};

struct Weights {
  Pattern w1, w3, w2;
  CUdeviceptr d1 = 0, d3 = 0, d2 = 0;
};

struct ExpertsRun {
  std::vector<float> out; // T rows
  bool canaryOk = true, replayOk = true;
};

std::vector<float> readAct(CUdeviceptr p, size_t n, bool bf16) {
  std::vector<float> f(n);
  if (bf16) {
    std::vector<uint16_t> h(n);
    CU_CHECK(cuMemcpyDtoH(h.data(), p, n * 2));
    for (size_t i = 0; i < n; ++i)
      f[i] = fromBF16(h[i]);
  } else {
    CU_CHECK(cuMemcpyDtoH(f.data(), p, n * 4));
  }
  return f;
}

void bindExperts(Config &c, Bindings &b, Weights &W, CUdeviceptr x, CUdeviceptr w,
                 CUdeviceptr ids, CUdeviceptr out, CUdeviceptr ws) {
  b.ptrs["x"] = x;
  b.ptrs["weights"] = w;
  b.ptrs["ids"] = ids;
  b.ptrs["w1"] = W.d1;
  b.ptrs["w3"] = W.d3;
  b.ptrs["w2"] = W.d2;
  b.ptrs["out"] = out;
  b.ptrs["workspace"] = ws;
}

ExpertsRun runExperts(Config &c, Weights &W, const Act &x, const std::vector<float> &w,
                      const std::vector<int32_t> &ids, int T) {
  const size_t eb = c.bf16 ? 2 : 4, rowBytes = size_t(c.D) * eb;
  auto xb = x.bytes();
  CUdeviceptr dx = upload(xb.data(), xb.size());
  CUdeviceptr dw = upload(w.data(), w.size() * 4);
  CUdeviceptr di = upload(ids.data(), ids.size() * 4);
  CUdeviceptr dout;
  CU_CHECK(cuMemAlloc(&dout, rowBytes * (T + 1)));
  CU_CHECK(cuMemsetD8(dout, 0x5a, rowBytes * (T + 1)));
  size_t wsBytes = size_t(eval(c.workspace, T));
  CUdeviceptr dws;
  CU_CHECK(cuMemAlloc(&dws, wsBytes));
  CU_CHECK(cuMemsetD8(dws, 0xff, wsBytes)); // garbage: nothing may rely on it
  Bindings b;
  b.tokens = T;
  bindExperts(c, b, W, dx, dw, di, dout, dws);
  for (auto &k : c.experts)
    launch(k, b);
  CU_CHECK(cuCtxSynchronize());
  ExpertsRun r;
  r.out = readAct(dout, size_t(T) * c.D, c.bf16);
  std::vector<uint8_t> canary(rowBytes);
  CU_CHECK(cuMemcpyDtoH(canary.data(), dout + rowBytes * T, rowBytes));
  for (uint8_t v : canary)
    if (v != 0x5a)
      r.canaryOk = false;
  // Replay (a CUDA graph replays the same launches on a used workspace).
  for (auto &k : c.experts)
    launch(k, b);
  CU_CHECK(cuCtxSynchronize());
  std::vector<float> again = readAct(dout, size_t(T) * c.D, c.bf16);
  r.replayOk = std::memcmp(again.data(), r.out.data(), again.size() * 4) == 0;
  cuMemFree(dx), cuMemFree(dw), cuMemFree(di), cuMemFree(dout), cuMemFree(dws);
  return r;
}

/// float64 reference with the CPU lowering's rounding points for the tokens
/// `rows` (row r of the result is token rows[r]); `tol` gets the
/// per-element tolerance.
std::vector<double> referenceExperts(const Config &c, const Weights &W, const Act &x,
                                     const std::vector<float> &w,
                                     const std::vector<int32_t> &ids,
                                     const std::vector<int> &rows,
                                     std::vector<double> &tol) {
  const int E = c.E, K = c.K, D = c.D, I = c.I;
  const bool bf = c.bf16;
  const double unit = bf ? std::ldexp(1.0, -7) : std::ldexp(1.0, -20);
  const size_t R = rows.size();
  std::vector<double> out(R * D), mag(R * D, 0.0);
  std::vector<double> g(I), y(D), ya(D);
  std::vector<float> s1buf, s3buf, s2buf;
  for (size_t ri = 0; ri < R; ++ri) {
    const int t = rows[ri];
    std::vector<double> acc(D, 0.0);
    const float *xr = &x.f[size_t(t) * D];
    for (int j = 0; j < K; ++j) {
      int e = std::min(std::max(ids[size_t(t) * K + j], 0), E - 1);
      for (int i = 0; i < I; ++i) {
        const float *a1 = W.w1.row((size_t(e) * I + i) * D, D, s1buf);
        const float *a3 = W.w3.row((size_t(e) * I + i) * D, D, s3buf);
        double s1 = 0, s3 = 0;
        for (int k = 0; k < D; ++k) {
          s1 += double(xr[k]) * a1[k];
          s3 += double(xr[k]) * a3[k];
        }
        double h1 = rnd(s1, bf), h3 = rnd(s3, bf);
        double s = rnd(h1 / (1.0 + std::exp(-h1)), bf);
        g[i] = rnd(s * h3, bf);
      }
      for (int n = 0; n < D; ++n) {
        const float *a2 = W.w2.row((size_t(e) * D + n) * I, I, s2buf);
        double s = 0, sa = 0;
        for (int i = 0; i < I; ++i) {
          s += g[i] * a2[i];
          sa += std::fabs(g[i] * a2[i]);
        }
        y[n] = rnd(s, bf);
        ya[n] = sa;
      }
      double wj = rnd(w[size_t(t) * K + j], bf);
      for (int n = 0; n < D; ++n) {
        acc[n] += rnd(wj * y[n], bf);
        mag[ri * D + n] += std::fabs(wj) * (std::fabs(y[n]) + ya[n]);
      }
    }
    for (int n = 0; n < D; ++n)
      out[ri * D + n] = rnd(acc[n], bf);
  }
  tol.resize(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    tol[i] = unit * (std::fabs(out[i]) + mag[i]) + 1e-30;
  return out;
}

/// Compares the GPU's output rows `rows` (all T rows of `out`) with the
/// reference of those rows.
struct Comparison {
  size_t bad = 0, exact = 0;
  double worst = 0, exactFrac = 0;
};
Comparison compareRows(const Config &c, const std::vector<double> &ref,
                       const std::vector<double> &tol, const std::vector<float> &out,
                       const std::vector<int> &rows) {
  Comparison cmp;
  size_t exact = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    int t = rows[i / c.D];
    size_t n = i % c.D;
    double got = out[size_t(t) * c.D + n];
    double err = std::fabs(got - ref[i]);
    if (!(err <= tol[i])) {
      if (cmp.bad++ < 5)
        std::printf("    out[%d][%zu] = %.8g, ref %.8g, tol %.3g\n", t, n, got, ref[i],
                    tol[i]);
    }
    cmp.worst = std::max(cmp.worst, err / tol[i]);
    exact += got == ref[i];
  }
  cmp.exact = exact;
  cmp.exactFrac = double(exact) / double(ref.size());
  return cmp;
}

/// One run's check; `exact`/`outputs` accumulate the bit-identical count of
/// the configuration (checked once over all its runs).
bool checkExperts(const Config &c, const std::vector<double> &ref,
                  const std::vector<double> &tol, const ExpertsRun &r, int T,
                  const char *what, size_t &exact, size_t &outputs) {
  std::vector<int> rows(T);
  std::iota(rows.begin(), rows.end(), 0);
  Comparison cmp = compareRows(c, ref, tol, r.out, rows);
  size_t bad = cmp.bad;
  double worst = cmp.worst, exactFrac = cmp.exactFrac;
  exact += cmp.exact;
  outputs += ref.size();
  bool ok = bad == 0 && r.canaryOk && r.replayOk;
  // FNV-1a of the output values: equal for plans that compute the same bits.
  uint64_t hash = 1469598103934665603ull;
  for (float v : r.out) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    hash = (hash ^ u) * 1099511628211ull;
  }
  std::printf("  experts %-9s T=%-4d max err/tol %.3f, bit-identical %.4f, canary %s, "
              "replay %s, output hash %016llx: %s\n",
              what, T, worst, exactFrac, r.canaryOk ? "ok" : "CLOBBERED",
              r.replayOk ? "same" : "DIFFERS", (unsigned long long)hash,
              ok ? "ok" : "FAIL");
  return ok;
}

/// Uniformly random routing: k distinct experts per token, weights 1/k.
void randomRouting(const Config &c, int T, std::mt19937 &rng, std::vector<float> &w,
                   std::vector<int32_t> &ids) {
  w.assign(size_t(T) * c.K, 1.f / c.K);
  ids.assign(size_t(T) * c.K, 0);
  std::uniform_int_distribution<int> pick(0, c.E - 1);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < c.K; ++j) {
      int e;
      do {
        e = pick(rng);
      } while (std::find(&ids[size_t(t) * c.K], &ids[size_t(t) * c.K + j], e) !=
               &ids[size_t(t) * c.K + j]);
      ids[size_t(t) * c.K + j] = e;
    }
}

double timeExperts(Config &c, Weights &W, int T, std::mt19937 &rng, int iters) {
  Act x = randomAct(size_t(T) * c.D, c.bf16, 1.f, rng);
  std::vector<float> w;
  std::vector<int32_t> ids;
  randomRouting(c, T, rng, w, ids);
  auto xb = x.bytes();
  CUdeviceptr dx = upload(xb.data(), xb.size());
  CUdeviceptr dw = upload(w.data(), w.size() * 4);
  CUdeviceptr di = upload(ids.data(), ids.size() * 4);
  CUdeviceptr dout, dws;
  CU_CHECK(cuMemAlloc(&dout, size_t(T) * c.D * (c.bf16 ? 2 : 4)));
  CU_CHECK(cuMemAlloc(&dws, size_t(eval(c.workspace, T))));
  Bindings b;
  b.tokens = T;
  bindExperts(c, b, W, dx, dw, di, dout, dws);
  CUevent e0, e1;
  CU_CHECK(cuEventCreate(&e0, 0));
  CU_CHECK(cuEventCreate(&e1, 0));
  for (int i = 0; i < 3; ++i)
    for (auto &k : c.experts)
      launch(k, b);
  CU_CHECK(cuEventRecord(e0, nullptr));
  for (int i = 0; i < iters; ++i)
    for (auto &k : c.experts)
      launch(k, b);
  CU_CHECK(cuEventRecord(e1, nullptr));
  CU_CHECK(cuEventSynchronize(e1));
  float ms = 0;
  CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
  cuEventDestroy(e0), cuEventDestroy(e1);
  cuMemFree(dx), cuMemFree(dw), cuMemFree(di), cuMemFree(dout), cuMemFree(dws);
  return 1000.0 * ms / iters;
}

bool runConfig(Config &c, std::mt19937 &rng, bool timing) {
  bool ok = true;
  const int E = c.E, K = c.K, D = c.D, I = c.I;
  ok &= checkTies(c);

  Weights W;
  Act a1 = randomAct(size_t(E) * I * D, c.bf16, 2.f / std::sqrt(float(D)), rng);
  Act a3 = randomAct(size_t(E) * I * D, c.bf16, 2.f / std::sqrt(float(D)), rng);
  Act a2 = randomAct(size_t(E) * D * I, c.bf16, 2.f / std::sqrt(float(I)), rng);
  auto b1 = a1.bytes(), b3 = a3.bytes(), b2 = a2.bytes();
  W.w1.f = std::move(a1.f);
  W.w3.f = std::move(a3.f);
  W.w2.f = std::move(a2.f);
  W.d1 = upload(b1.data(), b1.size());
  W.d3 = upload(b3.data(), b3.size());
  W.d2 = upload(b2.data(), b2.size());

  size_t exact = 0, outputs = 0; // bit-identical outputs of all runs
  for (int T : {1, 37, 600}) {
    Act logits = randomAct(size_t(T) * E, c.bf16, 3.f, rng);
    RouteOut route = runRoute(c, logits, T);
    ok &= checkRoute(c, logits, route, T, "random");
    Act x = randomAct(size_t(T) * D, c.bf16, 1.f, rng);
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<float> w = route.w;
      std::vector<int32_t> ids = route.ids;
      const char *what = "routed";
      if (mode == 0 && T > 1) {
        ids[0] = -1; // clamped to 0
        ids[1] = E + 3; // clamped to E-1
      }
      if (mode == 1) {
        what = "two-hot";
        for (int t = 0; t < T; ++t)
          for (int j = 0; j < K; ++j)
            ids[size_t(t) * K + j] = (3 + 2 * j) % E;
      }
      if (mode == 2) {
        what = "one-expert";
        for (auto &id : ids)
          id = E - 1;
      }
      ExpertsRun r = runExperts(c, W, x, w, ids, T);
      std::vector<double> tol;
      std::vector<int> rows(T);
      std::iota(rows.begin(), rows.end(), 0);
      std::vector<double> ref = referenceExperts(c, W, x, w, ids, rows, tol);
      ok &= checkExperts(c, ref, tol, r, T, what, exact, outputs);
    }
  }
  if (c.bf16) {
    double frac = double(exact) / double(outputs);
    bool fracOk = frac >= 0.9;
    std::printf("  experts bit-identical over all %zu outputs: %.4f (>= 0.9): %s\n",
                outputs, frac, fracOk ? "ok" : "FAIL");
    ok &= fracOk;
  }

  for (int T : {1, 64, 600, 4096}) {
    if (!timing)
      break;
    double us = timeExperts(c, W, T, rng, T >= 600 ? 20 : 100);
    double flops = 2.0 * T * K * (3.0 * D * I);
    int64_t touched = std::min<int64_t>(E, int64_t(T) * K);
    double wbytes = double(touched) * 3.0 * D * I * (c.bf16 ? 2 : 4);
    std::printf("  time experts plan T=%-5d %9.1f us  %7.2f TFLOP/s  %7.1f GB/s of "
                "touched expert weights\n",
                T, us, flops / us * 1e-6, wbytes / us * 1e-3);
  }
  cuMemFree(W.d1), cuMemFree(W.d3), cuMemFree(W.d2);
  return ok;
}


// ---- --bench ---------------------------------------------------------------

/// A random weight block repeated over `n` device elements (element i holds
/// p.f[i % p.f.size()]).
CUdeviceptr uploadRepeated(const Pattern &p, size_t n, bool bf16) {
  Act block{bf16, std::vector<float>(p.f.begin(), p.f.begin() + std::min(n, p.f.size()))};
  auto bytes = block.bytes();
  const size_t eb = bf16 ? 2 : 4, L = block.f.size();
  CUdeviceptr d;
  CU_CHECK(cuMemAlloc(&d, n * eb));
  CU_CHECK(cuMemcpyHtoD(d, bytes.data(), bytes.size()));
  for (size_t off = L; off < n; off += L)
    CU_CHECK(cuMemcpyDtoD(d + off * eb, d, std::min(L, n - off) * eb));
  return d;
}

/// Times each plan of `plans` (one shape) at each T of `Ts` <= its maxT and
/// checks its output on sampled tokens. False on a failed check.
bool benchShape(std::vector<Config *> &plans, const std::vector<int> &Ts,
                std::mt19937 &rng) {
  const Config &c = *plans[0];
  const int E = c.E, K = c.K, D = c.D, I = c.I;
  std::printf("bench E=%d k=%d d=%d I=%d %s\n", E, K, D, I, c.bf16 ? "bf16" : "f32");
  const size_t L = (size_t(1) << 24) + 43;
  Weights W;
  W.w1.f = randomAct(L, c.bf16, 2.f / std::sqrt(float(D)), rng).f;
  W.w3.f = randomAct(L, c.bf16, 2.f / std::sqrt(float(D)), rng).f;
  W.w2.f = randomAct(L, c.bf16, 2.f / std::sqrt(float(I)), rng).f;
  const size_t nW = size_t(E) * I * D;
  W.d1 = uploadRepeated(W.w1, nW, c.bf16);
  W.d3 = uploadRepeated(W.w3, nW, c.bf16);
  W.d2 = uploadRepeated(W.w2, nW, c.bf16);
  bool ok = true;
  for (int T : Ts) {
    Act x = randomAct(size_t(T) * D, c.bf16, 1.f, rng);
    std::vector<float> w;
    std::vector<int32_t> ids;
    randomRouting(c, T, rng, w, ids);
    std::vector<int> rows = {0, 1, T / 2, T - 1};
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    std::vector<double> tol;
    std::vector<double> ref = referenceExperts(c, W, x, w, ids, rows, tol);
    auto xb = x.bytes();
    CUdeviceptr dx = upload(xb.data(), xb.size());
    CUdeviceptr dw = upload(w.data(), w.size() * 4);
    CUdeviceptr di = upload(ids.data(), ids.size() * 4);
    CUdeviceptr dout;
    CU_CHECK(cuMemAlloc(&dout, size_t(T) * D * (c.bf16 ? 2 : 4)));
    for (Config *pc : plans) {
      Config &p = *pc;
      if (T > p.maxT)
        continue;
      CUdeviceptr dws;
      size_t wsBytes = size_t(eval(p.workspace, T));
      CU_CHECK(cuMemAlloc(&dws, wsBytes));
      CU_CHECK(cuMemsetD8(dws, 0xff, wsBytes));
      Bindings b;
      b.tokens = T;
      bindExperts(p, b, W, dx, dw, di, dout, dws);
      for (auto &k : p.experts)
        launch(k, b);
      CU_CHECK(cuCtxSynchronize());
      std::vector<float> out = readAct(dout, size_t(T) * D, c.bf16);
      Comparison cmp = compareRows(c, ref, tol, out, rows);
      ok &= cmp.bad == 0;
      // Iterations for ~0.3 s (5..200), one warm-up run above and one here.
      CUevent t0, t1;
      CU_CHECK(cuEventCreate(&t0, 0));
      CU_CHECK(cuEventCreate(&t1, 0));
      CU_CHECK(cuEventRecord(t0, nullptr));
      for (auto &k : p.experts)
        launch(k, b);
      CU_CHECK(cuEventRecord(t1, nullptr));
      CU_CHECK(cuEventSynchronize(t1));
      float ms1 = 0;
      CU_CHECK(cuEventElapsedTime(&ms1, t0, t1));
      cuEventDestroy(t0), cuEventDestroy(t1);
      int iters = std::clamp(int(300.0 / std::max(ms1, 1e-3f)), 5, 200);
      const size_t nk = p.experts.size();
      std::vector<CUevent> ev(size_t(iters) * (nk + 1));
      for (auto &e : ev)
        CU_CHECK(cuEventCreate(&e, 0));
      for (int it = 0; it < iters; ++it) {
        CU_CHECK(cuEventRecord(ev[it * (nk + 1)], nullptr));
        for (size_t q = 0; q < nk; ++q) {
          launch(p.experts[q], b);
          CU_CHECK(cuEventRecord(ev[it * (nk + 1) + q + 1], nullptr));
        }
      }
      CU_CHECK(cuCtxSynchronize());
      std::vector<double> total;
      std::vector<std::vector<double>> per(nk);
      for (int it = 0; it < iters; ++it) {
        float ms = 0;
        CU_CHECK(cuEventElapsedTime(&ms, ev[it * (nk + 1)], ev[it * (nk + 1) + nk]));
        total.push_back(1000.0 * ms);
        for (size_t q = 0; q < nk; ++q) {
          CU_CHECK(cuEventElapsedTime(&ms, ev[it * (nk + 1) + q], ev[it * (nk + 1) + q + 1]));
          per[q].push_back(1000.0 * ms);
        }
      }
      for (auto &e : ev)
        cuEventDestroy(e);
      double us = median(total);
      double flops = 2.0 * T * K * (3.0 * D * I);
      const char *base = std::strrchr(p.file.c_str(), '/');
      std::printf("  %-40s T=%-5d %10.1f us %8.2f TFLOP/s (median of %d) [", base ? base + 1 : p.file.c_str(),
                  T, us, flops / us * 1e-6, iters);
      for (size_t q = 0; q < nk; ++q)
        std::printf("%s%.1f", q ? " " : "", median(per[q]));
      std::printf(" us] check tokens");
      for (int r : rows)
        std::printf(" %d", r);
      std::printf(": max err/tol %.3f, bit-identical %.4f: %s\n", cmp.worst, cmp.exactFrac,
                  cmp.bad ? "FAIL" : "ok");
      cuMemFree(dws);
    }
    cuMemFree(dx), cuMemFree(dw), cuMemFree(di), cuMemFree(dout);
  }
  cuMemFree(W.d1), cuMemFree(W.d3), cuMemFree(W.d2);
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<Config> configs;
  std::vector<int> benchTokens;
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--no-timing] FILE.mlir:E:K:D:I:ELT...\n"
                 "       %s --bench T1,T2,.. FILE.mlir:E:K:D:I:ELT[:MAXT]...\n",
                 argv[0], argv[0]);
    return 2;
  };
  int first = 1;
  bool timing = true;
  if (argc > 1 && std::string(argv[1]) == "--no-timing") {
    timing = false; // the checks alone (e.g. under compute-sanitizer)
    first = 2;
  } else if (argc > 2 && std::string(argv[1]) == "--bench") {
    std::stringstream ts(argv[2]);
    std::string t;
    while (std::getline(ts, t, ','))
      if (std::atoi(t.c_str()) > 0)
        benchTokens.push_back(std::atoi(t.c_str()));
    if (benchTokens.empty())
      return usage();
    first = 3;
  }
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    std::vector<std::string> parts;
    std::stringstream ss(a);
    std::string p;
    while (std::getline(ss, p, ':'))
      parts.push_back(p);
    if (parts.size() != 6 && !(benchTokens.size() && parts.size() == 7))
      return usage();
    Config c;
    c.file = parts[0];
    c.E = std::atoi(parts[1].c_str());
    c.K = std::atoi(parts[2].c_str());
    c.D = std::atoi(parts[3].c_str());
    c.I = std::atoi(parts[4].c_str());
    c.bf16 = parts[5] == "bf16";
    if (parts.size() == 7)
      c.maxT = std::atoll(parts[6].c_str());
    configs.push_back(c);
  }
  if (configs.empty())
    return usage();

  CUresult rc = cuInit(0);
  int count = 0;
  if (rc == CUDA_SUCCESS)
    rc = cuDeviceGetCount(&count);
  if (rc != CUDA_SUCCESS || count == 0) {
    const char *msg = nullptr;
    cuGetErrorString(rc, &msg);
    std::printf("SKIP: no CUDA device (cuInit/cuDeviceGetCount: %s, %d devices)\n",
                msg ? msg : "?", count);
    return kSkip;
  }
  CUdevice dev;
  CU_CHECK(cuDeviceGet(&dev, 0));
  char devName[256];
  CU_CHECK(cuDeviceGetName(devName, sizeof(devName), dev));
  int major = 0, minor = 0;
  CU_CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
  CU_CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
  std::printf("device: %s (sm_%d%d)\n", devName, major, minor);
  if (major != 9) {
    std::printf("SKIP: the kernels are built for sm_90a\n");
    return kSkip;
  }
  CUcontext ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
  CU_CHECK(cuCtxSetCurrent(ctx));

  std::mt19937 rng(1234);
  bool ok = true;
  if (!benchTokens.empty()) {
    // Plans of one shape (consecutive arguments) share its weights.
    std::vector<Config *> shape;
    auto flush = [&] {
      if (!shape.empty())
        ok &= benchShape(shape, benchTokens, rng);
      shape.clear();
    };
    for (Config &c : configs) {
      if (!loadConfig(c)) {
        std::printf("FAIL: cannot load %s\n", c.file.c_str());
        ok = false;
        continue;
      }
      if (!shape.empty() && (shape[0]->E != c.E || shape[0]->K != c.K ||
                             shape[0]->D != c.D || shape[0]->I != c.I ||
                             shape[0]->bf16 != c.bf16))
        flush();
      shape.push_back(&c);
    }
    flush();
    std::printf("bench on %s: %s\n", devName, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  }
  for (Config &c : configs) {
    if (!loadConfig(c)) {
      std::printf("FAIL: cannot load %s\n", c.file.c_str());
      ok = false;
      continue;
    }
    // The same inputs for every configuration of a shape: plans that differ
    // only in their tiles must agree bit for bit (see the output hashes).
    rng.seed(1234);
    ok &= runConfig(c, rng, timing);
  }
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
