//===- ModelToKernels.cpp - model IR -> generated kernels + mm01k schedule -===//
//
// Walks each entry function (layers inlined) in program order and replaces
// every model op by launches of kernels generated for this model's shapes
// (RowKernels, LightningPrefillKernel, SoftmaxAttentionKernels, MoEKernels)
// or by cuBLASLt GEMMs, on tensors standing for buffers.
//
// Model values map to *views*: a tensor (the buffer-to-be), an element
// offset, a token stride and a head stride, plus pending elementwise work
// that the consumer kernel applies as it loads (SiLU of the QKV projection,
// RoPE of q and k). So split_qkv, split_heads and merge_heads cost nothing.
// Fusions are decided by mm01-fuse (model/Transforms/Fuse.cpp); each
// mm01.fusion group becomes one kernel (family) here:
//   deepnorm_rms_norm    one row kernel (residual, rounding, norm)
//   gated_rms_norm       one row kernel, the gate applied at the store
//   silu_lightning       SiLU on load in the lightning kernel, q/k/v read in
//                        place from the interleaved projection
//   rope_attention       RoPE inside the attention kernels
// Ops outside groups get kernels of their own (RoPE has none: it is only
// lowered inside its attention group).
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/Passes.h"

#include "Model/Conversion/ModelToGPU/EntryShape.h"
#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"
#include "Model/Conversion/ModelToGPU/LightningDecodeKernel.h"
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"
#include "Model/Conversion/ModelToGPU/MoEKernels.h"
#include "Model/Conversion/ModelToGPU/RowKernels.h"
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"
#include "Model/Conversion/ModelToGPU/TileConfig.h"

#include "mm01/Engine/DimExpr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <regex>
#include <tuple>

namespace mm01::model {
#define GEN_PASS_DEF_MM01MODELTOKERNELS
#include "Model/Conversion/ModelToGPU/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
namespace mg = mm01::gpu;
namespace mk = mm01::kernel;

namespace {

constexpr StringLiteral kKernelModule = "mm01_kernels";

/// Where a model value lives and what is still to be applied to it.
struct View {
  Value buf;                  // the tensor (buffer) holding the data
  int64_t offset = 0;         // elements from the buffer start
  int64_t tokenStride = 0;    // elements between token rows
  int64_t headStride = 0;     // elements between heads (4-D values)
  bool silu = false;          // SiLU still to be applied on load
  RoPEOp rope;                // RoPE still to be applied on load
};

/// A kernel parameter bound to a view (input or in-place/fresh output) or
/// to an integer expression.
struct Binding {
  Value value;
  int64_t offset = 0;
  bool isOut = false;
};

/// Kernels generated so far, by a key of everything their generator was
/// specialized for: ops with equal specs (the norms of all layers, the MoE
/// of all layers) share one gpu.func.
struct KernelCache {
  llvm::StringMap<std::vector<mg::GeneratedKernel>> kernels;
  llvm::StringMap<std::string> workspace;
};

/// A key for a spec: its fields in order, types printed.
class KeyBuilder {
public:
  explicit KeyBuilder(StringRef kind) : os(text) { os << kind; }
  template <typename T> KeyBuilder &operator()(const T &v) {
    os << '|' << v;
    return *this;
  }
  KeyBuilder &operator()(Type t) {
    os << '|';
    t.print(os);
    return *this;
  }
  KeyBuilder &operator()(ArrayRef<double> values) {
    for (double v : values)
      os << '|' << llvm::format("%.17g", v);
    return *this;
  }
  std::string str() { return os.str(); }

private:
  std::string text;
  llvm::raw_string_ostream os;
};

std::string rowNormKey(const mg::RowNormSpec &s) {
  return KeyBuilder("rms_norm")(s.width)(s.eps)(s.elt)(s.residual)(s.alpha)(
             s.beta)(s.gate)(s.aStride)(s.bStride)(s.gStride)(s.outStride)(
             s.maxTokens)(s.threads)
      .str();
}

std::string elementwiseKey(const mg::ElementwiseSpec &s) {
  return KeyBuilder("elementwise")(int(s.kind))(s.width)(s.elt)(s.alpha)(
             s.beta)(s.aStride)(s.bStride)(s.outStride)(s.maxTokens)
      .str();
}

class EntryLowering {
public:
  EntryLowering(ModuleOp module, mlir::gpu::GPUModuleOp kernels,
                func::FuncOp fn, KernelCache &cache)
      : module(module), kernels(kernels), fn(fn), b(fn.getContext()),
        cache(cache) {}

  LogicalResult run();

private:
  LogicalResult lower(Operation *op);
  // One method per model op family.
  LogicalResult lowerEmbedding(EmbeddingOp op);
  /// A norm, of the sum `residual` computes when given (one kernel).
  // `tiles`: the op carrying the kernel's mm01k.tiles (the op, or its
  // mm01.fusion group).
  /// The row-norm kernel of `norm`, of the sum `residual` computes when
  /// given, times sigmoid of `gate`'s input when given; writes `result`.
  LogicalResult lowerRowNorm(RMSNormOp norm, Value result, Operation *tiles,
                             DeepNormResidualOp residual = {},
                             SigmoidOp gate = {});
  LogicalResult lowerLinear(LinearOp op);
  LogicalResult lowerElementwise(Operation *op);
  /// mm01.lightning_attention or mm01.lightning_decode.
  LogicalResult lowerLightning(Operation *op, Operation *tiles);
  /// q, k, v of `split` as strided views into `src` (no copy).
  void setSplitQKVViews(SplitQKVOp split, View src);
  LogicalResult lowerSoftmaxAttention(SoftmaxAttentionOp op, Operation *tiles);
  LogicalResult lowerMoERoute(MoERouteOp op);
  LogicalResult lowerMoEExperts(MoEExpertsOp op);
  /// An mm01.fusion group (its structure is checked by its verifier).
  LogicalResult lowerFusion(FusionOp op);

