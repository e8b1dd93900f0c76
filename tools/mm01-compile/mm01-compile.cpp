//===- mm01-compile.cpp - compile an HF checkpoint --------------------------===//
//
//   mm01-compile CHECKPOINT_DIR --emit=mlir [-o FILE]
//   mm01-compile CHECKPOINT_DIR --emit=summary
//   mm01-compile path/to/config.json --emit=mlir     (config alone, no weights)
//
//===----------------------------------------------------------------------===//
#include "Model/IR/ModelOps.h"
#include "Model/Import/Importer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<checkpoint dir | config.json>"));
enum class Emit { MLIR, Summary };
cl::opt<Emit> emit("emit", cl::desc("What to produce"), cl::init(Emit::MLIR),
                   cl::values(clEnumValN(Emit::MLIR, "mlir", "model-level IR"),
                              clEnumValN(Emit::Summary, "summary",
                                         "a human-readable summary of the model")));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::init("-"));
cl::opt<bool> configOnly("config-only",
                         cl::desc("Import from config.json alone, without "
                                  "checking weights (weights assumed bf16)"));
cl::opt<int64_t> batch("batch", cl::desc("Static batch size (default: dynamic)"), cl::init(0));
cl::opt<int64_t> seqLen("seq", cl::desc("Static prefill length (default: dynamic)"), cl::init(0));
cl::opt<int64_t> cacheLen("cache", cl::desc("Static KV-cache capacity (default: dynamic)"),
                          cl::init(0));
cl::opt<std::string> dtype("dtype", cl::desc("Activation dtype: f32 or bf16"), cl::init("f32"));
enum class Entry { Both, Prefill, Decode };
cl::opt<Entry> entry("entry", cl::desc("Functions to emit"), cl::init(Entry::Both),
                     cl::values(clEnumValN(Entry::Both, "both", "prefill and decode"),
                                clEnumValN(Entry::Prefill, "prefill", "prefill only"),
                                clEnumValN(Entry::Decode, "decode", "decode only")));
cl::opt<bool> hiddenStates("hidden-states",
                           cl::desc("Also return every layer's hidden state from prefill"));

int fail(const Twine &message) {
  errs() << "mm01-compile: error: " << message << "\n";
  return 1;
}

