//===- mm01-engine-eval.cpp - run one entry point of an engine on npz data -===//
//
//   mm01-engine-eval ENGINE --entry prefill --inputs IN.npz --outputs OUT.npz
//       --batch B --seq S --tokens N --context C
//       --output NAME[:DTYPE]=D0xD1x... [--output ...]
//       [--input-dtype NAME=DTYPE] [--device D]
//
// The MLIR-free counterpart of the CPU target's function call, for per-op
// tests (test/gpu/ops): zeroes the state and KV-cache arenas, uploads every
// array of IN.npz to the buffer of the same name (from offset 0), runs the
// entry point once with DimEnv{B, S, C, N}, downloads each --output buffer's
// first D0·D1·... elements and writes them to OUT.npz as float32 (int32 for
// i32 buffers).
//
// Device element types: integer arrays go to int32 buffers (the engine ABI:
// integer inputs are int32 on the device); float arrays and outputs are
// float32 in `state` buffers (lightning states) and the engine's activation
// dtype (manifest options.dtype) elsewhere, unless --input-dtype / the
// output's :DTYPE says otherwise (bf16, f32, i32). Sizes are checked against
// the buffers. Exit 77 when there is no CUDA device (a skipped test).
//
// Links MM01Runtime only (CUDA runtime, cuBLASLt; no LLVM/MLIR).
//
//===----------------------------------------------------------------------===//
#include "NpzReader.h"

#include "mm01/Runtime/GpuEngine.h"
#include "mm01/Support/Npy.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace mm01;

namespace {

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "mm01-engine-eval: error: %s\n", message.c_str());
  return code;
}

enum class Elt { BF16, F32, I32 };

bool parseElt(const std::string &s, Elt &e) {
  if (s == "bf16") e = Elt::BF16;
  else if (s == "f32") e = Elt::F32;
  else if (s == "i32") e = Elt::I32;
  else return false;
  return true;
}
size_t eltSize(Elt e) { return e == Elt::BF16 ? 2 : 4; }

uint16_t toBF16(float f) { // round to nearest even (NaN kept quiet)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f))
    return uint16_t((u >> 16) | 0x40);
  u += 0x7FFF + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}