  /// The view of `v` (a copy: `views` may grow and move its entries).
  View viewOf(Value v);
  /// Records the view of `v`. The view is computed before the map is
  /// touched: `views[a] = viewOf(b)` could write through a reference that
  /// viewOf's insertion invalidated.
  void setView(Value v, View view) { views[v] = view; }
  /// The view of `v`, which must have no pending work.
  FailureOr<View> plainView(Value v, Location loc);
  Value emptyAct(int64_t rows, int64_t width, Type elt, Location loc);
  Value emptyBytes(int64_t bytes, Location loc);
  /// A per-call input buffer (token_seq, cu_seqlens, ...) as a new argument.
  Value callInput(StringRef name, int64_t elements);
  std::string expr(std::string e) const;
  /// An engine expression evaluated at the largest call this entry admits.
  FailureOr<int64_t> evaluateAtMax(const std::string &e) const;
  /// A workspace of `bytes` (an engine expression; "0": none, a null
  /// Value), sized for the largest call.
  FailureOr<Value> workspaceFor(const std::string &bytes, Operation *op,
                                StringRef what);
  /// Emits an mm01k.launch of `k` binding its parameters by name
  /// (`overlapPrevious`: marked to overlap the previous launch); returns
  /// the results in the order of the `isOut` bindings.
  FailureOr<SmallVector<Value>>
  launch(const mg::GeneratedKernel &k,
         const llvm::StringMap<Binding> &bindings, Location loc,
         bool overlapPrevious = false);
  /// Launches `kernels` in order with the same bindings; after each launch
  /// the out bindings the kernel wrote are rebound to its results, so the
  /// next kernel reads what the previous one wrote. A kernel after the
  /// first that waits for its predecessor itself (overlapsPrevious)
  /// overlaps it.
  LogicalResult launchSequence(ArrayRef<mg::GeneratedKernel> kernels,
                               llvm::StringMap<Binding> &bindings,
                               Location loc);
  /// Launches one kernel and makes its `out` binding the view of `result`.
  LogicalResult launchInto(Value result, const mg::GeneratedKernel &kernel,
                           llvm::StringMap<Binding> &bindings, Location loc);

  int64_t rowsOf(Value v) const {
    auto t = cast<RankedTensorType>(v.getType());
    int64_t rows = 1;
    for (int64_t i = 0; i + 1 < t.getRank(); ++i)
      rows *= t.getDimSize(i);
    if (t.getRank() == 4) // [B, T, H, D]: tokens are the first two dims
      rows /= t.getDimSize(2);
    return rows;
  }
  static int64_t widthOf(Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getDimSize(t.getRank() - 1);
  }
  static Type eltOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  }

  ModuleOp module;
  mlir::gpu::GPUModuleOp kernels;
  func::FuncOp fn;
  /// The `when` of the launches being emitted (empty: every call).
  std::string launchWhen;
  OpBuilder b;
  bool decode = false;
  int64_t maxTokens = 0, maxBatch = 0, maxContext = 0;
  /// The pointer extents of generated kernels: the largest call of any
  /// entry, so that prefill and decode share kernels (the extent is only an
  /// upper bound; the launch decides the work).
  int64_t kernelMaxTokens = 0;

public:
  void setKernelMaxTokens(int64_t n) { kernelMaxTokens = n; }

private:
  llvm::DenseMap<Value, View> views;
  llvm::StringMap<Value> inputs;
  Value logitsValue; // the value returned as "logits"
  KernelCache &cache;

  /// The kernel(s) for `key`, built by `build` the first time.
  FailureOr<std::vector<mg::GeneratedKernel>>
  cached(const std::string &key,
         llvm::function_ref<FailureOr<std::vector<mg::GeneratedKernel>>()> build) {
    auto it = cache.kernels.find(key);
    if (it != cache.kernels.end())
      return it->second;
    auto built = build();
    if (failed(built))
      return failure();
    cache.kernels[key] = *built;
    return *built;
  }
  FailureOr<mg::GeneratedKernel>
  cachedOne(const std::string &key,
            llvm::function_ref<FailureOr<mg::GeneratedKernel>()> build) {
    auto ks = cached(key, [&]() -> FailureOr<std::vector<mg::GeneratedKernel>> {
      auto k = build();
      if (failed(k))
        return failure();
      return std::vector<mg::GeneratedKernel>{*k};
    });
    if (failed(ks))
      return failure();
    return (*ks)[0];
  }
};

std::string EntryLowering::expr(std::string e) const {
  // Decode: one token per sequence, and decode schedules must depend on
  // `batch` only (docs/gpu-engine-abi.md).
  if (decode)
    e = std::regex_replace(e, std::regex("\\btokens\\b"), "batch");
  return e;
}

FailureOr<int64_t> EntryLowering::evaluateAtMax(const std::string &e) const {
  auto parsed = mm01::engine::DimExpr::parse(e);
  if (!parsed)
    return failure();
  mm01::engine::DimEnv env;
  env.batch = maxBatch;
  // At the kernels' extents (a generator may lay its workspace out for
  // them), not only this entry's largest call.
  env.seq = kernelMaxTokens / std::max<int64_t>(maxBatch, 1);
  env.context = std::max(maxContext, env.seq);
  env.tokens = kernelMaxTokens;
  auto v = parsed->evaluate(env);
  if (!v || *v < 0)
    return failure();
  return *v;
}

FailureOr<Value> EntryLowering::workspaceFor(const std::string &bytes,
                                             Operation *op, StringRef what) {
  if (bytes == "0")
    return Value();
  auto n = evaluateAtMax(bytes);
  if (failed(n))
    return op->emitOpError() << "GPU target: cannot size the " << what
                             << " workspace '" << bytes << "'";
  return emptyBytes(*n, op->getLoc());
}

View EntryLowering::viewOf(Value v) {
  auto it = views.find(v);
  if (it != views.end())
    return it->second;
  // A value with no view yet: a weight, a function argument, or a
  // materialized activation; dense rows.
  View view;
  view.buf = v;
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getRank() == 4) {
    view.headStride = t.getDimSize(3);
    view.tokenStride = t.getDimSize(2) * t.getDimSize(3);
  } else {
    view.tokenStride = t.getDimSize(t.getRank() - 1);
  }
  setView(v, view);
  return view;
}

Value EntryLowering::emptyAct(int64_t rows, int64_t width, Type elt,
                              Location loc) {
  return tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows, width}, elt);
}

Value EntryLowering::emptyBytes(int64_t bytes, Location loc) {
  return tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{std::max<int64_t>(bytes, 1)},
                                 b.getI8Type());
}

Value EntryLowering::callInput(StringRef name, int64_t elements) {
  if (Value v = inputs.lookup(name))
    return v;
  unsigned idx = fn.getNumArguments();
  auto type = RankedTensorType::get({elements}, b.getI32Type());
  if (failed(fn.insertArgument(idx, type,
                               b.getDictionaryAttr({b.getNamedAttr(
                                   "mm01.name", b.getStringAttr(name))}),
                               fn.getLoc())))
    return Value();
  Value v = fn.getArgument(idx);
  inputs[name] = v;
  return v;
}

