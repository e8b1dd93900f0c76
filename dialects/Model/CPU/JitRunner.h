//===- JitRunner.h - JIT-compile and call mm01 CPU modules ------*- C++ -*-===//
//
// Compiles a module with `mm01-cpu-pipeline` (or one already in the LLVM
// dialect) through mlir::ExecutionEngine and calls its functions on
// caller-owned buffers.
//
// Calling convention of a compiled function `f` (what the pipeline makes of
// `func.func @f(args...) -> (results...)`):
//
//   f(args..., weights..., results...)
//
// every operand a dense row-major buffer (a `MemRefArg`): first the original
// arguments, then one per entry of the `mm01.weights` attribute (the weight
// name, or the `name_format` with `{e}` for a stack of expert tensors), then
// one caller-allocated output buffer per result. `FunctionInfo` describes
// them; `invoke` checks element types and static sizes against it. Buffers
// must not overlap (the generated code assumes they do not), and inputs are
// never written.
//
// The pipeline passes each buffer as a bare pointer (static shapes). Modules
// lowered elsewhere with `llvm.emit_c_interface` are called through their
// `_mlir_ciface_` wrappers with memref descriptors instead.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CPU_JITRUNNER_H
#define MM01_MODEL_CPU_JITRUNNER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
class MLIRContext;
class Type;
} // namespace mlir

namespace mm01::cpu {

enum class ElementType { F32, F64, BF16, F16, I64, I32, I8, I1 };

/// Bytes per element (I1 is stored as one byte).
size_t elementSize(ElementType type);
llvm::StringRef elementTypeName(ElementType type);
/// The ElementType of an MLIR scalar type, if it has one.
std::optional<ElementType> elementTypeOf(mlir::Type type);

/// A caller-owned dense row-major buffer passed as a memref. `data` must
/// stay valid for the call; outputs are written into it.
struct MemRefArg {
  void *data = nullptr;
  ElementType type = ElementType::F32;
  llvm::SmallVector<int64_t, 4> sizes;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * elementSize(type); }
};

/// Declared type of one operand; a dynamic size is -1.
struct TensorSpec {
  ElementType type = ElementType::F32;
  llvm::SmallVector<int64_t, 4> sizes;
  std::string str() const; // e.g. "2x600x256xf32"
};

/// The operands of a compiled function, in call order.
struct FunctionInfo {
  std::string name;
  /// Original arguments, then weights (see `weights`).
  std::vector<TensorSpec> inputs;
  /// Output buffers, appended after the inputs.
  std::vector<TensorSpec> results;
  /// Names from `mm01.weights`, for the inputs [firstWeight, inputs.size()).
  std::vector<std::string> weights;
  unsigned firstWeight = 0;

  unsigned numOperands() const { return inputs.size() + results.size(); }
};

struct JitOptions {
  /// LLVM optimisation level of the JIT (0-3). O2 runs the tiny model as
  /// fast as O3 and compiles in about 60% of the time.
  unsigned optLevel = 2;
  /// `chunk-size` of the lightning lowering in `mm01-cpu-pipeline`.
  int64_t chunkSize = 64;
  /// Extra shared libraries for the JIT to resolve symbols from (e.g.
  /// libmlir_c_runner_utils.so when IR prints or calls runtime helpers).
  std::vector<std::string> sharedLibPaths;
  /// Print the IR after every pass of the pipeline (debugging).
  bool printIRAfterAll = false;
};

/// Timings of a compilation, in seconds.
struct CompileStats {
  double pipelineSeconds = 0; // mm01-cpu-pipeline (MLIR passes)
  double jitSeconds = 0;      // translation to LLVM IR, O-level passes, codegen
};

/// Registers every dialect, extension and LLVM-IR translation the pipeline
/// and the JIT need (upstream ones and mm01). Call it on the registry of the
/// context that holds the module, or let `compile*` append it.
void registerJitDialects(mlir::DialectRegistry &registry);

class JitRunner {
public:
  ~JitRunner();

  /// Lowers `module` (model level or already linalg on tensors) in place
  /// with mm01-cpu-pipeline, records every function's operands, and
  /// JIT-compiles it.
  static llvm::Expected<std::unique_ptr<JitRunner>>
  compileModel(mlir::ModuleOp module, const JitOptions &options = {});

  /// JIT-compiles a module already in the LLVM dialect (bare-pointer
  /// functions, or ones with `_mlir_ciface_` wrappers). No operand checks
  /// (FunctionInfo is unknown).
  static llvm::Expected<std::unique_ptr<JitRunner>>
  compileLowered(mlir::ModuleOp module, const JitOptions &options = {});

  /// Operands of `name`, or null (unknown function, or compileLowered).
  const FunctionInfo *function(llvm::StringRef name) const;
  const std::vector<FunctionInfo> &functions() const { return infos; }
  const CompileStats &stats() const { return compileStats; }

  /// Calls `name` with `args` = inputs then outputs, in the order
  /// FunctionInfo lists them. Checks count, element types and static sizes
  /// when the function is known.
  llvm::Error invoke(llvm::StringRef name, llvm::ArrayRef<MemRefArg> args);

private:
  JitRunner();
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<FunctionInfo> infos;
  /// Public functions: true when called through `_mlir_ciface_<name>`
  /// (memref descriptors), false for bare pointers.
  llvm::StringMap<bool> cInterface;
  CompileStats compileStats;
};

/// Test convenience: parses `source` in a fresh context, compiles it with
/// compileModel and calls `funcName` once with `args`.
llvm::Error compileAndRun(llvm::StringRef source, llvm::StringRef funcName,
                          llvm::ArrayRef<MemRefArg> args,
                          const JitOptions &options = {},
                          CompileStats *stats = nullptr);

} // namespace mm01::cpu

#endif // MM01_MODEL_CPU_JITRUNNER_H
