//===- mm01-cpu-eval.cpp - run a model-IR module on the CPU target (npz) --===//
//
//   mm01-cpu-eval MODULE.mlir --inputs IN.npz --outputs OUT.npz [--entry prefill]
//
// The CPU-side reference of the per-op GPU tests (test/gpu/ops): parses a
// model-IR module (static shapes, weights as named arguments), compiles it
// with mm01-cpu-pipeline and the JIT (dialects/Model/CPU/JitRunner.h), binds
// each argument to the IN.npz array named by its `mm01.name` (float arrays
// converted to the argument's float type, integer ones to its integer type;
// element counts checked), calls the entry function once and writes each
// result under its `mm01.name` (float32, or int64 for integer results).
//
//===----------------------------------------------------------------------===//
#include "NpzReader.h"

#include "Model/CPU/JitRunner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <string>
#include <vector>

using namespace mm01;
using mm01::cpu::ElementType;

namespace {
int fail(const std::string &m) {
  llvm::errs() << "mm01-cpu-eval: error: " << m << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  std::string modulePath, inputsPath, outputsPath, entry = "prefill";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--inputs" || a == "--outputs" || a == "--entry") && i + 1 < argc) {
      (a == "--inputs" ? inputsPath : a == "--outputs" ? outputsPath : entry) = argv[++i];
    } else if (!a.empty() && a[0] != '-' && modulePath.empty()) {
      modulePath = a;
    } else {
      return fail("usage: mm01-cpu-eval MODULE.mlir --inputs IN.npz --outputs "
                  "OUT.npz [--entry prefill]");
    }
  }
  if (modulePath.empty() || inputsPath.empty() || outputsPath.empty())
    return fail("usage: mm01-cpu-eval MODULE.mlir --inputs IN.npz --outputs OUT.npz");
  auto inputs = readNpz(inputsPath);
  if (!inputs.ok())
    return fail(inputs.error());

  mlir::DialectRegistry registry;
  cpu::registerJitDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(modulePath, &context);
  if (!module)
    return fail("cannot parse '" + modulePath + "'");
  mlir::func::FuncOp fn;
  for (auto f : module->getOps<mlir::func::FuncOp>())
    if (auto e = f->getAttrOfType<mlir::StringAttr>("mm01.entry"); e && e.getValue() == entry)
      fn = f;
  if (!fn)
    return fail("'" + modulePath + "' has no function with mm01.entry = \"" + entry + "\"");
  std::string fnName = fn.getName().str();
  std::vector<std::string> argNames, resultNames;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto n = fn.getArgAttrOfType<mlir::StringAttr>(i, "mm01.name");
    if (!n)
      return fail("argument " + std::to_string(i) + " has no mm01.name");
    argNames.push_back(n.str());
  }
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto n = fn.getResultAttrOfType<mlir::StringAttr>(i, "mm01.name");
    if (!n)
      return fail("result " + std::to_string(i) + " has no mm01.name");
    resultNames.push_back(n.str());
  }

  auto jit = cpu::JitRunner::compileModel(*module);
  if (!jit)
    return fail(llvm::toString(jit.takeError()));
  const cpu::FunctionInfo *info = (*jit)->function(fnName);
  if (!info || info->inputs.size() != argNames.size() || !info->weights.empty())
    return fail("unexpected operands of the compiled @" + fnName +
                " (weights must be arguments)");

  std::vector<std::vector<uint8_t>> storage;
  std::vector<cpu::MemRefArg> args;
  auto addBuffer = [&](const cpu::TensorSpec &spec) -> cpu::MemRefArg & {
    cpu::MemRefArg m;
    m.type = spec.type;
    m.sizes = spec.sizes;
    storage.emplace_back(m.numBytes());
    m.data = storage.back().data();
    args.push_back(m);
    return args.back();
  };
  storage.reserve(info->numOperands());
  args.reserve(info->numOperands());
  for (size_t i = 0; i < argNames.size(); ++i) {
    const cpu::TensorSpec &spec = info->inputs[i];
    auto it = inputs->find(argNames[i]);
    if (it == inputs->end())
      return fail("no input array '" + argNames[i] + "' in " + inputsPath);
    const NpyArray &a = it->second;
    cpu::MemRefArg &m = addBuffer(spec);
    if (a.numElements() != m.numElements())
      return fail("input '" + argNames[i] + "' has " + std::to_string(a.numElements()) +
                  " elements, @" + fnName + " expects " + spec.str());
    bool aInt = a.type == NpyType::I64 || a.type == NpyType::I32;
    for (int64_t e = 0; e < m.numElements(); ++e) {
      double v = a.type == NpyType::F32   ? a.data<float>()[e]
                 : a.type == NpyType::F64 ? a.data<double>()[e]
                 : a.type == NpyType::I64 ? double(a.data<int64_t>()[e])
                                          : double(a.data<int32_t>()[e]);
      if (spec.type == ElementType::F32) {
        float f = float(v);
        std::memcpy((char *)m.data + 4 * e, &f, 4);
      } else if (spec.type == ElementType::I64 && aInt) {
        int64_t x = a.type == NpyType::I64 ? a.data<int64_t>()[e] : a.data<int32_t>()[e];
        std::memcpy((char *)m.data + 8 * e, &x, 8);
      } else if (spec.type == ElementType::I32 && aInt) {
        int32_t x = int32_t(v);
        std::memcpy((char *)m.data + 4 * e, &x, 4);
      } else {
        return fail("input '" + argNames[i] + "': unsupported element type " +
                    cpu::elementTypeName(spec.type).str() + " (use f32 modules)");
      }
    }
  }
  size_t firstResult = args.size();
  for (const cpu::TensorSpec &spec : info->results)
    addBuffer(spec);
  if (auto err = (*jit)->invoke(fnName, args))
    return fail(llvm::toString(std::move(err)));

  std::vector<std::pair<std::string, NpyArray>> results;
  for (size_t r = 0; r < resultNames.size(); ++r) {
    const cpu::MemRefArg &m = args[firstResult + r];
    std::vector<int64_t> shape(m.sizes.begin(), m.sizes.end());
    NpyArray out;
    if (m.type == ElementType::F32) {
      out = NpyArray::make(NpyType::F32, shape);
      std::memcpy(out.bytes.data(), m.data, m.numBytes());
    } else if (m.type == ElementType::I64) {
      out = NpyArray::make(NpyType::I64, shape);
      std::memcpy(out.bytes.data(), m.data, m.numBytes());
    } else {
      return fail("result '" + resultNames[r] + "': unsupported element type " +
                  cpu::elementTypeName(m.type).str() + " (use f32 modules)");
    }
    results.push_back({resultNames[r], std::move(out)});
  }
  if (Status s = writeNpz(outputsPath, results); !s)
    return fail(s.error());
  return 0;
}