FailureOr<SmallVector<Value>>
EntryLowering::launch(const mg::GeneratedKernel &k,
                      const llvm::StringMap<Binding> &bindings, Location loc,
                      bool overlapPrevious) {
  mlir::gpu::GPUFuncOp func = k.func;
  SmallVector<Value> ins, outs;
  SmallVector<Attribute> names, exprs;
  SmallVector<int64_t> operandIdx, offsets;
  SmallVector<std::pair<int64_t, bool>> where; // per param: index, isOut
  for (const mg::KernelParamDesc &p : k.params) {
    names.push_back(b.getStringAttr(p.name));
    auto it = bindings.find(p.name);
    if (p.kind != mg::ParamKind::Ptr) {
      // Scalars bound by name to the call's sizes unless given explicitly.
      if (p.name != "tokens" && p.name != "batch")
        return emitError(loc) << "kernel " << func.getName()
                              << ": no value for scalar parameter '" << p.name
                              << "'";
      where.push_back({-1, false});
      exprs.push_back(b.getStringAttr(expr(p.name)));
      offsets.push_back(0);
      continue;
    }
    if (it == bindings.end())
      return emitError(loc) << "kernel " << func.getName()
                            << ": no buffer bound to parameter '" << p.name
                            << "'";
    const Binding &bd = it->second;
    if (bd.isOut) {
      where.push_back({int64_t(outs.size()), true});
      outs.push_back(bd.value);
    } else {
      where.push_back({int64_t(ins.size()), false});
      ins.push_back(bd.value);
    }
    exprs.push_back(b.getStringAttr(""));
    offsets.push_back(bd.offset);
  }
  for (auto [idx, isOut] : where)
    operandIdx.push_back(idx < 0 ? -1 : isOut ? int64_t(ins.size()) + idx : idx);
  SmallVector<Attribute> grid;
  for (const std::string &g : k.grid)
    grid.push_back(b.getStringAttr(expr(g)));
  auto kernelRef = SymbolRefAttr::get(
      b.getStringAttr(kKernelModule),
      {FlatSymbolRefAttr::get(b.getContext(), func.getName())});
  auto op = mk::LaunchOp::create(
      b, loc, TypeRange(ValueRange(outs)), kernelRef, b.getArrayAttr(grid),
      b.getDenseI64ArrayAttr({k.block[0], k.block[1], k.block[2]}),
      b.getI64IntegerAttr(k.dynamicSmemBytes), b.getArrayAttr(names),
      b.getDenseI64ArrayAttr(operandIdx), b.getDenseI64ArrayAttr(offsets),
      b.getArrayAttr(exprs), overlapPrevious ? b.getUnitAttr() : UnitAttr(),
      launchWhen.empty() ? StringAttr() : b.getStringAttr(launchWhen), ins, outs);
  return SmallVector<Value>(op.getResults());
}

LogicalResult
EntryLowering::launchSequence(ArrayRef<mg::GeneratedKernel> kernels,
                              llvm::StringMap<Binding> &bindings,
                              Location loc) {
  for (const mg::GeneratedKernel &kern : kernels) {
    auto res = launch(kern, bindings, loc,
                      kern.overlapsPrevious && &kern != &kernels.front());
    if (failed(res))
      return failure();
    // Results follow the order of the kernel's out parameters.
    unsigned i = 0;
    for (const mg::KernelParamDesc &p : kern.params) {
      auto it = bindings.find(p.name);
      if (p.kind == mg::ParamKind::Ptr && it != bindings.end() &&
          it->second.isOut)
        it->second.value = (*res)[i++];
    }
  }
  return success();
}

LogicalResult EntryLowering::launchInto(Value result,
                                        const mg::GeneratedKernel &kernel,
                                        llvm::StringMap<Binding> &bindings,
                                        Location loc) {
  if (failed(launchSequence(kernel, bindings, loc)))
    return failure();
  setView(result, viewOf(bindings["out"].value));
  return success();
}

FailureOr<View> EntryLowering::plainView(Value v, Location loc) {
  // Pending work only arises inside fusion groups, whose verifier admits
  // just the consumers that apply it.
  View view = viewOf(v);
  if (view.rope || view.silu)
    return emitError(loc) << "GPU target: a value with pending "
                          << (view.rope ? "RoPE" : "SiLU")
                          << " reached an op that cannot apply it";
  return view;
}

//===----------------------------------------------------------------------===//
// Lowerings
//===----------------------------------------------------------------------===//

LogicalResult EntryLowering::lowerEmbedding(EmbeddingOp op) {
  auto tableT = cast<RankedTensorType>(op.getTable().getType());
  mg::EmbeddingSpec spec;
  spec.vocab = tableT.getDimSize(0);
  spec.hidden = tableT.getDimSize(1);
  spec.elt = eltOf(op.getResult());
  spec.maxTokens = kernelMaxTokens;
  if (spec.elt != tableT.getElementType())
    return op.emitOpError() << "GPU target: the embedding table type "
                            << tableT.getElementType()
                            << " must equal the activation type " << spec.elt;
  auto k = cachedOne(KeyBuilder("embedding")(spec.vocab)(spec.hidden)(spec.elt)(
                         spec.maxTokens).str(),
                     [&] { return mg::buildEmbedding(b, kernels, spec, op.getLoc()); });
  if (failed(k))
    return failure();
  Value out = emptyAct(maxTokens, spec.hidden, spec.elt, op.getLoc());
  llvm::StringMap<Binding> bd;
  bd["table"] = {op.getTable()};
  bd["ids"] = {op.getIds()};
  bd["out"] = {out, 0, true};
  return launchInto(op.getResult(), *k, bd, op.getLoc());
}

