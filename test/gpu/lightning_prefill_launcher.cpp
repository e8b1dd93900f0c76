//===- lightning_prefill_launcher.cpp - run the compiled prefill kernels ---===//
//
// MLIR-free GPU test of the lightning-attention prefill kernels that
// mm01-opt --mm01-test-lightning-prefill-kernel generates (compiled at build
// time to cubins embedded in .bin.mlir files). Links the CUDA driver API only.
// Each FILE holds one spec's kernels and the plan string (module attribute
// `mm01.lightning_prefill`: shapes, strides, NS, kernels with grid, block,
// dynamic shared memory, parameter names). Parameters are bound by name.
// A file may hold a second, long-call plan (`mm01.lightning_prefill_long`):
// a call of one sequence of at least `long_call_tokens` runs it instead,
// as an engine would (its launches' `when`); cases and --io runs use the
// plan their call selects, and print its NS and VS.
//
// Default mode: random cases per file (awkward lengths, T = 0 and 1, mixed-
// length batches, carried-in state) against a float64 host reference of the
// recurrent form (S_t = e^{-λ} S_{t-1} + k_tᵀ v_t, o_t = q_t S_t), with
// rounding-derived per-element bounds (PrefillReference.h).
//
// --io DIR:B (used by test/benchmarks/prefill_bench.py): run FILE on the
// inputs in DIR (qkv.bin bf16 [T, H, 3D] interleaved or [T, 3, H, D]
// blocked, or q.bin/k.bin/v.bin [T, H, D] for the separate layout; s.bin
// f32 [B, H, D, D]; cu.bin i32 [B+1]), write o.out (bf16 [T, H, D]) and
// s.out (the final state), time the plan (CUDA events around the whole
// kernel sequence; --warm-seconds of back-to-back calls first, default 0.5,
// then the median): `ms`
// per call over batches of back-to-back calls, `ms_per_call` for single
// calls synchronised one at a time; print `RESULT {json}`. No host reference
// in this mode. With --timeline FILE, a plan built with the test pass's
// probe-timeline=1 (plan key timeline=1) is run once more after the
// timing, and its per-block %globaltimer records are written to FILE
// (test/benchmarks/timeline_probe.py reads them). With --placements N the
// plan is also timed on N fresh allocations of its output, its inputs and
// both (timePlacements). With --sustain SECONDS, batches of back-to-back
// calls run for that long, each printed as `SUSTAIN {json}` with the host
// time it ended (test/benchmarks/power_probe.py).
//
// Kernels the plan marks overlap=1 are launched with programmatic stream
// serialization (they wait for their predecessor with griddepcontrol.wait);
// --no-overlap launches them plainly.
//
// usage: mm01-gpu-lightning-prefill [--quick] [--no-overlap] [--io DIR:B]...
//          [--timeline FILE] [--placements N] [--sustain SECONDS]
//          [--warm-seconds S] FILE.bin.mlir...
// Exit: 0 pass, 1 failure, 77 skip (no driver / no GPU / not sm_90).
//
//===----------------------------------------------------------------------===//
#include "GpuTestSupport.h"
#include "PrefillReference.h"

#include <cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace mm01::gputest;



/// The unescaped MLIR string starting after `key = "` (first match after `from`).
bool readString(const std::string &text, const std::string &key, size_t from,
                std::string &out) {
  size_t pos = text.find(key + " = \"", from);
  if (pos == std::string::npos)
    return false;
  return unescapeMLIRString(text, pos + key.size() + 4, out);
}

struct KernelInfo {
  std::string name;
  std::string grid[3];
  int block = 256;
  int smem = 0;
  std::vector<std::string> params;
  bool overlap = false; // overlaps the previous kernel (plan key overlap=1)
  CUfunction fn = nullptr;
};

