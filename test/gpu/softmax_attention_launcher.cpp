//===- softmax_attention_launcher.cpp - run the softmax attention kernels -===//
//
// MLIR-free GPU test of the kernels that mm01-opt
// --mm01-test-softmax-attention-kernels builds (and the GPU lowering compiles
// to a cubin). Links the CUDA driver API and the engine's DimExpr (grid
// expressions). Each FILE.mlir holds one gpu.binary (its cubin) and the
// module attribute `mm01.softmax_attention.manifest` (the spec with its
// tiles, and per kernel: name, grid expressions, block, dynamic shared
// memory, parameter names). The launcher binds the parameters by name, as
// the engine does, and runs random cases on the per-token kernel
// (query-tile 0) or the tensor-core prefill kernel (query-tile > 0):
//   * packed prefill with mixed prompt lengths (77, 130, 1, ...) over cached
//     prefixes (positions starting > 0: chunked prefill), lengths that are
//     no multiple of any tile, T = 1, decode (one token per sequence, mixed
//     contexts);
//   * the cache rows of the new tokens are checked against a float64 RoPE
//     (one bf16 ulp: the kernel rounds an f32 value), every other cache row
//     must be untouched, strided gaps of q/k/v hold NaN (must not be read)
//     and those of out must not be written;
//   * out against a float64 reference (scores, softmax, PV) computed from
//     the GPU's cache rows, tolerance = bf16 rounding of the output plus the
//     first-order effect of f32 arithmetic / approximate sin, cos, ex2 and
//     of the ties where RoPE(q) may round either way. The tensor-core
//     kernel adds two derived terms: P rounded to bf16 for the P·V MMA (the
//     row sums add the rounded P, so out is a convex combination of the
//     values with each weight perturbed by a factor 1 + δ_j, |δ_j| <= u =
//     2^-8: |Δout| <= u/(1-u) Σ_j p_j |v_j - out|, computed from the actual
//     values), and the MMA's f32 accumulation (products exact, each k16 step
//     adds <= 2 ulps, 2^-22, of the running magnitude: (D/16)·2^-22·Σ|q k|
//     on a score, ceil(n/16)·2^-22·Σ p_j |v_j| on out over n keys).
// --bench (instead of the tests) times, for the FILEs whose bounds allow
// it, the attention kernel alone on MiniMax-01-shaped prefill calls (B = 1,
// T = 4096 and 16384; B = 4 × 2048; checked on sampled tokens) with CUDA
// events (warm-up, median): ms and TFLOP/s (causal: 4·H·D·Σ_i (pos_i + 1))
// per FILE, then each FILE against the first per-token-kernel FILE.
//
// usage: mm01-gpu-softmax-attention [--bench] FILE.mlir...
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
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace mm01::gputest;





// ---- element types ---------------------------------------------------------


/// A host mirror of a device array of bf16 or f32 values.
struct Arr {
  bool bf16 = true;
  std::vector<uint8_t> bytes;
  void resize(size_t n) { bytes.assign(n * (bf16 ? 2 : 4), 0); }
  size_t size() const { return bytes.size() / (bf16 ? 2 : 4); }
  double get(size_t i) const {
    if (bf16) {
      uint16_t h;
      std::memcpy(&h, &bytes[2 * i], 2);
      return fromBF16(h);
    }
    float f;
    std::memcpy(&f, &bytes[4 * i], 4);
    return f;
  }
  void set(size_t i, double x) {
    if (bf16) {
      uint16_t h = toBF16(float(x));
      std::memcpy(&bytes[2 * i], &h, 2);
    } else {
      float f = float(x);
      std::memcpy(&bytes[4 * i], &f, 4);
    }
  }
  bool sameBits(const Arr &o, size_t i) const {
    size_t w = bf16 ? 2 : 4;
    return std::memcmp(&bytes[w * i], &o.bytes[w * i], w) == 0;
  }
  /// x rounded to the element type.
  double round(double x) const {
    return bf16 ? double(fromBF16(toBF16(float(x)))) : double(float(x));
  }
};

// ---- manifest --------------------------------------------------------------