LogicalResult EntryLowering::lowerRowNorm(RMSNormOp norm, Value result,
                                          Operation *tiles,
                                          DeepNormResidualOp dn,
                                          SigmoidOp gate) {
  Location loc = result.getLoc();
  mg::RowNormSpec spec;
  spec.width = widthOf(norm.getResult());
  spec.eps = norm.getEpsilon().convertToDouble();
  spec.elt = eltOf(norm.getResult());
  spec.maxTokens = kernelMaxTokens;
  spec.outStride = spec.width;
  llvm::StringMap<Binding> bd;
  if (dn) {
    auto r = plainView(dn.getResidual(), loc), u = plainView(dn.getUpdate(), loc);
    if (failed(r) || failed(u))
      return failure();
    spec.residual = true;
    spec.alpha = dn.getAlpha().convertToDouble();
    spec.beta = dn.getBeta().convertToDouble();
    spec.aStride = r->tokenStride;
    spec.bStride = u->tokenStride;
    bd["a"] = {r->buf, r->offset};
    bd["b"] = {u->buf, u->offset};
  } else {
    auto x = plainView(norm.getInput(), loc);
    if (failed(x))
      return failure();
    spec.aStride = x->tokenStride;
    bd["a"] = {x->buf, x->offset};
  }
  if (gate) {
    auto g = plainView(gate.getInput(), loc);
    if (failed(g))
      return failure();
    spec.gate = true;
    spec.gStride = g->tokenStride;
    bd["g"] = {g->buf, g->offset};
  }
  auto tr = mg::TileReader::of(tiles, "rms_norm");
  if (failed(tr) || failed(tr->get("threads", spec.threads).finish()))
    return failure();
  auto k = cachedOne(rowNormKey(spec),
                     [&] { return mg::buildRowNorm(b, kernels, spec, loc); });
  if (failed(k))
    return failure();
  bd["w"] = {norm.getWeight()};
  bd["out"] = {emptyAct(maxTokens, spec.width, spec.elt, loc), 0, true};
  return launchInto(result, *k, bd, loc);
}

LogicalResult EntryLowering::lowerLinear(LinearOp op) {
  Location loc = op.getLoc();
  auto x = plainView(op.getInput(), loc);
  if (failed(x))
    return failure();
  auto wT = cast<RankedTensorType>(op.getWeight().getType());
  int64_t n = wT.getDimSize(0), kdim = wT.getDimSize(1);
  Type elt = eltOf(op.getResult());
  // The logits leave the engine as f32: the GEMM writes them directly.
  bool isLogits = op.getResult() == logitsValue;
  Value c = emptyAct(maxTokens, n, isLogits ? b.getF32Type() : elt, loc);
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto gemm = mk::GemmOp::create(
      b, loc, c.getType(), x->buf, op.getWeight(), c,
      b.getStringAttr(expr("tokens")), b.getStringAttr(std::to_string(n)),
      b.getStringAttr(std::to_string(kdim)), /*trans_b=*/b.getUnitAttr(),
      /*lda=*/i64(x->tokenStride == kdim ? 0 : x->tokenStride),
      /*ldb=*/i64(0), /*ldc=*/i64(0), /*a_offset=*/i64(x->offset),
      /*b_offset=*/i64(0), /*c_offset=*/i64(0), b.getF64FloatAttr(1.0),
      b.getF64FloatAttr(0.0));
  setView(op.getResult(), viewOf(gemm.getResult()));
  return success();
}

LogicalResult EntryLowering::lowerElementwise(Operation *op) {
  using Kind = mg::ElementwiseSpec::Kind;
  Location loc = op->getLoc();
  Value result = op->getResult(0);
  mg::ElementwiseSpec spec;
  spec.width = widthOf(result);
  spec.elt = eltOf(result);
  spec.maxTokens = kernelMaxTokens;
  spec.outStride = spec.width;
  if (isa<SiLUOp>(op))
    spec.kind = Kind::SiLU;
  else if (isa<SigmoidOp>(op))
    spec.kind = Kind::Sigmoid;
  else if (isa<arith::MulFOp>(op))
    spec.kind = Kind::Mul;
  else if (auto dn = dyn_cast<DeepNormResidualOp>(op)) {
    spec.kind = Kind::Residual;
    spec.alpha = dn.getAlpha().convertToDouble();
    spec.beta = dn.getBeta().convertToDouble();
  } else {
    return op->emitOpError() << "has no GPU lowering";
  }
  if (cast<RankedTensorType>(result.getType()).getRank() != 3)
    return op->emitOpError()
           << "GPU target: elementwise ops on [B, T, N] activations only";
  llvm::StringMap<Binding> bd;
  auto a = plainView(op->getOperand(0), loc);
  if (failed(a))
    return failure();
  spec.aStride = a->tokenStride;
  bd["a"] = {a->buf, a->offset};
  if (op->getNumOperands() == 2) {
    auto bv = plainView(op->getOperand(1), loc);
    if (failed(bv))
      return failure();
    spec.bStride = bv->tokenStride;
    bd["b"] = {bv->buf, bv->offset};
  }
  auto k = cachedOne(elementwiseKey(spec), [&] {
    return mg::buildElementwise(b, kernels, spec, loc);
  });
  if (failed(k))
    return failure();
  bd["out"] = {emptyAct(maxTokens, spec.width, spec.elt, loc), 0, true};
  return launchInto(result, *k, bd, loc);
}

void EntryLowering::setSplitQKVViews(SplitQKVOp split, View src) {
  int64_t D = cast<RankedTensorType>(split.getQ().getType()).getDimSize(3);
  for (int i = 0; i < 3; ++i) {
    View v = src;
    v.offset = src.offset + i * D;
    v.headStride = 3 * D;
    setView(split->getResult(i), v);
  }
}

