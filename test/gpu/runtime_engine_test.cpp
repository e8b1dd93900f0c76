//===- runtime_engine_test.cpp - the GPU runtime on a toy engine ------------===//
//
//   mm01-gpu-runtime-engine TOY.ptx TOY.fatbin       run the checks
//   mm01-gpu-runtime-engine --has-device             exit 0, or 77 without
//   mm01-gpu-runtime-engine --write-engine DIR TOY.ptx
//                                   write DIR/toy.mm01 (+ checkpoint) and
//                                   DIR/ids.npy for the mm01-run CLI test
//
// Builds the toy engine of test/unit/runtime/ToyEngine.h around real kernels
// (PTX, then a fatbin with an sm_90a cubin), loads it with GpuEngine and
// checks every step against a host reference: the kernels' outputs exactly,
// the GEMMs within bounds derived from f32 accumulation and bf16 rounding.
// Runs a mixed-length prefill, decode steps replayed from a CUDA graph and
// launched eagerly, generate() through the GPU backend, and the refusals.
// Exit 77 (skip) without a device.
//
//===----------------------------------------------------------------------===//
#include "GPUBackend.h"
#include "ToyEngine.h"

#include "mm01/Runtime/GpuEngine.h"
#include "mm01/Runtime/Session.h"
#include "mm01/Support/Npy.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace mm01;
using namespace mm01::runtime;
using namespace mm01::runtime::test;

namespace {
int failures = 0;
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
      std::fprintf(stderr, __VA_ARGS__);                                       \
      std::fprintf(stderr, "\n");                                              \
    }                                                                          \
  } while (0)
#define CHECK_OK(status)                                                       \
  do {                                                                         \
    const auto &s_ = (status);                                                 \
    CHECK(s_.ok(), "%s", s_.ok() ? "" : s_.error().c_str());                   \
  } while (0)
#define CHECK_ERROR(status, substr)                                            \
  do {                                                                         \
    const auto &s_ = (status);                                                 \
    CHECK(!s_.ok() && s_.error().find(substr) != std::string::npos,            \
          "expected an error containing '%s', got '%s'", substr,               \
          s_.ok() ? "success" : s_.error().c_str());                           \
  } while (0)

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string tempDir() {
  char tmpl[] = "/tmp/mm01-gpu-rt-XXXXXX";
  const char *d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

//===--- host reference of the toy model ----------------------------------===//

std::vector<float> xRow(int32_t id, int32_t pos) {
  std::vector<float> x(kHidden);
  for (int64_t c = 0; c < kHidden; ++c) {
    float scaled = kPosScale * static_cast<float>(pos);
    x[c] = embedValue(id, c) + scaled;
  }
  return x;
}

/// Σ a·b in double and the bound on f32 accumulation error: with K terms,
/// |err| <= K · 2^-24 · Σ|a·b| (any summation order), doubled for margin.
struct Dot {
  double value = 0, bound = 0;
};
Dot dot(const std::vector<double> &a, const std::vector<double> &b) {
  Dot d;
  double mag = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d.value += a[i] * b[i];
    mag += std::fabs(a[i] * b[i]);
  }
  d.bound = 2.0 * a.size() * std::ldexp(1.0, -24) * mag + 1e-7;
  return d;
}