struct KernelInfo {
  std::string name;
  mm01::engine::DimExpr grid[3];
  unsigned block[3] = {1, 1, 1};
  unsigned smem = 0;
  std::vector<std::string> params;
  CUfunction fn = nullptr;
};

struct Spec {
  int H = 0, Hkv = 0, D = 0, R = 0;
  double theta = 0, scale = 0;
  bool bf16 = true;
  long qs = 0, ks = 0, vs = 0, os = 0, maxB = 0, maxC = 0, maxT = 0;
  /// The tensor-core kernel's tiles (queryTile 0: the per-token kernel).
  int queryTile = 0, keyTile = 0, tileWarps = 0, tileStages = 0;
};

struct Variant {
  std::string file;
  Spec spec;
  std::vector<KernelInfo> kernels;
  CUmodule module = nullptr;
};

bool loadVariant(const std::string &path, Variant &var) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  var.file = path;
  const std::string key = "mm01.softmax_attention.manifest = \"";
  size_t pos = text.find(key);
  std::string manifest;
  if (pos == std::string::npos ||
      !unescapeMLIRString(text, pos + key.size(), manifest)) {
    std::fprintf(stderr, "%s: no mm01.softmax_attention.manifest\n",
                 path.c_str());
    return false;
  }
  std::stringstream ms(manifest);
  std::string line;
  while (std::getline(ms, line, ';')) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "spec") {
      Spec &s = var.spec;
      std::string elt;
      ls >> s.H >> s.Hkv >> s.D >> s.R >> s.theta >> s.scale >> elt >> s.qs >>
          s.ks >> s.vs >> s.os >> s.maxB >> s.maxC >> s.maxT >> s.queryTile >>
          s.keyTile >> s.tileWarps >> s.tileStages;
      s.bf16 = elt == "bf16";
    } else if (tag == "kernel") {
      KernelInfo k;
      std::string grid[3];
      ls >> k.name >> grid[0] >> grid[1] >> grid[2] >> k.block[0] >>
          k.block[1] >> k.block[2] >> k.smem;
      for (int d = 0; d < 3; ++d) {
        auto e = mm01::engine::DimExpr::parse(grid[d]);
        if (!e) {
          std::fprintf(stderr, "%s: kernel %s: grid '%s': %s\n", path.c_str(),
                       k.name.c_str(), grid[d].c_str(), e.error().c_str());
          return false;
        }
        k.grid[d] = *e;
      }
      std::string p;
      while (ls >> p)
        k.params.push_back(p);
      var.kernels.push_back(k);
    }
  }
  pos = text.find("gpu.binary");
  if (pos != std::string::npos)
    pos = text.find("bin = \"", pos);
  std::string cubin;
  if (pos == std::string::npos || !unescapeMLIRString(text, pos + 7, cubin)) {
    std::fprintf(stderr, "%s: no gpu.binary with a cubin\n", path.c_str());
    return false;
  }
  CU_CHECK(cuModuleLoadData(&var.module, cubin.data()));
  for (KernelInfo &k : var.kernels) {
    CU_CHECK(cuModuleGetFunction(&k.fn, var.module, k.name.c_str()));
    // Dynamic shared memory past 48 KiB must be allowed per kernel (as the
    // runtime does).
    if (k.smem > 48 * 1024)
      CU_CHECK(cuFuncSetAttribute(
          k.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, int(k.smem)));
  }
  return !var.kernels.empty() && var.spec.H > 0;
}

// ---- one call --------------------------------------------------------------

/// Device buffers of one variant (sized by the spec's bounds).
struct Device {
  CUdeviceptr q, k, v, kc, vc, out, positions, tokenSeq, cuSeqlens, contextLens;
  size_t nQ, nK, nV, nCache, nOut;
};

