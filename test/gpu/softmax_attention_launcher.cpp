//===- softmax_attention_launcher.cpp - run the softmax attention kernels -===//
//
// MLIR-free GPU test of the kernels that mm01-opt
// --mm01-test-softmax-attention-kernels builds (and the GPU lowering compiles
// to a cubin). Links the CUDA driver API only. Each FILE.mlir holds one
// gpu.binary (its cubin) and the module attribute
// `mm01.softmax_attention.manifest` (the spec, and per kernel: name, grid
// expressions, block, parameter names). The launcher binds the parameters by
// name, as the engine does, and runs random cases:
//   * packed prefill with mixed prompt lengths over cached prefixes, awkward
//     lengths, T = 1, decode (one token per sequence, mixed contexts);
//   * the cache rows of the new tokens are checked against a float64 RoPE
//     (one bf16 ulp: the kernel rounds an f32 value), every other cache row
//     must be untouched, strided gaps of q/k/v hold NaN (must not be read)
//     and those of out must not be written;
//   * out against a float64 reference (scores, softmax, PV) computed from
//     the GPU's cache rows, tolerance = bf16 rounding of the output plus the
//     first-order effect of f32 arithmetic / approximate sin, cos, ex2 and
//     of the ties where RoPE(q) may round either way.
// --bench additionally times decode and prefill of the FILEs whose bounds
// allow a 4096-token context.
//
// usage: mm01-gpu-softmax-attention [--bench] FILE.mlir...
// Exit: 0 pass, 1 failure, 77 skip (no driver / no GPU).
//
//===----------------------------------------------------------------------===//
#include "GpuTestSupport.h"

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
  std::string grid[3];
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
          s.ks >> s.vs >> s.os >> s.maxB >> s.maxC >> s.maxT;
      s.bf16 = elt == "bf16";
    } else if (tag == "kernel") {
      KernelInfo k;
      ls >> k.name >> k.grid[0] >> k.grid[1] >> k.grid[2] >> k.block[0] >>
          k.block[1] >> k.block[2] >> k.smem;
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
  for (KernelInfo &k : var.kernels)
    CU_CHECK(cuModuleGetFunction(&k.fn, var.module, k.name.c_str()));
  return !var.kernels.empty() && var.spec.H > 0;
}

