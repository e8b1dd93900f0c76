//===- CPUModel.h - the CPU target behind a dlopen boundary -----*- C++ -*-===//
//
// The CPU target JIT-compiles the model with MLIR/LLVM. mm01-run must start
// on GPU machines without LLVM, so the CPU target lives in a shared library
// (libMM01CPUBackend.so, next to mm01-run) that mm01-run loads with dlopen
// only for a checkpoint directory. This header is the whole interface: one
// extern "C" factory returning an MLIR-free C++ object. Both sides are built
// together by the same compiler, so passing C++ types across is safe.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TOOLS_MM01RUN_CPUMODEL_H
#define MM01_TOOLS_MM01RUN_CPUMODEL_H

#include "mm01/Runner/Generate.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mm01 {

struct CPUBackendOptions {
  int64_t batch = 1;
  int64_t cacheCapacity = 1; // KV-cache rows: prompt + generated tokens
  std::string dtype = "f32";
  int64_t chunkSize = 64;
  bool verbose = false;
};

/// A checkpoint opened for the CPU target (config validated, weights checked).
class CPUModel {
public:
  virtual ~CPUModel() = default;
  virtual int64_t vocabSize() const = 0;
  /// A backend with fresh states; the model must outlive it.
  virtual std::unique_ptr<Backend> createBackend(const CPUBackendOptions &options) = 0;
  /// JIT compile time so far of a backend this model created.
  virtual double compileSeconds(const Backend &backend) const = 0;
};

/// The plugin's factory: opens `checkpointDir` or returns null with the
/// one-line reason in `*error`.
using OpenCPUModelFn = CPUModel *(const char *checkpointDir, std::string *error);
inline constexpr const char *kCPUPluginFile = "libMM01CPUBackend.so";
inline constexpr const char *kCPUPluginSymbol = "mm01_open_cpu_model";

/// mm01-run's side: loads the plugin found next to the running executable
/// and opens the checkpoint through it.
Result<std::unique_ptr<CPUModel>> openCPUModel(const std::string &checkpointDir);

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_CPUMODEL_H