LogicalResult EntryLowering::lowerLightning(Operation *op, Operation *tiles) {
  // Both forms: (query, key, value, state) operands and a `decay` attribute.
  Value q = op->getOperand(0), k = op->getOperand(1), v = op->getOperand(2),
        state = op->getOperand(3);
  ArrayRef<double> decay = op->getAttrOfType<DenseF64ArrayAttr>("decay").asArrayRef();
  Location loc = op->getLoc();
  View qv = viewOf(q), kv = viewOf(k), vv = viewOf(v);
  if (qv.rope || kv.rope || vv.rope)
    return op->emitOpError() << "GPU target: RoPE before lightning attention "
                                "is not supported";
  if (qv.silu != kv.silu || qv.silu != vv.silu)
    return op->emitOpError()
           << "GPU target: q, k and v must all or none carry a pending SiLU";
  auto qt = cast<RankedTensorType>(q.getType());
  mg::LightningPrefillSpec spec;
  spec.heads = qt.getDimSize(2);
  spec.dim = qt.getDimSize(3);
  spec.elt = qt.getElementType();
  spec.decay.assign(decay.begin(), decay.end());
  spec.siluInputs = qv.silu;
  spec.qTokenStride = qv.tokenStride;
  spec.qHeadStride = qv.headStride;
  spec.kTokenStride = kv.tokenStride;
  spec.kHeadStride = kv.headStride;
  spec.vTokenStride = vv.tokenStride;
  spec.vHeadStride = vv.headStride;
  spec.outTokenStride = spec.heads * spec.dim;
  spec.outHeadStride = spec.dim;
  spec.maxBatch = maxBatch;
  spec.maxTokens = kernelMaxTokens;
  bool isDecode = isa<LightningDecodeOp>(op);
  auto tr = mg::TileReader::of(tiles, isDecode ? "lightning_decode"
                                               : "lightning_prefill");
  if (failed(tr))
    return failure();
  mg::LightningDecodeSpec ds;
  if (isDecode)
    tr->get("cols", ds.cols)
        .get("threads", ds.threads)
        .get("small_batch_max", ds.smallBatchMax)
        .get("small_cols", ds.smallCols)
        .get("small_threads", ds.smallThreads);
  else
    tr->get("chunk", spec.chunk)
        .get("warps", spec.warps)
        .get("segments", spec.segments)
        .get("min_segment_tokens", spec.minSegmentTokens)
        .get("shortest_segment_tokens", spec.shortestSegmentTokens)
        .get("one_wave_segment_tokens", spec.oneWaveSegmentTokens)
        .get("local_states_drop_log2", spec.localStatesDropLog2)
        .get("local_states_outputs_drop_log2", spec.localStatesOutputsDropLog2)
        .get("local_states_split_chunks", spec.localStatesSplitChunks)
        .get("local_states_parts", spec.localStatesParts)
        .get("wgmma", spec.wgmma)
        .get("stages", spec.stages)
        .get("state_stages", spec.stateStages)
        .get("value_slices", spec.valueSlices)
        .get("state_hilo", spec.stateHiLo)
        .get("state_hilo_tail_log2", spec.stateHiLoTailLog2)
        .get("early_first_segment", spec.earlyFirstSegment)
        .get("segment_lead_tokens", spec.segmentLeadTokens)
        .get("long_call_tokens", spec.longCallTokens)
        .get("long_call_segments", spec.longCallSegments)
        .get("long_call_value_slices", spec.longCallValueSlices)
        .get("long_call_local_states_parts", spec.longCallLocalStatesParts)
        .get("long_call_early_first_segment", spec.longCallEarlyFirstSegment)
        .get("long_call_segment_lead_tokens", spec.longCallSegmentLeadTokens)
        .get("scan_in_outputs", spec.scanInOutputs)
        .get("long_call_scan_in_outputs", spec.longCallScanInOutputs);
  if (failed(tr->finish()))
    return failure();
  if (isDecode && ds.smallBatchMax < 0)
    return tiles->emitOpError() << "GPU target: mm01k.tiles of the "
                                   "lightning_decode kernel: 'small_batch_max' = "
                                << ds.smallBatchMax
                                << " must be >= 0 (0: no small-batch kernel)";
  if (!isDecode && spec.segments < 1)
    return tiles->emitOpError() << "GPU target: mm01k.tiles of the "
                                   "lightning_prefill kernel: 'segments' must "
                                   "be at least 1";
  std::string key = KeyBuilder("lightning")(spec.heads)(spec.dim)(spec.elt)(
                        ArrayRef<double>(spec.decay))(spec.siluInputs)(
                        spec.qTokenStride)(spec.qHeadStride)(spec.kTokenStride)(
                        spec.kHeadStride)(spec.vTokenStride)(spec.vHeadStride)(
                        spec.outTokenStride)(spec.outHeadStride)(spec.maxBatch)(
                        spec.maxTokens)(spec.chunk)(spec.warps)(spec.segments)(
                        spec.minSegmentTokens)(spec.shortestSegmentTokens)(
                        spec.oneWaveSegmentTokens)(spec.localStatesDropLog2)(
                        spec.localStatesOutputsDropLog2)(
                        spec.localStatesSplitChunks)(spec.localStatesParts)(spec.wgmma)(spec.stages)(
                        spec.stateStages)(spec.valueSlices)(spec.stateHiLo)(spec.stateHiLoTailLog2)(
                        spec.earlyFirstSegment)(spec.segmentLeadTokens)(
                        spec.longCallTokens)(spec.longCallSegments)(
                        spec.longCallValueSlices)(spec.longCallLocalStatesParts)(
                        spec.longCallEarlyFirstSegment)(spec.longCallSegmentLeadTokens)(
                        spec.scanInOutputs)(spec.longCallScanInOutputs)
                        .str();
  // Decode (one token per sequence, token b = slot b): the recurrent decode
  // kernel instead of a 64-token chunk per token. Same q/k/v/state/out
  // bindings; no cu_seqlens, no workspace.
  if (isDecode) {
    ds.heads = spec.heads;
    ds.dim = spec.dim;
    ds.elt = spec.elt;
    ds.decay = spec.decay;
    ds.siluInputs = spec.siluInputs;
    ds.q = {spec.qTokenStride, spec.qHeadStride};
    ds.k = {spec.kTokenStride, spec.kHeadStride};
    ds.v = {spec.vTokenStride, spec.vHeadStride};
    ds.out = {spec.outTokenStride, spec.outHeadStride};
    ds.maxBatch = spec.maxBatch;
    ds.maxTokens = spec.maxTokens;
    key = KeyBuilder("lightning_decode")(ds.heads)(ds.dim)(ds.elt)(
              ArrayRef<double>(ds.decay))(ds.siluInputs)(ds.q.token)(ds.q.head)(
              ds.k.token)(ds.k.head)(ds.v.token)(ds.v.head)(ds.out.token)(
              ds.out.head)(ds.maxBatch)(ds.maxTokens)(ds.cols)(ds.threads)(
              ds.smallBatchMax)(ds.smallCols)(ds.smallThreads)
              .str();
  }
  auto kernelsOr = cached(key, [&]() -> FailureOr<std::vector<mg::GeneratedKernel>> {
    if (isa<LightningDecodeOp>(op)) {
      auto d = mg::buildLightningDecode(b, kernels, ds, loc);
      if (failed(d))
        return failure();
      cache.workspace[key] = "0";
      return std::vector<mg::GeneratedKernel>{*d};
    }
    auto p = mg::buildLightningPrefill(b, kernels, spec, loc);
    if (failed(p))
      return failure();
    cache.workspace[key] = p->workspaceBytes;
    return p->kernels;
  });
  if (failed(kernelsOr))
    return failure();
  // The long-call plan (prefill entries whose tiles give one): its kernels
  // run instead of the plan above for the calls its condition selects, so
  // one workspace of the larger size serves both (its own only at batch 1).
  const bool hasLong = !isDecode && spec.longCallTokens > 0;
  std::string longKey = key + "_long";
  FailureOr<std::vector<mg::GeneratedKernel>> longKernelsOr =
      std::vector<mg::GeneratedKernel>{};
  if (hasLong)
    longKernelsOr = cached(longKey, [&]() -> FailureOr<std::vector<mg::GeneratedKernel>> {
      auto p = mg::buildLightningPrefill(b, kernels, mg::longCallSpec(spec), loc);
      if (failed(p))
        return failure();
      cache.workspace[longKey] = std::to_string(p->workspaceBytesPerSequence);
      return p->kernels;
    });
  if (failed(longKernelsOr))
    return failure();
  // Decode: the small-batch kernel (tiles small_batch_max) runs instead of
  // the one above for calls of at most that many sequences.
  const bool hasSmall = isDecode && ds.smallBatchMax > 0;
  FailureOr<std::vector<mg::GeneratedKernel>> smallKernelsOr =
      std::vector<mg::GeneratedKernel>{};
  if (hasSmall)
    smallKernelsOr = cached(key + "_small", [&]() -> FailureOr<std::vector<mg::GeneratedKernel>> {
      auto d = mg::buildLightningDecode(b, kernels, mg::smallBatchSpec(ds), loc);
      if (failed(d))
        return failure();
      return std::vector<mg::GeneratedKernel>{*d};
    });
  if (failed(smallKernelsOr))
    return failure();
  std::string wsBytes = cache.workspace[key];
  if (hasLong && cache.workspace[longKey] != "0")
    wsBytes = "max(" + wsBytes + ", " + cache.workspace[longKey] + ")";
  Value out = emptyAct(maxTokens, spec.heads * spec.dim, spec.elt, loc);
  Value s = state;
  auto ws = workspaceFor(wsBytes, op, "lightning");
  if (failed(ws))
    return failure();
  Value cu = callInput("cu_seqlens", maxBatch + 1);
  llvm::StringMap<Binding> bd;
  bd["q"] = {qv.buf, qv.offset};
  bd["k"] = {kv.buf, kv.offset};
  bd["v"] = {vv.buf, vv.offset};
  bd["cu_seqlens"] = {cu};
  bd["state"] = {s, 0, true};
  bd["out"] = {out, 0, true};
  if (*ws)
    bd["workspace"] = {*ws, 0, true};
  // Exactly one plan runs per call: each launch carries its plan's
  // condition (mm01k.launch `when`).
  std::string altWhen = hasLong    ? mg::longCallCondition(spec)
                        : hasSmall ? mg::smallBatchCondition(ds)
                                   : "";
  launchWhen = altWhen.empty() ? "" : "1 - " + altWhen;
  LogicalResult launched = launchSequence(*kernelsOr, bd, loc);
  if (succeeded(launched) && !altWhen.empty()) {
    launchWhen = altWhen;
    launched = launchSequence(hasLong ? *longKernelsOr : *smallKernelsOr, bd, loc);
  }
  launchWhen.clear();
  if (failed(launched))
    return failure();
  out = bd["out"].value;
  s = bd["state"].value;
  View ov;
  ov.buf = out;
  ov.tokenStride = spec.heads * spec.dim;
  ov.headStride = spec.dim;
  setView(op->getResult(0), ov);
  setView(op->getResult(1), viewOf(s));
  return success();
}

