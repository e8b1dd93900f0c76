//===- CPUBackend.h - the CPU target as a runner backend ---------*- C++ -*-===//
//
// Imports the checkpoint with static shapes for each prefill length it sees
// (and once for decode), compiles it through mm01-cpu-pipeline with the JIT,
// binds the memory-mapped weights, and carries lightning states and KV caches
// from call to call.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TOOLS_MM01RUN_CPUBACKEND_H
#define MM01_TOOLS_MM01RUN_CPUBACKEND_H

#include "CPUModel.h"
#include "Model/CPU/JitRunner.h"
#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"
#include "mm01/Runner/Generate.h"

#include "mlir/IR/MLIRContext.h"

#include <map>
#include <memory>

namespace mm01 {

class CPUBackend : public Backend {
public:
  CPUBackend(const ModelConfig &config, Checkpoint &checkpoint, DType weightType,
             CPUBackendOptions options);
  ~CPUBackend() override;

  int64_t vocabSize() const override { return config.vocabSize; }
  int64_t numLayers() const override { return config.numLayers; }
  int64_t hiddenSize() const override { return config.hiddenSize; }
  Status prefill(const NpyArray &ids, const NpyArray &positions, NpyArray &logits,
                 NpyArray *hidden) override;
  Status decode(const NpyArray &ids, const NpyArray &positions,
                NpyArray &logits) override;
  Status prefillMixed(const NpyArray &ids, const std::vector<int64_t> &lengths,
                      NpyArray &logits) override;

  double compileSeconds() const { return compileTime; }

private:
  struct Compiled {
    std::unique_ptr<mlir::MLIRContext> context;
    std::unique_ptr<cpu::JitRunner> runner;
    std::string function;
  };
  /// Compiles (once) the module for a prefill of `length` tokens, or decode.
  Result<Compiled *> module(int64_t length, bool decode, bool hidden);
  /// Runs one compiled function on ids/positions; updates the states.
  Status run(Compiled &compiled, const NpyArray &ids, const NpyArray &positions,
             NpyArray &logits, NpyArray *hidden);
  Result<cpu::MemRefArg> weight(const std::string &name, const cpu::TensorSpec &spec);

  ModelConfig config;
  Checkpoint &checkpoint;
  DType weightType;
  CPUBackendOptions options;
  std::map<std::pair<int64_t, bool>, Compiled> compiled; // (length|0 decode, hidden)
  std::map<std::string, std::vector<uint8_t>> stackedExperts;
  std::vector<std::vector<uint8_t>> states; // lightning states and KV caches
  double compileTime = 0;
};

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_CPUBACKEND_H
