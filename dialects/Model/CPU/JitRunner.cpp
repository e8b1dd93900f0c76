//===- JitRunner.cpp - JIT-compile and call mm01 CPU modules --------------===//
#include "Model/CPU/JitRunner.h"

#include "Model/Conversion/ModelToLinalg/Passes.h"
#include "Model/IR/ModelDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <mutex>

using namespace mlir;

namespace mm01::cpu {

//===----------------------------------------------------------------------===//
// Element types and specs
//===----------------------------------------------------------------------===//

size_t elementSize(ElementType type) {
  switch (type) {
  case ElementType::F64:
  case ElementType::I64:
    return 8;
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::BF16:
  case ElementType::F16:
    return 2;
  case ElementType::I8:
  case ElementType::I1:
    return 1;
  }
  return 0;
}

llvm::StringRef elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32: return "f32";
  case ElementType::F64: return "f64";
  case ElementType::BF16: return "bf16";
  case ElementType::F16: return "f16";
  case ElementType::I64: return "i64";
  case ElementType::I32: return "i32";
  case ElementType::I8: return "i8";
  case ElementType::I1: return "i1";
  }
  return "?";
}

std::optional<ElementType> elementTypeOf(Type type) {
  if (type.isF32()) return ElementType::F32;
  if (type.isF64()) return ElementType::F64;
  if (type.isBF16()) return ElementType::BF16;
  if (type.isF16()) return ElementType::F16;
  if (type.isInteger(64) || type.isIndex()) return ElementType::I64;
  if (type.isInteger(32)) return ElementType::I32;
  if (type.isInteger(8)) return ElementType::I8;
  if (type.isInteger(1)) return ElementType::I1;
  return std::nullopt;
}

int64_t MemRefArg::numElements() const {
  int64_t n = 1;
  for (int64_t s : sizes)
    n *= s;
  return n;
}

std::string TensorSpec::str() const {
  std::string s;
  for (int64_t d : sizes)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + elementTypeName(type).str();
}

static std::string argStr(const MemRefArg &arg) {
  TensorSpec spec{arg.type, arg.sizes};
  return spec.str();
}

//===----------------------------------------------------------------------===//
// Setup
//===----------------------------------------------------------------------===//

void registerJitDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registry.insert<mm01::model::MM01Dialect>();
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static llvm::CodeGenOptLevel codeGenLevel(unsigned optLevel) {
  switch (optLevel) {
  case 0: return llvm::CodeGenOptLevel::None;
  case 1: return llvm::CodeGenOptLevel::Less;
  case 2: return llvm::CodeGenOptLevel::Default;
  default: return llvm::CodeGenOptLevel::Aggressive;
  }
}

/// The operands of every public function with a body, at tensor level.
static llvm::Expected<std::vector<FunctionInfo>> describeFunctions(ModuleOp module) {
  std::vector<FunctionInfo> infos;
  auto specOf = [](Type type) -> std::optional<TensorSpec> {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank())
      return std::nullopt;
    auto elt = elementTypeOf(shaped.getElementType());
    if (!elt)
      return std::nullopt;
    TensorSpec spec;
    spec.type = *elt;
    for (int64_t d : shaped.getShape())
      spec.sizes.push_back(ShapedType::isDynamic(d) ? -1 : d);
    return spec;
  };
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || !func.isPublic())
      continue;
    FunctionInfo info;
    info.name = func.getName().str();
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
      auto spec = specOf(type);
      if (!spec)
        return makeError("function @" + info.name + ": argument " + llvm::Twine(i) +
                         " is not a ranked tensor of a supported element type");
      info.inputs.push_back(*spec);
    }
    for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
      auto spec = specOf(type);
      if (!spec)
        return makeError("function @" + info.name + ": result " + llvm::Twine(i) +
                         " is not a ranked tensor of a supported element type");
      info.results.push_back(*spec);
    }
    if (auto names = func->getAttrOfType<ArrayAttr>(mm01::model::kWeightsAttrName))
      for (Attribute a : names)
        info.weights.push_back(cast<StringAttr>(a).str());
    info.firstWeight = info.inputs.size() - info.weights.size();
    infos.push_back(std::move(info));
  }
  return infos;
}

