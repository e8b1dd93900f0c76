//===- mm01-compile.cpp - compile an HF checkpoint --------------------------===//
//
//   mm01-compile CHECKPOINT_DIR --emit=mlir [-o FILE]
//   mm01-compile CHECKPOINT_DIR --emit=summary
//   mm01-compile path/to/config.json --emit=mlir     (config alone, no weights)
//   mm01-compile CHECKPOINT_DIR --target=sm_90a [--max-batch B --max-context T]
//                -o ENGINE.mm01                     (a GPU engine)
//   mm01-compile CHECKPOINT_DIR --target=sm_90a --emit=schedule
//                                                   (the planned kernel schedule)
//   mm01-compile MODULE.mlir --target=sm_90a -o ENGINE.mm01
//                                                   (a model-IR module as is, e.g.
//                                                    a single-op test module)
//
//===----------------------------------------------------------------------===//
#include "Kernel/IR/KernelDialect.h"
#include "Kernel/Target/EngineExport.h"
#include "Model/Conversion/ModelToGPU/Passes.h"
#include "Model/IR/ModelOps.h"
#include "Model/Import/Importer.h"
#include "Model/Transforms/Passes.h"
#include "mm01/Engine/Engine.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
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
                               cl::desc("<checkpoint dir | config.json | module.mlir>"));
enum class Emit { MLIR, Summary, Schedule, Engine };
cl::opt<Emit> emit("emit", cl::desc("What to produce"), cl::init(Emit::MLIR),
                   cl::values(clEnumValN(Emit::MLIR, "mlir", "model-level IR"),
                              clEnumValN(Emit::Summary, "summary",
                                         "a human-readable summary of the model"),
                              clEnumValN(Emit::Schedule, "schedule",
                                         "--target: the planned kernel schedule "
                                         "(mm01k + gpu.module)"),
                              clEnumValN(Emit::Engine, "engine",
                                         "--target: the engine file (default)")));
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
cl::opt<std::string> target("target",
                           cl::desc("Compile for a GPU target (sm_90a) into an "
                                    "engine; empty: emit the model IR"),
                           cl::init(""));
cl::opt<int64_t> maxBatch("max-batch",
                          cl::desc("GPU engine: most sequences per call"),
                          cl::init(2));
cl::opt<int64_t> maxContext("max-context",
                            cl::desc("GPU engine: longest sequence (prompt + "
                                     "generated tokens)"),
                            cl::init(1024));
cl::opt<int64_t> smCount("sm-count",
                         cl::desc("GPU engine: streaming multiprocessors of "
                                  "the target GPU, for tiling (H100 SXM, "
                                  "H200: 132)"),
                         cl::init(132));
cl::opt<std::string> lightningStateUpdate(
    "lightning-state-update",
    cl::desc("GPU engine: lightning prefill state update, hilo-tail (bf16 hi + "
             "lo operands where the update reaches the returned state above "
             "2^-12, one bf16 rounding elsewhere; default), hilo (hi + lo "
             "throughout, fp32-grade state) or bf16 (rounded once: half the "
             "state MMAs, state error as flash-linear-attention's)"),
    cl::init("hilo-tail"));
cl::opt<std::string> cudaToolkit("cuda-toolkit",
                                 cl::desc("CUDA toolkit root (ptxas, libdevice)"),
                                 cl::init(""));
cl::opt<std::string> kernelFormat("kernel-format",
                                  cl::desc("GPU engine kernel images: bin "
                                           "(cubin, default) or isa (PTX)"),
                                  cl::init("bin"));
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
/// The dialects, translations and passes of the GPU target's pipelines.
void registerGPUTarget(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<mm01::kernel::MM01KDialect>();
  mlir::registerAllPasses();
  mm01::model::registerMM01ModelPasses();
  mm01::model::registerMM01ModelToGPUPasses();
}

/// `path` relative to `base` (both made absolute), for the manifest's
/// checkpoint reference: an engine and its checkpoint moved together keep
/// working.
std::string relativePath(StringRef path, StringRef base) {
  SmallString<256> p(path), b(base);
  sys::fs::make_absolute(p);
  sys::fs::make_absolute(b);
  sys::path::remove_dots(p, true);
  sys::path::remove_dots(b, true);
  SmallVector<StringRef> pc(sys::path::begin(p), sys::path::end(p));
  SmallVector<StringRef> bc(sys::path::begin(b), sys::path::end(b));
  size_t common = 0;
  while (common < pc.size() && common < bc.size() && pc[common] == bc[common])
    ++common;
  SmallString<256> rel;
  for (size_t i = common; i < bc.size(); ++i)
    sys::path::append(rel, "..");
  for (size_t i = common; i < pc.size(); ++i)
    sys::path::append(rel, pc[i]);
  return rel.empty() ? "." : std::string(rel);
}