void allocDevice(const Spec &s, Device &d) {
  size_t w = s.bf16 ? 2 : 4;
  d.nQ = size_t(s.maxT - 1) * s.qs + size_t(s.H) * s.D;
  d.nK = size_t(s.maxT - 1) * s.ks + size_t(s.Hkv) * s.D;
  d.nV = size_t(s.maxT - 1) * s.vs + size_t(s.Hkv) * s.D;
  d.nOut = size_t(s.maxT - 1) * s.os + size_t(s.H) * s.D;
  d.nCache = size_t(s.maxB) * s.maxC * s.Hkv * s.D;
  CU_CHECK(cuMemAlloc(&d.q, d.nQ * w));
  CU_CHECK(cuMemAlloc(&d.k, d.nK * w));
  CU_CHECK(cuMemAlloc(&d.v, d.nV * w));
  CU_CHECK(cuMemAlloc(&d.out, d.nOut * w));
  CU_CHECK(cuMemAlloc(&d.kc, d.nCache * w));
  CU_CHECK(cuMemAlloc(&d.vc, d.nCache * w));
  CU_CHECK(cuMemAlloc(&d.positions, size_t(s.maxT) * 4));
  CU_CHECK(cuMemAlloc(&d.tokenSeq, size_t(s.maxT) * 4));
  CU_CHECK(cuMemAlloc(&d.cuSeqlens, size_t(s.maxB + 1) * 4));
  CU_CHECK(cuMemAlloc(&d.contextLens, size_t(s.maxB) * 4));
}
void freeDevice(Device &d) {
  for (CUdeviceptr p : {d.q, d.k, d.v, d.out, d.kc, d.vc, d.positions,
                        d.tokenSeq, d.cuSeqlens, d.contextLens})
    cuMemFree(p);
}

/// A call's sizes (the symbols of the grid expressions).
struct Launch {
  int tokens, batch, seq, context;
};

unsigned evalGrid(const mm01::engine::DimExpr &e, Launch l) {
  mm01::engine::DimEnv env;
  env.batch = l.batch;
  env.seq = l.seq;
  env.context = l.context;
  env.tokens = l.tokens;
  auto v = e.evaluate(env);
  if (!v || *v < 0 || *v > 0x7fffffff) {
    std::fprintf(stderr, "grid expression: %s\n",
                 v ? "out of range" : v.error().c_str());
    std::exit(1);
  }
  return unsigned(*v);
}

/// Launches kernel `only` of the variant, or all in order (-1).
void launchAll(const Variant &var, Device &d, Launch l, int only = -1) {
  std::map<std::string, void *> byName;
  int32_t tokens = l.tokens, batch = l.batch;
  byName["q"] = &d.q;
  byName["k"] = &d.k;
  byName["v"] = &d.v;
  byName["key_cache"] = &d.kc;
  byName["value_cache"] = &d.vc;
  byName["out"] = &d.out;
  byName["positions"] = &d.positions;
  byName["token_seq"] = &d.tokenSeq;
  byName["cu_seqlens"] = &d.cuSeqlens;
  byName["context_lens"] = &d.contextLens;
  byName["tokens"] = &tokens;
  byName["batch"] = &batch;
  for (size_t ki = 0; ki < var.kernels.size(); ++ki) {
    if (only >= 0 && int(ki) != only)
      continue;
    const KernelInfo &k = var.kernels[ki];
    std::vector<void *> params;
    for (const std::string &p : k.params) {
      auto it = byName.find(p);
      if (it == byName.end()) {
        std::fprintf(stderr, "kernel %s: unknown parameter '%s'\n",
                     k.name.c_str(), p.c_str());
        std::exit(1);
      }
      params.push_back(it->second);
    }
    CU_CHECK(cuLaunchKernel(k.fn, evalGrid(k.grid[0], l),
                            evalGrid(k.grid[1], l),
                            evalGrid(k.grid[2], l), k.block[0],
                            k.block[1], k.block[2], k.smem, nullptr,
                            params.data(), nullptr));
  }
}

struct CaseResult {
  bool ok = true;
  double cacheWorst = 0, outWorst = 0; // max err / tol
  double outMaxErr = 0;
  long checkedOut = 0;
};