float fromBF16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// The array's elements as `e` bytes (false if the kinds do not convert).
bool encode(const NpyArray &a, Elt e, std::vector<uint8_t> &out) {
  int64_t n = a.numElements();
  out.assign(n * eltSize(e), 0);
  bool isInt = a.type == NpyType::I64 || a.type == NpyType::I32;
  if (isInt != (e == Elt::I32))
    return false;
  for (int64_t i = 0; i < n; ++i) {
    if (e == Elt::I32) {
      int64_t v = a.type == NpyType::I64 ? a.data<int64_t>()[i] : a.data<int32_t>()[i];
      int32_t w = int32_t(v);
      std::memcpy(&out[4 * i], &w, 4);
      continue;
    }
    float f = a.type == NpyType::F64 ? float(a.data<double>()[i]) : a.data<float>()[i];
    if (e == Elt::F32) {
      std::memcpy(&out[4 * i], &f, 4);
    } else {
      uint16_t h = toBF16(f);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return true;
}

struct OutputSpec {
  std::string name;
  bool explicitElt = false;
  Elt elt = Elt::F32;
  std::vector<int64_t> shape;
};

} // namespace

int main(int argc, char **argv) {
  std::string enginePath, entry = "prefill", inputsPath, outputsPath;
  engine::DimEnv env;
  env.tokens = -1;
  int device = 0;
  std::vector<OutputSpec> outputs;
  std::map<std::string, Elt> inputElt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fail("missing value after " + a);
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--entry") entry = value();
    else if (a == "--inputs") inputsPath = value();
    else if (a == "--outputs") outputsPath = value();
    else if (a == "--batch") env.batch = std::atoll(value().c_str());
    else if (a == "--seq") env.seq = std::atoll(value().c_str());
    else if (a == "--tokens") env.tokens = std::atoll(value().c_str());
    else if (a == "--context") env.context = std::atoll(value().c_str());
    else if (a == "--device") device = std::atoi(value().c_str());
    else if (a == "--input-dtype") {
      std::string v = value();
      size_t eq = v.find('=');
      Elt e;
      if (eq == std::string::npos || !parseElt(v.substr(eq + 1), e))
        return fail("--input-dtype wants NAME=bf16|f32|i32, got '" + v + "'");
      inputElt[v.substr(0, eq)] = e;
    } else if (a == "--output") {
      std::string v = value();
      size_t eq = v.find('=');
      if (eq == std::string::npos)
        return fail("--output wants NAME[:DTYPE]=D0xD1x..., got '" + v + "'");
      OutputSpec o;
      o.name = v.substr(0, eq);
      if (size_t colon = o.name.find(':'); colon != std::string::npos) {
        if (!parseElt(o.name.substr(colon + 1), o.elt))
          return fail("--output " + v + ": dtype must be bf16, f32 or i32");
        o.explicitElt = true;
        o.name.resize(colon);
      }
      std::string dims = v.substr(eq + 1);
      for (size_t p = 0; p <= dims.size();) {
        size_t x = dims.find('x', p);
        if (x == std::string::npos) x = dims.size();
        int64_t d = std::atoll(dims.substr(p, x - p).c_str());
        if (d <= 0)
          return fail("--output " + v + ": bad shape");
        o.shape.push_back(d);
        p = x + 1;
      }
      outputs.push_back(o);
    } else if (a.size() && a[0] == '-') {
      return fail("unknown option " + a);
    } else if (enginePath.empty()) {
      enginePath = a;
    } else {
      return fail("unexpected argument " + a);
    }
  }
  if (enginePath.empty() || inputsPath.empty() || outputsPath.empty())
    return fail("usage: mm01-engine-eval ENGINE --entry E --inputs IN.npz "
                "--outputs OUT.npz --batch B --seq S --tokens N --context C "
                "--output NAME[:DTYPE]=SHAPE ...");
  if (env.tokens < 0)
    env.tokens = env.batch * env.seq;

  auto inputs = readNpz(inputsPath);
  if (!inputs.ok())
    return fail(inputs.error());

  runtime::LoadOptions lo;
  lo.device = device;
  auto loaded = runtime::GpuEngine::load(enginePath, lo);
  if (!loaded.ok()) {
    bool noDevice = loaded.error().find("no CUDA device") != std::string::npos;
    return fail(loaded.error(), noDevice ? 77 : 1);
  }
  runtime::GpuEngine &eng = *loaded.value();
  const engine::Manifest &m = eng.manifest();
  Elt act = m.options.dtype == DType::F32 ? Elt::F32 : Elt::BF16;
  auto defaultElt = [&](const engine::Buffer &b, bool isInt) {
    if (isInt)
      return Elt::I32;
    return b.lifetime == engine::Lifetime::State ? Elt::F32 : act;
  };

  cudaStream_t stream;
  if (cudaStreamCreate(&stream) != cudaSuccess)
    return fail("cudaStreamCreate failed");
  for (auto l : {engine::Lifetime::State, engine::Lifetime::KVCache})
    if (Status s = eng.zeroArena(l, stream); !s)
      return fail(s.error());

  for (auto &[name, array] : *inputs) {
    const engine::Buffer *buf = m.findBuffer(name);
    if (!buf)
      return fail("input '" + name + "': the engine has no buffer of that name");
    bool isInt = array.type == NpyType::I64 || array.type == NpyType::I32;
    auto it = inputElt.find(name);
    Elt e = it != inputElt.end() ? it->second : defaultElt(*buf, isInt);
    std::vector<uint8_t> bytes;
    if (!encode(array, e, bytes))
      return fail("input '" + name + "': a " + npyTypeName(array.type) +
                  " array cannot go to a buffer of that element type");
    if (bytes.size() > buf->bytes)
      return fail("input '" + name + "': " + std::to_string(bytes.size()) +
                  " bytes exceed buffer '" + name + "' (" +
                  std::to_string(buf->bytes) + " bytes)");
    if (Status s = eng.upload(name, bytes.data(), bytes.size(), stream); !s)
      return fail(s.error());
  }

  if (Status s = eng.run(entry, env, stream); !s)
    return fail(s.error());
  if (cudaError_t err = cudaStreamSynchronize(stream); err != cudaSuccess)
    return fail(std::string("entry point '") + entry + "': " + cudaGetErrorString(err));

  std::vector<std::pair<std::string, NpyArray>> results;
  for (const OutputSpec &o : outputs) {
    const engine::Buffer *buf = m.findBuffer(o.name);
    if (!buf)
      return fail("output '" + o.name + "': the engine has no buffer of that name");
    Elt e = o.explicitElt ? o.elt : defaultElt(*buf, false);
    int64_t n = 1;
    for (int64_t d : o.shape)
      n *= d;
    uint64_t bytes = n * eltSize(e);
    if (bytes > buf->bytes)
      return fail("output '" + o.name + "': " + std::to_string(bytes) +
                  " bytes exceed buffer '" + o.name + "' (" +
                  std::to_string(buf->bytes) + " bytes)");
    std::vector<uint8_t> raw(bytes);
    if (Status s = eng.download(o.name, raw.data(), bytes, stream); !s)
      return fail(s.error());
    NpyArray out = NpyArray::make(e == Elt::I32 ? NpyType::I32 : NpyType::F32, o.shape);
    for (int64_t i = 0; i < n; ++i) {
      if (e == Elt::BF16) {
        uint16_t h;
        std::memcpy(&h, &raw[2 * i], 2);
        out.data<float>()[i] = fromBF16(h);
      } else {
        std::memcpy(&out.bytes[4 * i], &raw[4 * i], 4);
      }
    }
    results.push_back({o.name, std::move(out)});
  }
  cudaStreamDestroy(stream);
  if (Status s = writeNpz(outputsPath, results); !s)
    return fail(s.error());
  std::printf("mm01-engine-eval: %s on %s: batch %lld, seq %lld, tokens %lld, "
              "context %lld; %zu inputs, %zu outputs\n",
              entry.c_str(), eng.device().name.c_str(), (long long)env.batch,
              (long long)env.seq, (long long)env.tokens, (long long)env.context,
              inputs->size(), results.size());
  return 0;
}