struct Plan {
  std::string file;
  int H = 0, D = 0, NS = 1, VS = 1, maxBatch = 0;
  bool silu = false;
  bool hiLo = true; // state update with K̃ as bf16 hi + lo (plan key hilo)
  // With hiLo, n > 0: the outputs kernel's update is bf16 but over the final
  // state's 2^-n window (plan key hilo_tail; LightningPrefillSpec::
  // stateHiLoTailLog2).
  int hiLoTailLog2 = 0;
  int tailLog2 = 0;    // local states from the 2^-n tail (plan key tail_log2; 0: every token)
  int outTailLog2 = 0; // ... or the 2^-n one where they feed only outputs (outputs_tail_log2)
  int splitChunks = 0; // local states in parts from this many chunks (split_chunks; 0: never)
  int parts = 1;       // the parts of a split local state (plan key parts)
  bool earlyFirst = false;  // no scan kernel, early first segment (plan key early_first)
  bool scanInOut = false;   // the scan in the outputs kernel (plan key scan_in_out)
  bool timeline = false;    // probe records after the workspace (plan key timeline)
  long long wsPerSeq = 0; // workspace bytes per sequence (plan key workspace=batch*N)
  long long maxTokens = 0;
  long long qTS, qHS, kTS, kHS, vTS, vHS, oTS, oHS;
  std::vector<double> decay;
  std::vector<KernelInfo> kernels;
  CUmodule module = nullptr;
  /// The long-call plan (module attribute mm01.lightning_prefill_long, same
  /// cubin): it serves a call of one sequence of at least longCallTokens
  /// tokens, the rule of the engine's `min(lt(batch, 2), ge(tokens, N))`.
  long long longCallTokens = 0;
  std::shared_ptr<Plan> longCall;
  /// How q, k, v lie in memory, from the plan's strides: one buffer
  /// [T, H, 3D] (`interleaved`, the checkpoint's order), one buffer
  /// [T, 3, H, D] (`blocked`: the projection's rows grouped q | k | v), or
  /// three buffers [T, H, D] (`separate`).
  enum class Layout { Interleaved, Blocked, Separate };
  Layout layout() const {
    if (qTS == 3LL * H * D)
      return qHS == 3LL * D ? Layout::Interleaved : Layout::Blocked;
    return Layout::Separate;
  }
  /// Element offset of input `which` (0 q, 1 k, 2 v) at (t, h, d) in the one
  /// host buffer that holds all three (separate: q, then k, then v).
  long long inputIndex(int which, long long T, long long t, int h, int d) const {
    switch (layout()) {
    case Layout::Interleaved:
      return (t * H + h) * 3LL * D + which * D + d;
    case Layout::Blocked:
      return ((t * 3 + which) * H + h) * (long long)D + d;
    case Layout::Separate:
      break;
    }
    return (which * T + t) * H * (long long)D + h * (long long)D + d;
  }
  /// Device pointers of q, k, v inside that buffer (bf16).
  void bindInputs(CUdeviceptr base, long long T, CUdeviceptr &q, CUdeviceptr &k,
                  CUdeviceptr &v) const {
    long long kOff = inputIndex(1, T, 0, 0, 0), vOff = inputIndex(2, T, 0, 0, 0);
    q = base, k = base + 2 * kOff, v = base + 2 * vOff;
  }
  /// The plan that serves a call of `batch` sequences and `tokens` tokens.
  const Plan &forCall(int batch, long long tokens) const {
    return longCall && batch == 1 && tokens >= longCallTokens ? *longCall : *this;
  }
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep))
    out.push_back(cur);
  return out;
}

bool parsePlan(const std::string &file, const std::string &planText, Plan &plan);

bool loadPlan(const std::string &file, Plan &plan) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str(), planText, cubin;
  if (!readString(text, "mm01.lightning_prefill", 0, planText)) {
    std::fprintf(stderr, "%s: no mm01.lightning_prefill plan attribute\n", file.c_str());
    return false;
  }
  size_t bin = text.find("gpu.binary");
  if (bin == std::string::npos || !readString(text, "bin", bin, cubin)) {
    std::fprintf(stderr, "%s: no gpu.binary with a cubin\n", file.c_str());
    return false;
  }
  if (!parsePlan(file, planText, plan))
    return false;
  CU_CHECK(cuModuleLoadData(&plan.module, cubin.data()));
  std::string longText;
  if (readString(text, "mm01.lightning_prefill_long", 0, longText)) {
    plan.longCall = std::make_shared<Plan>();
    if (!parsePlan(file, longText, *plan.longCall))
      return false;
    plan.longCall->module = plan.module;
    if (plan.longCallTokens <= 0) {
      std::fprintf(stderr, "%s: a long-call plan without long_call_tokens\n", file.c_str());
      return false;
    }
  }
  for (Plan *p : {&plan, plan.longCall.get()}) {
    if (!p)
      continue;
    for (auto &k : p->kernels) {
      CU_CHECK(cuModuleGetFunction(&k.fn, p->module, k.name.c_str()));
      CU_CHECK(cuFuncSetAttribute(k.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                  k.smem));
      // The largest shared-memory carveout: the local-states kernel runs two
      // blocks of ~104 KB per SM (the driver's default carveout fits one).
      CU_CHECK(cuFuncSetAttribute(k.fn, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT,
                                  100));
    }
  }
  return true;
}