LogicalResult EntryLowering::lowerSoftmaxAttention(SoftmaxAttentionOp op,
                                                   Operation *tiles) {
  Location loc = op.getLoc();
  View qv = viewOf(op.getQuery()), kv = viewOf(op.getKey());
  auto vvOr = plainView(op.getValue(), loc);
  if (failed(vvOr))
    return failure();
  View vv = *vvOr;
  if (!qv.rope || !kv.rope)
    return op.emitOpError() << "GPU target: expects RoPE on q and k";
  if (qv.rope.getTheta() != kv.rope.getTheta() ||
      qv.rope.getRotaryDim() != kv.rope.getRotaryDim())
    return op.emitOpError() << "GPU target: q and k have different RoPE";
  if (qv.silu || kv.silu)
    return op.emitOpError() << "GPU target: pending SiLU before attention";
  auto qt = cast<RankedTensorType>(op.getQuery().getType());
  auto kt = cast<RankedTensorType>(op.getKey().getType());
  auto ct = cast<RankedTensorType>(op.getKeyCache().getType());
  mg::SoftmaxAttentionSpec spec;
  spec.heads = qt.getDimSize(2);
  spec.kvHeads = kt.getDimSize(2);
  spec.dim = qt.getDimSize(3);
  spec.rotaryDim = qv.rope.getRotaryDim();
  spec.theta = qv.rope.getTheta().convertToDouble();
  spec.scale = op.getScale().convertToDouble();
  spec.elt = qt.getElementType();
  if (qv.headStride != spec.dim || kv.headStride != spec.dim ||
      vv.headStride != spec.dim)
    return op.emitOpError() << "GPU target: q, k, v heads must be contiguous";
  spec.qTokenStride = qv.tokenStride;
  spec.kTokenStride = kv.tokenStride;
  spec.vTokenStride = vv.tokenStride;
  spec.outTokenStride = spec.heads * spec.dim;
  spec.maxBatch = maxBatch;
  spec.maxContext = ct.getDimSize(1);
  spec.maxTokens = kernelMaxTokens;
  // mm01-select-tiles picks the tensor-core kernel for prefill where it
  // applies (bf16) and the per-token one for decode (memory-bound).
  auto tr = mg::TileReader::of(tiles, "softmax_attention");
  if (failed(tr) || failed(tr->get("query_tile", spec.queryTile)
                               .get("key_tile", spec.keyTile)
                               .get("tile_warps", spec.tileWarps)
                               .get("tile_stages", spec.tileStages)
                               .get("warps", spec.warps)
                               .finish()))
    return failure();
  auto kernelsOr = cached(
      KeyBuilder("softmax_attention")(spec.heads)(spec.kvHeads)(spec.dim)(
          spec.rotaryDim)(spec.theta)(spec.scale)(spec.elt)(spec.qTokenStride)(
          spec.kTokenStride)(spec.vTokenStride)(spec.outTokenStride)(
          spec.maxBatch)(spec.maxContext)(spec.maxTokens)(spec.queryTile)(
          spec.keyTile)(spec.tileWarps)(spec.tileStages)(spec.warps)
          .str(),
      [&] { return mg::buildSoftmaxAttention(b, kernels, spec, loc); });
  if (failed(kernelsOr))
    return failure();
  Value out = emptyAct(maxTokens, spec.heads * spec.dim, spec.elt, loc);
  Value kc = op.getKeyCache(), vc = op.getValueCache();
  Value positions = qv.rope.getPositions();
  Value tokenSeq = callInput("token_seq", maxTokens);
  Value cu = callInput("cu_seqlens", maxBatch + 1);
  Value ctx = callInput("context_lens", maxBatch);
  llvm::StringMap<Binding> bd;
  bd["q"] = {qv.buf, qv.offset};
  bd["k"] = {kv.buf, kv.offset};
  bd["v"] = {vv.buf, vv.offset};
  bd["key_cache"] = {kc, 0, true};
  bd["value_cache"] = {vc, 0, true};
  bd["out"] = {out, 0, true};
  bd["positions"] = {positions};
  bd["token_seq"] = {tokenSeq};
  bd["cu_seqlens"] = {cu};
  bd["context_lens"] = {ctx};
  if (failed(launchSequence(*kernelsOr, bd, loc)))
    return failure();
  out = bd["out"].value;
  kc = bd["key_cache"].value;
  vc = bd["value_cache"].value;
  View ov;
  ov.buf = out;
  ov.tokenStride = spec.heads * spec.dim;
  ov.headStride = spec.dim;
  setView(op.getOutput(), ov);
  setView(op.getNewKeyCache(), viewOf(kc));
  setView(op.getNewValueCache(), viewOf(vc));
  return success();
}

