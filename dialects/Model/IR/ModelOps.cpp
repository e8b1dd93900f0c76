//===- ModelOps.cpp - mm01 model-level operations -------------------------===//
//
// Verifiers state the model's shape contract. Every static dimension is
// checked; a dynamic one (`?`) matches anything and is the runtime's job.
//
//===----------------------------------------------------------------------===//

#include "Model/IR/ModelOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mm01::model;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Two dimension sizes agree unless both are static and differ.
bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

/// Emits "<what> dimension <i> is <a>, expected <b> (<why>)" on mismatch.
LogicalResult checkDim(Operation *op, StringRef what, int64_t found,
                       int64_t expected, StringRef why) {
  if (dimsAgree(found, expected))
    return success();
  return op->emitOpError() << what << " is " << dimStr(found) << ", expected "
                           << dimStr(expected) << " (" << why << ")";
}

LogicalResult checkRank(Operation *op, StringRef what, Value v, int64_t rank,
                        StringRef layout) {
  int64_t found = tensorType(v).getRank();
  if (found == rank)
    return success();
  return op->emitOpError() << what << " must have rank " << rank << " ("
                           << layout << "), found rank " << found;
}

LogicalResult checkSameShape(Operation *op, StringRef a, Value va, StringRef b,
                             Value vb) {
  auto ta = tensorType(va), tb = tensorType(vb);
  if (ta.getRank() != tb.getRank())
    return op->emitOpError() << a << " and " << b << " must have the same rank";
  for (int64_t i = 0; i < ta.getRank(); ++i)
    if (!dimsAgree(ta.getDimSize(i), tb.getDimSize(i)))
      return op->emitOpError()
             << a << " and " << b << " differ in dimension " << i << " ("
             << dimStr(ta.getDimSize(i)) << " vs " << dimStr(tb.getDimSize(i))
             << ")";
  return success();
}

LogicalResult checkElementType(Operation *op, StringRef what, Value v,
                               Type expected) {
  Type found = tensorType(v).getElementType();
  if (found == expected)
    return success();
  return op->emitOpError() << what << " element type is " << found
                           << ", expected " << expected;
}

} // namespace

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight '") << getName() << "' must have a static shape";
  return success();
}

std::string ExpertWeightsOp::getExpertName(int64_t e) {
  std::string name = getNameFormat().str();
  size_t at = name.find("{e}");
  return name.replace(at, 3, std::to_string(e));
}

LogicalResult ExpertWeightsOp::verify() {
  StringRef fmt = getNameFormat();
  size_t at = fmt.find("{e}");
  if (at == StringRef::npos || fmt.find("{e}", at + 1) != StringRef::npos)
    return emitOpError("name_format '")
           << fmt << "' must contain the placeholder {e} exactly once";
  auto type = getResult().getType();
  if (type.getRank() < 2)
    return emitOpError("expert weights must have rank >= 2 ([E, ...]), found rank ")
           << type.getRank();
  if (!type.hasStaticShape())
    return emitOpError("expert weights '") << fmt << "' must have a static shape";
  return success();
}