/// Parses one plan string (see LightningPrefillTestPass.cpp) into `plan`.
bool parsePlan(const std::string &file, const std::string &planText, Plan &plan) {
  plan.file = file;
  auto parts = split(planText, ';');
  for (const std::string &kv : split(parts[0], ' ')) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      continue;
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    auto pair = [&](long long &a, long long &b) {
      auto p = split(v, ',');
      a = std::stoll(p[0]);
      b = std::stoll(p[1]);
    };
    if (k == "H") plan.H = std::stoi(v);
    else if (k == "D") plan.D = std::stoi(v);
    else if (k == "NS") plan.NS = std::stoi(v);
    else if (k == "VS") plan.VS = std::stoi(v);
    else if (k == "silu") plan.silu = v == "1";
    else if (k == "hilo") plan.hiLo = v == "1";
    else if (k == "hilo_tail") plan.hiLoTailLog2 = std::stoi(v);
    else if (k == "tail_log2") plan.tailLog2 = std::stoi(v);
    else if (k == "outputs_tail_log2") plan.outTailLog2 = std::stoi(v);
    else if (k == "split_chunks") plan.splitChunks = std::stoi(v);
    else if (k == "parts") plan.parts = std::stoi(v);
    else if (k == "early_first") plan.earlyFirst = v == "1";
    else if (k == "scan_in_out") plan.scanInOut = v == "1";
    else if (k == "timeline") plan.timeline = v == "1";
    else if (k == "workspace") {
      if (v.rfind("batch*", 0) == 0)
        plan.wsPerSeq = std::stoll(v.substr(6));
      else if (v != "0") {
        std::fprintf(stderr, "%s: workspace=%s is not batch*N or 0\n", file.c_str(), v.c_str());
        return false;
      }
    }
    else if (k == "long_call_tokens") plan.longCallTokens = std::stoll(v);
    else if (k == "max_batch") plan.maxBatch = std::stoi(v);
    else if (k == "max_tokens") plan.maxTokens = std::stoll(v);
    else if (k == "q") pair(plan.qTS, plan.qHS);
    else if (k == "k") pair(plan.kTS, plan.kHS);
    else if (k == "v") pair(plan.vTS, plan.vHS);
    else if (k == "out") pair(plan.oTS, plan.oHS);
    else if (k == "decay")
      for (auto &d : split(v, ','))
        plan.decay.push_back(std::stod(d));
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    KernelInfo k;
    for (const std::string &kv : split(parts[i], ' ')) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        if (kv != "kernel" && !kv.empty())
          k.name = kv;
        continue;
      }
      std::string key = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (key == "grid") {
        auto g = split(v, ',');
        for (int d = 0; d < 3; ++d)
          k.grid[d] = g[d];
      } else if (key == "block") k.block = std::stoi(v);
      else if (key == "smem") k.smem = std::stoi(v);
      else if (key == "params") k.params = split(v, ',');
      else if (key == "overlap") k.overlap = v == "1";
    }
    plan.kernels.push_back(k);
  }
  return true;
}


// ---- device buffers and a launch of the plan -----------------------------
struct DeviceBuffers {
  CUdeviceptr q = 0, k = 0, v = 0, qkv = 0, state = 0, out = 0, cu = 0, ws = 0;
};

long long evalGrid(const std::string &e, int batch) {
  if (e == "batch")
    return batch;
  return std::stoll(e);
}

/// Programmatic dependent launch of the kernels marked `overlap` (off with
/// --no-overlap, to measure what it gives).
bool gOverlap = true;
const char *gTimelineFile = nullptr; // --timeline FILE
int gPlacements = 0;                  // --placements N
double gSustainSeconds = 0;           // --sustain SECONDS
double gWarmSeconds = 0.5;            // --warm-seconds SECONDS
// The probe's records after the workspace (LightningPrefillKernel.h:
// 4 regions of 4096 records of 64 bytes, + 16 bytes of alignment).
constexpr size_t kTimelineBytes = 4 * 4096 * 64;