/// Runs one call: sequences with `past[b]` cached and `fresh[b]` new tokens.
/// `checkTokens` < 0 checks every token, otherwise that many random ones.
CaseResult runCase(const Variant &var, Device &d, const std::vector<int> &past,
                   const std::vector<int> &fresh, std::mt19937 &rng,
                   int checkTokens = -1) {
  const Spec &s = var.spec;
  const int B = int(past.size()), H = s.H, Hkv = s.Hkv, D = s.D, R = s.R,
            half = R / 2, G = H / Hkv;
  std::vector<int32_t> cu(B + 1, 0), positions, tokenSeq, ctx(B);
  for (int b = 0; b < B; ++b) {
    cu[b + 1] = cu[b] + fresh[b];
    ctx[b] = past[b] + fresh[b];
    for (int t = 0; t < fresh[b]; ++t) {
      positions.push_back(past[b] + t);
      tokenSeq.push_back(b);
    }
  }
  const int T = cu[B];
  std::uniform_real_distribution<double> uni(-2.0, 2.0);
  const double nan = std::nan("");
  auto fill = [&](Arr &a, size_t n, long stride, long width) {
    a.bf16 = s.bf16;
    a.resize(n);
    for (size_t i = 0; i < n; ++i)
      a.set(i, (long(i) % stride) < width ? uni(rng) : nan);
  };
  Arr q, k, v, kc0, vc0, out0;
  fill(q, d.nQ, s.qs, long(H) * D);
  fill(k, d.nK, s.ks, long(Hkv) * D);
  fill(v, d.nV, s.vs, long(Hkv) * D);
  // Cached rows: random; rows past the context: large garbage (a masking
  // bug shows).
  kc0.bf16 = vc0.bf16 = out0.bf16 = s.bf16;
  kc0.resize(d.nCache);
  vc0.resize(d.nCache);
  for (size_t i = 0; i < d.nCache; ++i) {
    kc0.set(i, uni(rng) * 8);
    vc0.set(i, uni(rng) * 50);
  }
  for (int b = 0; b < B; ++b)
    for (long j = 0; j < past[b]; ++j)
      for (long e = 0; e < long(Hkv) * D; ++e) {
        size_t at = (size_t(b) * s.maxC + j) * Hkv * D + e;
        kc0.set(at, uni(rng));
        vc0.set(at, uni(rng));
      }
  out0.resize(d.nOut);
  for (size_t i = 0; i < d.nOut; ++i)
    out0.set(i, 1234.5);

  CU_CHECK(cuMemcpyHtoD(d.q, q.bytes.data(), q.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.k, k.bytes.data(), k.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.v, v.bytes.data(), v.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.kc, kc0.bytes.data(), kc0.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.vc, vc0.bytes.data(), vc0.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.out, out0.bytes.data(), out0.bytes.size()));
  CU_CHECK(cuMemcpyHtoD(d.positions, positions.data(), size_t(T) * 4));
  CU_CHECK(cuMemcpyHtoD(d.tokenSeq, tokenSeq.data(), size_t(T) * 4));
  CU_CHECK(cuMemcpyHtoD(d.cuSeqlens, cu.data(), size_t(B + 1) * 4));
  CU_CHECK(cuMemcpyHtoD(d.contextLens, ctx.data(), size_t(B) * 4));
  const int maxFresh = *std::max_element(fresh.begin(), fresh.end());
  const int maxCtx = *std::max_element(ctx.begin(), ctx.end());
  launchAll(var, d, {T, B, maxFresh, maxCtx});
  CU_CHECK(cuCtxSynchronize());
  Arr kc = kc0, vc = vc0, out = out0;
  CU_CHECK(cuMemcpyDtoH(kc.bytes.data(), d.kc, kc.bytes.size()));
  CU_CHECK(cuMemcpyDtoH(vc.bytes.data(), d.vc, vc.bytes.size()));
  CU_CHECK(cuMemcpyDtoH(out.bytes.data(), d.out, out.bytes.size()));

  CaseResult res;
  // RoPE tables as the kernels define them (f32 inv_freq and angle).
  std::vector<float> invFreq(half);
  for (int i = 0; i < half; ++i)
    invFreq[i] = 1.0f / std::pow(float(s.theta), float(2 * i) / float(R));
  auto rope = [&](auto get, int pos, std::vector<double> &y,
                  std::vector<double> &unc) {
    // y = RoPE(x) in f64 from f32 angles; unc = bound on the kernel's
    // deviation before rounding (f32 arithmetic, approximate sin/cos).
    y.assign(D, 0);
    unc.assign(D, 0);
    for (int c = 0; c < D; ++c) {
      double x = get(c);
      if (c >= R) {
        y[c] = x;
        continue;
      }
      int i = c < half ? c : c - half;
      double a = double(float(pos) * invFreq[i]);
      double cs = std::cos(a), sn = std::sin(a);
      double xp = get(c < half ? c + half : c - half);
      y[c] = c < half ? x * cs - xp * sn : x * cs + xp * sn;
      unc[c] = 4e-6 * (std::fabs(x) + std::fabs(xp));
    }
  };

  // 1. Cache rows.
  std::vector<char> written(size_t(s.maxB) * s.maxC, 0);
  std::vector<double> y, unc;
  for (int i = 0; i < T; ++i) {
    size_t rowAt = size_t(tokenSeq[i]) * s.maxC + positions[i];
    written[rowAt] = 1;
    for (int h = 0; h < Hkv; ++h) {
      size_t src = size_t(i) * s.ks + size_t(h) * D;
      size_t dst = rowAt * Hkv * D + size_t(h) * D;
      rope([&](int c) { return k.get(src + c); }, positions[i], y, unc);
      for (int c = 0; c < D; ++c) {
        double got = kc.get(dst + c);
        double tol = unc[c] + (s.bf16 ? std::ldexp(std::fabs(y[c]), -7)
                                      : 1e-6 * std::fabs(y[c]));
        double err = std::fabs(got - y[c]);
        res.cacheWorst = std::max(res.cacheWorst, tol > 0 ? err / tol : 0.0);
        if (!(err <= tol)) {
          if (res.ok)
            std::printf("    key_cache[%d, %d, %d, %d] = %g, expected %g "
                        "(tol %g)\n",
                        tokenSeq[i], positions[i], h, c, got, y[c], tol);
          res.ok = false;
        }
        size_t vsrc = size_t(i) * s.vs + size_t(h) * D + c;
        if (vc.get(dst + c) != v.get(vsrc)) {
          if (res.ok)
            std::printf("    value_cache[%d, %d, %d, %d] = %g, expected %g\n",
                        tokenSeq[i], positions[i], h, c, vc.get(dst + c),
                        v.get(vsrc));
          res.ok = false;
        }
      }
    }
  }
  long untouchedBad = 0;
  for (size_t r = 0; r < written.size(); ++r) {
    if (written[r])
      continue;
    for (size_t e = r * Hkv * D; e < (r + 1) * Hkv * D; ++e)
      untouchedBad += !kc.sameBits(kc0, e) || !vc.sameBits(vc0, e);
  }
  if (untouchedBad) {
    std::printf("    %ld cache elements outside the new rows changed\n",
                untouchedBad);
    res.ok = false;
  }

  // 2. Attention outputs, from the GPU's cache rows.
  std::vector<int> check(T);
  for (int i = 0; i < T; ++i)
    check[i] = i;
  if (checkTokens >= 0 && checkTokens < T) {
    std::shuffle(check.begin(), check.end(), rng);
    check.resize(checkTokens);
  }
  std::vector<char> outChecked(d.nOut, 0);
  std::vector<double> qr(D), qu(D), sc, du, p;
  // The tensor-core kernel's derived terms (see the file comment).
  const bool tensorCore = s.queryTile > 0;
  const double u = std::ldexp(1.0, -8), mmaStep = std::ldexp(1.0, -22);
  for (int i : check) {
    const int pos = positions[i], slot = tokenSeq[i];
    for (int h = 0; h < H; ++h) {
      const int kvh = h / G;
      size_t src = size_t(i) * s.qs + size_t(h) * D;
      rope([&](int c) { return q.get(src + c); }, pos, y, unc);
      for (int c = 0; c < D; ++c) {
        qr[c] = q.round(y[c]);
        // Uncertainty of the kernel's rounded q: its f32 deviation, and a
        // whole ulp where that deviation can cross a rounding boundary.
        double u = unc[c] + 1e-6 * std::fabs(y[c]);
        if (s.bf16) {
          double ulp = std::ldexp(1.0, std::ilogb(qr[c] != 0 ? qr[c] : 1e-30) - 7);
          double lo = std::fabs(y[c] - qr[c]);
          if (ulp / 2 - lo <= u * 2 + 1e-12)
            u += ulp;
        }
        qu[c] = u;
      }
      sc.assign(pos + 1, 0);
      du.assign(pos + 1, 0);
      double mx = -1e300;
      for (int j = 0; j <= pos; ++j) {
        size_t at = (size_t(slot) * s.maxC + j) * Hkv * D + size_t(kvh) * D;
        double dot = 0, dd = 0, mag = 0;
        for (int c = 0; c < D; ++c) {
          double kv = kc.get(at + c);
          dot += qr[c] * kv;
          dd += qu[c] * std::fabs(kv);
          mag += std::fabs(qr[c] * kv);
        }
        sc[j] = dot * s.scale;
        // f32 dot product and scale rounding: ~D ulps of the magnitude.
        du[j] = (dd + 1e-6 * mag) * s.scale;
        if (tensorCore) // MMA accumulation: <= 2 ulps per k16 step
          du[j] += (D / 16) * mmaStep * mag * s.scale;
        mx = std::max(mx, sc[j]);
      }
      double sum = 0;
      p.assign(pos + 1, 0);
      for (int j = 0; j <= pos; ++j)
        sum += (p[j] = std::exp(sc[j] - mx));
      for (int j = 0; j <= pos; ++j)
        p[j] /= sum;
      size_t oAt = size_t(i) * s.os + size_t(h) * D;
      for (int c = 0; c < D; ++c) {
        double o = 0, vmax = 0;
        for (int j = 0; j <= pos; ++j) {
          double vv =
              vc.get((size_t(slot) * s.maxC + j) * Hkv * D + size_t(kvh) * D + c);
          o += p[j] * vv;
          vmax = std::max(vmax, std::fabs(vv));
        }
        double first = 0;  // Σ p_j |Δs_j| |v_j - o|
        double spread = 0; // Σ p_j |v_j - o|
        double absAvg = 0; // Σ p_j |v_j|
        for (int j = 0; j <= pos; ++j) {
          double vv =
              vc.get((size_t(slot) * s.maxC + j) * Hkv * D + size_t(kvh) * D + c);
          first += p[j] * (du[j] + 2e-6) * std::fabs(vv - o);
          spread += p[j] * std::fabs(vv - o);
          absAvg += p[j] * std::fabs(vv);
        }
        // f32 accumulation, ex2.approx: relative 1e-5 of the largest value.
        double delta = 2 * first + 1e-5 * vmax;
        // Tensor cores: P rounded to bf16 (exact bound), P·V accumulation.
        if (tensorCore)
          delta += u / (1 - u) * spread +
                   std::ceil((pos + 1) / 16.0) * mmaStep * absAvg;
        double tol = s.bf16 ? std::ldexp(std::fabs(o) + delta, -8) + delta
                            : 1e-6 * std::fabs(o) + delta;
        double got = out.get(oAt + c);
        outChecked[oAt + c] = 1;
        double err = std::fabs(got - o);
        res.outMaxErr = std::max(res.outMaxErr, err);
        res.outWorst = std::max(res.outWorst, err / tol);
        ++res.checkedOut;
        if (!(err <= tol)) {
          if (res.ok)
            std::printf("    out[%d, %d, %d] = %g, expected %g (tol %g, "
                        "position %d, slot %d)\n",
                        i, h, c, got, o, tol, pos, slot);
          res.ok = false;
        }
      }
    }
  }
  // Elements of out that are no output of the call must be untouched.
  long outBad = 0;
  for (size_t e = 0; e < d.nOut; ++e) {
    bool isOut = long(e / s.os) < T && long(e % s.os) < long(H) * D;
    if (!isOut && !out.sameBits(out0, e))
      ++outBad;
  }
  if (outBad) {
    std::printf("    %ld elements of out outside the outputs changed\n", outBad);
    res.ok = false;
  }
  return res;
}


