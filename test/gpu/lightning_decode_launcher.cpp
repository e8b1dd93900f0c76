//===- lightning_decode_launcher.cpp - run the compiled decode kernels ----===//
//
// MLIR-free GPU test of the kernels that mm01-opt --mm01-gpu-codegen
// generates from test/gpu/lightning_decode.mlir. Links the CUDA driver API
// only. Reads the cubin out of the `gpu.binary` of the pipeline's output
// (.mlir text, `bin = "..."`), loads it with cuModuleLoadData, and for each
// (activation type, H, D, B):
//   * draws random q, k, v (rounded to the activation type) and state,
//   * runs the kernel once, checks o and the new state against a double
//     precision CPU reference with a rounding-derived tolerance,
//   * times back-to-back launches with CUDA events (warm-up, median of many
//     batches, rotating over enough input sets to miss L2) and prints the
//     effective bandwidth on the bytes that must move.
//
// usage: mm01-gpu-lightning-decode [--quick] [--bench] [--io DIR:H:D:B]...
//            FILE.mlir[:COLS:THREADS]...
//   --io DIR:H:D:B (repeatable; used by test/benchmarks/): instead of the
//   built-in cases, run the bf16 kernel of every FILE on the inputs in
//   DIR (raw little-endian, row-major: q.bin, k.bin, v.bin bf16 [B,1,H,D],
//   s.bin f32 [B,H,D,D]), write the first one's outputs of that step to DIR/o.out
//   (bf16) and DIR/s.out (f32), check and time as above, time the same
//   calls replayed from a CUDA graph too (`graph_us`), and print a line
//   `RESULT {json}`.
//   FILE.mlir:gen — a kernel of the engine generator (buildLightningDecode,
//   built by mm01-opt --mm01-test-lightning-decode-kernel): bare-pointer
//   parameters bound by name, strided q/k/v (the interleaved QKV layout binds
//   them into one buffer at offsets 0, D, 2D), SiLU on load; shapes, strides
//   and tiling come from the module attribute `mm01.lightning_decode`.
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
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace mm01::gputest;



// ---- cubin extraction from the gpu.binary text ---------------------------

/// The bytes of the first `bin = "..."` after `gpu.binary` in `text`
/// (MLIR prints string attributes with \\ for a backslash and \XX for
/// any other non-printable or quote byte).
bool extractBinary(const std::string &text, std::string &out) {
  size_t pos = text.find("gpu.binary");
  if (pos == std::string::npos)
    return false;
  pos = text.find("bin = \"", pos);
  if (pos == std::string::npos)
    return false;
  return unescapeMLIRString(text, pos + 7, out);
}

// ---- bf16 ----------------------------------------------------------------


// ---- memref descriptor ABI of the kernels (rank 4) -----------------------
// convert-gpu-to-nvvm expands each memref argument into: allocated ptr,
// aligned ptr, offset, sizes[4], strides[4].
struct MemRef4 {
  CUdeviceptr allocated, aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
  void set(CUdeviceptr p, int64_t s0, int64_t s1, int64_t s2, int64_t s3) {
    allocated = aligned = p;
    offset = 0;
    sizes[0] = s0, sizes[1] = s1, sizes[2] = s2, sizes[3] = s3;
    strides[3] = 1;
    strides[2] = s3;
    strides[1] = s2 * s3;
    strides[0] = s1 * s2 * s3;
  }
  void push(std::vector<void *> &params) {
    params.push_back(&allocated);
    params.push_back(&aligned);
    params.push_back(&offset);
    for (int i = 0; i < 4; ++i)
      params.push_back(&sizes[i]);
    for (int i = 0; i < 4; ++i)
      params.push_back(&strides[i]);
  }
};

struct Variant {
  std::string file;
  int cols = 64, threads = 256;
  CUmodule module = nullptr;
  // FILE:gen (engine generator): from the `mm01.lightning_decode` manifest.
  bool gen = false;
  std::string kernel, params;
  int H = 0, D = 0, silu = 0;
  bool bf16 = true;
  long long q[2] = {}, k[2] = {}, v[2] = {}, out[2] = {}; // token, head strides
  // The small-batch kernel (`mm01.lightning_decode_small`), run instead for
  // calls of at most smallBatchMax sequences, as the engine's launch
  // conditions do (0: none).
  int smallBatchMax = 0, smallCols = 0, smallThreads = 0;
  std::string smallKernel;

