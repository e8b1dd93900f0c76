//===- ModelOps.cpp - mm01 model-level operations -------------------------===//
//
// Verifiers state the model's shape contract. Every static dimension is
// checked; a dynamic one (`?`) matches anything and is the runtime's job.
//
//===----------------------------------------------------------------------===//

#include "Model/IR/ModelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

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

/// On mismatch emits "<what> is <found>, expected <expected> (<why>)"; `what`
/// names the operand or result and its dimension, `why` where `expected`
/// comes from.
LogicalResult checkDim(Operation *op, const Twine &what, int64_t found,
                       int64_t expected, const Twine &why) {
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

LogicalResult checkMinRank(Operation *op, StringRef what, Value v,
                           int64_t minRank, StringRef layout) {
  int64_t found = tensorType(v).getRank();
  if (found >= minRank)
    return success();
  return op->emitOpError() << what << " must have rank >= " << minRank << " ("
                           << layout << "), found rank " << found;
}

/// `b` must have the shape of `a` (dynamic dimensions match anything).
LogicalResult checkSameShape(Operation *op, StringRef a, Value va, StringRef b,
                             Value vb) {
  auto ta = tensorType(va), tb = tensorType(vb);
  if (ta.getRank() != tb.getRank())
    return op->emitOpError() << b << " must have the rank of " << a << " ("
                             << ta.getRank() << "), found rank " << tb.getRank();
  for (int64_t i = 0; i < ta.getRank(); ++i)
    if (!dimsAgree(ta.getDimSize(i), tb.getDimSize(i)))
      return op->emitOpError()
             << b << " dimension " << i << " is " << dimStr(tb.getDimSize(i))
             << ", expected " << dimStr(ta.getDimSize(i)) << " (" << a
             << " dimension " << i << ")";
  return success();
}

LogicalResult checkElementType(Operation *op, StringRef what, Value v,
                               Type expected, StringRef why) {
  Type found = tensorType(v).getElementType();
  if (found == expected)
    return success();
  return op->emitOpError() << what << " element type is " << found
                           << ", expected " << expected << " (" << why << ")";
}

/// The dimensions at `dims` of `v` must be static.
LogicalResult checkStatic(Operation *op, StringRef what, Value v,
                          ArrayRef<int64_t> dims, StringRef names) {
  auto type = tensorType(v);
  for (int64_t d : dims)
    if (ShapedType::isDynamic(type.getDimSize(d)))
      return op->emitOpError() << what << " " << names
                               << " must be static, found " << type;
  return success();
}

LogicalResult checkPositiveFinite(Operation *op, StringRef what, double value) {
  if (value > 0.0 && std::isfinite(value))
    return success();
  return op->emitOpError() << what << " must be positive and finite, found "
                           << value;
}

} // namespace

//===----------------------------------------------------------------------===//
// Custom assembly
//===----------------------------------------------------------------------===//

/// `[r0, r1, ...]`: the per-head decay rates of the lightning ops. Printed
/// with printFloat so that every rate survives a print/parse round trip (the
/// default DenseF64ArrayAttr syntax keeps only 7 significant digits).
static ParseResult parseDecayRates(OpAsmParser &parser, DenseF64ArrayAttr &decay) {
  SmallVector<double> rates;
  if (parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Square, [&]() -> ParseResult {
        return parser.parseFloat(rates.emplace_back());
      }))
    return failure();
  decay = DenseF64ArrayAttr::get(parser.getContext(), rates);
  return success();
}

static void printDecayRates(OpAsmPrinter &printer, Operation *,
                            DenseF64ArrayAttr decay) {
  printer << '[';
  llvm::interleaveComma(decay.asArrayRef(), printer,
                        [&](double rate) { printer.printFloat(APFloat(rate)); });
  printer << ']';
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight '") << getName() << "' must have a static shape, found "
                                   << getResult().getType();
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
    return emitOpError("expert weights '")
           << fmt << "' must have a static shape, found " << type;
  if (type.getDimSize(0) < 1)
    return emitOpError("expert count (result dimension 0) must be at least 1, found ")
           << type.getDimSize(0);
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
  if (failed(checkDim(*this, "result batch (dimension 0)", res.getDimSize(0),
                      ids.getDimSize(0), "ids batch")) ||
      failed(checkDim(*this, "result seq (dimension 1)", res.getDimSize(1),
                      ids.getDimSize(1), "ids seq")) ||
      failed(checkDim(*this, "result hidden (dimension 2)", res.getDimSize(2),
                      table.getDimSize(1), "table hidden, dimension 1")))
    return failure();
  return success();
}