std::vector<double> bf16Row(const std::vector<float> &x) {
  std::vector<double> r(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    r[i] = bf16ToFloat(floatToBF16(x[i]));
  return r;
}
std::vector<double> lmHeadRow(int64_t v) {
  std::vector<double> r(kHidden);
  for (int64_t c = 0; c < kHidden; ++c)
    r[c] = bf16ToFloat(lmHeadBits(v, c));
  return r;
}

/// One packed token of a call.
struct Token {
  int32_t id, pos, seq;
};

/// The host-side state the engine should have after the calls so far.
struct Reference {
  std::vector<double> state = std::vector<double>(kMaxBatch * kHidden, 0);
  std::vector<double> stateMag = std::vector<double>(kMaxBatch * kHidden, 0);
  std::vector<float> cache = std::vector<float>(kMaxBatch * kMaxContext * kHidden, 0);
  void add(const Token &t) {
    std::vector<float> x = xRow(t.id, t.pos);
    for (int64_t c = 0; c < kHidden; ++c) {
      state[t.seq * kHidden + c] += x[c];
      stateMag[t.seq * kHidden + c] += std::fabs(x[c]);
      cache[(t.seq * kMaxContext + t.pos) * kHidden + c] = x[c];
    }
  }
};

template <typename T>
std::vector<T> download(GpuEngine &e, EngineSession &s, const std::string &buffer,
                        size_t count) {
  std::vector<T> out(count);
  Status st = e.download(buffer, out.data(), count * sizeof(T), s.stream());
  CHECK_OK(st);
  return out;
}

/// Checks every output of the last call (packed `tokens`) and the state.
void checkCall(GpuEngine &e, EngineSession &s, const std::vector<Token> &tokens,
               const Reference &ref, const char *what) {
  const size_t n = tokens.size();
  CHECK(s.lastTokens() == static_cast<int64_t>(n), "%s: %lld tokens", what,
        (long long)s.lastTokens());
  auto logits = s.logits();
  CHECK_OK(logits);
  if (!logits.ok())
    return;
  auto x = download<float>(e, s, "x", n * kHidden);
  auto hb = download<uint16_t>(e, s, "hb", n * kHb);
  auto aux = download<float>(e, s, "aux", n * kProj);
  auto auxCopy = download<float>(e, s, "aux_copy", n * kProj);
  auto marker = download<uint8_t>(e, s, "marker", n);
  double worstLogit = 0, worstHb = 0, worstAux = 0;
  for (size_t r = 0; r < n; ++r) {
    std::vector<float> xr = xRow(tokens[r].id, tokens[r].pos);
    CHECK(std::memcmp(xr.data(), x.data() + r * kHidden, kHidden * 4) == 0,
          "%s: x row %zu (token %d at %d) differs", what, r, tokens[r].id, tokens[r].pos);
    std::vector<double> xb = bf16Row(xr);
    for (int64_t v = 0; v < kVocab; ++v) {
      Dot d = dot(xb, lmHeadRow(v));
      double err = std::fabs((*logits)[r * kVocab + v] - d.value);
      worstLogit = std::max(worstLogit, err / d.bound);
      CHECK(err <= d.bound, "%s: logits[%zu, %lld] = %.9g, reference %.9g (bound %.3g)",
            what, r, (long long)v, (*logits)[r * kVocab + v], d.value, d.bound);
      if (v < kHb) {
        // BF16 output (8 significant bits): rounding the f32 result to
        // nearest adds at most 2^-8 of its magnitude.
        double bound = d.bound + std::ldexp(std::fabs(d.value) + d.bound, -8);
        double got = bf16ToFloat(hb[r * kHb + v]);
        worstHb = std::max(worstHb, std::fabs(got - d.value) / bound);
        CHECK(std::fabs(got - d.value) <= bound, "%s: hb[%zu, %lld] = %.6g, reference %.6g",
              what, r, (long long)v, got, d.value);
      }
    }
    std::vector<double> xd(xr.begin(), xr.end());
    for (int64_t p = 0; p < kProj; ++p) {
      std::vector<double> col(kHidden);
      for (int64_t c = 0; c < kHidden; ++c)
        col[c] = projValue(c, p);
      Dot d = dot(xd, col);
      double err = std::fabs(aux[r * kProj + p] - 0.5 * d.value);
      worstAux = std::max(worstAux, err / d.bound);
      CHECK(err <= 0.5 * d.bound + 1e-7, "%s: aux[%zu, %lld] = %.9g, reference %.9g", what,
            r, (long long)p, aux[r * kProj + p], 0.5 * d.value);
    }
    CHECK(marker[r] == 0x5a, "%s: marker[%zu] = %d", what, r, marker[r]);
  }
  CHECK(std::memcmp(aux.data(), auxCopy.data(), aux.size() * 4) == 0,
        "%s: aux_copy differs from aux", what);
  auto state = download<float>(e, s, "state", kMaxBatch * kHidden);
  for (int64_t i = 0; i < kMaxBatch * kHidden; ++i) {
    double bound = 1e-6 * ref.stateMag[i] + 1e-6;
    CHECK(std::fabs(state[i] - ref.state[i]) <= bound, "%s: state[%lld] = %.9g, reference %.9g",
          what, (long long)i, state[i], ref.state[i]);
  }
  auto cache = download<float>(e, s, "cache", ref.cache.size());
  CHECK(std::memcmp(cache.data(), ref.cache.data(), cache.size() * 4) == 0,
        "%s: kv cache differs", what);
  std::printf("  %-28s %3zu tokens: max err / bound: logits %.3f, hb %.3f, aux %.3f\n", what,
              n, worstLogit, worstHb, worstAux);
}

std::vector<int32_t> ids(int seed, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back((seed * 31 + i * 17) % kVocab);
  return out;
}

int64_t argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

void runEngineChecks(const std::string &path, const char *kind) {
  std::printf("%s engine:\n", kind);
  auto engine = GpuEngine::load(path);
  CHECK_OK(engine);
  if (!engine.ok())
    return;
  GpuEngine &e = **engine;
  auto session = EngineSession::create(e);
  CHECK_OK(session);
  if (!session.ok())
    return;
  EngineSession &s = **session;
  CHECK_OK(s.reset());

  // Prefill of three sequences of different lengths.
  Reference ref;
  std::vector<std::vector<int32_t>> prompts = {ids(1, 5), ids(2, 2), ids(3, 9)};
  std::vector<Token> packed;
  for (int32_t b = 0; b < 3; ++b)
    for (int32_t i = 0; i < static_cast<int32_t>(prompts[b].size()); ++i)
      packed.push_back({prompts[b][i], i, b});
  CHECK_OK(s.prefill(prompts));
  for (const Token &t : packed)
    ref.add(t);
  checkCall(e, s, packed, ref, "prefill (5, 2, 9)");

  // Decode steps: graph replays (captured on the first), then eager ones.
  for (int step = 0; step < 6; ++step) {
    bool graph = step < 4;
    std::vector<int32_t> next = {static_cast<int32_t>((7 * step + 1) % kVocab),
                                 static_cast<int32_t>((5 * step + 40) % kVocab),
                                 static_cast<int32_t>((3 * step + 90) % kVocab)};
    std::vector<Token> tokens;
    for (int32_t b = 0; b < 3; ++b)
      tokens.push_back({next[b], static_cast<int32_t>(s.contextLengths()[b]), b});
    CHECK_OK(s.decode(next, graph));
    for (const Token &t : tokens)
      ref.add(t);
    std::string what = std::string("decode step ") + std::to_string(step) +
                       (graph ? " (graph)" : " (eager)");
    checkCall(e, s, tokens, ref, what.c_str());
    auto last = s.lastLogits();
    CHECK_OK(last);
    auto all = s.logits();
    if (last.ok() && all.ok())
      CHECK(*last == *all, "%s: lastLogits differs from logits", what.c_str());
  }
  CHECK(e.capturedGraphs() == 1, "%zu graphs captured, expected 1 (batch 3)",
        e.capturedGraphs());
  CHECK(s.contextLengths()[0] == 11 && s.contextLengths()[1] == 8 &&
            s.contextLengths()[2] == 15,
        "context lengths %lld %lld %lld", (long long)s.contextLengths()[0],
        (long long)s.contextLengths()[1], (long long)s.contextLengths()[2]);

  // A prefill continuing cached sequences (a chunked prompt), batch 4.
  std::vector<std::vector<int32_t>> more = {ids(4, 3), ids(5, 1), ids(6, 4), ids(7, 6)};
  std::vector<Token> morePacked;
  for (int32_t b = 0; b < 4; ++b)
    for (int32_t i = 0; i < static_cast<int32_t>(more[b].size()); ++i)
      morePacked.push_back({more[b][i], static_cast<int32_t>(s.contextLengths()[b] + i), b});
  CHECK_OK(s.prefill(more));
  for (const Token &t : morePacked)
    ref.add(t);
  checkCall(e, s, morePacked, ref, "prefill continued (batch 4)");

  // Refusals: before anything is launched, with the limit named.
  CHECK_ERROR(e.runGraph("prefill", engine::DimEnv{1, 4, 4, 4}, s.stream()),
              "entry point 'prefill' cannot be captured as a CUDA graph");
  CHECK_ERROR(s.decode({1, 2, 3, 4, 5}), "batch 5 exceeds the engine's max batch 4");
  CHECK_ERROR(s.prefill({ids(8, 60)}), "exceeds the engine's max context 64");
  CHECK_ERROR(s.prefill({ids(1, 40), ids(2, 40), ids(3, 40), ids(4, 40)}),
              "tokens 160 exceed the capacity of the engine's token_ids buffer (128 tokens)");
  CHECK_ERROR(e.run("verify", engine::DimEnv{1, 1, 1, 1}, s.stream()),
              "engine has no entry point 'verify' (it has 'prefill', 'decode')");
  CHECK_OK(s.synchronize());

  // A fresh generation zeroes state and cache.
  CHECK_OK(s.reset());
  Reference fresh;
  std::vector<Token> one = {{5, 0, 0}};
  CHECK_OK(s.prefill({{5}}));
  fresh.add(one[0]);
  checkCall(e, s, one, fresh, "prefill after reset");

  // generate() through the GPU backend: mixed prompt lengths, greedy.
  CHECK_OK(s.reset());
  NpyArray prompt = NpyArray::make(NpyType::I64, {2, 6});
  for (int64_t i = 0; i < 12; ++i)
    prompt.data<int64_t>()[i] = (i * 13 + 3) % kVocab;
  GenerateOptions options;
  options.generate = 5;
  options.promptLengths = {6, 3};
  GPUBackend backend(s, /*useGraph=*/true);
  auto result = generate(backend, prompt, options);
  CHECK_OK(result);
  if (result.ok()) {
    const int64_t lengths[2] = {6, 3};
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t t = lengths[b]; t < 6; ++t)
        for (int64_t v = 0; v < kVocab; ++v)
          CHECK(result->logits.data<float>()[(b * 6 + t) * kVocab + v] == 0,
                "logits past the prompt of row %lld are not zero", (long long)b);
      int32_t prev = static_cast<int32_t>(prompt.data<int64_t>()[b * 6 + lengths[b] - 1]);
      for (int64_t n = 0; n < 5; ++n) {
        // The logits that chose token n come from feeding the previous token
        // at position lengths[b] - 1 + n.
        const float *row = result->generatedLogits.data<float>() + (b * 5 + n) * kVocab;
        std::vector<double> xb = bf16Row(xRow(prev, static_cast<int32_t>(lengths[b] - 1 + n)));
        for (int64_t v = 0; v < kVocab; ++v) {
          Dot d = dot(xb, lmHeadRow(v));
          CHECK(std::fabs(row[v] - d.value) <= d.bound,
                "generate row %lld step %lld logit %lld: %.9g vs %.9g", (long long)b,
                (long long)n, (long long)v, row[v], d.value);
        }
        int64_t chosen = result->generatedIds.data<int64_t>()[b * 5 + n];
        CHECK(chosen == argmax(row, kVocab), "generate row %lld step %lld: chose %lld",
              (long long)b, (long long)n, (long long)chosen);
        prev = static_cast<int32_t>(chosen);
      }
    }
    std::printf("  generate (lengths 6, 3; 5 tokens): ids");
    for (int64_t i = 0; i < 10; ++i)
      std::printf(" %lld", (long long)result->generatedIds.data<int64_t>()[i]);
    std::printf("\n");
  }
}