void launchPlan(const Plan &plan, DeviceBuffers &d, int batch, CUstream stream) {
  for (size_t i = 0; i < plan.kernels.size(); ++i) {
    const KernelInfo &k = plan.kernels[i];
    std::vector<void *> args;
    for (const std::string &p : k.params) {
      CUdeviceptr *ptr = p == "q" ? &d.q : p == "k" ? &d.k : p == "v" ? &d.v
                       : p == "state" ? &d.state : p == "out" ? &d.out
                       : p == "cu_seqlens" ? &d.cu : p == "workspace" ? &d.ws
                                                                       : nullptr;
      if (!ptr) {
        std::fprintf(stderr, "kernel %s: unknown parameter %s\n", k.name.c_str(), p.c_str());
        std::exit(1);
      }
      args.push_back(ptr);
    }
    unsigned gx = evalGrid(k.grid[0], batch), gy = evalGrid(k.grid[1], batch),
             gz = evalGrid(k.grid[2], batch);
    if (!(gx && gy && gz))
      continue;
    if (gOverlap && k.overlap && i > 0) {
      CUlaunchAttribute attr{};
      attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
      attr.value.programmaticStreamSerializationAllowed = 1;
      CUlaunchConfig cfg{};
      cfg.gridDimX = gx, cfg.gridDimY = gy, cfg.gridDimZ = gz;
      cfg.blockDimX = k.block, cfg.blockDimY = 1, cfg.blockDimZ = 1;
      cfg.sharedMemBytes = k.smem;
      cfg.hStream = stream;
      cfg.attrs = &attr;
      cfg.numAttrs = 1;
      CU_CHECK(cuLaunchKernelEx(&cfg, k.fn, args.data(), nullptr));
    } else {
      CU_CHECK(cuLaunchKernel(k.fn, gx, gy, gz, k.block, 1, 1, k.smem, stream,
                              args.data(), nullptr));
    }
  }
}


/// Host data of one case (exact values the GPU sees, as floats).
struct Case {
  int B;
  std::vector<int> lens;
  bool carried;
};

using Errors = mm01::test::PrefillErrors;

double silu(double x) { return x / (1.0 + std::exp(-x)); }

/// One case: random inputs, run, check against the float64 recurrence.
bool runCase(const Plan &plan, const Case &c, std::mt19937 &rng, Errors &err) {
  const int H = plan.H, D = plan.D, B = c.B;
  std::vector<int> cu(B + 1, 0);
  for (int b = 0; b < B; ++b)
    cu[b + 1] = cu[b] + c.lens[b];
  const long long T = cu[B];
  // Host activations, all three inputs in one buffer (Plan::inputIndex).
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  const long long actElems = std::max<long long>(1, T * H * D);
  std::vector<uint16_t> qkvB(3 * actElems);
  auto at = [&](int which, long long t, int h, int d) {
    return plan.inputIndex(which, T, t, h, d);
  };
  for (auto &x : qkvB)
    x = toBF16(plan.silu ? 3.f * uni(rng) : uni(rng));
  std::vector<float> s0(size_t(B) * H * D * D, 0.f);
  if (c.carried)
    for (auto &x : s0)
      x = uni(rng);

  DeviceBuffers d;
  const size_t qkvBytes = qkvB.size() * 2, outBytes = size_t(actElems) * 2,
               stateBytes = std::max<size_t>(4, s0.size() * 4);
  CU_CHECK(cuMemAlloc(&d.qkv, qkvBytes));
  CU_CHECK(cuMemcpyHtoD(d.qkv, qkvB.data(), qkvBytes));
  plan.bindInputs(d.qkv, T, d.q, d.k, d.v);
  CU_CHECK(cuMemAlloc(&d.state, stateBytes));
  CU_CHECK(cuMemcpyHtoD(d.state, s0.data(), s0.size() * 4));
  CU_CHECK(cuMemAlloc(&d.out, outBytes));
  CU_CHECK(cuMemsetD16(d.out, 0xffff, outBytes / 2)); // NaN poison
  CU_CHECK(cuMemAlloc(&d.cu, cu.size() * 4));
  CU_CHECK(cuMemcpyHtoD(d.cu, cu.data(), cu.size() * 4));
  size_t wsBytes = std::max<size_t>(4, size_t(B) * plan.wsPerSeq);
  if (plan.NS > 1) {
    CU_CHECK(cuMemAlloc(&d.ws, wsBytes));
    CU_CHECK(cuMemsetD32(d.ws, 0x7fc00000, wsBytes / 4)); // NaN poison
  }
  launchPlan(plan, d, B, nullptr);
  CU_CHECK(cuCtxSynchronize());
  std::vector<uint16_t> oB(actElems);
  std::vector<float> sK(s0.size());
  CU_CHECK(cuMemcpyDtoH(oB.data(), d.out, outBytes));
  CU_CHECK(cuMemcpyDtoH(sK.data(), d.state, s0.size() * 4));
  for (CUdeviceptr p : {d.qkv, d.state, d.out, d.cu, d.ws})
    if (p)
      CU_CHECK(cuMemFree(p));

  // ---- float64 reference of the recurrence, and the bounds (PrefillReference.h) ----
  mm01::test::PrefillCall call;
  call.B = B, call.H = H, call.D = D;
  call.cu.assign(cu.begin(), cu.end());
  call.input = [&](int which, long long t, int h, int dd) {
    double x = fromBF16(qkvB[at(which, t, h, dd)]);
    return plan.silu ? double(fromBF16(toBF16(float(silu(x))))) : x;
  };
  call.output = [&](long long t, int h, int j) {
    return double(fromBF16(oB[(t * H + h) * (long long)D + j]));
  };
  call.state0 = s0.data();
  call.finalState = sK.data();
  call.decay = plan.decay;
  call.silu = plan.silu;
  call.hiLo = plan.hiLo;
  call.hiLoTailLog2 = plan.hiLoTailLog2;
  return mm01::test::checkPrefill(call, err);
}