LogicalResult RMSNormOp::verify() {
  // input and result have one type (ODS: AllTypesMatch).
  if (failed(checkRank(*this, "weight", getWeight(), 1, "[channels]")) ||
      failed(checkMinRank(*this, "input", getInput(), 1, "[..., channels]")))
    return failure();
  auto in = tensorType(getInput());
  int64_t last = in.getRank() - 1;
  if (failed(checkDim(*this, "weight size", tensorType(getWeight()).getDimSize(0),
                      in.getDimSize(last),
                      "the normalised last dimension " + std::to_string(last) +
                          " of input")))
    return failure();
  return checkPositiveFinite(*this, "epsilon", getEpsilon().convertToDouble());
}

LogicalResult LinearOp::verify() {
  if (failed(checkRank(*this, "weight", getWeight(), 2, "[out, in]")) ||
      failed(checkMinRank(*this, "input", getInput(), 1, "[..., in]")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  auto w = tensorType(getWeight());
  int64_t r = in.getRank();
  if (out.getRank() != r)
    return emitOpError("result must have the rank of input (")
           << r << "), found rank " << out.getRank();
  for (int64_t i = 0; i + 1 < r; ++i)
    if (failed(checkDim(*this, "result dimension " + Twine(i), out.getDimSize(i),
                        in.getDimSize(i), "input dimension " + Twine(i))))
      return failure();
  if (failed(checkDim(*this, "input features (last dimension)", in.getDimSize(r - 1),
                      w.getDimSize(1), "weight dimension 1; weight is [out, in]")) ||
      failed(checkDim(*this, "result features (last dimension)", out.getDimSize(r - 1),
                      w.getDimSize(0), "weight dimension 0; weight is [out, in]")))
    return failure();
  return checkElementType(*this, "result", getResult(), in.getElementType(),
                          "the element type of input");
}

LogicalResult SplitHeadsOp::verify() {
  if (failed(checkRank(*this, "input", getInput(), 3, "[B, T, H*D]")) ||
      failed(checkRank(*this, "result", getResult(), 4, "[B, T, H, D]")) ||
      failed(checkStatic(*this, "result", getResult(), {2, 3}, "heads and head_dim")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  int64_t heads = out.getDimSize(2), headDim = out.getDimSize(3);
  if (failed(checkDim(*this, "result batch (dimension 0)", out.getDimSize(0),
                      in.getDimSize(0), "input batch")) ||
      failed(checkDim(*this, "result seq (dimension 1)", out.getDimSize(1),
                      in.getDimSize(1), "input seq")) ||
      failed(checkDim(*this, "input features (dimension 2)", in.getDimSize(2),
                      heads * headDim,
                      "heads * head_dim of the result = " + Twine(heads) +
                          " * " + Twine(headDim))))
    return failure();
  return checkElementType(*this, "result", getResult(), in.getElementType(),
                          "the element type of input");
}

LogicalResult MergeHeadsOp::verify() {
  if (failed(checkRank(*this, "input", getInput(), 4, "[B, T, H, D]")) ||
      failed(checkRank(*this, "result", getResult(), 3, "[B, T, H*D]")) ||
      failed(checkStatic(*this, "input", getInput(), {2, 3}, "heads and head_dim")))
    return failure();
  auto in = tensorType(getInput()), out = tensorType(getResult());
  int64_t heads = in.getDimSize(2), headDim = in.getDimSize(3);
  if (failed(checkDim(*this, "result batch (dimension 0)", out.getDimSize(0),
                      in.getDimSize(0), "input batch")) ||
      failed(checkDim(*this, "result seq (dimension 1)", out.getDimSize(1),
                      in.getDimSize(1), "input seq")) ||
      failed(checkDim(*this, "result features (dimension 2)", out.getDimSize(2),
                      heads * headDim,
                      "heads * head_dim of the input = " + Twine(heads) + " * " +
                          Twine(headDim))))
    return failure();
  return checkElementType(*this, "result", getResult(), in.getElementType(),
                          "the element type of input");
}

LogicalResult SplitQKVOp::verify() {
  // q, k and v have one type (ODS: AllTypesMatch).
  if (failed(checkRank(*this, "qkv", getQkv(), 3, "[B, T, 3*H*D]")) ||
      failed(checkRank(*this, "q", getQ(), 4, "[B, T, H, D]")) ||
      failed(checkStatic(*this, "q", getQ(), {2, 3}, "heads and head_dim")))
    return failure();
  auto in = tensorType(getQkv()), q = tensorType(getQ());
  int64_t heads = q.getDimSize(2), headDim = q.getDimSize(3);
  if (failed(checkDim(*this, "q batch (dimension 0)", q.getDimSize(0),
                      in.getDimSize(0), "qkv batch")) ||
      failed(checkDim(*this, "q seq (dimension 1)", q.getDimSize(1),
                      in.getDimSize(1), "qkv seq")) ||
      failed(checkDim(*this, "qkv features (dimension 2)", in.getDimSize(2),
                      3 * heads * headDim,
                      "3 * heads * head_dim of q = 3 * " + Twine(heads) + " * " +
                          Twine(headDim))))
    return failure();
  return checkElementType(*this, "q", getQ(), in.getElementType(),
                          "the element type of qkv");
}

//===----------------------------------------------------------------------===//
// Lightning attention
//===----------------------------------------------------------------------===//

template <typename OpTy>
static LogicalResult verifyLightning(OpTy op, bool decode) {
  // query, key, value and output have one type, and so have state and
  // new_state (ODS: AllTypesMatch); state is f32 (ODS).
  Operation *o = op.getOperation();
  if (failed(checkRank(o, "query", op.getQuery(), 4, "[B, T, H, D]")) ||
      failed(checkRank(o, "state", op.getState(), 4, "[B, H, D, D]")) ||
      failed(checkStatic(o, "query", op.getQuery(), {2, 3}, "heads and head_dim")))
    return failure();
  auto q = tensorType(op.getQuery()), s = tensorType(op.getState());
  int64_t heads = q.getDimSize(2), headDim = q.getDimSize(3);
  if (!llvm::isPowerOf2_64(heads))
    return op.emitOpError("lightning attention needs a power-of-two head count "
                          "(the decay formula for other counts is not "
                          "implemented), found ")
           << heads << " query heads";
  if (decode && failed(checkDim(o, "query seq (dimension 1)", q.getDimSize(1), 1,
                                "the decode form takes one token; use "
                                "mm01.lightning_attention for more")))
    return failure();
  if (failed(checkDim(o, "state batch (dimension 0)", s.getDimSize(0),
                      q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "state heads (dimension 1)", s.getDimSize(1), heads,
                      "query heads")) ||
      failed(checkDim(o, "state rows (dimension 2)", s.getDimSize(2), headDim,
                      "query head_dim")) ||
      failed(checkDim(o, "state columns (dimension 3)", s.getDimSize(3), headDim,
                      "query head_dim")))
    return failure();
  if (static_cast<int64_t>(op.getDecay().size()) != heads)
    return op.emitOpError("decay has ")
           << op.getDecay().size() << " rates, expected one per query head ("
           << heads << ")";
  for (auto [n, rate] : llvm::enumerate(op.getDecay()))
    if (failed(checkPositiveFinite(o, "decay rate of head " + std::to_string(n),
                                   rate)))
      return failure();
  return success();
}

LogicalResult LightningAttentionOp::verify() { return verifyLightning(*this, false); }
LogicalResult LightningDecodeOp::verify() { return verifyLightning(*this, true); }

//===----------------------------------------------------------------------===//
// Softmax attention
//===----------------------------------------------------------------------===//

LogicalResult RoPEOp::verify() {
  // input and result have one type (ODS: AllTypesMatch).
  if (failed(checkRank(*this, "input", getInput(), 4, "[B, T, H, D]")) ||
      failed(checkRank(*this, "positions", getPositions(), 2, "[B, T]")))
    return failure();
  auto in = tensorType(getInput()), pos = tensorType(getPositions());
  if (failed(checkDim(*this, "positions batch (dimension 0)", pos.getDimSize(0),
                      in.getDimSize(0), "input batch")) ||
      failed(checkDim(*this, "positions seq (dimension 1)", pos.getDimSize(1),
                      in.getDimSize(1), "input seq")))
    return failure();
  int64_t rot = getRotaryDim(), headDim = in.getDimSize(3);
  if (rot <= 0 || rot % 2 != 0)
    return emitOpError("rotary_dim must be positive and even (channels are "
                       "rotated in pairs), found ")
           << rot;
  if (!ShapedType::isDynamic(headDim) && rot > headDim)
    return emitOpError("rotary_dim ")
           << rot << " exceeds the head_dim of input (" << headDim << ")";
  return checkPositiveFinite(*this, "theta", getTheta().convertToDouble());
}

LogicalResult SoftmaxAttentionOp::verify() {
  // ODS: query and output have one type; key and value have one type;
  // key_cache, value_cache and the new caches have one type.
  Operation *o = getOperation();
  if (failed(checkRank(o, "query", getQuery(), 4, "[B, T, H, D]")) ||
      failed(checkRank(o, "key", getKey(), 4, "[B, T, Hkv, D]")) ||
      failed(checkRank(o, "key_cache", getKeyCache(), 4, "[B, C, Hkv, D]")) ||
      failed(checkRank(o, "positions", getPositions(), 2, "[B, T]")) ||
      failed(checkStatic(o, "query", getQuery(), {2}, "heads")) ||
      failed(checkStatic(o, "key", getKey(), {2}, "heads")))
    return failure();
  auto q = tensorType(getQuery()), k = tensorType(getKey());
  auto kc = tensorType(getKeyCache()), pos = tensorType(getPositions());
  int64_t heads = q.getDimSize(2), kvHeads = k.getDimSize(2);
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError("query heads (")
           << heads << ") must be a positive multiple of the KV heads of key ("
           << kvHeads << ")";
  if (failed(checkDim(o, "key batch (dimension 0)", k.getDimSize(0),
                      q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "key seq (dimension 1)", k.getDimSize(1),
                      q.getDimSize(1), "query seq")) ||
      failed(checkDim(o, "key head_dim (dimension 3)", k.getDimSize(3),
                      q.getDimSize(3), "query head_dim")) ||
      failed(checkDim(o, "key_cache batch (dimension 0)", kc.getDimSize(0),
                      q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "key_cache heads (dimension 2)", kc.getDimSize(2),
                      kvHeads, "KV heads of key")) ||
      failed(checkDim(o, "key_cache head_dim (dimension 3)", kc.getDimSize(3),
                      q.getDimSize(3), "query head_dim")) ||
      failed(checkDim(o, "positions batch (dimension 0)", pos.getDimSize(0),
                      q.getDimSize(0), "query batch")) ||
      failed(checkDim(o, "positions seq (dimension 1)", pos.getDimSize(1),
                      q.getDimSize(1), "query seq")))
    return failure();
  int64_t capacity = kc.getDimSize(1), tokens = q.getDimSize(1);
  if (!ShapedType::isDynamic(capacity) && !ShapedType::isDynamic(tokens) &&
      capacity < tokens)
    return emitOpError("key_cache capacity (dimension 1) is ")
           << capacity << ", smaller than the " << tokens
           << " new tokens of query";
  if (failed(checkElementType(o, "key", getKey(), q.getElementType(),
                              "the element type of query")) ||
      failed(checkElementType(o, "key_cache", getKeyCache(), q.getElementType(),
                              "the element type of query")))
    return failure();
  return checkPositiveFinite(o, "scale", getScale().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

LogicalResult MoERouteOp::verify() {
  if (failed(checkMinRank(*this, "logits", getLogits(), 1, "[..., E]")))
    return failure();
  auto logits = tensorType(getLogits());
  int64_t experts = logits.getDimSize(logits.getRank() - 1);
  int64_t k = getTopK();
  if (k < 1)
    return emitOpError("top_k must be at least 1, found ") << k;
  if (!ShapedType::isDynamic(experts) && k > experts)
    return emitOpError("top_k (")
           << k << ") exceeds the expert count of logits (" << experts << ")";
  if (failed(checkSameShape(*this, "weights", getWeights(), "experts", getExperts())))
    return failure();
  auto w = tensorType(getWeights());
  if (w.getRank() != logits.getRank())
    return emitOpError("weights must have the rank of logits (")
           << logits.getRank() << "), found rank " << w.getRank();
  for (int64_t i = 0; i + 1 < w.getRank(); ++i)
    if (failed(checkDim(*this, "weights dimension " + Twine(i), w.getDimSize(i),
                        logits.getDimSize(i), "logits dimension " + Twine(i))))
      return failure();
  return checkDim(*this, "weights last dimension", w.getDimSize(w.getRank() - 1),
                  k, "top_k");
}

LogicalResult MoEExpertsOp::verify() {
  // input and result have one type (ODS: AllTypesMatch).
  Operation *o = getOperation();
  if (failed(checkRank(o, "input", getInput(), 3, "[B, T, d]")) ||
      failed(checkRank(o, "weights", getWeights(), 3, "[B, T, K]")) ||
      failed(checkRank(o, "w1", getW1(), 3, "[E, I, d]")) ||
      failed(checkRank(o, "w3", getW3(), 3, "[E, I, d]")) ||
      failed(checkRank(o, "w2", getW2(), 3, "[E, d, I]")))
    return failure();
  if (failed(checkSameShape(o, "weights", getWeights(), "experts", getExperts())) ||
      failed(checkSameShape(o, "w1", getW1(), "w3", getW3())))
    return failure();
  auto x = tensorType(getInput()), w = tensorType(getWeights());
  auto w1 = tensorType(getW1()), w2 = tensorType(getW2());
  if (failed(checkDim(o, "weights batch (dimension 0)", w.getDimSize(0),
                      x.getDimSize(0), "input batch")) ||
      failed(checkDim(o, "weights seq (dimension 1)", w.getDimSize(1),
                      x.getDimSize(1), "input seq")) ||
      failed(checkDim(o, "w1 hidden (dimension 2)", w1.getDimSize(2),
                      x.getDimSize(2), "input hidden")) ||
      failed(checkDim(o, "w2 experts (dimension 0)", w2.getDimSize(0),
                      w1.getDimSize(0), "w1 experts")) ||
      failed(checkDim(o, "w2 hidden (dimension 1)", w2.getDimSize(1),
                      x.getDimSize(2), "input hidden")) ||
      failed(checkDim(o, "w2 intermediate (dimension 2)", w2.getDimSize(2),
                      w1.getDimSize(1), "w1 intermediate")))
    return failure();
  int64_t k = w.getDimSize(2), experts = w1.getDimSize(0);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(experts) && k > experts)
    return emitOpError("top-k of weights (")
           << k << ") exceeds the expert count of w1 (" << experts << ")";
  return success();
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

namespace {
/// Checks a decoder_layer operand against its role: rank, element type class
/// and, where known, the batch (and seq) of the hidden state.
LogicalResult checkLayerOperand(Operation *op, unsigned i, StringRef role,
                                Value v, int64_t rank, StringRef layout,
                                function_ref<bool(Type)> element,
                                StringRef elementName, RankedTensorType hidden,
                                unsigned matchBatchSeq) {
  auto type = tensorType(v);
  if (type.getRank() != rank || !element(type.getElementType()))
    return op->emitOpError() << role << " (operand " << i << ") must be a rank-"
                             << rank << " " << elementName << " tensor " << layout
                             << ", found " << type;
  static const char *names[] = {"batch", "seq"};
  for (unsigned d = 0; d < matchBatchSeq; ++d)
    if (failed(checkDim(op, role + " " + names[d] + " (dimension " + Twine(d) + ")",
                        type.getDimSize(d), hidden.getDimSize(d),
                        "hidden " + Twine(names[d]))))
      return failure();
  return success();
}
} // namespace

LogicalResult DecoderLayerOp::verify() {
  if (getIndexAttr().getInt() < 0)
    return emitOpError("layer index must be non-negative, found ") << getIndexAttr().getInt();
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
           << ", found " << getInputs().size() << " operands and "
           << getResults().size() << " results";

  Operation *o = getOperation();
  auto isFloat = [](Type t) { return isa<FloatType>(t); };
  auto isF32 = [](Type t) { return t.isF32(); };
  auto isIndex = [](Type t) { return t.isInteger(32) || t.isInteger(64); };
  Value hiddenValue = getInputs()[0];
  auto hidden = tensorType(hiddenValue);
  if (failed(checkLayerOperand(o, 0, "hidden", hiddenValue, 3, "[B, T, d]", isFloat,
                               "float", hidden, 0)))
    return failure();
  if (lightning) {
    if (failed(checkLayerOperand(o, 1, "state", getInputs()[1], 4, "[B, H, D, D]",
                                 isF32, "f32", hidden, 1)))
      return failure();
  } else {
    if (failed(checkLayerOperand(o, 1, "positions", getInputs()[1], 2, "[B, T]",
                                 isIndex, "i32 or i64", hidden, 2)) ||
        failed(checkLayerOperand(o, 2, "key_cache", getInputs()[2], 4,
                                 "[B, C, Hkv, D]", isFloat, "float", hidden, 1)))
      return failure();
    if (getInputs()[3].getType() != getInputs()[2].getType())
      return emitOpError("value_cache (operand 3) must have the type of key_cache (")
             << getInputs()[2].getType() << "), found " << getInputs()[3].getType();
  }
  if (getResults()[0].getType() != hidden)
    return emitOpError("result 0 (hidden) must have the type of the hidden operand (")
           << hidden << "), found " << getResults()[0].getType();
  unsigned firstState = lightning ? 1 : 2;
  for (unsigned i = firstState; i < numInputs; ++i) {
    unsigned r = i - firstState + 1;
    if (getInputs()[i].getType() != getResults()[r].getType())
      return emitOpError("result ")
             << r << " (updated state) must have the type of operand " << i << " ("
             << getInputs()[i].getType() << "), found " << getResults()[r].getType();
  }

  // The body: one block whose arguments take the operands, ending in
  // mm01.yield of the results (SingleBlock and SizedRegion<1> are checked by
  // ODS; the block is not empty).
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("body has ") << block.getNumArguments()
                                    << " arguments, expected one per operand ("
                                    << getInputs().size() << ")";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(block.getArguments(), getInputs())))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return emitOpError("body argument ") << i << " has type "
                                           << std::get<0>(pair).getType()
                                           << ", expected the type of operand " << i
                                           << " (" << std::get<1>(pair).getType() << ")";
  auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(&block.back());
  if (!yield)
    return emitOpError("body must end in mm01.yield");
  if (yield.getValues().getTypes() != getResults().getTypes())
    return emitOpError("mm01.yield returns (")
           << yield.getValues().getTypes() << "), expected the layer's result types ("
           << getResults().getTypes() << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// FusionOp
//===----------------------------------------------------------------------===//

YieldOp FusionOp::getYield() {
  Block &block = getBody().front();
  return block.empty() ? YieldOp() : dyn_cast<YieldOp>(&block.back());
}

Operation *FusionOp::getRoot() {
  YieldOp yield = getYield();
  return yield ? yield->getPrevNode() : nullptr;
}

namespace {

/// The body of a fusion group must be the ops `expected` names, in order
/// (one mnemonic per op), with `yield` returning exactly the root's results.
LogicalResult checkPattern(FusionOp op, ArrayRef<Operation *> ops,
                           ArrayRef<StringRef> expected) {
  auto describe = [&] {
    std::string s;
    for (StringRef e : expected)
      s += (s.empty() ? "" : ", ") + e.str();
    return s;
  };
  if (ops.size() != expected.size())
    return op.emitOpError("<") << stringifyFusionKind(op.getKind())
                               << "> body must be " << describe() << "; found "
                               << ops.size() << " ops";
  for (auto [i, o] : llvm::enumerate(ops))
    if (o->getName().getStringRef() != expected[i])
      return op.emitOpError("<") << stringifyFusionKind(op.getKind())
                                 << "> body op " << i << " is "
                                 << o->getName() << ", expected " << expected[i];
  if (!llvm::equal(op.getYield().getValues(), ops.back()->getResults()))
    return op.emitOpError("mm01.yield must return the results of ")
           << ops.back()->getName() << ", the group's root";
  // Intermediates feed the chain only once (the kernel keeps them private).
  for (Operation *o : ops.drop_back())
    for (Value r : o->getResults())
      if (!r.hasOneUse())
        return op.emitOpError("intermediate result of ")
               << o->getName() << " must have exactly one use inside the group";
  return success();
}

} // namespace

LogicalResult FusionOp::verify() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 0)
    return emitOpError("body takes no arguments (it uses values from above)");
  YieldOp yield = getYield();
  if (!yield)
    return emitOpError("body must end in mm01.yield");
  if (yield.getValues().getTypes() != getResults().getTypes())
    return emitOpError("mm01.yield returns (")
           << yield.getValues().getTypes() << "), expected the group's result types ("
           << getResults().getTypes() << ")";
  SmallVector<Operation *> ops;
  for (Operation &o : block.without_terminator())
    ops.push_back(&o);
  switch (getKind()) {
  case FusionKind::deepnorm_rms_norm: {
    if (failed(checkPattern(*this, ops, {"mm01.deepnorm_residual", "mm01.rms_norm"})))
      return failure();
    if (cast<RMSNormOp>(ops[1]).getInput() != ops[0]->getResult(0))
      return emitOpError("the norm must normalise the residual's result");
    return success();
  }
  case FusionKind::gated_rms_norm: {
    bool normFirst = ops.size() == 3 && isa<RMSNormOp>(ops[0]);
    if (failed(checkPattern(*this, ops,
                            normFirst ? ArrayRef<StringRef>{"mm01.rms_norm", "mm01.sigmoid", "arith.mulf"}
                                      : ArrayRef<StringRef>{"mm01.sigmoid", "mm01.rms_norm", "arith.mulf"})))
      return failure();
    // checkPattern saw both producers used once; they must be the multiply's.
    auto mul = cast<arith::MulFOp>(ops[2]);
    for (Operation *p : {ops[0], ops[1]})
      if (*p->getResult(0).getUsers().begin() != mul)
        return emitOpError("the norm and the gate must both feed the multiply");
    return success(); // arith.mulf makes their types equal
  }
  case FusionKind::silu_lightning: {
    StringRef root = ops.size() == 3 ? ops[2]->getName().getStringRef() : "";
    if (failed(checkPattern(*this, ops,
                            {"mm01.silu", "mm01.split_qkv",
                             root == "mm01.lightning_decode" ? "mm01.lightning_decode"
                                                             : "mm01.lightning_attention"})))
      return failure();
    if (ops[1]->getOperand(0) != ops[0]->getResult(0))
      return emitOpError("split_qkv must split the SiLU's result");
    for (int i = 0; i < 3; ++i)
      if (ops[2]->getOperand(i) != ops[1]->getResult(i))
        return emitOpError("the lightning op's q, k, v must be split_qkv's q, k, v");
    return success();
  }
  case FusionKind::rope_attention: {
    if (failed(checkPattern(*this, ops,
                            {"mm01.rope", "mm01.rope", "mm01.softmax_attention"})))
      return failure();
    auto sa = cast<SoftmaxAttentionOp>(ops[2]);
    Value a = ops[0]->getResult(0), b = ops[1]->getResult(0);
    if (!((sa.getQuery() == a && sa.getKey() == b) ||
          (sa.getQuery() == b && sa.getKey() == a)))
      return emitOpError("the two RoPEs must be the attention's query and key");
    return success();
  }
  }
  return emitOpError("unknown fusion kind");
}

#define GET_OP_CLASSES
#include "Model/IR/ModelOps.cpp.inc"
