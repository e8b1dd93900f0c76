//===- RowKernels.cpp - per-token-row kernels: gather, norms, elementwise -===//
#include "Model/Conversion/ModelToGPU/RowKernels.h"
#include "Model/Conversion/ModelToGPU/KernelBuilder.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/Twine.h"

#include <cmath>

using namespace mlir;

namespace mm01::gpu {
namespace {

std::string typeTag(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  return "x";
}

bool isFloatAct(Type t) { return t && (t.isF32() || t.isBF16() || t.isF16()); }

/// A unique symbol in `module` starting with `base`.
std::string uniqueName(mlir::gpu::GPUModuleOp module, const std::string &base) {
  std::string name = base;
  for (int i = 1; module.lookupSymbol(name); ++i)
    name = base + "_" + std::to_string(i);
  return name;
}

Value sigmoid(KernelBuilder &kb, Value x) {
  // 1 / (1 + e^{-x}) in f32.
  Value e = math::ExpOp::create(kb.b, kb.loc, arith::NegFOp::create(kb.b, kb.loc, x));
  return arith::DivFOp::create(kb.b, kb.loc, kb.f32c(1.0), kb.fadd(kb.f32c(1.0), e));
}

} // namespace

FailureOr<GeneratedKernel> buildEmbedding(OpBuilder &b,
                                          mlir::gpu::GPUModuleOp module,
                                          const EmbeddingSpec &spec,
                                          Location loc) {
  if (!isFloatAct(spec.elt) || spec.hidden <= 0 || spec.vocab <= 0)
    return emitError(loc) << "embedding kernel: unsupported spec";
  const int64_t threads = std::min<int64_t>(256, ((spec.hidden + 31) / 32) * 32);
  Type i32 = b.getI32Type();
  SmallVector<Type> params = {
      pointerParamType(spec.elt, spec.vocab * spec.hidden),
      pointerParamType(i32, spec.maxTokens),
      pointerParamType(spec.elt, spec.maxTokens * spec.hidden), i32};
  std::string name = uniqueName(
      module, ("embedding_v" + Twine(spec.vocab) + "_d" + Twine(spec.hidden) +
               "_" + typeTag(spec.elt))
                  .str());
  auto fn = createKernelFunc(b, module, name, params, {threads, 1, 1}, loc);
  Block &body = fn.getBody().front();
  OpBuilder ib = OpBuilder::atBlockEnd(&body);
  KernelBuilder kb(ib, loc);
  Value table = body.getArgument(0), ids = body.getArgument(1),
        out = body.getArgument(2);
  Value row = kb.blockId();
  Value id = kb.toIndexU(kb.load(ids, row));
  Value src = kb.mul(id, spec.hidden), dst = kb.mul(row, spec.hidden);
  kb.forLoop(kb.threadId(), kb.idx(spec.hidden), kb.idx(threads), [&](Value c) {
    kb.store(kb.load(table, kb.add(src, c)), out, kb.add(dst, c));
  });
  mlir::gpu::ReturnOp::create(ib, loc);
  GeneratedKernel k;
  k.func = fn;
  k.grid = {"tokens", "1", "1"};
  k.block = {threads, 1, 1};
  k.params = {{"table", ParamKind::Ptr}, {"ids", ParamKind::Ptr},
              {"out", ParamKind::Ptr}, {"tokens", ParamKind::I32}};
  return k;
}

FailureOr<GeneratedKernel> buildRowNorm(OpBuilder &b,
                                        mlir::gpu::GPUModuleOp module,
                                        const RowNormSpec &spec, Location loc) {
  if (!isFloatAct(spec.elt) || spec.width <= 0 || spec.threads % 32 != 0 ||
      spec.threads < 32 || spec.threads > 1024)
    return emitError(loc) << "rms-norm kernel: unsupported spec (width "
                          << spec.width << ", threads " << spec.threads << ")";
  MLIRContext *ctx = b.getContext();
  Type elt = spec.elt, i32 = b.getI32Type(), f32 = b.getF32Type();
  const int64_t W = spec.width, T = spec.threads, rows = spec.maxTokens;
  auto actParam = [&](int64_t stride) {
    return pointerParamType(elt, rows * std::max(stride, W));
  };
  SmallVector<Type> params = {actParam(spec.aStride)};
  SmallVector<KernelParamDesc> descs = {{"a", ParamKind::Ptr}};
  if (spec.residual) {
    params.push_back(actParam(spec.bStride));
    descs.push_back({"b", ParamKind::Ptr});
  }
  params.push_back(pointerParamType(elt, W));
  descs.push_back({"w", ParamKind::Ptr});
  if (spec.gate) {
    params.push_back(actParam(spec.gStride));
    descs.push_back({"g", ParamKind::Ptr});
  }
  params.push_back(actParam(spec.outStride));
  descs.push_back({"out", ParamKind::Ptr});
  params.push_back(i32);
  descs.push_back({"tokens", ParamKind::I32});

  std::string base = "rms_norm_d" + std::to_string(W) + "_" + typeTag(elt);
  if (spec.residual)
    base += "_residual";
  if (spec.gate)
    base += "_gate";
  std::string name = uniqueName(module, base);
  auto fn = createKernelFunc(b, module, name, params, {T, 1, 1}, loc,
                             {workgroupMemRef(ctx, {T / 32}, f32)});
  Block &body = fn.getBody().front();
  OpBuilder ib = OpBuilder::atBlockEnd(&body);
  KernelBuilder kb(ib, loc);
  unsigned argNo = 0;
  Value a = body.getArgument(argNo++);
  Value bIn = spec.residual ? body.getArgument(argNo++) : Value();
  Value w = body.getArgument(argNo++);
  Value g = spec.gate ? body.getArgument(argNo++) : Value();
  Value out = body.getArgument(argNo++);
  Value scratch = fn.getWorkgroupAttributions()[0];

  Value row = kb.blockId();
  Value tid = kb.threadId();
  Value aBase = kb.mul(row, spec.aStride);
  Value bBase = spec.residual ? kb.mul(row, spec.bStride) : Value();
  Value gBase = spec.gate ? kb.mul(row, spec.gStride) : Value();
  Value oBase = kb.mul(row, spec.outStride);
  // s as the CPU target materializes it (f32 value of an `elt` tensor).
  auto loadS = [&](Value c) -> Value {
    Value x = kb.toF32(kb.load(a, kb.add(aBase, c)));
    if (!spec.residual)
      return x;
    Value u = kb.toF32(kb.load(bIn, kb.add(bBase, c)));
    Value ra = kb.roundTrip(kb.fmul(x, kb.f32c(spec.alpha)), elt);
    Value uc = kb.roundTrip(kb.fmul(u, kb.f32c(spec.beta)), elt);
    return kb.roundTrip(kb.fadd(ra, uc), elt);
  };
  Value sumSq = kb.forLoopAcc(tid, kb.idx(W), kb.idx(T), kb.f32c(0.0),
                              [&](Value c, Value acc) {
                                Value s = loadS(c);
                                return kb.fadd(acc, kb.fmul(s, s));
                              });
  Value total = kb.blockSum(sumSq, scratch, T);
  Value mean = arith::DivFOp::create(ib, loc, total, kb.f32c(double(W)));
  Value inv = math::RsqrtOp::create(ib, loc, kb.fadd(mean, kb.f32c(spec.eps)));
  kb.forLoop(tid, kb.idx(W), kb.idx(T), [&](Value c) {
    Value normed = kb.roundTrip(kb.fmul(loadS(c), inv), elt);
    Value y = kb.roundTrip(kb.fmul(kb.toF32(kb.load(w, c)), normed), elt);
    if (spec.gate) {
      Value gv = kb.toF32(kb.load(g, kb.add(gBase, c)));
      y = kb.fmul(y, kb.roundTrip(sigmoid(kb, gv), elt));
    }
    kb.store(kb.fromF32(y, elt), out, kb.add(oBase, c));
  });
  mlir::gpu::ReturnOp::create(ib, loc);
  GeneratedKernel k;
  k.func = fn;
  k.grid = {"tokens", "1", "1"};
  k.block = {T, 1, 1};
  k.params.assign(descs.begin(), descs.end());
  return k;
}

FailureOr<GeneratedKernel> buildElementwise(OpBuilder &b,
                                            mlir::gpu::GPUModuleOp module,
                                            const ElementwiseSpec &spec,
                                            Location loc) {
  using Kind = ElementwiseSpec::Kind;
  if (!isFloatAct(spec.elt) || spec.width <= 0)
    return emitError(loc) << "elementwise kernel: unsupported spec";
  bool binary = spec.kind == Kind::Mul || spec.kind == Kind::Residual;
  Type elt = spec.elt, i32 = b.getI32Type();
  const int64_t W = spec.width, rows = spec.maxTokens, T = 256;
  auto actParam = [&](int64_t stride) {
    return pointerParamType(elt, rows * std::max(stride, W));
  };
  SmallVector<Type> params = {actParam(spec.aStride)};
  SmallVector<KernelParamDesc> descs = {{"a", ParamKind::Ptr}};
  if (binary) {
    params.push_back(actParam(spec.bStride));
    descs.push_back({"b", ParamKind::Ptr});
  }
  params.push_back(actParam(spec.outStride));
  descs.push_back({"out", ParamKind::Ptr});
  params.push_back(i32);
  descs.push_back({"tokens", ParamKind::I32});
  const char *tag = spec.kind == Kind::SiLU      ? "silu"
                    : spec.kind == Kind::Sigmoid ? "sigmoid"
                    : spec.kind == Kind::Mul     ? "mul"
                                                 : "residual";
  std::string name = uniqueName(
      module, (Twine(tag) + "_d" + Twine(W) + "_" + typeTag(elt)).str());
  auto fn = createKernelFunc(b, module, name, params, {T, 1, 1}, loc);
  Block &body = fn.getBody().front();
  OpBuilder ib = OpBuilder::atBlockEnd(&body);
  KernelBuilder kb(ib, loc);
  Value a = body.getArgument(0);
  Value bIn = binary ? body.getArgument(1) : Value();
  Value out = body.getArgument(binary ? 2 : 1);
  Value tokens = kb.toIndexU(body.getArgument(binary ? 3 : 2));
  // Grid: (tokens, cdiv(W, T)): one row per blockIdx.x (x allows 2^31 - 1
  // blocks, y only 65535), column tiles by y.
  Value row = kb.blockId();
  Value c = kb.add(kb.mul(kb.blockId(mlir::gpu::Dimension::y), T), kb.threadId());
  Value inRange = arith::AndIOp::create(ib, loc, kb.ult(c, kb.idx(W)),
                                        kb.ult(row, tokens));
  kb.ifThen(inRange, [&] {
    Value x = kb.toF32(kb.load(a, kb.add(kb.mul(row, spec.aStride), c)));
    Value y;
    switch (spec.kind) {
    case Kind::SiLU:
      y = kb.fmul(x, sigmoid(kb, x));
      break;
    case Kind::Sigmoid:
      y = sigmoid(kb, x);
      break;
    case Kind::Mul:
      y = kb.fmul(x, kb.toF32(kb.load(bIn, kb.add(kb.mul(row, spec.bStride), c))));
      break;
    case Kind::Residual: {
      Value u = kb.toF32(kb.load(bIn, kb.add(kb.mul(row, spec.bStride), c)));
      Value ra = kb.roundTrip(kb.fmul(x, kb.f32c(spec.alpha)), elt);
      Value uc = kb.roundTrip(kb.fmul(u, kb.f32c(spec.beta)), elt);
      y = kb.fadd(ra, uc);
      break;
    }
    }
    kb.store(kb.fromF32(y, elt), out, kb.add(kb.mul(row, spec.outStride), c));
  });
  mlir::gpu::ReturnOp::create(ib, loc);
  GeneratedKernel k;
  k.func = fn;
  k.grid = {"tokens", std::to_string((W + T - 1) / T), "1"};
  k.block = {T, 1, 1};
  k.params.assign(descs.begin(), descs.end());
  return k;
}

} // namespace mm01::gpu
