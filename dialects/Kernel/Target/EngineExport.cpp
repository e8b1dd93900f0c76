//===- EngineExport.cpp - mm01k schedule -> engine file -------------------===//
#include "Kernel/Target/EngineExport.h"

#include "Kernel/IR/KernelDialect.h"
#include "Model/IR/ModelOps.h"
#include "mm01/Checkpoint/Safetensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
namespace eng = mm01::engine;

namespace mm01::kernel {
namespace {

Error err(const Twine &message) { return makeError(message.str()); }

Result<DType> dtypeOf(Type t) {
  if (t.isF32())
    return DType::F32;
  if (t.isBF16())
    return DType::BF16;
  if (t.isF16())
    return DType::F16;
  if (t.isInteger(32))
    return DType::I32;
  if (t.isInteger(64))
    return DType::I64;
  if (t.isInteger(8))
    return DType::U8;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return err("element type " + s + " has no engine dtype");
}

int64_t eltBytes(Value v) {
  Type t = cast<RankedTensorType>(v.getType()).getElementType();
  return std::max<int64_t>(t.getIntOrFloatBitWidth() / 8, 1);
}

/// The buffer a value of the schedule lives in.
Result<std::string> bufferOf(Value v) {
  while (true) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
      auto name = fn ? fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                       "mm01k.buffer")
                     : StringAttr();
      if (!name)
        return err("a function argument has no planned buffer (run "
                   "mm01-plan-buffers)");
      return name.str();
    }
    Operation *def = v.getDefiningOp();
    if (auto l = dyn_cast<LaunchOp>(def)) {
      v = l.getOuts()[cast<OpResult>(v).getResultNumber()];
      continue;
    }
    if (auto g = dyn_cast<GemmOp>(def)) {
      v = g.getC();
      continue;
    }
    if (auto name = def->getAttrOfType<StringAttr>("mm01k.buffer"))
      return name.str();
    return err("'" + def->getName().getStringRef() +
               "' has no planned buffer (run mm01-plan-buffers)");
  }
}

Result<eng::DimExpr> parseExpr(StringRef text, Operation *op) {
  auto e = eng::DimExpr::parse(text.str());
  if (!e.ok())
    return err("'" + op->getName().getStringRef() + "': " + e.error());
  return e.value();
}

/// Reads the E expert tensors of `format` ("...experts.{e}.w1.weight") and
/// concatenates them, converted to `dtype`.
Result<std::vector<uint8_t>> packExperts(Checkpoint &ckpt, StringRef format,
                                         int64_t experts, DType dtype,
                                         std::vector<std::string> &sources) {
  std::vector<uint8_t> bytes;
  size_t pos = format.find("{e}");
  for (int64_t e = 0; e < experts; ++e) {
    std::string name = (format.substr(0, pos) + Twine(e) +
                        format.substr(pos + 3)).str();
    const TensorInfo *info = ckpt.find(name);
    if (!info)
      return err("checkpoint tensor '" + name + "' is missing");
    if (info->dtype != dtype)
      return err("checkpoint tensor '" + name + "' is " +
                 dtypeName(info->dtype) + ", the engine expects " +
                 dtypeName(dtype));
    auto data = ckpt.data(name);
    if (!data.ok())
      return err(data.error());
    size_t n = size_t(info->numElements()) * dtypeSize(dtype);
    const uint8_t *p = static_cast<const uint8_t *>(data.value());
    bytes.insert(bytes.end(), p, p + n);
    sources.push_back(name);
  }
  return bytes;
}

} // namespace

Result<KernelSignatures> collectKernelSignatures(ModuleOp module) {
  KernelSignatures sigs;
  Status status = Status::success();
  module.walk([&](mlir::gpu::GPUFuncOp fn) {
    if (!fn.isKernel())
      return;
    std::vector<eng::ParamType> types;
    for (Type t : fn.getArgumentTypes()) {
      if (isa<MemRefType>(t))
        types.push_back(eng::ParamType::Ptr);
      else if (t.isInteger(32))
        types.push_back(eng::ParamType::I32);
      else if (t.isInteger(64))
        types.push_back(eng::ParamType::I64);
      else if (t.isF32())
        types.push_back(eng::ParamType::F32);
      else
        status = err("kernel @" + fn.getName() +
                     " has a parameter type the runtime cannot pass");
    }
    sigs[fn.getName()] = std::move(types);
  });
  if (!status)
    return makeError(status.error());
  return sigs;
}

