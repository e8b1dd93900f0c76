//===- CPUPlugin.cpp - libMM01CPUBackend.so: the CPU target's factory ------===//
#include "CPUBackend.h"
#include "CPUModel.h"

#include "Model/Import/Importer.h"

using namespace mm01;

namespace {
class CPUModelImpl : public CPUModel {
public:
  CPUModelImpl(ModelConfig config, std::unique_ptr<Checkpoint> checkpoint, DType weightType)
      : config(std::move(config)), checkpoint(std::move(checkpoint)),
        weightType(weightType) {}
  int64_t vocabSize() const override { return config.vocabSize; }
  std::unique_ptr<Backend> createBackend(const CPUBackendOptions &options) override {
    return std::make_unique<CPUBackend>(config, *checkpoint, weightType, options);
  }
  double compileSeconds(const Backend &backend) const override {
    return static_cast<const CPUBackend &>(backend).compileSeconds();
  }

private:
  ModelConfig config;
  std::unique_ptr<Checkpoint> checkpoint;
  DType weightType;
};
} // namespace

extern "C" __attribute__((visibility("default"))) CPUModel *
mm01_open_cpu_model(const char *checkpointDir, std::string *error) {
  std::string dir = checkpointDir;
  auto config = loadModelConfig(dir + "/config.json");
  if (!config.ok()) {
    *error = config.error();
    return nullptr;
  }
  if (Status s = config->validate(); !s) {
    *error = s.error();
    return nullptr;
  }
  auto checkpoint = Checkpoint::open(dir);
  if (!checkpoint.ok()) {
    *error = checkpoint.error();
    return nullptr;
  }
  auto weightType = checkWeights(*config, **checkpoint);
  if (!weightType.ok()) {
    *error = weightType.error();
    return nullptr;
  }
  return new CPUModelImpl(*config, std::move(checkpoint).value(), *weightType);
}
