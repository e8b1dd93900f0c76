//===- CPUBackend.cpp - the CPU target as a runner backend -----------------===//
#include "CPUBackend.h"

#include "Model/Import/Importer.h"

#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

namespace mm01 {

namespace {
Error toError(llvm::Error err) { return makeError(llvm::toString(std::move(err))); }

/// Converts a buffer of `spec`'s element type to float32.
NpyArray toFloat32(const std::vector<uint8_t> &buffer, const cpu::TensorSpec &spec) {
  std::vector<int64_t> shape(spec.sizes.begin(), spec.sizes.end());
  NpyArray out = NpyArray::make(NpyType::F32, shape);
  int64_t n = out.numElements();
  float *dst = out.data<float>();
  if (spec.type == cpu::ElementType::F32) {
    std::memcpy(dst, buffer.data(), n * sizeof(float));
  } else {
    const uint16_t *src = reinterpret_cast<const uint16_t *>(buffer.data());
    for (int64_t i = 0; i < n; ++i)
      dst[i] = spec.type == cpu::ElementType::BF16 ? bf16ToFloat(src[i]) : f16ToFloat(src[i]);
  }
  return out;
}

cpu::MemRefArg argOf(void *data, const cpu::TensorSpec &spec) {
  cpu::MemRefArg arg;
  arg.data = data;
  arg.type = spec.type;
  arg.sizes.assign(spec.sizes.begin(), spec.sizes.end());
  return arg;
}
} // namespace

CPUBackend::CPUBackend(const ModelConfig &config, Checkpoint &checkpoint,
                       DType weightType, CPUBackendOptions options)
    : config(config), checkpoint(checkpoint), weightType(weightType),
      options(std::move(options)) {}

CPUBackend::~CPUBackend() = default;

Result<CPUBackend::Compiled *> CPUBackend::module(int64_t length, bool decode,
                                                  bool hidden) {
  auto key = std::make_pair(decode ? 0 : length, hidden);
  if (auto it = compiled.find(key); it != compiled.end())
    return &it->second;
  auto start = std::chrono::steady_clock::now();
  Compiled entry;
  mlir::DialectRegistry registry;
  cpu::registerJitDialects(registry);
  entry.context = std::make_unique<mlir::MLIRContext>(registry);
  ImportOptions import;
  import.batch = options.batch;
  import.prefillLength = decode ? 1 : length;
  import.cacheCapacity = options.cacheCapacity;
  import.dtype = options.dtype;
  import.emitPrefill = !decode;
  import.emitDecode = decode;
  import.emitHiddenStates = hidden;
  auto module = importModel(*entry.context, config, weightType, import);
  if (!module)
    return toError(module.takeError());
  cpu::JitOptions jit;
  jit.chunkSize = options.chunkSize;
  auto runner = cpu::JitRunner::compileModel(**module, jit);
  if (!runner)
    return toError(runner.takeError());
  entry.runner = std::move(*runner);
  entry.function = decode ? "decode" : "prefill";
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  compileTime += seconds;
  if (options.verbose)
    llvm::errs() << "mm01-run: compiled @" << entry.function << " (T=" << import.prefillLength
                 << ") in " << llvm::format("%.2f", seconds) << " s (passes "
                 << llvm::format("%.2f", entry.runner->stats().pipelineSeconds) << " s, LLVM "
                 << llvm::format("%.2f", entry.runner->stats().jitSeconds) << " s)\n";
  return &compiled.emplace(key, std::move(entry)).first->second;
}

Result<cpu::MemRefArg> CPUBackend::weight(const std::string &name,
                                          const cpu::TensorSpec &spec) {
  if (name.find("{e}") == std::string::npos) {
    auto data = checkpoint.data(name);
    if (!data.ok())
      return makeError(data.error());
    // The JIT only reads weights; the mapping is read-only.
    return argOf(const_cast<void *>(data.value()), spec);
  }
  auto it = stackedExperts.find(name);
  if (it == stackedExperts.end()) {
    // Expert tensors are separate in the checkpoint: stack them once.
    int64_t experts = spec.sizes[0];
    std::vector<uint8_t> stacked;
    for (int64_t e = 0; e < experts; ++e) {
      std::string tensor = name;
      tensor.replace(tensor.find("{e}"), 3, std::to_string(e));
      const TensorInfo *info = checkpoint.find(tensor);
      auto data = checkpoint.data(tensor);
      if (!info || !data.ok())
        return makeError(info ? data.error() : "checkpoint has no tensor '" + tensor + "'");
      const uint8_t *bytes = static_cast<const uint8_t *>(data.value());
      stacked.insert(stacked.end(), bytes, bytes + info->byteSize);
    }
    it = stackedExperts.emplace(name, std::move(stacked)).first;
  }
  return argOf(it->second.data(), spec);
}

Status CPUBackend::run(Compiled &entry, const NpyArray &ids, const NpyArray &positions,
                       NpyArray &logits, NpyArray *hidden) {
  const cpu::FunctionInfo *info = entry.runner->function(entry.function);
  if (!info)
    return makeError("internal error: compiled module has no @" + entry.function);
  const unsigned numStates = info->firstWeight - 2;
  if (states.empty())
    for (unsigned s = 0; s < numStates; ++s) {
      cpu::MemRefArg probe = argOf(nullptr, info->inputs[2 + s]);
      states.emplace_back(probe.numBytes(), 0); // zero states, empty caches
    }

  std::vector<cpu::MemRefArg> args;
  args.push_back(argOf(const_cast<uint8_t *>(ids.bytes.data()), info->inputs[0]));
  args.push_back(argOf(const_cast<uint8_t *>(positions.bytes.data()), info->inputs[1]));
  for (unsigned s = 0; s < numStates; ++s)
    args.push_back(argOf(states[s].data(), info->inputs[2 + s]));
  for (size_t w = 0; w < info->weights.size(); ++w) {
    auto arg = weight(info->weights[w], info->inputs[info->firstWeight + w]);
    if (!arg.ok())
      return makeError(arg.error());
    args.push_back(arg.value());
  }
  std::vector<std::vector<uint8_t>> outputs;
  for (const cpu::TensorSpec &spec : info->results)
    outputs.emplace_back(argOf(nullptr, spec).numBytes());
  for (size_t r = 0; r < outputs.size(); ++r)
    args.push_back(argOf(outputs[r].data(), info->results[r]));

  if (llvm::Error err = entry.runner->invoke(entry.function, args))
    return toError(std::move(err));

  logits = toFloat32(outputs[0], info->results[0]);
  for (unsigned s = 0; s < numStates; ++s)
    states[s].swap(outputs[1 + s]);
  if (hidden) {
    const int64_t L1 = config.numLayers + 1;
    if (static_cast<int64_t>(info->results.size()) != 1 + numStates + L1)
      return makeError("internal error: @prefill returns no hidden states");
    const cpu::TensorSpec &spec = info->results[1 + numStates];
    int64_t per = spec.sizes[0] * spec.sizes[1] * spec.sizes[2];
    *hidden = NpyArray::make(NpyType::F32, {L1, spec.sizes[0], spec.sizes[1], spec.sizes[2]});
    for (int64_t l = 0; l < L1; ++l) {
      NpyArray h = toFloat32(outputs[1 + numStates + l], info->results[1 + numStates + l]);
      std::memcpy(hidden->data<float>() + l * per, h.data<float>(), per * sizeof(float));
    }
  }
  return Status::success();
}

Status CPUBackend::prefill(const NpyArray &ids, const NpyArray &positions,
                           NpyArray &logits, NpyArray *hidden) {
  auto entry = module(ids.shape[1], /*decode=*/false, hidden != nullptr);
  if (!entry.ok())
    return makeError(entry.error());
  return run(*entry.value(), ids, positions, logits, hidden);
}

Status CPUBackend::decode(const NpyArray &ids, const NpyArray &positions,
                          NpyArray &logits) {
  auto entry = module(1, /*decode=*/true, false);
  if (!entry.ok())
    return makeError(entry.error());
  return run(*entry.value(), ids, positions, logits, nullptr);
}

Status CPUBackend::prefillMixed(const NpyArray &, const std::vector<int64_t> &,
                                NpyArray &) {
  // Each compiled module has one static prompt length for the whole batch.
  return makeError("the CPU target does not support prompts of different lengths "
                   "(--prompt-lengths): run them as separate batches");
}

} // namespace mm01
