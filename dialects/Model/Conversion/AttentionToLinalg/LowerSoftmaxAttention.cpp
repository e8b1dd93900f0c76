//===- LowerSoftmaxAttention.cpp - mm01.softmax_attention to linalg -------===//
//
// 1. KV-cache update: for every (b, t), rows positions[b, t] of the key and
//    value caches receive key[b, t] and value[b, t] (scf.for nest of
//    tensor.insert_slice; a cf.assert checks 0 <= position < C).
// 2. Causal GQA attention over the updated caches, in f32, as chain of
//    linalg.generic ops over [B, T, H, C]:
//      s = scale · q·kc           (KV head of query head h: h floordiv (H/Hkv))
//      s = -inf where j > positions[b, t]   (before the max)
//      p = exp(s - max_j s) / Σ_j exp(s - max_j s)
//      o = Σ_j p · vc
//    The result is rounded to the query element type.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/AttentionToLinalg/Passes.h"
#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace mm01::model {
#define GEN_PASS_DEF_MM01LOWERSOFTMAXATTENTION
#include "Model/Conversion/AttentionToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
using namespace mm01::model::attn;

namespace {

constexpr StringLiteral kPassName = "mm01-lower-softmax-attention";

/// Writes key[b, t] / value[b, t] into the caches at row positions[b, t].
std::pair<Value, Value> updateCaches(OpBuilder &b, Location loc,
                                     SoftmaxAttentionOp op) {
  auto kType = cast<RankedTensorType>(op.getKey().getType());
  auto cacheType = cast<RankedTensorType>(op.getKeyCache().getType());
  int64_t batch = kType.getDimSize(0), seq = kType.getDimSize(1),
          kvHeads = kType.getDimSize(2), headDim = kType.getDimSize(3);
  int64_t capacity = cacheType.getDimSize(1);
  auto rowType = RankedTensorType::get({1, 1, kvHeads, headDim},
                                       kType.getElementType());
  Value c0 = indexConstant(b, loc, 0), c1 = indexConstant(b, loc, 1);

  auto outer = scf::ForOp::create(
      b, loc, c0, indexConstant(b, loc, batch), c1,
      ValueRange{op.getKeyCache(), op.getValueCache()},
      [&](OpBuilder &ob, Location oloc, Value bIdx, ValueRange outerArgs) {
        auto inner = scf::ForOp::create(
            ob, oloc, c0, indexConstant(ob, oloc, seq), c1, outerArgs,
            [&](OpBuilder &nb, Location nloc, Value tIdx, ValueRange args) {
              Value pos = tensor::ExtractOp::create(nb, nloc, op.getPositions(),
                                                    ValueRange{bIdx, tIdx});
              Type posType = pos.getType();
              Value lo = arith::ConstantOp::create(
                  nb, nloc, nb.getIntegerAttr(posType, 0));
              Value hi = arith::ConstantOp::create(
                  nb, nloc, nb.getIntegerAttr(posType, capacity));
              Value aboveLo =
                  arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sge, pos, lo);
              Value belowHi =
                  arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::slt, pos, hi);
              Value inRange = arith::AndIOp::create(nb, nloc, aboveLo, belowHi);
              cf::AssertOp::create(
                  nb, nloc, inRange,
                  "mm01.softmax_attention: position outside the KV cache");
              Value row =
                  arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), pos);
              SmallVector<OpFoldResult> srcOffsets{bIdx, tIdx, nb.getIndexAttr(0),
                                                   nb.getIndexAttr(0)};
              SmallVector<OpFoldResult> dstOffsets{bIdx, row, nb.getIndexAttr(0),
                                                   nb.getIndexAttr(0)};
              SmallVector<OpFoldResult> sizes{nb.getIndexAttr(1), nb.getIndexAttr(1),
                                              nb.getIndexAttr(kvHeads),
                                              nb.getIndexAttr(headDim)};
              SmallVector<OpFoldResult> strides(4, nb.getIndexAttr(1));
              Value kRow = tensor::ExtractSliceOp::create(
                  nb, nloc, rowType, op.getKey(), srcOffsets, sizes, strides);
              Value vRow = tensor::ExtractSliceOp::create(
                  nb, nloc, rowType, op.getValue(), srcOffsets, sizes, strides);
              Value kc = tensor::InsertSliceOp::create(nb, nloc, kRow, args[0],
                                                       dstOffsets, sizes, strides);
              Value vc = tensor::InsertSliceOp::create(nb, nloc, vRow, args[1],
                                                       dstOffsets, sizes, strides);
              scf::YieldOp::create(nb, nloc, ValueRange{kc, vc});
            });
        scf::YieldOp::create(ob, oloc, inner.getResults());
      });
  return {outer.getResult(0), outer.getResult(1)};
}