bool readFile(const std::string &path, std::vector<char> &data) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  data.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}
bool writeFile(const std::string &path, const void *data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(data), std::streamsize(bytes));
  return bool(out);
}

/// --placements N (with --io): the same plan timed on N fresh allocations
/// of the activations, in turns: a new output buffer, a new copy of the
/// inputs, and both, all earlier allocations kept so that each lands
/// elsewhere in device memory. Prints `PLACEMENT {json}` per allocation:
/// whether a call's time depends on where its buffers lie.
template <typename TimeOn>
void timePlacements(const Plan &plan, const DeviceBuffers &d, int B, size_t qkvBytes,
                    size_t outBytes, TimeOn timeOn) {
  std::vector<CUdeviceptr> held;
  auto fiveMedian = [&](const DeviceBuffers &bufs) {
    std::vector<double> t;
    for (int i = 0; i < 5; ++i)
      t.push_back(timeOn(plan, bufs));
    return median(t);
  };
  std::printf("PLACEMENT {\"i\": -1, \"which\": \"original\", \"ms\": %.6f}\n",
              fiveMedian(d));
  bool full = false; // device memory exhausted: stop there
  for (int i = 0; i < gPlacements && !full; ++i) {
    for (const char *which : {"out", "inputs", "both"}) {
      DeviceBuffers n = d;
      std::string w = which;
      if (w != "inputs") {
        if ((full = cuMemAlloc(&n.out, outBytes) != CUDA_SUCCESS))
          break;
        held.push_back(n.out);
      }
      if (w != "out") {
        CUdeviceptr base;
        if ((full = cuMemAlloc(&base, qkvBytes) != CUDA_SUCCESS))
          break;
        held.push_back(base);
        CU_CHECK(cuMemcpyDtoD(base, d.qkv, qkvBytes));
        n.qkv = base, n.q = base + (d.q - d.qkv), n.k = base + (d.k - d.qkv),
        n.v = base + (d.v - d.qkv);
      }
      std::printf("PLACEMENT {\"i\": %d, \"which\": \"%s\", \"ms\": %.6f}\n", i, which,
                  fiveMedian(n));
      std::fflush(stdout);
    }
  }
  if (full)
    std::fprintf(stderr, "--placements: device memory full after %zu allocations\n",
                 held.size());
  for (CUdeviceptr p : held)
    CU_CHECK(cuMemFree(p));
}