  /// Reads the manifest (and the small-batch one, if any) out of the .mlir
  /// text.
  bool parseManifest(const std::string &text) {
    auto attr = [&](const char *key) {
      std::string k = std::string(key) + " = \"";
      size_t pos = text.find(k);
      if (pos == std::string::npos)
        return std::string();
      pos += k.size();
      return text.substr(pos, text.find('"', pos) - pos);
    };
    const char *format = "kernel=%127s H=%d D=%d elt=%7s silu=%d cols=%d threads=%d "
                         "q=%lld,%lld k=%lld,%lld v=%lld,%lld out=%lld,%lld "
                         "grid=%*s params=%63s";
    std::string m = attr("mm01.lightning_decode");
    char name[128], elt[8], par[64];
    if (m.empty() ||
        std::sscanf(m.c_str(), format, name, &H, &D, elt, &silu, &cols, &threads, &q[0], &q[1],
                    &k[0], &k[1], &v[0], &v[1], &out[0], &out[1], par) != 16)
      return false;
    kernel = name;
    params = par;
    bf16 = std::string(elt) == "bf16";
    std::string sm = attr("mm01.lightning_decode_small");
    if (sm.empty())
      return true;
    // Same operands and strides; its own kernel, tiling and bound.
    Variant o = *this;
    size_t at = sm.find(" batch_max=");
    if (at == std::string::npos || std::sscanf(sm.c_str() + at, " batch_max=%d", &smallBatchMax) != 1 ||
        std::sscanf(sm.substr(0, at).c_str(), format, name, &o.H, &o.D, elt, &o.silu,
                    &smallCols, &smallThreads, &o.q[0], &o.q[1], &o.k[0], &o.k[1], &o.v[0],
                    &o.v[1], &o.out[0], &o.out[1], par) != 16 ||
        o.H != H || o.D != D || o.silu != silu || par != params || smallBatchMax < 1)
      return false;
    smallKernel = name;
    return true;
  }
  /// The kernel a call of B sequences runs.
  Variant forBatch(int B) const {
    Variant r = *this;
    if (gen && smallBatchMax >= B) {
      r.kernel = smallKernel;
      r.cols = smallCols;
      r.threads = smallThreads;
    }
    return r;
  }
  /// q, k, v at offsets 0, D, 2D of one buffer (the model's QKV layout).
  bool interleaved() const { return gen && q[1] == 3LL * D && k[1] == q[1]; }
};

struct Case {
  bool bf16;
  int H, D, B;
  bool check;
  std::string io = {}; // --io: directory with the inputs (empty: random)
  bool writeOutputs = true; // --io: write o.out / s.out (the first variant's)
};

bool readFile(const std::string &path, void *data, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  in.read(static_cast<char *>(data), std::streamsize(bytes));
  return in && size_t(in.gcount()) == bytes && in.peek() == EOF;
}
bool writeFile(const std::string &path, const void *data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(data), std::streamsize(bytes));
  return bool(out);
}

struct Result {
  std::string kernel;
  int B, H, D;
  bool bf16;
  double oErr = 0, sErr = 0, worstRatio = 0; // normwise rel errors, max err/tol
  bool ok = true;
  double us = 0, gbps = 0;
  double graphUs = -1; // per call, replayed from a CUDA graph (-1: not timed)
  int sets = 1;
};