LogicalResult EntryLowering::lowerMoERoute(MoERouteOp op) {
  Location loc = op.getLoc();
  auto logits = plainView(op.getLogits(), loc);
  if (failed(logits))
    return failure();
  mg::MoERouteSpec spec;
  spec.experts = widthOf(op.getLogits());
  spec.topK = op.getTopK();
  spec.logitsElt = eltOf(op.getLogits());
  spec.maxTokens = kernelMaxTokens;
  if (logits->tokenStride != spec.experts || logits->offset != 0)
    return op.emitOpError() << "GPU target: router logits must be dense rows";
  auto k = cachedOne(KeyBuilder("moe_route")(spec.experts)(spec.topK)(
                         spec.logitsElt)(spec.maxTokens)
                         .str(),
                     [&] { return mg::buildMoERoute(b, kernels, spec, loc); });
  if (failed(k))
    return failure();
  llvm::StringMap<Binding> bd;
  bd["logits"] = {logits->buf};
  bd["weights"] = {emptyAct(maxTokens, spec.topK, b.getF32Type(), loc), 0, true};
  bd["ids"] = {emptyAct(maxTokens, spec.topK, b.getI32Type(), loc), 0, true};
  if (failed(launchSequence(*k, bd, loc)))
    return failure();
  setView(op.getWeights(), viewOf(bd["weights"].value));
  setView(op.getExperts(), viewOf(bd["ids"].value));
  return success();
}

LogicalResult EntryLowering::lowerMoEExperts(MoEExpertsOp op) {
  Location loc = op.getLoc();
  auto x = plainView(op.getInput(), loc);
  if (failed(x))
    return failure();
  auto w1T = cast<RankedTensorType>(op.getW1().getType());
  mg::MoEExpertsSpec spec;
  spec.experts = w1T.getDimSize(0);
  spec.inter = w1T.getDimSize(1);
  spec.hidden = w1T.getDimSize(2);
  spec.topK = widthOf(op.getWeights());
  spec.elt = eltOf(op.getResult());
  spec.maxTokens = kernelMaxTokens;
  if (x->tokenStride != spec.hidden || x->offset != 0)
    return op.emitOpError() << "GPU target: expert inputs must be dense rows";
  auto tr = mg::TileReader::of(op, "moe_experts");
  if (failed(tr))
    return failure();
  tr->get("tensor_cores", spec.tensorCores);
  for (auto [name, t] : {std::pair<StringRef, mg::MoEGemmTiles *>{
                             "gate_up", &spec.gateUpTiles},
                         {"down", &spec.downTiles}}) {
    std::string n = name.str() + "_";
    tr->get(n + "tile_m", t->tileM)
        .get(n + "tile_n", t->tileN)
        .get(n + "tile_k", t->tileK)
        .get(n + "warps_m", t->warpsM)
        .get(n + "warps_n", t->warpsN)
        .get(n + "stages", t->stages)
        .get(n + "thread_m", t->threadM)
        .get(n + "thread_n", t->threadN);
  }
  if (failed(tr->finish()))
    return failure();
  std::string key = KeyBuilder("moe_experts")(spec.hidden)(spec.inter)(
                        spec.experts)(spec.topK)(spec.elt)(spec.maxTokens)(
                        spec.tensorCores)(spec.gateUpTiles)(spec.downTiles)
                        .str();
  auto kernelsOr = cached(key, [&]() -> FailureOr<std::vector<mg::GeneratedKernel>> {
    auto p = mg::buildMoEExperts(b, kernels, spec, loc);
    if (failed(p))
      return failure();
    cache.workspace[key] = p->workspaceBytes;
    return p->kernels;
  });
  if (failed(kernelsOr))
    return failure();
  Value out = emptyAct(maxTokens, spec.hidden, spec.elt, loc);
  auto ws = workspaceFor(cache.workspace[key], op, "MoE");
  if (failed(ws))
    return failure();
  llvm::StringMap<Binding> bd;
  bd["x"] = {x->buf};
  bd["weights"] = {viewOf(op.getWeights()).buf};
  bd["ids"] = {viewOf(op.getExperts()).buf};
  bd["w1"] = {op.getW1()};
  bd["w3"] = {op.getW3()};
  bd["w2"] = {op.getW2()};
  bd["out"] = {out, 0, true};
  if (*ws)
    bd["workspace"] = {*ws, 0, true};
  if (failed(launchSequence(*kernelsOr, bd, loc)))
    return failure();
  out = bd["out"].value;
  setView(op.getResult(), viewOf(out));
  return success();
}