unsigned evalGrid(const std::string &e, int tokens, int batch) {
  if (e == "tokens")
    return unsigned(tokens);
  if (e == "batch")
    return unsigned(batch);
  char *end = nullptr;
  long v = std::strtol(e.c_str(), &end, 10);
  if (!end || *end) {
    std::fprintf(stderr, "unsupported grid expression '%s'\n", e.c_str());
    std::exit(1);
  }
  return unsigned(v);
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

struct Launch {
  int tokens, batch;
};

void launchAll(const Variant &var, Device &d, Launch l) {
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
  for (const KernelInfo &k : var.kernels) {
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
    CU_CHECK(cuLaunchKernel(k.fn, evalGrid(k.grid[0], l.tokens, l.batch),
                            evalGrid(k.grid[1], l.tokens, l.batch),
                            evalGrid(k.grid[2], l.tokens, l.batch), k.block[0],
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
  launchAll(var, d, {T, B});
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
        double first = 0; // Σ p_j |Δs_j| |v_j - o|
        for (int j = 0; j <= pos; ++j) {
          double vv =
              vc.get((size_t(slot) * s.maxC + j) * Hkv * D + size_t(kvh) * D + c);
          first += p[j] * (du[j] + 2e-6) * std::fabs(vv - o);
        }
        // f32 accumulation, ex2.approx: relative 1e-5 of the largest value.
        double delta = 2 * first + 1e-5 * vmax;
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


/// Median time (µs) of the call (both kernels) over `reps` launches.
double timeCall(const Variant &var, Device &d, Launch l, int reps) {
  CUevent e0, e1;
  CU_CHECK(cuEventCreate(&e0, 0));
  CU_CHECK(cuEventCreate(&e1, 0));
  for (int w = 0; w < 3; ++w)
    launchAll(var, d, l);
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) {
    CU_CHECK(cuEventRecord(e0, nullptr));
    launchAll(var, d, l);
    CU_CHECK(cuEventRecord(e1, nullptr));
    CU_CHECK(cuEventSynchronize(e1));
    float ms = 0;
    CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
    ts.push_back(ms * 1e3);
  }
  cuEventDestroy(e0);
  cuEventDestroy(e1);
  return median(ts);
}

} // namespace

int main(int argc, char **argv) {
  bool bench = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--bench")
      bench = true;
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
  for (const std::string &f : files) {
    Variant var;
    if (!loadVariant(f, var))
      return 1;
    const Spec &s = var.spec;
    std::printf("%s: H=%d Hkv=%d D=%d R=%d %s strides q%ld k%ld v%ld o%ld "
                "bounds B%ld C%ld T%ld\n",
                var.kernels.back().name.c_str(), s.H, s.Hkv, s.D, s.R,
                s.bf16 ? "bf16" : "f32", s.qs, s.ks, s.vs, s.os, s.maxB,
                s.maxC, s.maxT);
    Device d;
    allocDevice(s, d);
    struct C {
      const char *what;
      std::vector<int> past, fresh;
      int check;
    };
    const int mb = int(s.maxB), mc = int(s.maxC);
    std::vector<C> cases = {
        {"T=1 fresh", {0}, {1}, -1},
        {"prefill T=131", {0}, {131}, -1},
        {"mixed prefill over cached prefixes", {0, 5, 64}, {37, 1, 100}, -1},
        {"decode mixed contexts", {0, 16, 299, mc - 1}, {1, 1, 1, 1}, -1},
        {"chunked prefill 2 seqs", {200, 33}, {77, 129}, -1},
    };
    for (C &c : cases) {
      c.past.resize(std::min<size_t>(c.past.size(), size_t(mb)));
      c.fresh.resize(c.past.size());
      std::mt19937 crng(rng());
      CaseResult r = runCase(var, d, c.past, c.fresh, crng, c.check);
      std::printf("  %-40s %s  cache err/tol %.3f  out err/tol %.3f "
                  "(max |err| %.3g over %ld values)\n",
                  c.what, r.ok ? "ok  " : "FAIL", r.cacheWorst, r.outWorst,
                  r.outMaxErr, r.checkedOut);
      allOk &= r.ok;
    }
    // Timed: the specs with model-sized bounds.
    if (bench && allOk && s.maxC >= 4096) {
      // Decode: one token per sequence over a long context.
      for (int B : {1, 8}) {
        if (B > mb)
          continue;
        int ctxLen = std::min(mc, 4096);
        std::vector<int> past(B, ctxLen - 1), fresh(B, 1);
        std::mt19937 crng(rng());
        CaseResult r = runCase(var, d, past, fresh, crng, 2);
        double us = timeCall(var, d, {B, B}, 50);
        double bytes = double(B) * ctxLen * s.Hkv * s.D * 2 * (s.bf16 ? 2 : 4);
        std::printf("  bench decode B=%d context=%d: %.1f us, %.0f GB/s on the "
                    "KV rows (%s)\n",
                    B, ctxLen, us, bytes / us * 1e-3, r.ok ? "checked" : "FAIL");
        allOk &= r.ok;
      }
      for (int T : {512, 2048}) {
        if (T > s.maxT || T > mc)
          continue;
        std::vector<int> past{0}, fresh{T};
        std::mt19937 crng(rng());
        CaseResult r = runCase(var, d, past, fresh, crng, 8);
        double us = timeCall(var, d, {T, 1}, 10);
        double flops = 4.0 * s.H * s.D * (double(T) * (T + 1) / 2);
        std::printf("  bench prefill T=%d: %.1f us, %.2f TFLOP/s (%s)\n", T, us,
                    flops / us * 1e-6, r.ok ? "checked" : "FAIL");
        allOk &= r.ok;
      }
    }
    freeDevice(d);
    CU_CHECK(cuModuleUnload(var.module));
  }
  std::printf("%s\n", allOk ? "PASS" : "FAIL");
  return allOk ? 0 : 1;
}