//===----------------------------------------------------------------------===//
// JitRunner
//===----------------------------------------------------------------------===//

JitRunner::JitRunner() = default;
JitRunner::~JitRunner() = default;

llvm::Expected<std::unique_ptr<JitRunner>>
JitRunner::compileLowered(ModuleOp module, const JitOptions &options) {
  initializeNativeTarget();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  auto start = std::chrono::steady_clock::now();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(codeGenLevel(options.optLevel));
  auto transformTM = builder->createTargetMachine();
  if (!transformTM)
    return transformTM.takeError();
  auto engineTM = builder->createTargetMachine();
  if (!engineTM)
    return engineTM.takeError();

  // The public functions and their convention: a `_mlir_ciface_<name>`
  // wrapper takes pointers to memref descriptors; without one (the
  // pipeline's bare-pointer convention) every memref is one pointer.
  llvm::StringMap<bool> entryPoints;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (func.isExternal() || func.isPrivate())
      continue;
    StringRef name = func.getName();
    if (name.consume_front("_mlir_ciface_"))
      entryPoints[name] = true;
    else
      entryPoints.try_emplace(name, false);
  }

  auto transformer = makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                               transformTM->get());
  std::vector<llvm::StringRef> libs(options.sharedLibPaths.begin(),
                                    options.sharedLibPaths.end());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel(options.optLevel);
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*engineTM));
  if (!engine)
    return engine.takeError();

  // Generate all code now rather than on the first call.
  for (auto &entry : entryPoints) {
    std::string symbol = (entry.second ? "_mlir_ciface_" : "") + entry.first().str();
    if (auto fn = (*engine)->lookupPacked(symbol); !fn)
      return fn.takeError();
  }

  std::unique_ptr<JitRunner> runner(new JitRunner());
  runner->engine = std::move(*engine);
  for (auto &entry : entryPoints)
    runner->cInterface[entry.first()] = entry.second;
  runner->compileStats.jitSeconds = secondsSince(start);
  return runner;
}

llvm::Expected<std::unique_ptr<JitRunner>>
JitRunner::compileModel(ModuleOp module, const JitOptions &options) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerJitDialects(registry);
  ctx->appendDialectRegistry(registry);

  auto start = std::chrono::steady_clock::now();
  mm01::model::CPUPipelineOptions pipelineOptions;
  pipelineOptions.chunkSize = options.chunkSize;
  auto configure = [&](PassManager &pm) {
    if (options.printIRAfterAll) {
      ctx->disableMultithreading();
      pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                          [](Pass *, Operation *) { return true; },
                          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/true);
    }
  };
  PassManager tensorPm(ctx);
  configure(tensorPm);
  mm01::model::buildCPUTensorPipeline(tensorPm, pipelineOptions);
  if (failed(tensorPm.run(module)))
    return makeError("mm01-cpu-pipeline failed lowering to linalg on tensors "
                     "(diagnostics above)");
  auto infos = describeFunctions(module);
  if (!infos)
    return infos.takeError();

  PassManager llvmPm(ctx);
  configure(llvmPm);
  mm01::model::buildCPULLVMPipeline(llvmPm);
  if (failed(llvmPm.run(module)))
    return makeError("mm01-cpu-pipeline failed lowering to the LLVM dialect "
                     "(diagnostics above)");
  double pipelineSeconds = secondsSince(start);

  auto runner = compileLowered(module, options);
  if (!runner)
    return runner.takeError();
  (*runner)->infos = std::move(*infos);
  (*runner)->compileStats.pipelineSeconds = pipelineSeconds;
  return runner;
}

