//===- Options.h - mm01-run's command line ----------------------*- C++ -*-===//
//
// Parsed by hand: mm01-run must not link LLVM (it runs engines on GPU
// machines without LLVM), so llvm::cl is not available. Accepts the
// spellings llvm::cl accepted before: `--opt value`, `--opt=value`, `-opt`.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TOOLS_MM01RUN_OPTIONS_H
#define MM01_TOOLS_MM01RUN_OPTIONS_H

#include "mm01/Support/Result.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace mm01 {

struct RunOptions {
  std::string model; // checkpoint directory or engine file
  std::string target; // "" (by the model path) or "cpu"
  std::string inputIds;
  int64_t generate = -1; // default: the length of --force-ids, else 0
  std::string forceIds;
  std::string dump;
  std::string dtype = "f32";
  int64_t chunkSize = 64;
  int64_t prefillChunk = 0;
  bool hiddenStates = false;
  bool verbose = false;
  // GPU engines.
  std::vector<int64_t> promptLengths; // empty: every row is whole
  bool benchmark = false;
  int64_t benchmarkSteps = 32;
  bool noGraph = false;
  int64_t device = 0;
  bool help = false;
  /// Options given on the command line (by name, without dashes), to refuse
  /// CPU-only options for an engine and engine-only ones for a checkpoint.
  std::set<std::string> given;
};

/// Parses argv; errors name the option ("--generate: 'x' is not an integer").
Result<RunOptions> parseRunOptions(int argc, char **argv);
/// The --help text.
const char *runUsage();

} // namespace mm01

#endif // MM01_TOOLS_MM01RUN_OPTIONS_H