/// --io DIR:B: run on the given inputs, write outputs, time.
bool runIO(const Plan &planSet, const std::string &dir, int B) {
  const int H = planSet.H, D = planSet.D;
  std::vector<char> qkv, s0, cuB;
  // One file qkv.bin in the plan's layout, or q.bin, k.bin, v.bin.
  bool inter = planSet.layout() != Plan::Layout::Separate;
  if (!readFile(dir + "/s.bin", s0) || !readFile(dir + "/cu.bin", cuB) ||
      !readFile(dir + (inter ? "/qkv.bin" : "/q.bin"), qkv)) {
    std::fprintf(stderr, "--io %s: missing inputs\n", dir.c_str());
    return false;
  }
  if (!inter) {
    std::vector<char> k, v;
    if (!readFile(dir + "/k.bin", k) || !readFile(dir + "/v.bin", v))
      return false;
    qkv.insert(qkv.end(), k.begin(), k.end());
    qkv.insert(qkv.end(), v.begin(), v.end());
  }
  std::vector<int> cu(B + 1);
  std::memcpy(cu.data(), cuB.data(), (B + 1) * 4);
  const long long T = cu[B];
  const Plan &plan = planSet.forCall(B, T);
  const size_t outBytes = std::max<long long>(2, T * H * D * 2);
  DeviceBuffers d;
  CU_CHECK(cuMemAlloc(&d.qkv, qkv.size()));
  CU_CHECK(cuMemcpyHtoD(d.qkv, qkv.data(), qkv.size()));
  planSet.bindInputs(d.qkv, T, d.q, d.k, d.v);
  CUdeviceptr s0d;
  CU_CHECK(cuMemAlloc(&s0d, s0.size()));
  CU_CHECK(cuMemcpyHtoD(s0d, s0.data(), s0.size()));
  CU_CHECK(cuMemAlloc(&d.state, s0.size()));
  CU_CHECK(cuMemcpyDtoD(d.state, s0d, s0.size()));
  CU_CHECK(cuMemAlloc(&d.out, outBytes));
  CU_CHECK(cuMemAlloc(&d.cu, cu.size() * 4));
  CU_CHECK(cuMemcpyHtoD(d.cu, cu.data(), cu.size() * 4));
  if (plan.NS > 1)
    CU_CHECK(cuMemAlloc(&d.ws, std::max<size_t>(4, size_t(B) * plan.wsPerSeq)));
  launchPlan(plan, d, B, nullptr);
  CU_CHECK(cuCtxSynchronize());
  std::vector<char> o(outBytes), s(s0.size());
  CU_CHECK(cuMemcpyDtoH(o.data(), d.out, outBytes));
  CU_CHECK(cuMemcpyDtoH(s.data(), d.state, s.size()));
  writeFile(dir + "/o.out", o.data(), o.size());
  writeFile(dir + "/s.out", s.data(), s.size());
  // Timing: the whole plan per call (state restored by a DtoD copy outside
  // the timed region is not possible per call; the state just evolves).
  CUevent e0, e1;
  CU_CHECK(cuEventCreate(&e0, 0));
  CU_CHECK(cuEventCreate(&e1, 0));
  int reps = T >= (1 << 18) ? 3 : T >= (1 << 15) ? 10 : 20;
  // Warm-up: back-to-back calls for gWarmSeconds (at least 3 calls), so that
  // the timing sees the GPU's steady state (warmUp; 1980 -> ~1500 MHz at B1
  // H64 T32K on an H200, test/benchmarks/power_probe.py).
  warmUp([&](int) { launchPlan(plan, d, B, nullptr); }, 3, gWarmSeconds, /*syncEvery=*/8);
  // ms per call of `p`, averaged over `reps` back-to-back calls.
  auto timeBatchOn = [&](const Plan &p, DeviceBuffers bufs) {
    CU_CHECK(cuEventRecord(e0, nullptr));
    for (int r = 0; r < reps; ++r)
      launchPlan(p, bufs, B, nullptr);
    CU_CHECK(cuEventRecord(e1, nullptr));
    CU_CHECK(cuEventSynchronize(e1));
    float ms;
    CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
    return double(ms) / reps;
  };
  auto timeBatch = [&](const Plan &p) { return timeBatchOn(p, d); };
  // The whole plan and each kernel alone (launched plainly) are timed in
  // turns, batch by batch, so that a clock that drifts during the run
  // weighs on both alike: on H200s the plan, timed first, came out 5-17%
  // below the sum of its kernels timed afterwards (docs/lightning-prefill.md).
  std::vector<Plan> alone;
  for (size_t kI = 0; kI < plan.kernels.size(); ++kI) {
    Plan one = plan;
    one.kernels = {plan.kernels[kI]};
    alone.push_back(one);
  }
  std::vector<double> times;
  std::vector<std::vector<double>> kt(alone.size());
  for (int it = 0; it < 15; ++it) {
    times.push_back(timeBatch(plan));
    for (size_t kI = 0; kI < alone.size(); ++kI)
      kt[kI].push_back(timeBatch(alone[kI]));
  }
  std::vector<double> perKernel;
  for (auto &v : kt)
    perKernel.push_back(median(v));
  // One call at a time, as a caller who waits for each result sees it: the
  // GPU idles while the host launches the first kernel. The benchmark times
  // its Python peers the same way next to their back-to-back time.
  std::vector<double> perCall;
  for (int it = 0; it < 21; ++it) {
    CU_CHECK(cuEventRecord(e0, nullptr));
    launchPlan(plan, d, B, nullptr);
    CU_CHECK(cuEventRecord(e1, nullptr));
    CU_CHECK(cuEventSynchronize(e1));
    float ms;
    CU_CHECK(cuEventElapsedTime(&ms, e0, e1));
    perCall.push_back(ms);
  }
  // The plan replayed from a CUDA graph of 4 calls (the overlapped
  // kernels' programmatic dependencies captured as graph edges), as the
  // benchmark times fla's graph: device time without launch gaps, so that
  // the graph pairing is timed the same way on both sides. -1 where the
  // capture fails (reported, not fatal).
  // (launchPlan exits on a failing launch, in the capture as elsewhere.)
  const double graphMs = graphMsPerCall(4, 7, dir.c_str(), [&](CUstream cs, int) {
    launchPlan(plan, d, B, cs);
    return CUDA_SUCCESS;
  });
  std::printf("RESULT {\"dir\": \"%s\", \"B\": %d, \"T\": %lld, \"H\": %d, \"D\": %d, "
              "\"NS\": %d, \"VS\": %d, \"tail_log2\": %d, \"outputs_tail_log2\": %d, "
              "\"split_chunks\": %d, \"parts\": %d, \"hilo\": %d, \"hilo_tail\": %d, "
              "\"long_call\": %d, \"early_first\": %d, \"scan_in_out\": %d, "
              "\"ms\": %.6f, \"calls_per_batch\": %d, \"ms_per_call\": %.6f, "
              "\"graph_ms_per_call\": %.6f, "
              "\"kernel_ms\": [",
              dir.c_str(), B, T, H, D, plan.NS, plan.VS, plan.tailLog2, plan.outTailLog2,
              plan.splitChunks, plan.parts, int(plan.hiLo), plan.hiLoTailLog2,
              int(&plan != &planSet), int(plan.earlyFirst), int(plan.scanInOut), median(times),
              reps, median(perCall), graphMs);
  for (size_t i = 0; i < perKernel.size(); ++i)
    std::printf("%s%.6f", i ? ", " : "", perKernel[i]);
  std::printf("]}\n");
  std::fflush(stdout);
  if (gPlacements > 0)
    timePlacements(plan, d, B, qkv.size(), outBytes, timeBatchOn);
  // --sustain: batches back to back for the given wall time, each printed
  // with the host's clock (ms since the epoch) when it ended, to line them
  // up with nvidia-smi's clock and power samples (power_probe.py).
  if (gSustainSeconds > 0) {
    using Clock = std::chrono::system_clock;
    CU_CHECK(cuCtxSynchronize());
    std::this_thread::sleep_for(std::chrono::seconds(3)); // clocks back up after the timing
    const auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < gSustainSeconds) {
      double ms = timeBatch(plan);
      long long wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                           Clock::now().time_since_epoch())
                           .count();
      std::printf("SUSTAIN {\"wall_ms\": %lld, \"ms\": %.6f}\n", wall, ms);
    }
    std::fflush(stdout);
  }
  if (gTimelineFile) {
    if (!plan.timeline || !d.ws) {
      std::fprintf(stderr, "%s: --timeline needs a split plan built with probe-timeline=1\n",
                   dir.c_str());
      return false;
    }
    const size_t slots = size_t(B) * (plan.wsPerSeq - kTimelineBytes - 16),
                 at = (slots + 15) / 16 * 16;
    CU_CHECK(cuMemsetD8(d.ws + at, 0, kTimelineBytes));
    CU_CHECK(cuCtxSynchronize());
    launchPlan(plan, d, B, nullptr);
    CU_CHECK(cuCtxSynchronize());
    std::vector<char> rec(kTimelineBytes);
    CU_CHECK(cuMemcpyDtoH(rec.data(), d.ws + at, kTimelineBytes));
    if (!writeFile(gTimelineFile, rec.data(), rec.size())) {
      std::fprintf(stderr, "%s: cannot write the timeline to %s\n", dir.c_str(), gTimelineFile);
      return false;
    }
  }
  for (CUdeviceptr p : {d.qkv, d.state, d.out, d.cu, d.ws, s0d})
    if (p)
      CU_CHECK(cuMemFree(p));
  return true;
}

} // namespace