Status exportEngine(ModuleOp module, const KernelSignatures &signatures,
                    const EngineExportOptions &options,
                    eng::EngineWriter &writer) {
  eng::Manifest &m = writer.manifest();
  m.arch = options.arch;
  m.model = options.config;
  m.options = options.options;

  // Kernel images: one section per gpu.binary.
  llvm::StringMap<std::string> sectionOfModule;
  for (auto bin : module.getOps<mlir::gpu::BinaryOp>()) {
    auto objects = bin.getObjects();
    if (objects.size() != 1)
      return err("gpu.binary @" + bin.getName() + " must hold one object");
    auto object = cast<mlir::gpu::ObjectAttr>(objects[0]);
    StringRef data = object.getObject().getValue();
    bool isBin = object.getFormat() == mlir::gpu::CompilationTarget::Binary;
    if (!isBin && object.getFormat() != mlir::gpu::CompilationTarget::Assembly)
      return err("gpu.binary @" + bin.getName() +
                 ": only cubin (format=bin) and PTX (format=isa) images");
    std::string section = (bin.getName() + (isBin ? ".cubin" : ".ptx")).str();
    std::vector<uint8_t> bytes(data.begin(), data.end());
    if (!isBin)
      bytes.push_back(0); // the driver JIT wants NUL-terminated PTX
    if (Status s = writer.addSection(section,
                                     isBin ? eng::SectionKind::Cubin
                                           : eng::SectionKind::Ptx,
                                     std::move(bytes));
        !s)
      return s;
    sectionOfModule[bin.getName()] = section;
  }

  // Buffers.
  auto plan = module->getAttrOfType<ArrayAttr>("mm01k.buffers");
  if (!plan)
    return err("the module has no buffer plan (run mm01-plan-buffers)");
  llvm::StringSet<> weightBuffers;
  for (Attribute a : plan) {
    auto d = cast<DictionaryAttr>(a);
    eng::Buffer buf;
    buf.name = cast<StringAttr>(d.get("name")).str();
    auto lifetime = eng::parseLifetime(cast<StringAttr>(d.get("lifetime")).str());
    if (!lifetime.ok())
      return err(lifetime.error());
    buf.lifetime = lifetime.value();
    buf.bytes = cast<IntegerAttr>(d.get("bytes")).getInt();
    buf.offset = cast<IntegerAttr>(d.get("offset")).getInt();
    buf.alignment = cast<IntegerAttr>(d.get("alignment")).getInt();
    if (buf.lifetime == eng::Lifetime::Weights)
      weightBuffers.insert(buf.name);
    m.buffers.push_back(buf);
  }

  // Weights: checkpoint tensors as they are; experts packed. A module
  // without weight ops (a single-op test module, test/gpu/ops) needs no
  // checkpoint.
  bool hasWeights = false;
  module.walk([&](Operation *op) {
    if (isa<model::WeightOp, model::ExpertWeightsOp>(op))
      hasWeights = true;
  });
  std::unique_ptr<Checkpoint> ckpt;
  if (hasWeights) {
    auto opened = Checkpoint::open(options.checkpointDir);
    if (!opened.ok())
      return err(opened.error());
    ckpt = std::move(opened.value());
  }
  llvm::StringSet<> done;
  std::vector<std::string> referenced;
  Status status = Status::success();
  module.walk([&](Operation *op) {
    if (!status || !isa<model::WeightOp, model::ExpertWeightsOp>(op))
      return;
    auto bufAttr = op->getAttrOfType<StringAttr>("mm01k.buffer");
    if (!bufAttr || !done.insert(bufAttr.getValue()).second)
      return;
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    auto dtype = dtypeOf(type.getElementType());
    if (!dtype.ok()) {
      status = err(dtype.error());
      return;
    }
    eng::Weight w;
    w.buffer = bufAttr.str();
    w.dtype = dtype.value();
    w.shape.assign(type.getShape().begin(), type.getShape().end());
    if (auto wop = dyn_cast<model::WeightOp>(op)) {
      const TensorInfo *info = ckpt->find(wop.getName().str());
      if (!info || info->dtype != w.dtype || info->shape != w.shape) {
        status = err("checkpoint tensor '" + wop.getName() +
                     "' does not match the compiled weight");
        return;
      }
      w.storage = eng::WeightStorage::Checkpoint;
      w.sources = {wop.getName().str()};
      referenced.push_back(wop.getName().str());
      m.weights.push_back(w);
      return;
    }
    auto ew = cast<model::ExpertWeightsOp>(op);
    auto bytes = packExperts(*ckpt, ew.getNameFormat(), type.getDimSize(0),
                             w.dtype, w.sources);
    if (!bytes.ok()) {
      status = err(bytes.error());
      return;
    }
    w.storage = eng::WeightStorage::Packed;
    w.section = "weights";
    std::vector<uint8_t> data = std::move(bytes.value());
    if (Status s = writer.addPackedWeight(w, data.data(), data.size()); !s)
      status = s;
  });
  if (!status)
    return status;
  if (!referenced.empty()) {
    auto ref = eng::fingerprintCheckpoint(options.checkpointDir, referenced,
                                          options.checkpointRecorded);
    if (!ref.ok())
      return err(ref.error());
    m.checkpoint = ref.value();
  }

  // Kernels and entry points.
  std::map<std::string, std::string> kernelByKey;
  for (auto fn : module.getOps<func::FuncOp>()) {
    auto entryName = fn->getAttrOfType<StringAttr>("mm01.entry");
    if (!entryName)
      continue;
    eng::EntryPoint ep;
    ep.name = entryName.str();
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto buf = fn.getArgAttrOfType<StringAttr>(i, "mm01k.buffer");
      const eng::Buffer *b = buf ? m.findBuffer(buf.str()) : nullptr;
      if (b && b->lifetime == eng::Lifetime::Activation)
        ep.inputs.push_back(b->name);
    }
    // Outputs: the named results written by kernels (mm01-plan-buffers gives
    // each an activation buffer of its name: `logits`, or a test module's
    // results); states and caches are updated in place.
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      auto name = fn.getResultAttrOfType<StringAttr>(i, "mm01.name");
      const eng::Buffer *b = name ? m.findBuffer(name.str()) : nullptr;
      if (b && b->lifetime == eng::Lifetime::Activation)
        ep.outputs.push_back(b->name);
    }
    unsigned stepNo = 0;
    for (Operation &op : fn.getBody().front()) {
      if (auto l = dyn_cast<LaunchOp>(op)) {
        auto sig = signatures.find(l.getKernel().getLeafReference().getValue());
        if (sig == signatures.end())
          return err("launch of unknown kernel " +
                     l.getKernel().getLeafReference().getValue());
        const std::vector<eng::ParamType> &types = sig->second;
        if (types.size() != l.getParamNames().size())
          return err("launch of @" + sig->first() + ": " +
                     Twine(l.getParamNames().size()) + " bindings for " +
                     Twine(types.size()) + " parameters");
        eng::Kernel k;
        k.section = sectionOfModule.lookup(
            l.getKernel().getRootReference().getValue());
        if (k.section.empty())
          return err("kernel module @" +
                     l.getKernel().getRootReference().getValue() +
                     " was not compiled (run mm01-gpu-kernel-codegen)");
        k.entry = sig->first().str();
        for (int i = 0; i < 3; ++i) {
          auto g = parseExpr(cast<StringAttr>(l.getGrid()[i]).getValue(), &op);
          if (!g.ok())
            return err(g.error());
          k.grid[i] = g.value();
          k.block[i] = eng::DimExpr(int64_t(l.getBlock()[i]));
        }
        k.dynamicSmemBytes = l.getDynamicSmem();
        ValueRange operands = l->getOperands();
        eng::KernelLaunch launch;
        std::string key = k.entry;
        for (size_t i = 0; i < types.size(); ++i) {
          k.params.push_back(
              {cast<StringAttr>(l.getParamNames()[i]).str(), types[i]});
          int64_t idx = l.getParamOperands()[i];
          if (idx < 0) {
            auto e = parseExpr(cast<StringAttr>(l.getParamExprs()[i]).getValue(), &op);
            if (!e.ok())
              return err(e.error());
            launch.args.push_back(eng::KernelArg::intArg(e.value()));
            continue;
          }
          Value v = operands[idx];
          auto buf = bufferOf(v);
          if (!buf.ok())
            return err(buf.error());
          launch.args.push_back(eng::KernelArg::bufferArg(
              buf.value(), eng::DimExpr(int64_t(l.getParamOffsets()[i]) * eltBytes(v))));
        }
        for (int i = 0; i < 3; ++i)
          key += "|" + k.grid[i].text() + "," + k.block[i].text();
        key += "|" + std::to_string(k.dynamicSmemBytes);
        auto [it, inserted] = kernelByKey.try_emplace(key, "");
        if (inserted) {
          k.name = k.entry;
          for (int n = 1; m.findKernel(k.name); ++n)
            k.name = k.entry + "#" + std::to_string(n);
          it->second = k.name;
          m.kernels.push_back(k);
        }
        launch.kernel = it->second;
        // The op verifier has checked that the previous step is a launch
        // with the same `when`.
        launch.overlapPrevious = l.getOverlapPrevious();
        eng::Step step{ep.name + "." + std::to_string(stepNo++) + "." + launch.kernel,
                       launch};
        if (std::optional<StringRef> when = l.getWhen()) {
          auto w = parseExpr(*when, &op);
          if (!w.ok())
            return err(w.error());
          step.when = w.value();
        }
        ep.steps.push_back(std::move(step));
        continue;
      }
      if (auto g = dyn_cast<GemmOp>(op)) {
        eng::GemmCall call;
        auto mExpr = parseExpr(g.getM(), &op), nExpr = parseExpr(g.getN(), &op),
             kExpr = parseExpr(g.getK(), &op);
        if (!mExpr.ok() || !nExpr.ok() || !kExpr.ok())
          return err("gemm: bad size expression");
        call.m = mExpr.value();
        call.n = nExpr.value();
        call.k = kExpr.value();
        auto a = bufferOf(g.getA()), bb = bufferOf(g.getB()),
             c = bufferOf(g.getC());
        if (!a.ok() || !bb.ok() || !c.ok())
          return err("gemm: operand without a planned buffer");
        call.a = {a.value(), eng::DimExpr(int64_t(g.getAOffset()) * eltBytes(g.getA()))};
        call.b = {bb.value(), eng::DimExpr(int64_t(g.getBOffset()) * eltBytes(g.getB()))};
        call.c = {c.value(), eng::DimExpr(int64_t(g.getCOffset()) * eltBytes(g.getC()))};
        auto at = dtypeOf(cast<RankedTensorType>(g.getA().getType()).getElementType());
        auto bt = dtypeOf(cast<RankedTensorType>(g.getB().getType()).getElementType());
        auto ct = dtypeOf(cast<RankedTensorType>(g.getC().getType()).getElementType());
        if (!at.ok() || !bt.ok() || !ct.ok())
          return err("gemm: unsupported element type");
        call.aType = at.value();
        call.bType = bt.value();
        call.cType = ct.value();
        call.transB = g.getTransB();
        if (g.getLda())
          call.lda = eng::DimExpr(int64_t(g.getLda()));
        if (g.getLdb())
          call.ldb = eng::DimExpr(int64_t(g.getLdb()));
        if (g.getLdc())
          call.ldc = eng::DimExpr(int64_t(g.getLdc()));
        call.alpha = g.getAlpha().convertToDouble();
        call.beta = g.getBeta().convertToDouble();
        ep.steps.push_back(
            {ep.name + "." + std::to_string(stepNo++) + ".gemm", call});
        continue;
      }
      if (isa<tensor::EmptyOp, model::WeightOp, model::ExpertWeightsOp,
              func::ReturnOp>(op))
        continue;
      return err("op '" + op.getName().getStringRef() +
                 "' cannot be scheduled (the schedule holds mm01k ops only)");
    }
    m.entryPoints.push_back(std::move(ep));
  }
  return Status::success();
}

} // namespace mm01::kernel