std::string engineArch();

/// Engines the device cannot run are refused at load, with one line.
void checkLoadRefusals(const std::vector<uint8_t> &ptx) {
  std::printf("load refusals:\n");
  {
    ToyOptions o;
    o.arch = "sm_100a"; // no device of this session's kinds is sm_100
    o.kernelImage = ptx;
    std::string dir = tempDir();
    auto path = writeToyEngine(dir, o);
    CHECK_OK(path);
    if (path.ok())
      CHECK_ERROR(GpuEngine::load(*path), "toy.mm01: engine built for sm_100a, device 0 is");
  }
  {
    // Valid PTX whose embedding kernel has another name.
    ToyOptions o;
    o.arch = engineArch();
    std::string text(ptx.begin(), ptx.end());
    for (size_t at = text.find("toy_embed"); at != std::string::npos;
         at = text.find("toy_embed", at))
      text.replace(at, 9, "toy_other");
    o.kernelImage.assign(text.begin(), text.end());
    std::string dir = tempDir();
    auto path = writeToyEngine(dir, o);
    CHECK_OK(path);
    if (path.ok())
      CHECK_ERROR(GpuEngine::load(*path),
                  "kernel 'embed_prefill': no entry 'toy_embed' in section 'kernels'");
  }
  {
    ToyOptions o;
    o.arch = engineArch();
    o.kernelImage = {'n', 'o', 't', ' ', 'p', 't', 'x', '{'};
    std::string dir = tempDir();
    auto path = writeToyEngine(dir, o);
    CHECK_OK(path);
    if (path.ok())
      CHECK_ERROR(GpuEngine::load(*path), "cannot load kernel section 'kernels' (ptx): ");
    if (path.ok()) {
      auto r = GpuEngine::load(*path);
      if (!r.ok())
        std::printf("  %s\n", r.error().c_str());
    }
  }
}