LogicalResult lowerSoftmaxAttention(RewriterBase &rewriter,
                                    SoftmaxAttentionOp op) {
  if (failed(requireStaticShapes(op, kPassName)))
    return failure();
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  Type elemType = qType.getElementType();
  if (failed(requireF32Computable(op, "query", elemType)))
    return failure();

  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  OpBuilder &b = rewriter;
  FloatType f32 = b.getF32Type();
  auto cacheType = cast<RankedTensorType>(op.getKeyCache().getType());
  int64_t batch = qType.getDimSize(0), seq = qType.getDimSize(1),
          heads = qType.getDimSize(2), headDim = qType.getDimSize(3);
  int64_t kvHeads = cacheType.getDimSize(2), capacity = cacheType.getDimSize(1);
  int64_t group = heads / kvHeads;

  auto [keyCache, valueCache] = updateCaches(b, loc, op);

  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx),
             d4 = getAffineDimExpr(4, ctx);
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap rowMap = map(ctx, 4, {d0, d1, d2}); // [b, t, h] of (b, t, h, j)
  SmallVector<int64_t> scoreShape{batch, seq, heads, capacity};
  SmallVector<int64_t> rowShape{batch, seq, heads};

  // scores[b,t,h,j] = Σ_d q[b,t,h,d] kc[b,j,h floordiv G,d]; space (b,t,h,j,d).
  Value scores =
      buildGeneric(b, loc, ValueRange{op.getQuery(), keyCache},
                   filledTensor(b, loc, scoreShape, f32, 0.0),
                   {map(ctx, 5, {d0, d1, d2, d4}),
                    map(ctx, 5, {d0, d3, d2.floorDiv(group), d4}),
                    map(ctx, 5, {d0, d1, d2, d3})},
                   iterators(4, 1),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     Value qf = toF32(nb, nloc, args[0]);
                     Value kf = toF32(nb, nloc, args[1]);
                     Value prod = arith::MulFOp::create(nb, nloc, qf, kf);
                     return SmallVector<Value>{
                         arith::AddFOp::create(nb, nloc, args[2], prod)};
                   })
          .getResult(0);

  // Scale, and mask the rows past the token's position with -inf.
  double scale = op.getScale().convertToDouble();
  Value masked =
      buildGeneric(
          b, loc, ValueRange{scores, op.getPositions()},
          emptyTensor(b, loc, scoreShape, f32),
          {id4, map(ctx, 4, {d0, d1}), id4}, iterators(4),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value j = linalg::IndexOp::create(nb, nloc, 3);
            Value pos =
                arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), args[1]);
            Value visible =
                arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sle, j, pos);
            Value scaled =
                arith::MulFOp::create(nb, nloc, args[0], f32Constant(nb, nloc, scale));
            Value negInf = f32Constant(nb, nloc,
                                       -std::numeric_limits<double>::infinity());
            return SmallVector<Value>{
                arith::SelectOp::create(nb, nloc, visible, scaled, negInf)};
          })
          .getResult(0);

  // Row max.
  Value rowMax =
      buildGeneric(b, loc, masked, negInfTensor(b, loc, rowShape, f32),
                   {id4, rowMap}, iterators(3, 1),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     return SmallVector<Value>{
                         arith::MaximumFOp::create(nb, nloc, args[1], args[0])};
                   })
          .getResult(0);
  // exp(s - max).
  Value expd =
      buildGeneric(b, loc, ValueRange{masked, rowMax},
                   emptyTensor(b, loc, scoreShape, f32), {id4, rowMap, id4},
                   iterators(4),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     Value shifted = arith::SubFOp::create(nb, nloc, args[0], args[1]);
                     return SmallVector<Value>{math::ExpOp::create(nb, nloc, shifted)};
                   })
          .getResult(0);
  // Row sum.
  Value rowSum =
      buildGeneric(b, loc, expd, filledTensor(b, loc, rowShape, f32, 0.0),
                   {id4, rowMap}, iterators(3, 1),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     return SmallVector<Value>{
                         arith::AddFOp::create(nb, nloc, args[1], args[0])};
                   })
          .getResult(0);
  // Normalise.
  Value probs =
      buildGeneric(b, loc, ValueRange{expd, rowSum},
                   emptyTensor(b, loc, scoreShape, f32), {id4, rowMap, id4},
                   iterators(4),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     return SmallVector<Value>{
                         arith::DivFOp::create(nb, nloc, args[0], args[1])};
                   })
          .getResult(0);

  // o[b,t,h,d] = Σ_j p[b,t,h,j] vc[b,j,h floordiv G,d]; space (b,t,h,d,j).
  Value out =
      buildGeneric(b, loc, ValueRange{probs, valueCache},
                   filledTensor(b, loc, {batch, seq, heads, headDim}, f32, 0.0),
                   {map(ctx, 5, {d0, d1, d2, d4}),
                    map(ctx, 5, {d0, d4, d2.floorDiv(group), d3}),
                    map(ctx, 5, {d0, d1, d2, d3})},
                   iterators(4, 1),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     Value prod = arith::MulFOp::create(nb, nloc, args[0],
                                                        toF32(nb, nloc, args[1]));
                     return SmallVector<Value>{
                         arith::AddFOp::create(nb, nloc, args[2], prod)};
                   })
          .getResult(0);
  if (elemType != f32)
    out = convertTensor(b, loc, out, id4, {batch, seq, heads, headDim}, elemType);

  rewriter.replaceOp(op, ValueRange{out, keyCache, valueCache});
  return success();
}

struct LowerSoftmaxAttentionPass
    : mm01::model::impl::MM01LowerSoftmaxAttentionBase<LowerSoftmaxAttentionPass> {
  void runOnOperation() override {
    SmallVector<SoftmaxAttentionOp> ops;
    getOperation()->walk([&](SoftmaxAttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool ok = true;
    for (SoftmaxAttentionOp op : ops) {
      rewriter.setInsertionPoint(op);
      ok &= succeeded(lowerSoftmaxAttention(rewriter, op));
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