//===----------------------------------------------------------------------===//
// Embedding, norms, projections, elementwise
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (failed(checkRank(*this, "table", getTable(), 2, "[vocab, hidden]")) ||
      failed(checkRank(*this, "ids", getIds(), 2, "[batch, seq]")) ||
      failed(checkRank(*this, "result", getResult(), 3, "[batch, seq, hidden]")))
    return failure();
  auto ids = tensorType(getIds()), res = tensorType(getResult());
  auto table = tensorType(getTable());
  if (failed(checkDim(*this, "result batch", res.getDimSize(0), ids.getDimSize(0),
                      "ids batch")) ||
      failed(checkDim(*this, "result seq", res.getDimSize(1), ids.getDimSize(1),
                      "ids seq")) ||
      failed(checkDim(*this, "result hidden", res.getDimSize(2),
                      table.getDimSize(1), "table hidden")))
    return failure();
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (failed(checkRank(*this, "weight", getWeight(), 1, "[channels]")))
    return failure();
  auto in = tensorType(getInput());
  if (in.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (failed(checkSameShape(*this, "input", getInput(), "result", getResult())) ||
      failed(checkElementType(*this, "result", getResult(), in.getElementType())))
    return failure();
  if (failed(checkDim(*this, "weight size", tensorType(getWeight()).getDimSize(0),
                      in.getDimSize(in.getRank() - 1),
                      "the normalised (last) dimension of the input")))
    return failure();
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError("epsilon must be positive, found ")
           << getEpsilon().convertToDouble();
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(checkRank(*this, "weight", getWeight(), 2, "[out, in]")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  auto w = tensorType(getWeight());
  if (in.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (out.getRank() != in.getRank())
    return emitOpError("result rank ")
           << out.getRank() << " differs from input rank " << in.getRank();
  int64_t r = in.getRank();
  for (int64_t i = 0; i + 1 < r; ++i)
    if (failed(checkDim(*this, "result dimension " + std::to_string(i),
                        out.getDimSize(i), in.getDimSize(i), "input")))
      return failure();
  if (failed(checkDim(*this, "input features", in.getDimSize(r - 1),
                      w.getDimSize(1), "weight is [out, in]")) ||
      failed(checkDim(*this, "result features", out.getDimSize(r - 1),
                      w.getDimSize(0), "weight is [out, in]")) ||
      failed(checkElementType(*this, "result", getResult(), in.getElementType())))
    return failure();
  return success();
}

LogicalResult SplitHeadsOp::verify() {
  if (failed(checkRank(*this, "input", getInput(), 3, "[B, T, H*D]")) ||
      failed(checkRank(*this, "result", getResult(), 4, "[B, T, H, D]")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  if (!ShapedType::isStatic(out.getDimSize(2)) ||
      !ShapedType::isStatic(out.getDimSize(3)))
    return emitOpError("heads and head_dim of the result must be static");
  if (failed(checkDim(*this, "batch", out.getDimSize(0), in.getDimSize(0), "input")) ||
      failed(checkDim(*this, "seq", out.getDimSize(1), in.getDimSize(1), "input")) ||
      failed(checkDim(*this, "input features", in.getDimSize(2),
                      out.getDimSize(2) * out.getDimSize(3), "H * D of the result")))
    return failure();
  return checkElementType(*this, "result", getResult(), in.getElementType());
}

LogicalResult MergeHeadsOp::verify() {
  if (failed(checkRank(*this, "input", getInput(), 4, "[B, T, H, D]")) ||
      failed(checkRank(*this, "result", getResult(), 3, "[B, T, H*D]")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  if (!ShapedType::isStatic(in.getDimSize(2)) ||
      !ShapedType::isStatic(in.getDimSize(3)))
    return emitOpError("heads and head_dim of the input must be static");
  if (failed(checkDim(*this, "batch", out.getDimSize(0), in.getDimSize(0), "input")) ||
      failed(checkDim(*this, "seq", out.getDimSize(1), in.getDimSize(1), "input")) ||
      failed(checkDim(*this, "result features", out.getDimSize(2),
                      in.getDimSize(2) * in.getDimSize(3), "H * D of the input")))
    return failure();
  return checkElementType(*this, "result", getResult(), in.getElementType());
}

LogicalResult SplitQKVOp::verify() {
  if (failed(checkRank(*this, "qkv", getQkv(), 3, "[B, T, 3*H*D]")) ||
      failed(checkRank(*this, "q", getQ(), 4, "[B, T, H, D]")))
    return failure();
  if (getQ().getType() != getK().getType() || getQ().getType() != getV().getType())
    return emitOpError("q, k and v must have the same type");
  auto in = tensorType(getQkv()), q = tensorType(getQ());
  if (!ShapedType::isStatic(q.getDimSize(2)) || !ShapedType::isStatic(q.getDimSize(3)))
    return emitOpError("heads and head_dim of the results must be static");
  if (failed(checkDim(*this, "batch", q.getDimSize(0), in.getDimSize(0), "qkv")) ||
      failed(checkDim(*this, "seq", q.getDimSize(1), in.getDimSize(1), "qkv")) ||
      failed(checkDim(*this, "qkv features", in.getDimSize(2),
                      3 * q.getDimSize(2) * q.getDimSize(3), "3 * H * D")))
    return failure();
  return checkElementType(*this, "q", getQ(), in.getElementType());
}

//===----------------------------------------------------------------------===//
// Lightning attention
//===----------------------------------------------------------------------===//

template <typename OpTy>
static LogicalResult verifyLightning(OpTy op, bool decode) {
  Operation *o = op.getOperation();
  if (failed(checkRank(o, "query", op.getQuery(), 4, "[B, T, H, D]")) ||
      failed(checkRank(o, "state", op.getState(), 4, "[B, H, D, D]")))
    return failure();
  if (failed(checkSameShape(o, "query", op.getQuery(), "key", op.getKey())) ||
      failed(checkSameShape(o, "query", op.getQuery(), "value", op.getValue())) ||
      failed(checkSameShape(o, "query", op.getQuery(), "output", op.getOutput())) ||
      failed(checkSameShape(o, "state", op.getState(), "new_state", op.getNewState())))
    return failure();
  auto q = tensorType(op.getQuery()), s = tensorType(op.getState());
  int64_t heads = q.getDimSize(2), headDim = q.getDimSize(3);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(headDim))
    return op.emitOpError("heads and head_dim must be static");
  if (!llvm::isPowerOf2_64(heads))
    return op.emitOpError("lightning attention needs a power-of-two head count "
                          "(the decay formula for other counts is not "
                          "implemented), found ")
           << heads;
  if (failed(checkDim(o, "state batch", s.getDimSize(0), q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "state heads", s.getDimSize(1), heads, "query heads")) ||
      failed(checkDim(o, "state rows", s.getDimSize(2), headDim, "head_dim")) ||
      failed(checkDim(o, "state columns", s.getDimSize(3), headDim, "head_dim")))
    return failure();
  if (decode && failed(checkDim(o, "sequence length", q.getDimSize(1), 1,
                                "the decode form takes one token")))
    return failure();
  if (static_cast<int64_t>(op.getDecay().size()) != heads)
    return op.emitOpError("decay has ")
           << op.getDecay().size() << " rates, expected one per head (" << heads
           << ")";
  for (auto [n, rate] : llvm::enumerate(op.getDecay()))
    if (!(rate > 0.0) || !std::isfinite(rate))
      return op.emitOpError("decay rate of head ")
             << n << " must be positive and finite, found " << rate;
  for (Value v : {op.getKey(), op.getValue(), op.getOutput()})
    if (tensorType(v).getElementType() != q.getElementType())
      return op.emitOpError("query, key, value and output must share one element type");
  return success();
}

LogicalResult LightningAttentionOp::verify() { return verifyLightning(*this, false); }
LogicalResult LightningDecodeOp::verify() { return verifyLightning(*this, true); }

//===----------------------------------------------------------------------===//
// Softmax attention
//===----------------------------------------------------------------------===//

LogicalResult RoPEOp::verify() {
  if (failed(checkRank(*this, "input", getInput(), 4, "[B, T, H, D]")) ||
      failed(checkRank(*this, "positions", getPositions(), 2, "[B, T]")))
    return failure();
  auto in = tensorType(getInput()), pos = tensorType(getPositions());
  if (failed(checkDim(*this, "positions batch", pos.getDimSize(0), in.getDimSize(0), "input batch")) ||
      failed(checkDim(*this, "positions seq", pos.getDimSize(1), in.getDimSize(1), "input seq")))
    return failure();
  int64_t rot = getRotaryDim(), headDim = in.getDimSize(3);
  if (rot <= 0 || rot % 2 != 0)
    return emitOpError("rotary_dim must be positive and even, found ") << rot;
  if (!ShapedType::isDynamic(headDim) && rot > headDim)
    return emitOpError("rotary_dim ") << rot << " exceeds head_dim " << headDim;
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive, found ") << getTheta().convertToDouble();
  return success();
}

LogicalResult SoftmaxAttentionOp::verify() {
  Operation *o = getOperation();
  if (failed(checkRank(o, "query", getQuery(), 4, "[B, T, H, D]")) ||
      failed(checkRank(o, "key", getKey(), 4, "[B, T, Hkv, D]")) ||
      failed(checkRank(o, "key_cache", getKeyCache(), 4, "[B, C, Hkv, D]")) ||
      failed(checkRank(o, "positions", getPositions(), 2, "[B, T]")))
    return failure();
  if (failed(checkSameShape(o, "key", getKey(), "value", getValue())) ||
      failed(checkSameShape(o, "query", getQuery(), "output", getOutput())) ||
      failed(checkSameShape(o, "key_cache", getKeyCache(), "value_cache", getValueCache())) ||
      failed(checkSameShape(o, "key_cache", getKeyCache(), "new_key_cache", getNewKeyCache())) ||
      failed(checkSameShape(o, "value_cache", getValueCache(), "new_value_cache", getNewValueCache())))
    return failure();
  auto q = tensorType(getQuery()), k = tensorType(getKey());
  auto kc = tensorType(getKeyCache()), pos = tensorType(getPositions());
  int64_t heads = q.getDimSize(2), kvHeads = k.getDimSize(2);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads))
    return emitOpError("head counts must be static");
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError("query heads (")
           << heads << ") must be a multiple of KV heads (" << kvHeads << ")";
  if (failed(checkDim(o, "key batch", k.getDimSize(0), q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "key seq", k.getDimSize(1), q.getDimSize(1), "query seq")) ||
      failed(checkDim(o, "key head_dim", k.getDimSize(3), q.getDimSize(3), "query head_dim")) ||
      failed(checkDim(o, "key_cache batch", kc.getDimSize(0), q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "key_cache heads", kc.getDimSize(2), kvHeads, "KV heads")) ||
      failed(checkDim(o, "key_cache head_dim", kc.getDimSize(3), q.getDimSize(3), "head_dim")) ||
      failed(checkDim(o, "positions batch", pos.getDimSize(0), q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "positions seq", pos.getDimSize(1), q.getDimSize(1), "query seq")))
    return failure();
  if (!ShapedType::isDynamic(kc.getDimSize(1)) && !ShapedType::isDynamic(q.getDimSize(1)) &&
      kc.getDimSize(1) < q.getDimSize(1))
    return emitOpError("cache capacity ")
           << kc.getDimSize(1) << " is smaller than the " << q.getDimSize(1)
           << " new tokens";
  if (k.getElementType() != q.getElementType() ||
      kc.getElementType() != q.getElementType())
    return emitOpError("query, key, value and caches must share one element type");
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("scale must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

LogicalResult MoERouteOp::verify() {
  auto logits = tensorType(getLogits());
  if (logits.getRank() < 1)
    return emitOpError("logits must have rank >= 1");
  int64_t experts = logits.getDimSize(logits.getRank() - 1);
  int64_t k = getTopK();
  if (k < 1)
    return emitOpError("top_k must be at least 1, found ") << k;
  if (!ShapedType::isDynamic(experts) && k > experts)
    return emitOpError("top_k (") << k << ") exceeds the expert count (" << experts << ")";
  if (failed(checkSameShape(*this, "weights", getWeights(), "experts", getExperts())))
    return failure();
  auto w = tensorType(getWeights());
  if (w.getRank() != logits.getRank())
    return emitOpError("weights must have the rank of logits");
  for (int64_t i = 0; i + 1 < w.getRank(); ++i)
    if (failed(checkDim(*this, "weights dimension " + std::to_string(i),
                        w.getDimSize(i), logits.getDimSize(i), "logits")))
      return failure();
  return checkDim(*this, "weights last dimension", w.getDimSize(w.getRank() - 1),
                  k, "top_k");
}

LogicalResult MoEExpertsOp::verify() {
  Operation *o = getOperation();
  if (failed(checkRank(o, "input", getInput(), 3, "[B, T, d]")) ||
      failed(checkRank(o, "w1", getW1(), 3, "[E, I, d]")) ||
      failed(checkRank(o, "w3", getW3(), 3, "[E, I, d]")) ||
      failed(checkRank(o, "w2", getW2(), 3, "[E, d, I]")) ||
      failed(checkRank(o, "weights", getWeights(), 3, "[B, T, K]")))
    return failure();
  if (failed(checkSameShape(o, "input", getInput(), "result", getResult())) ||
      failed(checkSameShape(o, "weights", getWeights(), "experts", getExperts())) ||
      failed(checkSameShape(o, "w1", getW1(), "w3", getW3())))
    return failure();
  auto x = tensorType(getInput()), w = tensorType(getWeights());
  auto w1 = tensorType(getW1()), w2 = tensorType(getW2());
  if (failed(checkDim(o, "weights batch", w.getDimSize(0), x.getDimSize(0), "input batch")) ||
      failed(checkDim(o, "weights seq", w.getDimSize(1), x.getDimSize(1), "input seq")) ||
      failed(checkDim(o, "w1 hidden", w1.getDimSize(2), x.getDimSize(2), "input hidden")) ||
      failed(checkDim(o, "w2 experts", w2.getDimSize(0), w1.getDimSize(0), "w1 experts")) ||
      failed(checkDim(o, "w2 hidden", w2.getDimSize(1), x.getDimSize(2), "input hidden")) ||
      failed(checkDim(o, "w2 intermediate", w2.getDimSize(2), w1.getDimSize(1), "w1 intermediate")))
    return failure();
  int64_t k = w.getDimSize(2), experts = w1.getDimSize(0);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(experts) && k > experts)
    return emitOpError("top-k (") << k << ") exceeds the expert count (" << experts << ")";
  return checkElementType(o, "result", getResult(), x.getElementType());
}

//===----------------------------------------------------------------------===//
// Hybrid layer block
//===----------------------------------------------------------------------===//

void DecoderLayerOp::build(OpBuilder &builder, OperationState &state,
                           int64_t index, AttentionKind kind,
                           TypeRange resultTypes, ValueRange inputs) {
  state.addAttribute(getIndexAttrName(state.name), builder.getI64IntegerAttr(index));
  state.addAttribute(getKindAttrName(state.name),
                     AttentionKindAttr::get(builder.getContext(), kind));
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value v : inputs)
    block->addArgument(v.getType(), v.getLoc());
}

LogicalResult DecoderLayerOp::verify() {
  if (getIndexAttr().getInt() < 0)
    return emitOpError("layer index must be non-negative, found ") << getIndexAttr().getInt();
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("body has ") << block.getNumArguments()
                                    << " arguments, expected one per input ("
                                    << getInputs().size() << ")";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(block.getArguments(), getInputs())))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return emitOpError("body argument ") << i << " has type "
                                           << std::get<0>(pair).getType()
                                           << ", but input " << i << " is "
                                           << std::get<1>(pair).getType();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return emitOpError("body must end in mm01.yield");
  if (yield.getValues().getTypes() != getResults().getTypes())
    return emitOpError("mm01.yield types must match the layer's result types");
  bool lightning = getKind() == AttentionKind::lightning;
  // lightning: (hidden, state) -> (hidden, state)
  // softmax:   (hidden, positions, kcache, vcache) -> (hidden, kcache, vcache)
  size_t numInputs = lightning ? 2 : 4, numResults = lightning ? 2 : 3;
  if (getInputs().size() != numInputs || getResults().size() != numResults)
    return emitOpError("a ")
           << stringifyAttentionKind(getKind()) << " layer takes " << numInputs
           << " operands and returns " << numResults << " results "
           << (lightning ? "((hidden, state) -> (hidden, state))"
                         : "((hidden, positions, key_cache, value_cache) -> "
                           "(hidden, key_cache, value_cache))")
           << ", found " << getInputs().size() << " and " << getResults().size();
  if (getInputs()[0].getType() != getResults()[0].getType())
    return emitOpError("the hidden state must keep its type through the layer");
  unsigned firstState = lightning ? 1 : 2;
  for (unsigned i = firstState; i < numInputs; ++i)
    if (getInputs()[i].getType() != getResults()[i - firstState + 1].getType())
      return emitOpError("state operand ")
             << i << " and its updated result must have the same type";
  return success();
}

#define GET_OP_CLASSES
#include "Model/IR/ModelOps.cpp.inc"