/// One case on `var`, the kernel its call runs (Variant::forBatch).
Result runCase(const Variant &var, const Case &c, std::mt19937 &rng) {
  Result res;
  res.B = c.B, res.H = c.H, res.D = c.D, res.bf16 = c.bf16;
  const int B = c.B, H = c.H, D = c.D;
  char name[128];
  std::snprintf(name, sizeof(name), "lightning_decode_h%d_d%d_%s_c%d_t%d", H,
                D, c.bf16 ? "bf16" : "f32", var.cols, var.threads);
  res.kernel = var.gen ? var.kernel : name;
  std::strncpy(name, res.kernel.c_str(), sizeof(name) - 1);
  CUfunction fn;
  CU_CHECK(cuModuleGetFunction(&fn, var.module, name));

  const size_t nAct = size_t(B) * H * D, nState = size_t(B) * H * D * D;
  const size_t eltBytes = c.bf16 ? 2 : 4;
  const size_t actBytes = nAct * eltBytes, stateBytes = nState * 4;

  // Host inputs, rounded to the activation type; `*f` hold the exact values
  // the GPU sees.
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  std::vector<float> qf(nAct), kf(nAct), vf(nAct), s0(nState);
  std::vector<uint8_t> qb(actBytes), kb(actBytes), vb(actBytes);
  auto fill = [&](std::vector<float> &f, std::vector<uint8_t> &bytes) {
    for (size_t i = 0; i < f.size(); ++i) {
      float x = uni(rng);
      if (c.bf16) {
        uint16_t h = toBF16(x);
        f[i] = fromBF16(h);
        std::memcpy(&bytes[2 * i], &h, 2);
      } else {
        f[i] = x;
        std::memcpy(&bytes[4 * i], &x, 4);
      }
    }
  };
  if (c.io.empty()) {
    fill(qf, qb);
    fill(kf, kb);
    fill(vf, vb);
    for (auto &x : s0)
      x = uni(rng);
  } else { // given inputs (bf16 activations)
    auto load = [&](const char *name, std::vector<float> &f,
                    std::vector<uint8_t> &bytes) {
      std::string path = c.io + "/" + name;
      if (!readFile(path, bytes.data(), bytes.size())) {
        std::fprintf(stderr, "%s: cannot read %zu bytes\n", path.c_str(),
                     bytes.size());
        std::exit(1);
      }
      for (size_t i = 0; i < f.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, &bytes[2 * i], 2);
        f[i] = fromBF16(h);
      }
    };
    load("q.bin", qf, qb);
    load("k.bin", kf, kb);
    load("v.bin", vf, vb);
    if (!readFile(c.io + "/s.bin", s0.data(), stateBytes)) {
      std::fprintf(stderr, "%s/s.bin: cannot read %zu bytes\n", c.io.c_str(),
                   stateBytes);
      std::exit(1);
    }
  }

  // The values the kernel computes with: SiLU (f64, rounded to the
  // activation type) when the kernel applies it on load. The GPU's SiLU (f32,
  // ex2.approx) may round to a neighbour: relative `delta` per value.
  const double delta = !var.silu ? 0 : c.bf16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -20);
  std::vector<float> qr = qf, kr = kf, vr = vf;
  if (var.silu)
    for (auto *f : {&qr, &kr, &vr})
      for (float &x : *f) {
        double y = double(x) / (1.0 + std::exp(-double(x)));
        x = c.bf16 ? fromBF16(toBF16(float(y))) : float(y);
      }

  // Device images: [B, 1, H, D] dense, or (FILE:gen) the strided layout of
  // the manifest, q/k/v in one buffer at offsets 0, D, 2D when interleaved.
  size_t qkvBytes[3] = {actBytes, actBytes, actBytes}, outBytes = actBytes;
  size_t offset[3] = {0, 0, 0};
  std::vector<uint8_t> img[3] = {qb, kb, vb};
  if (var.gen) {
    const long long *st[3] = {var.q, var.k, var.v};
    for (int a = 0; a < 3; ++a) {
      qkvBytes[a] = size_t(B) * st[a][0] * eltBytes;
      offset[a] = var.interleaved() ? size_t(a) * D * eltBytes : 0;
      img[a].assign(qkvBytes[a], 0);
    }
    for (int a = 0; a < 3; ++a) {
      const std::vector<uint8_t> &src = a == 0 ? qb : a == 1 ? kb : vb;
      std::vector<uint8_t> &dst = img[var.interleaved() ? 0 : a];
      for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
          std::memcpy(&dst[offset[a] + (b * st[a][0] + h * st[a][1]) * eltBytes],
                      &src[(size_t(b) * H + h) * D * eltBytes], D * eltBytes);
    }
    outBytes = size_t(B) * var.out[0] * eltBytes;
  }
  const bool shared = var.interleaved();

  // Enough input sets that the timed loop does not run out of L2 (50 MB).
  const size_t setBytes = 4 * actBytes + stateBytes;
  int sets = c.check ? int(std::min<size_t>(64, (256u << 20) / setBytes + 1)) : 1;
  res.sets = sets;
  std::vector<CUdeviceptr> dq(sets), dk(sets), dv(sets), ds(sets), dout(sets);
  for (int i = 0; i < sets; ++i) {
    CUdeviceptr *act[3] = {&dq[i], &dk[i], &dv[i]};
    for (int a = 0; a < 3; ++a) {
      if (shared && a > 0) { // views of the q buffer
        *act[a] = dq[i] + offset[a];
        continue;
      }
      CU_CHECK(cuMemAlloc(act[a], qkvBytes[a]));
      CU_CHECK(cuMemcpyHtoD(*act[a], img[a].data(), qkvBytes[a]));
    }
    CU_CHECK(cuMemAlloc(&dout[i], outBytes));
    CU_CHECK(cuMemAlloc(&ds[i], stateBytes));
    CU_CHECK(cuMemcpyHtoD(ds[i], s0.data(), stateBytes));
    CU_CHECK(cuMemsetD8(dout[i], 0xFF, outBytes)); // poison: NaN
  }

  std::vector<MemRef4> desc(5 * sets);
  std::vector<std::vector<void *>> params(sets);
  for (int i = 0; i < sets && var.gen; ++i) // bare pointers, manifest order
    params[i] = {&dq[i], &dk[i], &dv[i], &ds[i], &dout[i]};
  for (int i = 0; i < sets && !var.gen; ++i) {
    MemRef4 *d = &desc[5 * i];
    d[0].set(dq[i], B, 1, H, D);
    d[1].set(dk[i], B, 1, H, D);
    d[2].set(dv[i], B, 1, H, D);
    d[3].set(ds[i], B, H, D, D);
    d[4].set(dout[i], B, 1, H, D);
    for (int a = 0; a < 5; ++a)
      d[a].push(params[i]);
  }
  const unsigned gx = unsigned(B * H), gy = unsigned(D / var.cols);
  auto launch = [&](int set) {
    CU_CHECK(cuLaunchKernel(fn, gx, gy, 1, unsigned(var.threads), 1, 1, 0,
                            nullptr, params[set].data(), nullptr));
  };

  // ---- correctness: one step from s0 on set 0 ----
  // (the driver API reports launch errors from cuLaunchKernel and execution
  // errors from the next synchronizing call; both are checked)
  launch(0);
  CU_CHECK(cuCtxSynchronize());
  std::vector<uint8_t> ob(actBytes), oimg(outBytes);
  std::vector<float> s1(nState);
  CU_CHECK(cuMemcpyDtoH(oimg.data(), dout[0], outBytes));
  for (int b = 0; b < B; ++b) // back to [B, H, D]
    for (int h = 0; h < H; ++h) {
      size_t at = var.gen ? size_t(b) * var.out[0] + size_t(h) * var.out[1]
                          : (size_t(b) * H + h) * D;
      std::memcpy(&ob[(size_t(b) * H + h) * D * eltBytes],
                  &oimg[at * eltBytes], D * eltBytes);
    }
  CU_CHECK(cuMemcpyDtoH(s1.data(), ds[0], stateBytes));
  if (!c.io.empty() && c.writeOutputs &&
      !(writeFile(c.io + "/o.out", ob.data(), actBytes) &&
                         writeFile(c.io + "/s.out", s1.data(), stateBytes))) {
    std::fprintf(stderr, "%s: cannot write o.out / s.out\n", c.io.c_str());
    std::exit(1);
  }

  const double eps = std::ldexp(1.0, -24);
  const double gamma = 2.0 * (D + 4) * eps;            // f32 dot of D terms
  const double rho = c.bf16 ? std::ldexp(1.0, -8) : 0; // final bf16 rounding
  double oNum = 0, oDen = 0, sNum = 0, sDen = 0, worst = 0;
  bool ok = true;
  std::vector<double> sref(D * D), mag2(D * D);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const double lambda = std::pow(2.0, -8.0 * (h + 1) / H);
      const double decay = std::exp(-lambda);
      const size_t a0 = (size_t(b) * H + h) * D;
      const size_t s0i = (size_t(b) * H + h) * size_t(D) * D;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          double sOld = s0[s0i + size_t(i) * D + j];
          double kv = double(kr[a0 + i]) * vr[a0 + j];
          double ref = decay * sOld + kv;
          sref[size_t(i) * D + j] = ref;
          mag2[size_t(i) * D + j] = std::fabs(decay * sOld) + std::fabs(kv);
          double got = s1[s0i + size_t(i) * D + j];
          double err = std::fabs(got - ref);
          double tol = 4 * eps * (std::fabs(sOld) + std::fabs(kv)) +
                       2.01 * delta * std::fabs(kv) + 1e-30;
          if (!(err <= tol))
            ok = false;
          worst = std::max(worst, std::isnan(got) ? 1e30 : err / tol);
          sNum += err * err;
          sDen += ref * ref;
        }
      for (int j = 0; j < D; ++j) {
        double ref = 0, mag = 0, magIn = 0;
        for (int i = 0; i < D; ++i) {
          double t = double(qr[a0 + i]) * sref[size_t(i) * D + j];
          ref += t;
          mag += std::fabs(t);
          magIn += std::fabs(double(qr[a0 + i])) * mag2[size_t(i) * D + j];
        }
        double got;
        if (c.bf16) {
          uint16_t hbits;
          std::memcpy(&hbits, &ob[2 * (a0 + j)], 2);
          got = fromBF16(hbits);
        } else {
          float f;
          std::memcpy(&f, &ob[4 * (a0 + j)], 4);
          got = f;
        }
        double err = std::fabs(got - ref);
        // |o - ref| <= (1+rho)|o32 - ref| + rho|ref|, |o32 - ref| <= gamma*mag
        double tol = (1 + rho) * (gamma * mag + 3.1 * delta * magIn) +
                     rho * std::fabs(ref) + 1e-30;
        if (!(err <= tol))
          ok = false;
        worst = std::max(worst, std::isnan(got) ? 1e30 : err / tol);
        oNum += err * err;
        oDen += ref * ref;
      }
    }
  res.oErr = std::sqrt(oNum / oDen);
  res.sErr = std::sqrt(sNum / sDen);
  res.worstRatio = worst;
  res.ok = ok;

  // ---- timing: batches of back-to-back launches, rotating the sets ----
  CUevent e0, e1;
  CU_CHECK(cuEventCreate(&e0, CU_EVENT_DEFAULT));
  CU_CHECK(cuEventCreate(&e1, CU_EVENT_DEFAULT));
  const int perBatch = 20, batches = c.check ? 50 : 20;
  // Warm-up: 3 batches; for the benchmark (--io) also at least 0.5 s of
  // back-to-back calls, as it warms fla (warmUp).
  warmUp([&](int w) { launch(w % sets); }, 3 * perBatch, c.io.empty() ? 0.0 : 0.5,
         /*syncEvery=*/64);
  std::vector<double> times;
  int next = 0;
  for (int r = 0; r < batches; ++r) {
    CU_CHECK(cuEventRecord(e0, nullptr));
    for (int i = 0; i < perBatch; ++i)
      launch(next++ % sets);
    CU_CHECK(cuEventRecord(e1, nullptr));
    CU_CHECK(cuEventSynchronize(e1));
    float ms = 0;
    CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
    times.push_back(1e3 * ms / perBatch);
  }
  res.us = median(times);
  const double bytes = 2.0 * stateBytes + 4.0 * actBytes;
  res.gbps = bytes / (res.us * 1e-6) / 1e9;

  // ---- --io (the benchmark): the same calls replayed from a CUDA graph
  // (device time without launch gaps, as the benchmark times fla's
  // graph): max(20, sets) launches rotating the sets per replay; -1 where
  // capture fails ----
  if (!c.io.empty()) {
    char what[64];
    std::snprintf(what, sizeof(what), "decode B=%d H=%d", B, H);
    const double ms = graphMsPerCall(std::max(perBatch, sets), batches, what,
                                     [&](CUstream cs, int i) {
                                       return cuLaunchKernel(fn, gx, gy, 1, unsigned(var.threads),
                                                             1, 1, 0, cs, params[i % sets].data(),
                                                             nullptr);
                                     });
    res.graphUs = ms > 0 ? 1e3 * ms : -1;
  }

  CU_CHECK(cuEventDestroy(e0));
  CU_CHECK(cuEventDestroy(e1));
  for (int i = 0; i < sets; ++i) {
    cuMemFree(dq[i]);
    if (!shared) {
      cuMemFree(dk[i]);
      cuMemFree(dv[i]);
    }
    cuMemFree(dout[i]);
    cuMemFree(ds[i]);
  }
  return res;
}

} // namespace