int compileEngine(mlir::MLIRContext &context, mlir::ModuleOp module,
                  const mm01::ModelConfig &config, const std::string &dir,
                  mm01::DType actType) {
  mlir::PassManager schedule(&context);
  if (smCount < 1)
    return fail("--sm-count must be >= 1");
  if (lightningStateUpdate != "hilo-tail" && lightningStateUpdate != "hilo" &&
      lightningStateUpdate != "bf16")
    return fail("--lightning-state-update must be hilo-tail, hilo or bf16, got '" +
                lightningStateUpdate + "'");
  if (failed(mlir::parsePassPipeline(
          "mm01-gpu-schedule{sm-count=" + std::to_string(smCount) +
              " lightning-state-update=" + lightningStateUpdate + "}",
          schedule, errs())))
    return fail("cannot build the schedule pipeline");
  if (failed(schedule.run(module)))
    return fail("lowering to GPU kernels failed (see the errors above)");
  if (emit == Emit::Schedule) {
    std::string errorMessage;
    auto output = mlir::openOutputFile(outputPath, &errorMessage);
    if (!output)
      return fail(errorMessage);
    module->print(output->os());
    output->os() << "\n";
    output->keep();
    return 0;
  }
  if (outputPath == "-")
    return fail("an engine is a binary file: pass -o ENGINE.mm01");
  auto signatures = mm01::kernel::collectKernelSignatures(module);
  if (!signatures.ok())
    return fail(signatures.error());
  std::string toolkit = cudaToolkit;
  if (toolkit.empty()) {
    const char *env = getenv("CUDA_HOME");
    toolkit = env && *env ? env : "/usr/local/cuda";
  }
  if (kernelFormat != "bin" && kernelFormat != "isa")
    return fail("--kernel-format must be bin or isa");
  mlir::PassManager codegen(&context);
  if (failed(mlir::parsePassPipeline(
          "mm01-gpu-kernel-codegen{chip=" + target + " format=" +
              kernelFormat + " toolkit=" + toolkit + "}",
          codegen, errs())))
    return fail("cannot build the kernel code generation pipeline");
  if (failed(codegen.run(module)))
    return fail("kernel code generation failed (see the errors above; is "
                "the CUDA toolkit at " + toolkit + "?)");
  mm01::kernel::EngineExportOptions eo;
  eo.config = config;
  eo.arch = target;
  eo.options.maxBatch = maxBatch;
  eo.options.maxContext = maxContext;
  eo.options.dtype = actType;
  eo.checkpointDir = dir;
  eo.checkpointRecorded =
      relativePath(dir, sys::path::parent_path(outputPath).empty()
                            ? StringRef(".")
                            : sys::path::parent_path(outputPath));
  mm01::engine::EngineWriter writer;
  if (mm01::Status s = mm01::kernel::exportEngine(module, *signatures, eo, writer); !s)
    return fail(s.error());
  if (mm01::Status s = writer.write(outputPath); !s)
    return fail(s.error());
  return 0;
}
/// The model config of a module's `mm01.config` attribute (what the
/// importer records), through the config.json parser: the attribute's
/// integers, floats, strings and arrays of strings as JSON.
mm01::Result<mm01::ModelConfig> configOfModule(mlir::ModuleOp module) {
  auto dict = module->getAttrOfType<mlir::DictionaryAttr>("mm01.config");
  if (!dict)
    return mm01::makeError("the module has no mm01.config attribute (the "
                           "model config the engine records)");
  std::string json;
  raw_string_ostream os(json);
  auto printString = [&](StringRef v) { os << '"'; os.write_escaped(v); os << '"'; };
  os << "{";
  bool first = true;
  for (mlir::NamedAttribute a : dict) {
    os << (first ? "" : ", ");
    first = false;
    printString(a.getName().getValue());
    os << ": ";
    mlir::Attribute v = a.getValue();
    if (auto i = dyn_cast<mlir::IntegerAttr>(v))
      os << i.getInt();
    else if (auto f = dyn_cast<mlir::FloatAttr>(v))
      os << format("%.17g", f.getValueAsDouble());
    else if (auto str = dyn_cast<mlir::StringAttr>(v))
      printString(str.getValue());
    else if (auto arr = dyn_cast<mlir::ArrayAttr>(v)) {
      os << "[";
      for (auto [n, e] : llvm::enumerate(arr)) {
        auto es = dyn_cast<mlir::StringAttr>(e);
        if (!es)
          return mm01::makeError("mm01.config: '" + a.getName().str() +
                                 "' must be an array of strings");
        os << (n ? ", " : "");
        printString(es.getValue());
      }
      os << "]";
    } else {
      return mm01::makeError("mm01.config: unsupported value of '" +
                             a.getName().str() + "'");
    }
  }
  os << "}";
  return mm01::parseModelConfig(json, "mm01.config");
}

