//===- Run.h - the two paths of mm01-run and what they share ----*- C++ -*-===//
#ifndef MM01_TOOLS_MM01RUN_RUN_H
#define MM01_TOOLS_MM01RUN_RUN_H

#include "Options.h"

#include "mm01/Runner/Generate.h"
#include "mm01/Support/Npy.h"

#include <optional>
#include <string>

namespace mm01 {

/// Prints "mm01-run: error: MESSAGE" and returns the exit status 1.
int fail(const std::string &message);

/// The prompt and teacher-forcing inputs, checked against the vocabulary.
struct RunInputs {
  NpyArray ids;
  std::optional<NpyArray> forced;
  int64_t generate = 0; // N
};
Result<RunInputs> readRunInputs(const RunOptions &options, int64_t vocab);

/// GenerateOptions from the command line.
GenerateOptions generateOptions(const RunOptions &options, const RunInputs &inputs);

/// Writes --dump, or prints the generated ids. Returns the exit status.
int writeResults(const RunOptions &options, GenerateResult &result);

/// A checkpoint directory on the CPU target (through libMM01CPUBackend.so).
int runCheckpoint(const RunOptions &options);
/// An engine file on the GPU.
int runEngine(const RunOptions &options);

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_RUN_H