std::string humanCount(double n) {
  const char *units[] = {"", "K", "M", "B", "T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  std::string s;
  raw_string_ostream os(s);
  os << format(u == 0 ? "%.0f" : "%.2f", n) << units[u];
  return s;
}

void printSummary(raw_ostream &os, const mm01::ModelConfig &c, mlir::ModuleOp module,
                  StringRef source, StringRef weightType, bool checked) {
  int64_t params = 0;
  for (const mm01::WeightSpec &w : mm01::requiredWeights(c)) {
    int64_t n = std::max<int64_t>(1, w.numExperts);
    for (int64_t s : w.shape)
      n *= s;
    params += n;
  }
  int64_t perTokenExpert = 3 * c.hiddenSize * c.intermediateSize;
  // As the MiniMax-01 paper counts it: without the embedding and lm_head.
  int64_t active = params - (c.numExperts - c.topK) * perTokenExpert * c.numLayers -
                   2 * c.vocabSize * c.hiddenSize;
  os << "model        " << source << "\n";
  os << "layers       " << c.numLayers << " (" << c.numLightningLayers()
     << " lightning, " << c.numSoftmaxLayers() << " softmax): ";
  for (mm01::LayerKind k : c.layerKinds)
    os << (k == mm01::LayerKind::Lightning ? 'L' : 'S');
  os << "\n";
  os << "hidden       " << c.hiddenSize << ", heads " << c.numHeads << " x "
     << c.headDim << ", kv heads " << c.numKVHeads << ", rotary dim "
     << c.rotaryDim << " (theta " << format("%g", c.ropeTheta) << ")\n";
  os << "moe          " << c.numExperts << " experts, top-" << c.topK
     << ", intermediate " << c.intermediateSize << "\n";
  os << "vocab        " << c.vocabSize << "\n";
  os << "parameters   " << humanCount(params) << " (" << humanCount(active)
     << " active per token without embeddings), weights " << weightType
     << (checked ? ", all checked against the checkpoint" : ", not checked (config only)")
     << "\n";
  os << "decay (l=0)  ";
  for (int64_t n = 0; n < std::min<int64_t>(c.numHeads, 4); ++n)
    os << format("%.6g ", c.lightningDecay(0, n));
  os << (c.numHeads > 4 ? "...\n" : "\n");
  for (auto func : module.getOps<mlir::func::FuncOp>()) {
    StringMap<int> counts;
    func.walk([&](mlir::Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "mm01")
        ++counts[op->getName().stripDialect()];
    });
    os << "@" << func.getName() << format("%*s", int(12 - func.getName().size()), "")
       << func.getNumArguments() << " args, " << func.getNumResults() << " results;";
    SmallVector<std::string> names;
    for (auto &kv : counts)
      names.push_back(kv.getKey().str());
    llvm::sort(names);
    for (auto &n : names)
      os << " " << n << "=" << counts[n];
    os << "\n";
  }
  os << "verified     yes\n";
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "mm01 compiler: HF checkpoint -> model IR\n");

  std::string configPath = inputPath;
  std::string dir = inputPath;
  bool fromConfigOnly = configOnly;
  if (sys::fs::is_directory(inputPath)) {
    SmallString<256> p(inputPath);
    sys::path::append(p, "config.json");
    configPath = std::string(p);
  } else if (sys::fs::exists(inputPath) && StringRef(inputPath).ends_with(".json")) {
    fromConfigOnly = true;
    dir = std::string(sys::path::parent_path(inputPath));
  } else {
    return fail("'" + inputPath + "' is neither a checkpoint directory nor a config.json");
  }

  auto config = mm01::loadModelConfig(configPath);
  if (!config.ok())
    return fail(config.error());
  if (mm01::Status s = config->validate(); !s)
    return fail(s.error());

  mm01::DType weightType = mm01::DType::BF16;
  if (!fromConfigOnly) {
    auto checkpoint = mm01::Checkpoint::open(dir);
    if (!checkpoint.ok()) {
      bool noWeights = checkpoint.error().find("no model.safetensors") != std::string::npos;
      return fail(checkpoint.error() +
                  (noWeights ? " (pass --config-only to import from config.json alone)" : ""));
    }
    auto checked = mm01::checkWeights(*config, **checkpoint);
    if (!checked.ok())
      return fail(checked.error());
    weightType = checked.value();
  }

  mm01::ImportOptions options;
  options.batch = batch;
  options.prefillLength = seqLen;
  options.cacheCapacity = cacheLen;
  options.dtype = dtype;
  options.emitPrefill = entry != Entry::Decode;
  options.emitDecode = entry != Entry::Prefill;
  options.emitHiddenStates = hiddenStates;
  if (batch < 0 || seqLen < 0 || cacheLen < 0)
    return fail("--batch, --seq and --cache must be positive (or 0 for dynamic)");
  if (cacheLen > 0 && seqLen > cacheLen)
    return fail("--seq " + Twine(seqLen) + " exceeds --cache " + Twine(cacheLen));

  mlir::MLIRContext context;
  auto module = mm01::importModel(context, *config, weightType, options);
  if (!module)
    return fail(toString(module.takeError()));

  std::string errorMessage;
  auto output = mlir::openOutputFile(outputPath, &errorMessage);
  if (!output)
    return fail(errorMessage);
  if (emit == Emit::MLIR) {
    (**module)->print(output->os());
    output->os() << "\n";
  } else {
    printSummary(output->os(), *config, **module, inputPath,
                 mm01::dtypeName(weightType), !fromConfigOnly);
  }
  output->keep();
  return 0;
}
