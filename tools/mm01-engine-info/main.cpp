//===- main.cpp - mm01-engine-info ----------------------------------------===//
//
// Prints what an engine file holds (header, target, model, sections,
// kernels, entry points, buffer plan, weights) and, with --verify, checks
// every section checksum and the referenced checkpoint's fingerprint. A bad
// engine gives one line on stderr and exit code 1.
//
// Runtime-side: links MM01Engine (no LLVM/MLIR, no CUDA).
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/Device.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Engine/XXHash.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace mm01;
using namespace mm01::engine;

namespace {

const char *const toolName = "mm01-engine-info";

const char *const usageText =
    "usage: mm01-engine-info ENGINE [--verify] [--manifest]\n"
    "Prints an mm01 engine's header, target, model, sections, kernels, entry\n"
    "points, buffer plan and weights.\n"
    "  --verify     checksum every section and check the fingerprint of the\n"
    "               checkpoint the engine reads weights from\n"
    "  --manifest   print the JSON manifest instead of the summary\n";

[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", toolName, message.c_str());
  std::exit(2);
}

[[noreturn]] void fatal(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", toolName, message.c_str());
  std::exit(1);
}

/// "1.5 MiB" style, exact bytes below 1 KiB.
std::string humanBytes(uint64_t bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit < 3) {
    v /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", v, units[unit]);
  return text;
}

std::string dims(const std::array<DimExpr, 3> &d) {
  return "(" + d[0].text() + ", " + d[1].text() + ", " + d[2].text() + ")";
}

std::string joinNames(const std::vector<std::string> &names) {
  if (names.empty())
    return "-";
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

void printSummary(const EngineReader &reader, bool verify,
                  std::vector<std::string> &problems) {
  const Header &h = reader.header();
  const Manifest &m = reader.manifest();
  std::printf("engine       %s (%s, %llu bytes)\n", reader.path().c_str(),
              humanBytes(h.fileSize).c_str(),
              static_cast<unsigned long long>(h.fileSize));
  std::printf("format       version %u, header %u bytes, %u sections, manifest "
              "%llu bytes\n",
              h.formatVersion, h.headerSize, h.sectionCount,
              static_cast<unsigned long long>(h.manifestSize));
  std::printf("checksum     %s (header, section table, manifest): ok\n",
              hex64(h.checksum).c_str());
  std::printf("built by     mm01 %s\n", m.mm01Version.c_str());
  std::printf("arch         %s\n", m.arch.c_str());

  const ModelConfig &c = m.model;
  std::printf("model        %lld layers (%lld lightning, %lld softmax), hidden "
              "%lld, heads %lld x %lld (kv %lld), experts %lld top-%lld x "
              "%lld, vocab %lld\n",
              (long long)c.numLayers, (long long)c.numLightningLayers(),
              (long long)c.numSoftmaxLayers(), (long long)c.hiddenSize,
              (long long)c.numHeads, (long long)c.headDim,
              (long long)c.numKVHeads, (long long)c.numExperts,
              (long long)c.topK, (long long)c.intermediateSize,
              (long long)c.vocabSize);
  std::printf("options      max batch %lld, max context %lld, dtype %s, rank "
              "%lld of %lld\n",
              (long long)m.options.maxBatch, (long long)m.options.maxContext,
              dtypeName(m.options.dtype), (long long)m.options.rank,
              (long long)m.options.worldSize);

  std::printf("sections     %zu\n", reader.sections().size());
  for (const SectionInfo &s : reader.sections()) {
    std::string status = "not verified";
    if (verify) {
      Status ok = reader.verifySection(s);
      status = ok ? "ok" : "MISMATCH";
      if (!ok)
        problems.push_back(ok.error());
    }
    std::printf("  %-24s %-8s offset %-10llu %10s  %s  %s\n", s.name.c_str(),
                sectionKindName(s.kind), (unsigned long long)s.offset,
                humanBytes(s.size).c_str(), hex64(s.checksum).c_str(),
                status.c_str());
  }

  std::printf("kernels      %zu\n", m.kernels.size());
  for (const Kernel &k : m.kernels)
    std::printf("  %-24s %s:%s grid %s block %s smem %llu, %zu params\n",
                k.name.c_str(), k.section.c_str(), k.entry.c_str(),
                dims(k.grid).c_str(), dims(k.block).c_str(),
                (unsigned long long)k.dynamicSmemBytes, k.params.size());

  std::printf("entry points %zu\n", m.entryPoints.size());
  for (const EntryPoint &e : m.entryPoints) {
    static const char *const kinds[] = {"kernel", "gemm", "collective", "memset",
                                        "copy"};
    size_t counts[5] = {}, conditional = 0;
    for (const Step &s : e.steps) {
      ++counts[s.body.index()];
      conditional += s.when.has_value();
    }
    std::string breakdown;
    for (int i = 0; i < 5; ++i)
      if (counts[i])
        breakdown += (breakdown.empty() ? "" : ", ") + std::to_string(counts[i]) +
                     " " + kinds[i];
    // Steps with a `when` run only for some calls (alternative plans).
    if (conditional)
      breakdown += "; " + std::to_string(conditional) + " with a 'when'";
    std::printf("  %-24s %zu steps (%s), inputs %s, outputs %s\n", e.name.c_str(),
                e.steps.size(), breakdown.empty() ? "none" : breakdown.c_str(),
                joinNames(e.inputs).c_str(), joinNames(e.outputs).c_str());
  }

  MemoryRequirement req = memoryRequirement(m);
  std::printf("buffers      %zu, device memory %s\n", m.buffers.size(),
              humanBytes(req.total()).c_str());
  for (int i = 0; i < kNumLifetimes; ++i) {
    Lifetime lifetime = static_cast<Lifetime>(i);
    size_t count = 0;
    for (const Buffer &b : m.buffers)
      count += b.lifetime == lifetime;
    std::printf("  %-24s %zu buffer%s, arena %s\n", lifetimeName(lifetime), count,
                count == 1 ? "" : "s", humanBytes(req.of(lifetime)).c_str());
  }

  size_t packed = 0, fromCheckpoint = 0;
  uint64_t packedBytes = 0, checkpointBytes = 0;
  for (const Weight &w : m.weights) {
    if (w.storage == WeightStorage::Packed) {
      ++packed;
      packedBytes += w.byteSize();
    } else {
      ++fromCheckpoint;
      checkpointBytes += w.byteSize();
    }
  }
  std::printf("weights      %zu (%zu packed, %s; %zu from the checkpoint, %s)\n",
              m.weights.size(), packed, humanBytes(packedBytes).c_str(),
              fromCheckpoint, humanBytes(checkpointBytes).c_str());
  if (m.checkpoint) {
    std::string dir = resolveCheckpointDir(*m.checkpoint, reader.path());
    std::string status = "not verified";
    if (verify) {
      Status ok = checkCheckpoint(*m.checkpoint, dir);
      status = ok ? "ok" : "CHANGED";
      if (!ok)
        problems.push_back(ok.error());
    }
    size_t files = m.checkpoint->files.size();
    std::printf("checkpoint   %s (%zu file%s): %s\n", dir.c_str(), files,
                files == 1 ? "" : "s", status.c_str());
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string path;
  bool verify = false, manifestOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usageText, stdout);
      return 0;
    }
    if (arg == "--verify")
      verify = true;
    else if (arg == "--manifest")
      manifestOnly = true;
    else if (!arg.empty() && arg[0] == '-')
      usageError("unknown option '" + arg + "' (see --help)");
    else if (path.empty())
      path = arg;
    else
      usageError("more than one engine given ('" + path + "', '" + arg + "')");
  }
  if (path.empty())
    usageError("no engine given (see --help)");

  OpenOptions options;
  options.verifySections = false; // checked below, section by section
  Result<std::unique_ptr<EngineReader>> reader = EngineReader::open(path, options);
  if (!reader)
    fatal(reader.error());

  if (manifestOnly) {
    std::fputs((*reader)->manifestText().c_str(), stdout);
    return 0;
  }
  std::vector<std::string> problems;
  printSummary(**reader, verify, problems);
  std::fflush(stdout);
  if (!problems.empty())
    fatal(problems.front());
  if (verify)
    std::printf("verified     ok\n");
  return 0;
}