const FunctionInfo *JitRunner::function(llvm::StringRef name) const {
  for (const FunctionInfo &info : infos)
    if (info.name == name)
      return &info;
  return nullptr;
}

llvm::Error JitRunner::invoke(llvm::StringRef name, llvm::ArrayRef<MemRefArg> args) {
  if (const FunctionInfo *info = function(name)) {
    if (args.size() != info->numOperands())
      return makeError("@" + name + " takes " + llvm::Twine(info->numOperands()) +
                       " operands (" + llvm::Twine(info->inputs.size()) +
                       " inputs incl. " + llvm::Twine(info->weights.size()) +
                       " weights, then " + llvm::Twine(info->results.size()) +
                       " outputs), got " + llvm::Twine(args.size()));
    for (size_t i = 0; i < args.size(); ++i) {
      bool isInput = i < info->inputs.size();
      const TensorSpec &spec =
          isInput ? info->inputs[i] : info->results[i - info->inputs.size()];
      bool ok = spec.type == args[i].type && spec.sizes.size() == args[i].sizes.size();
      for (size_t d = 0; ok && d < spec.sizes.size(); ++d)
        ok = spec.sizes[d] < 0 || spec.sizes[d] == args[i].sizes[d];
      if (!ok || !args[i].data) {
        std::string what =
            !isInput ? "output " + std::to_string(i - info->inputs.size())
            : i >= info->firstWeight
                ? "weight '" + info->weights[i - info->firstWeight] + "'"
                : "argument " + std::to_string(i);
        return makeError("@" + name + ": " + what + " (operand " + llvm::Twine(i) +
                         ") " + (args[i].data ? "is " + argStr(args[i]) : "has no data") +
                         ", expected " + spec.str());
      }
    }
  }

  auto convention = cInterface.find(name);
  if (convention == cInterface.end())
    return makeError("no public function @" + name + " in the compiled module");

  if (!convention->second) {
    // Bare pointers: the packed wrapper takes a pointer to each pointer.
    std::vector<void *> pointers(args.size());
    llvm::SmallVector<void *> packed(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      pointers[i] = args[i].data;
      packed[i] = &pointers[i];
    }
    return engine->invokePacked(name, packed);
  }

  // C interface: one descriptor per operand {allocated, aligned, offset,
  // sizes, strides}, all 64-bit words; `_mlir_ciface_<name>` takes a pointer
  // to each descriptor and the packed wrapper a pointer to each of those.
  std::vector<std::vector<int64_t>> descriptors(args.size());
  std::vector<void *> descriptorPtrs(args.size());
  llvm::SmallVector<void *> packed(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const MemRefArg &arg = args[i];
    std::vector<int64_t> &desc = descriptors[i];
    auto ptr = static_cast<int64_t>(reinterpret_cast<intptr_t>(arg.data));
    desc = {ptr, ptr, 0};
    desc.insert(desc.end(), arg.sizes.begin(), arg.sizes.end());
    std::vector<int64_t> strides(arg.sizes.size(), 1);
    for (int64_t d = static_cast<int64_t>(arg.sizes.size()) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * arg.sizes[d + 1];
    desc.insert(desc.end(), strides.begin(), strides.end());
    descriptorPtrs[i] = desc.data();
    packed[i] = &descriptorPtrs[i];
  }
  return engine->invokePacked(("_mlir_ciface_" + name).str(), packed);
}

llvm::Error compileAndRun(llvm::StringRef source, llvm::StringRef funcName,
                          llvm::ArrayRef<MemRefArg> args, const JitOptions &options,
                          CompileStats *stats) {
  DialectRegistry registry;
  registerJitDialects(registry);
  MLIRContext ctx(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  if (!module)
    return makeError("cannot parse the module (diagnostics above)");
  auto runner = JitRunner::compileModel(*module, options);
  if (!runner)
    return runner.takeError();
  if (stats)
    *stats = (*runner)->stats();
  return (*runner)->invoke(funcName, args);
}

} // namespace mm01::cpu