/// Median time (ms) of launches of kernel `only` (-1: the whole call),
/// after a warm-up; enough repetitions for about a second of GPU time.
double timeCall(const Variant &var, Device &d, Launch l, int only) {
  CUevent e0, e1;
  CU_CHECK(cuEventCreate(&e0, 0));
  CU_CHECK(cuEventCreate(&e1, 0));
  auto once = [&] {
    CU_CHECK(cuEventRecord(e0, nullptr));
    launchAll(var, d, l, only);
    CU_CHECK(cuEventRecord(e1, nullptr));
    CU_CHECK(cuEventSynchronize(e1));
    float ms = 0;
    CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
    return double(ms);
  };
  double first = once(); // warm-up
  int reps = int(std::clamp(1000.0 / std::max(first, 1e-3), 3.0, 50.0));
  for (int w = 0; w < 2; ++w)
    once();
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r)
    ts.push_back(once());
  cuEventDestroy(e0);
  cuEventDestroy(e1);
  return median(ts);
}

struct BenchShape {
  const char *what;
  std::vector<int> past, fresh;
};

/// MiniMax-01-shaped prefill calls (the FILE's H, Hkv, D) on the attention
/// kernel alone. Returns false on a failed check.
bool bench(const Variant &var, Device &d, std::mt19937 &rng,
           const std::vector<BenchShape> &shapes,
           std::vector<std::vector<double>> &msOut) {
  const Spec &s = var.spec;
  bool ok = true;
  std::vector<double> row;
  for (const BenchShape &sh : shapes) {
    int B = int(sh.fresh.size());
    int T = 0, maxFresh = 0, maxCtx = 0;
    double pairs = 0; // (query, key) pairs attended
    for (int b = 0; b < B; ++b) {
      T += sh.fresh[b];
      maxFresh = std::max(maxFresh, sh.fresh[b]);
      maxCtx = std::max(maxCtx, sh.past[b] + sh.fresh[b]);
      for (int i = 0; i < sh.fresh[b]; ++i)
        pairs += sh.past[b] + i + 1;
    }
    if (B > s.maxB || T > s.maxT || maxCtx > s.maxC) {
      row.push_back(-1);
      continue;
    }
    std::mt19937 crng(rng());
    CaseResult r = runCase(var, d, sh.past, sh.fresh, crng, 4);
    double ms = timeCall(var, d, {T, B, maxFresh, maxCtx},
                         int(var.kernels.size()) - 1);
    double flops = 4.0 * s.H * s.D * pairs;
    std::printf("  bench %-22s attention %9.3f ms  %7.2f TFLOP/s  (checked %ld "
                "values: %s, out err/tol %.3f)\n",
                sh.what, ms, flops / ms * 1e-9, r.checkedOut,
                r.ok ? "ok" : "FAIL", r.outWorst);
    ok &= r.ok;
    row.push_back(ms);
  }
  msOut.push_back(row);
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  bool benchMode = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--bench")
      benchMode = true;
    else
      files.push_back(a);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--bench] FILE.mlir...\n", argv[0]);
    return 1;
  }
  CUresult rc = cuInit(0);
  int count = 0;
  if (rc == CUDA_SUCCESS)
    rc = cuDeviceGetCount(&count);
  if (rc != CUDA_SUCCESS || count == 0) {
    std::printf("SKIP: no CUDA device (cuInit/cuDeviceGetCount: %d, %d "
                "devices)\n",
                int(rc), count);
    return kSkip;
  }
  CUdevice dev;
  CU_CHECK(cuDeviceGet(&dev, 0));
  char devName[256];
  CU_CHECK(cuDeviceGetName(devName, sizeof(devName), dev));
  std::printf("device: %s\n", devName);
  CUcontext ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
  CU_CHECK(cuCtxSetCurrent(ctx));

  std::mt19937 rng(20240611);
  bool allOk = true;
  const std::vector<BenchShape> shapes = {
      {"B=1 T=4096", {0}, {4096}},
      {"B=1 T=16384", {0}, {16384}},
      {"B=4 x T=2048", {0, 0, 0, 0}, {2048, 2048, 2048, 2048}},
  };
  std::vector<std::string> names;
  std::vector<bool> perToken;
  std::vector<std::vector<double>> ms;
  for (const std::string &f : files) {
    Variant var;
    if (!loadVariant(f, var))
      return 1;
    const Spec &s = var.spec;
    std::printf("%s: H=%d Hkv=%d D=%d R=%d %s strides q%ld k%ld v%ld o%ld "
                "bounds B%ld C%ld T%ld, %s\n",
                var.kernels.back().name.c_str(), s.H, s.Hkv, s.D, s.R,
                s.bf16 ? "bf16" : "f32", s.qs, s.ks, s.vs, s.os, s.maxB,
                s.maxC, s.maxT,
                s.queryTile ? "tensor-core kernel" : "per-token kernel");
    Device d;
    allocDevice(s, d);
    if (benchMode) {
      names.push_back(var.kernels.back().name);
      perToken.push_back(s.queryTile == 0);
      allOk &= bench(var, d, rng, shapes, ms);
      freeDevice(d);
      CU_CHECK(cuModuleUnload(var.module));
      continue;
    }
    struct C {
      const char *what;
      std::vector<int> past, fresh;
      int check;
    };
    const int mb = int(s.maxB), mc = int(s.maxC);
    std::vector<C> cases = {
        {"T=1 fresh", {0}, {1}, -1},
        {"prefill T=131", {0}, {131}, -1},
        {"packed 77, 130, 1 over 0, 5, 40 cached", {0, 5, 40}, {77, 130, 1}, -1},
        {"mixed prefill over cached prefixes", {0, 5, 64}, {37, 1, 100}, -1},
        {"decode mixed contexts", {0, 16, 299, mc - 1}, {1, 1, 1, 1}, -1},
        {"chunked prefill 2 seqs", {200, 33}, {77, 129}, -1},
        {"chunked prefill T=333 after 517", {517}, {333}, -1},
    };
    for (C &c : cases) {
      c.past.resize(std::min<size_t>(c.past.size(), size_t(mb)));
      c.fresh.resize(c.past.size());
      bool fits = true;
      for (size_t b = 0; b < c.past.size(); ++b)
        fits &= c.past[b] + c.fresh[b] <= mc;
      if (!fits)
        continue;
      std::mt19937 crng(rng());
      CaseResult r = runCase(var, d, c.past, c.fresh, crng, c.check);
      std::printf("  %-40s %s  cache err/tol %.3f  out err/tol %.3f "
                  "(max |err| %.3g over %ld values)\n",
                  c.what, r.ok ? "ok  " : "FAIL", r.cacheWorst, r.outWorst,
                  r.outMaxErr, r.checkedOut);
      allOk &= r.ok;
    }
    freeDevice(d);
    CU_CHECK(cuModuleUnload(var.module));
  }
  if (benchMode) {
    // Each FILE against the first per-token-kernel FILE, same shapes.
    int base = -1;
    for (size_t i = 0; i < names.size() && base < 0; ++i)
      if (perToken[i])
        base = int(i);
    std::printf("summary (%s): attention kernel ms per call [speed-up vs %s]\n",
                devName, base >= 0 ? names[base].c_str() : "-");
    for (size_t i = 0; i < names.size(); ++i) {
      std::printf("  %-52s", names[i].c_str());
      for (size_t k = 0; k < shapes.size(); ++k) {
        double t = ms[i][k];
        if (t < 0) {
          std::printf("  %s: -", shapes[k].what);
          continue;
        }
        std::printf("  %s: %.3f", shapes[k].what, t);
        if (base >= 0 && ms[base][k] > 0)
          std::printf(" [%.1fx]", ms[base][k] / t);
      }
      std::printf("\n");
    }
  }
  std::printf("%s\n", allOk ? "PASS" : "FAIL");
  return allOk ? 0 : 1;
}