int64_t deviceArchOr(int fallbackMajor, int &minor) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    minor = 0;
    return fallbackMajor;
  }
  minor = prop.minor;
  return prop.major;
}

/// The engine's arch: sm_90a on an H100/H200 (what the compiler emits),
/// else the device's own (the PTX is JIT-compiled for it).
std::string engineArch() {
  int minor = 0;
  int64_t major = deviceArchOr(9, minor);
  std::string arch = "sm_" + std::to_string(major) + std::to_string(minor);
  return major == 9 && minor == 0 ? arch + "a" : arch;
}
} // namespace

int main(int argc, char **argv) {
  if (argc == 2 && std::string(argv[1]) == "--has-device")
    return engine::cudaDeviceCount() > 0 ? 0 : 77;
  if (argc == 4 && std::string(argv[1]) == "--write-engine") {
    ToyOptions o;
    o.arch = engineArch();
    o.kernelImage = readBytes(argv[3]);
    auto path = writeToyEngine(argv[2], o);
    if (!path.ok()) {
      std::fprintf(stderr, "error: %s\n", path.error().c_str());
      return 1;
    }
    NpyArray prompt = NpyArray::make(NpyType::I64, {3, 8});
    for (int64_t i = 0; i < 24; ++i)
      prompt.data<int64_t>()[i] = (i * 29 + 7) % kVocab;
    Status s = writeNpy(std::string(argv[2]) + "/ids.npy", prompt);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.error().c_str());
      return 1;
    }
    std::printf("%s\n", path->c_str());
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TOY.ptx TOY.fatbin\n", argv[0]);
    return 2;
  }
  if (engine::cudaDeviceCount() == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  auto device = engine::queryDevice(0);
  if (device.ok())
    std::printf("device 0: %s (sm_%d%d), engine arch %s\n", device->name.c_str(),
                device->major, device->minor, engineArch().c_str());
  const char *kinds[2] = {"ptx", "fatbin"};
  for (int i = 0; i < 2; ++i) {
    ToyOptions o;
    o.arch = engineArch();
    o.kernelKind = i == 0 ? engine::SectionKind::Ptx : engine::SectionKind::Fatbin;
    o.kernelImage = readBytes(argv[1 + i]);
    CHECK(!o.kernelImage.empty(), "cannot read %s", argv[1 + i]);
    std::string dir = tempDir();
    auto path = writeToyEngine(dir, o);
    CHECK_OK(path);
    if (path.ok())
      runEngineChecks(*path, kinds[i]);
  }
  checkLoadRefusals(readBytes(argv[1]));
  std::printf("%s (%d failures)\n", failures ? "FAIL" : "ok", failures);
  return failures ? 1 : 0;
}