LogicalResult EntryLowering::lowerFusion(FusionOp op) {
  SmallVector<Operation *> body;
  for (Operation &o : op.getBody().front().without_terminator())
    body.push_back(&o);
  Operation *root = op.getRoot();
  LogicalResult result = failure();
  switch (op.getKind()) {
  case FusionKind::deepnorm_rms_norm:
    result = lowerRowNorm(cast<RMSNormOp>(root), root->getResult(0), op,
                          cast<DeepNormResidualOp>(body[0]));
    break;
  case FusionKind::gated_rms_norm: {
    auto mul = cast<arith::MulFOp>(root);
    RMSNormOp norm = dyn_cast<RMSNormOp>(body[0]);
    SigmoidOp gate = dyn_cast<SigmoidOp>(body[1]);
    if (!norm) {
      norm = cast<RMSNormOp>(body[1]);
      gate = cast<SigmoidOp>(body[0]);
    }
    result = lowerRowNorm(norm, mul.getResult(), op, /*residual=*/{}, gate);
    break;
  }
  case FusionKind::silu_lightning: {
    // q, k, v: strided views into the projection, SiLU pending.
    View src = viewOf(cast<SiLUOp>(body[0]).getInput());
    if (src.silu || src.rope)
      return op.emitOpError() << "GPU target: SiLU of a pending-op view";
    src.silu = true;
    setSplitQKVViews(cast<SplitQKVOp>(body[1]), src);
    result = lowerLightning(root, op);
    break;
  }
  case FusionKind::rope_attention: {
    for (Operation *o : ArrayRef<Operation *>(body).drop_back()) {
      auto rope = cast<RoPEOp>(o);
      View v = viewOf(rope.getInput());
      if (v.rope || v.silu)
        return op.emitOpError() << "GPU target: RoPE of a pending-op view";
      v.rope = rope;
      setView(rope.getResult(), v);
    }
    result = lowerSoftmaxAttention(cast<SoftmaxAttentionOp>(root), op);
    break;
  }
  }
  if (failed(result))
    return failure();
  for (auto [r, y] : llvm::zip(op.getResults(), op.getYield().getValues()))
    setView(r, viewOf(y));
  return success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

LogicalResult EntryLowering::lower(Operation *op) {
  b.setInsertionPoint(op);
  if (isa<WeightOp, ExpertWeightsOp, tensor::EmptyOp>(op))
    return success(); // weights stay (they name checkpoint tensors), as do
                      // fresh tensors (buffers to plan)
  if (auto e = dyn_cast<EmbeddingOp>(op))
    return lowerEmbedding(e);
  if (auto f = dyn_cast<FusionOp>(op))
    return lowerFusion(f);
  if (auto n = dyn_cast<RMSNormOp>(op))
    return lowerRowNorm(n, n.getResult(), n);
  if (isa<DeepNormResidualOp, SigmoidOp, SiLUOp, arith::MulFOp>(op))
    return lowerElementwise(op);
  if (auto l = dyn_cast<LinearOp>(op))
    return lowerLinear(l);
  if (auto split = dyn_cast<SplitQKVOp>(op)) {
    setSplitQKVViews(split, viewOf(split.getQkv()));
    return success();
  }
  if (auto split = dyn_cast<SplitHeadsOp>(op)) {
    View v = viewOf(split.getInput());
    v.headStride = cast<RankedTensorType>(split.getResult().getType()).getDimSize(3);
    setView(split.getResult(), v);
    return success();
  }
  if (auto merge = dyn_cast<MergeHeadsOp>(op)) {
    View v = viewOf(merge.getInput());
    auto it = cast<RankedTensorType>(merge.getInput().getType());
    if (v.headStride != it.getDimSize(3) || v.silu || v.rope)
      return op->emitOpError() << "GPU target: merging strided heads needs a "
                                  "copy, not supported yet";
    v.headStride = 0;
    setView(merge.getResult(), v);
    return success();
  }
  if (isa<RoPEOp>(op))
    return op->emitOpError()
           << "GPU target: RoPE is applied by the softmax attention that "
              "consumes it; outside an mm01.fusion <rope_attention> group "
              "(see mm01-fuse) it has no kernel";
  if (isa<LightningAttentionOp, LightningDecodeOp>(op))
    return lowerLightning(op, op);
  if (auto sa = dyn_cast<SoftmaxAttentionOp>(op))
    return lowerSoftmaxAttention(sa, sa);
  if (auto r = dyn_cast<MoERouteOp>(op))
    return lowerMoERoute(r);
  if (auto e = dyn_cast<MoEExpertsOp>(op))
    return lowerMoEExperts(e);
  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    SmallVector<Value> vals;
    for (Value v : ret.getOperands()) {
      View view = viewOf(v);
      if (view.silu || view.rope || view.offset != 0)
        return op->emitOpError() << "GPU target: a returned value must be "
                                    "materialized";
      vals.push_back(view.buf);
    }
    ret->setOperands(vals);
    return success();
  }
  if (isa<DecoderLayerOp>(op))
    return op->emitOpError() << "run mm01-inline-layers before "
                                "mm01-model-to-kernels";
  return op->emitOpError() << "has no GPU lowering";
}

LogicalResult EntryLowering::run() {
  decode = fn->getAttrOfType<StringAttr>("mm01.entry").getValue() == "decode";
  // Sizes: the rows of the activations are the call's packed tokens.
  std::tie(maxBatch, maxTokens) = mg::entryTokenShape(fn);
  if (maxTokens == 0)
    return fn.emitOpError() << "GPU target: the entry has no mm01.embedding "
                               "and its first argument is not a [B, T, ...] "
                               "activation";
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (auto name = fn.getArgAttrOfType<StringAttr>(i, "mm01.name")) {
      inputs[name.getValue()] = fn.getArgument(i);
      auto t = cast<RankedTensorType>(fn.getArgument(i).getType());
      if (name.getValue().ends_with("key_cache"))
        maxContext = t.getDimSize(1);
    }
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  for (unsigned i = 0; i < fn.getNumResults(); ++i)
    if (auto name = fn.getResultAttrOfType<StringAttr>(i, "mm01.name"))
      if (name.getValue() == "logits")
        logitsValue = ret.getOperand(i);

  SmallVector<Operation *> ops;
  for (Operation &op : fn.getBody().front())
    ops.push_back(&op);
  for (Operation *op : ops)
    if (failed(lower(op)))
      return failure();
  // Erase the model ops, users first.
  for (Operation *op : llvm::reverse(ops)) {
    if (isa<func::ReturnOp, WeightOp, ExpertWeightsOp, tensor::EmptyOp>(op))
      continue;
    op->dropAllUses();
    op->erase();
  }
  // The returned values may have changed type (logits: f32).
  fn.setType(FunctionType::get(fn.getContext(), fn.getArgumentTypes(),
                               ret.getOperandTypes()));
  return success();
}

struct ModelToKernelsPass
    : mm01::model::impl::MM01ModelToKernelsBase<ModelToKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    module.walk([&](func::FuncOp fn) {
      if (fn->hasAttr("mm01.entry"))
        entries.push_back(fn);
    });
    if (entries.empty())
      return; // nothing to do
    auto kernels = mg::getOrCreateGPUModule(module, kKernelModule);
    KernelCache cache;
    int64_t kernelMaxTokens = mg::kernelMaxTokens(module);
    for (func::FuncOp fn : entries) {
      EntryLowering lowering(module, kernels, fn, cache);
      lowering.setKernelMaxTokens(kernelMaxTokens);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