int main(int argc, char **argv) {
  bool quick = false;
  std::vector<std::string> files;
  std::vector<std::pair<std::string, int>> io;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else if (a == "--no-overlap")
      gOverlap = false;
    else if (a == "--timeline" && i + 1 < argc)
      gTimelineFile = argv[++i];
    else if (a == "--placements" && i + 1 < argc) {
      double n;
      if (!parseNonNegative("--placements", argv[++i], /*integer=*/true, n))
        return 1;
      gPlacements = int(n);
    } else if (a == "--sustain" && i + 1 < argc) {
      if (!parseNonNegative("--sustain", argv[++i], false, gSustainSeconds))
        return 1;
    } else if (a == "--warm-seconds" && i + 1 < argc) {
      if (!parseNonNegative("--warm-seconds", argv[++i], false, gWarmSeconds))
        return 1;
    } else if (a == "--io" && i + 1 < argc) {
      std::string s = argv[++i];
      size_t c = s.rfind(':');
      io.push_back({s.substr(0, c), std::stoi(s.substr(c + 1))});
    } else
      files.push_back(a);
  }
  // --timeline and --placements apply to --io runs.
  if (files.empty() || ((gTimelineFile || gPlacements || gSustainSeconds > 0) && io.empty())) {
    std::fprintf(stderr,
                 "usage: %s [--quick] [--no-overlap] [--io DIR:B]... [--timeline FILE] "
                 "[--placements N] [--sustain SECONDS] [--warm-seconds S] FILE.bin.mlir...\n",
                 argv[0]);
    return 1;
  }
  CUresult rc = cuInit(0);
  int count = 0;
  if (rc == CUDA_SUCCESS)
    rc = cuDeviceGetCount(&count);
  if (rc != CUDA_SUCCESS || count == 0) {
    const char *msg = nullptr;
    cuGetErrorString(rc, &msg);
    std::printf("SKIP: no CUDA device (%s, %d devices)\n", msg ? msg : "?", count);
    return kSkip;
  }
  CUdevice dev;
  CU_CHECK(cuDeviceGet(&dev, 0));
  int major = 0, minor = 0;
  CU_CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
  CU_CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
  char name[256];
  CU_CHECK(cuDeviceGetName(name, sizeof(name), dev));
  if (major != 9) {
    std::printf("SKIP: %s is sm_%d%d; the kernels are built for sm_90a\n", name, major, minor);
    return kSkip;
  }
  CUcontext ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
  CU_CHECK(cuCtxSetCurrent(ctx));
  std::printf("device: %s\n", name);

  std::vector<Plan> plans(files.size());
  for (size_t i = 0; i < files.size(); ++i)
    if (!loadPlan(files[i], plans[i]))
      return 1;

  if (!io.empty()) {
    bool ok = true;
    for (auto &[dir, B] : io)
      ok &= runIO(plans[0], dir, B);
    return ok ? 0 : 1;
  }

  std::mt19937 rng(20261127);
  int failures = 0, total = 0;
  for (const Plan &plan0 : plans) {
    // Lengths: awkward (not multiples of 64), 0 and 1, mixed batches, and
    // long enough to cross several segments of a split plan.
    std::vector<Case> cases = {
        {1, {1}, false},          {1, {0}, true},
        {1, {64}, true},          {1, {129}, false},
        {1, {1000}, true},        {3, {77, 0, 300}, true},
        {4, {1, 63, 65, 517}, true}, {2, {2049, 190}, true},
        // 33 segments of 64 tokens where the plan allows (the scan's
        // longest chain).
        {1, {2111}, true},
    };
    if (!quick)
      cases.push_back({5, {3000, 5, 0, 1333, 64}, true});
    if (plan0.longCall) // both plans, and the long-call plan's threshold
      for (long long t : {plan0.longCallTokens - 1, plan0.longCallTokens, plan0.longCallTokens + 1000})
        cases.push_back({1, {int(t)}, true});
    for (const Case &c : cases) {
      if (c.B > plan0.maxBatch)
        continue;
      long long tokens = 0;
      for (int l : c.lens)
        tokens += l;
      const Plan &plan = plan0.forCall(c.B, tokens);
      Errors err;
      bool ok = runCase(plan, c, rng, err);
      ++total;
      failures += !ok;
      std::string lens;
      for (int l : c.lens)
        lens += (lens.empty() ? "" : ",") + std::to_string(l);
      std::printf("%s H=%d D=%d NS=%d VS=%d silu=%d hilo=%d%s B=%d lens=[%s] state=%s: o rel %.2e "
                  "(max %.2e), state rel %.2e (max %.2e), worst err/tol %.3f\n",
                  ok ? "PASS" : "FAIL", plan.H, plan.D, plan.NS, plan.VS, int(plan.silu),
                  int(plan.hiLo),
                  plan.hiLoTailLog2 ? (" tail=" + std::to_string(plan.hiLoTailLog2)).c_str() : "",
                  c.B,
                  lens.c_str(), c.carried ? "carried" : "zero", err.oNorm,
                  err.oMaxRel, err.sNorm, err.sMaxRel, err.worst);
      std::fflush(stdout);
    }
  }
  std::printf("%d/%d cases passed\n", total - failures, total);
  return failures ? 1 : 0;
}