int main(int argc, char **argv) {
  bool quick = false, bench = false;
  std::vector<Variant> variants;
  std::vector<Case> ioCases;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
      continue;
    }
    if (a == "--bench") {
      bench = true;
      continue;
    }
    if (a == "--io" && i + 1 < argc) {
      std::string spec = argv[++i];
      size_t c1 = spec.rfind(':'), c2 = spec.rfind(':', c1 - 1),
             c3 = spec.rfind(':', c2 - 1);
      Case c{true, 0, 0, 0, true, spec.substr(0, c3)};
      if (c1 == std::string::npos || c2 == std::string::npos ||
          c3 == std::string::npos ||
          std::sscanf(spec.c_str() + c3 + 1, "%d:%d:%d", &c.H, &c.D, &c.B) != 3 ||
          c.H <= 0 || c.D <= 0 || c.B <= 0) {
        std::fprintf(stderr, "bad --io spec '%s' (DIR:H:D:B)\n", spec.c_str());
        return 2;
      }
      ioCases.push_back(c);
      continue;
    }
    Variant v;
    size_t c1 = a.find(':');
    v.file = a.substr(0, c1);
    v.gen = c1 != std::string::npos && a.substr(c1) == ":gen";
    if (c1 != std::string::npos && !v.gen &&
        std::sscanf(a.c_str() + c1 + 1, "%d:%d", &v.cols, &v.threads) != 2) {
      std::fprintf(stderr, "bad variant spec '%s' (FILE[:COLS:THREADS])\n",
                   a.c_str());
      return 2;
    }
    variants.push_back(v);
  }
  if (variants.empty()) {
    std::fprintf(stderr,
                 "usage: %s [--quick] [--bench] [--io DIR:H:D:B]... "
                 "FILE.mlir[:COLS:THREADS]...\n",
                 argv[0]);
    return 2;
  }

  // Skip cleanly without a driver or a GPU.
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
  int major = 0, minor = 0, sms = 0;
  CU_CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
  CU_CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
  CU_CHECK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", devName, major, minor, sms);
  if (major != 9) {
    std::printf("SKIP: the kernels are built for sm_90a\n");
    return kSkip;
  }
  CUcontext ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
  CU_CHECK(cuCtxSetCurrent(ctx));

  for (Variant &v : variants) {
    std::ifstream in(v.file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", v.file.c_str());
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cubin;
    if (!extractBinary(ss.str(), cubin) || cubin.size() < 4 ||
        cubin.compare(0, 4, "\x7f" "ELF") != 0) {
      std::fprintf(stderr, "%s: no cubin (gpu.binary bin = \"\\7FELF...\")\n",
                   v.file.c_str());
      return 1;
    }
    if (v.gen && !(v.parseManifest(ss.str()) && v.params == "q,k,v,state,out")) {
      std::fprintf(stderr, "%s: no mm01.lightning_decode manifest with params "
                   "q,k,v,state,out\n", v.file.c_str());
      return 1;
    }
    CU_CHECK(cuModuleLoadData(&v.module, cubin.data()));
  }

  // Copy bandwidth ceiling (device-to-device, read + write bytes).
  {
    const size_t n = size_t(1) << 30;
    CUdeviceptr a, b;
    CU_CHECK(cuMemAlloc(&a, n));
    CU_CHECK(cuMemAlloc(&b, n));
    CU_CHECK(cuMemsetD8(a, 1, n));
    CUevent e0, e1;
    CU_CHECK(cuEventCreate(&e0, 0));
    CU_CHECK(cuEventCreate(&e1, 0));
    std::vector<double> t;
    for (int r = 0; r < 12; ++r) {
      CU_CHECK(cuEventRecord(e0, nullptr));
      CU_CHECK(cuMemcpyDtoD(b, a, n));
      CU_CHECK(cuEventRecord(e1, nullptr));
      CU_CHECK(cuEventSynchronize(e1));
      float ms;
      CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
      if (r >= 2)
        t.push_back(ms);
    }
    std::printf("copy bandwidth (1 GiB DtoD, read+write): %.0f GB/s\n",
                2.0 * n / (median(t) * 1e-3) / 1e9);
    cuMemFree(a);
    cuMemFree(b);
    cuEventDestroy(e0);
    cuEventDestroy(e1);
  }

  if (!ioCases.empty()) { // benchmark mode: given inputs, every variant
    std::mt19937 rng(1);
    bool allOk = true;
    for (const Case &io : ioCases) {
      bool first = true; // the benchmark cross-checks the first variant's outputs
      for (size_t vi = 0; vi < variants.size(); ++vi) {
        // A generator kernel serves its own H and D only (bf16 here).
        if (variants[vi].gen && (variants[vi].H != io.H || variants[vi].D != io.D ||
                                 !variants[vi].bf16))
          continue;
        const Variant var = variants[vi].forBatch(io.B);
        if (io.D % var.cols != 0) {
          std::fprintf(stderr, "D=%d is not a multiple of %d columns\n", io.D, var.cols);
          return 1;
        }
        Case c = io;
        c.writeOutputs = first;
        first = false;
        Result r = runCase(var, c, rng);
        allOk &= r.ok;
        std::printf("RESULT {\"kernel\": \"%s\", \"variant\": %zu, \"cols\": %d, "
                    "\"threads\": %d, \"B\": %d, \"H\": %d, "
                    "\"D\": %d, \"dir\": \"%s\", \"ok\": %s, \"o_rel\": %.3e, "
                    "\"s_rel\": %.3e, \"max_err_over_tol\": %.4f, \"us\": %.3f, "
                    "\"graph_us\": %.3f, \"gbps\": %.1f, \"sets\": %d, \"device\": \"%s\"}\n",
                    r.kernel.c_str(), vi, var.cols, var.threads, r.B, r.H, r.D, c.io.c_str(),
                    r.ok ? "true" : "false", r.oErr, r.sErr, r.worstRatio, r.us, r.graphUs,
                    r.gbps, r.sets, devName);
        std::fflush(stdout);
      }
      if (first) {
        std::fprintf(stderr, "--io %s: no variant serves H=%d D=%d\n", io.io.c_str(), io.H, io.D);
        return 1;
      }
    }
    for (Variant &v : variants)
      cuModuleUnload(v.module);
    cuDevicePrimaryCtxRelease(dev);
    std::printf("%s: %zu io cases\n", allOk ? "PASS" : "FAIL", ioCases.size());
    return allOk ? 0 : 1;
  }

  std::vector<Case> cases;
  for (bool bf16 : {false, true})
    for (int H : {8, 64})
      for (int D : {64, 128})
        for (int B : {1, 3, 16}) {
          if (quick && !(B == 3 && H == 8))
            continue;
          cases.push_back({bf16, H, D, B, true});
        }
  if (bench) // the shapes of the fla decode numbers (H=64, D=128)
    for (int B : {64, 256})
      cases.push_back({true, 64, 128, B, true});

  std::mt19937 rng(20261127);
  std::vector<Case> genCases; // H, D, type: the variant's
  for (int B : {1, 3, 16, 64, 256})
    if (B > 16 ? bench : !quick || B == 3)
      genCases.push_back({true, 0, 0, B, true});
  std::vector<Result> results;
  bool allOk = true;
  for (Variant &v : variants)
    for (Case c : v.gen ? genCases : cases) {
      if (v.gen)
        c.bf16 = v.bf16, c.H = v.H, c.D = v.D;
      const Variant call = v.forBatch(c.B);
      if (c.D % call.cols != 0)
        continue;
      Result r = runCase(call, c, rng);
      allOk &= r.ok;
      results.push_back(r);
      std::printf("%-40s B=%-3d %s  o_rel=%.2e s_rel=%.2e max(err/tol)=%.3f  "
                  "%8.2f us  %7.1f GB/s  (%d sets)\n",
                  r.kernel.c_str(), r.B, r.ok ? "ok  " : "FAIL", r.oErr,
                  r.sErr, r.worstRatio, r.us, r.gbps, r.sets);
      std::fflush(stdout);
    }
  for (Variant &v : variants)
    cuModuleUnload(v.module);
  cuDevicePrimaryCtxRelease(dev);
  std::printf("%s: %zu cases\n", allOk ? "PASS" : "FAIL", results.size());
  return allOk ? 0 : 1;
}