/// `mm01-compile MODULE.mlir --target=sm_90a -o ENGINE`: a model-IR module
/// (entry functions with `mm01.entry`, named arguments and results) compiled
/// as is. Every entry's first argument is a [B, T, ...] activation (or it
/// embeds `ids`): max batch B, max context T or the KV-cache capacity;
/// the activation dtype is the first argument's element type. Weight ops
/// need a checkpoint; a module without any needs none.
int compileModuleFile(const std::string &path) {
  mlir::DialectRegistry registry;
  registerGPUTarget(registry);
  mlir::MLIRContext context(registry);
  mm01::loadImporterDialects(context);
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
  if (!module)
    return fail("cannot parse '" + path + "'");
  auto config = configOfModule(*module);
  if (!config.ok())
    return fail(path + ": " + config.error());
  if (mm01::Status s = config->validate(); !s)
    return fail(path + ": mm01.config: " + s.error());
  int64_t batchOf = 0, contextOf = 0;
  mlir::Type elt;
  for (auto fn : module->getOps<mlir::func::FuncOp>()) {
    if (!fn->hasAttr("mm01.entry"))
      continue;
    if (fn.getNumArguments() == 0)
      return fail(Twine("@") + fn.getName() + " has no arguments");
    auto first = dyn_cast<mlir::RankedTensorType>(fn.getArgument(0).getType());
    if (!first || first.getRank() < 2 || !first.hasStaticShape())
      return fail(Twine("@") + fn.getName() +
                  ": the first argument must be a static [B, T, ...] tensor");
    int64_t ctx = first.getDimSize(1);
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto name = fn.getArgAttrOfType<mlir::StringAttr>(i, "mm01.name");
      auto t = dyn_cast<mlir::RankedTensorType>(fn.getArgument(i).getType());
      if (name && t && name.getValue().ends_with("key_cache"))
        ctx = t.getDimSize(1);
    }
    batchOf = std::max(batchOf, first.getDimSize(0));
    contextOf = std::max(contextOf, ctx);
    if (!elt && !isa<mlir::IntegerType>(first.getElementType()))
      elt = first.getElementType();
  }
  if (batchOf == 0)
    return fail("'" + path + "' has no entry function (mm01.entry)");
  if ((maxBatch.getNumOccurrences() && maxBatch != batchOf) ||
      (maxContext.getNumOccurrences() && maxContext != contextOf))
    return fail("--max-batch/--max-context (" + Twine(maxBatch.getValue()) +
                ", " + Twine(maxContext.getValue()) +
                ") differ from the module's shapes (" + Twine(batchOf) + ", " +
                Twine(contextOf) + ")");
  maxBatch = batchOf;
  maxContext = contextOf;
  if (emit == Emit::MLIR || emit == Emit::Summary)
    emit = Emit::Engine;
  mm01::DType actType =
      elt && elt.isF32() ? mm01::DType::F32 : mm01::DType::BF16;
  return compileEngine(context, *module, *config,
                       std::string(sys::path::parent_path(path)), actType);
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "mm01 compiler: HF checkpoint -> model IR\n");

  if (StringRef(inputPath).ends_with(".mlir") && sys::fs::is_regular_file(inputPath)) {
    if (target != "sm_90a")
      return fail("a .mlir input needs --target=sm_90a");
    return compileModuleFile(inputPath);
  }

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

  bool gpu = !target.empty();
  if (gpu) {
    if (target != "sm_90a")
      return fail("unsupported --target '" + target + "' (supported: sm_90a)");
    if (fromConfigOnly)
      return fail("--target needs the checkpoint's weights, not config.json alone");
    if (maxBatch < 1 || maxContext < 1)
      return fail("--max-batch and --max-context must be >= 1");
    if (emit == Emit::MLIR || emit == Emit::Summary)
      emit = Emit::Engine;
  } else if (emit == Emit::Schedule || emit == Emit::Engine) {
    return fail("--emit=schedule and --emit=engine need --target=sm_90a");
  }
  mm01::ImportOptions options;
  options.batch = gpu ? maxBatch : batch;
  options.prefillLength = gpu ? maxContext : seqLen;
  options.cacheCapacity = gpu ? maxContext : cacheLen;
  // GPU engines run bf16 activations unless told otherwise.
  options.dtype = gpu && dtype.getNumOccurrences() == 0 ? std::string("bf16")
                                                        : std::string(dtype);
  options.emitPrefill = entry != Entry::Decode;
  options.emitDecode = entry != Entry::Prefill;
  options.emitHiddenStates = hiddenStates;
  if (batch < 0 || seqLen < 0 || cacheLen < 0)
    return fail("--batch, --seq and --cache must be positive (or 0 for dynamic)");
  if (cacheLen > 0 && seqLen > cacheLen)
    return fail("--seq " + Twine(seqLen) + " exceeds --cache " + Twine(cacheLen));

  mlir::DialectRegistry registry;
  if (gpu)
    registerGPUTarget(registry);
  mlir::MLIRContext context(registry);
  auto module = mm01::importModel(context, *config, weightType, options);
  if (!module)
    return fail(toString(module.takeError()));
  if (gpu)
    return compileEngine(context, **module, *config, dir,
                         options.dtype == "bf16" ? mm01::DType::BF16
                                                 : mm01::DType::F32);

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
