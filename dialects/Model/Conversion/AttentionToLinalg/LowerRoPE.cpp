//===- LowerRoPE.cpp - mm01.rope to linalg --------------------------------===//
//
// result = x with the first R = rotary_dim channels of every head rotated
// (rotate-half pairing c <-> c + R/2), channels R..D-1 unchanged:
//
//   inv_freq[i] = 1 / theta^(f32(2i) / R)            (f32, as HF computes it)
//   angle       = f32(pos) * inv_freq[i]             (f32)
//   x'[i]       = x[i] cos(angle) - x[i + R/2] sin(angle)
//   x'[i + R/2] = x[i + R/2] cos(angle) + x[i] sin(angle)
//
// computed in f32 and rounded once to the input element type. The rotated
// halves come from one linalg.generic over [B, T, H, R/2] and are inserted
// into the input with tensor.insert_slice.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/AttentionToLinalg/Passes.h"
#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01LOWERROPE
#include "Model/Conversion/AttentionToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
using namespace mm01::model::attn;

namespace {

constexpr StringLiteral kPassName = "mm01-lower-rope";

/// inv_freq [R/2] f32: 1 / powf(f32(theta), f32(2i) / f32(R)).
Value buildInvFreq(OpBuilder &b, Location loc, double theta, int64_t rotaryDim) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  int64_t half = rotaryDim / 2;
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  return buildGeneric(
             b, loc, ValueRange{}, emptyTensor(b, loc, {half}, f32), {id},
             iterators(1),
             [&](OpBuilder &nb, Location nloc, ValueRange) {
               Value i = linalg::IndexOp::create(nb, nloc, 0);
               Value twoI = arith::MulIOp::create(nb, nloc, i,
                                                  indexConstant(nb, nloc, 2));
               Value twoII64 =
                   arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), twoI);
               Value twoIF = arith::SIToFPOp::create(nb, nloc, f32, twoII64);
               Value exponent = arith::DivFOp::create(
                   nb, nloc, twoIF, f32Constant(nb, nloc, double(rotaryDim)));
               // theta is rounded to f32 first, as torch does for `theta ** t`.
               Value base = f32Constant(nb, nloc, double(float(theta)));
               Value pow = math::PowFOp::create(nb, nloc, base, exponent);
               return SmallVector<Value>{arith::DivFOp::create(
                   nb, nloc, f32Constant(nb, nloc, 1.0), pow)};
             })
      .getResult(0);
}

LogicalResult lowerRoPE(RewriterBase &rewriter, RoPEOp op) {
  if (failed(requireStaticShapes(op, kPassName)))
    return failure();
  auto type = cast<RankedTensorType>(op.getInput().getType());
  Type elemType = type.getElementType();
  if (failed(requireF32Computable(op, "input", elemType)))
    return failure();

  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  OpBuilder &b = rewriter;
  Type f32 = b.getF32Type();
  int64_t batch = type.getDimSize(0), seq = type.getDimSize(1),
          heads = type.getDimSize(2);
  int64_t rotaryDim = op.getRotaryDim(), half = rotaryDim / 2;

  Value invFreq = buildInvFreq(b, loc, op.getTheta().convertToDouble(), rotaryDim);

  SmallVector<int64_t> halfShape{batch, seq, heads, half};
  auto halfType = RankedTensorType::get(halfShape, elemType);
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(ctx, halfShape);
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  auto offsetsAt = [&](int64_t channel) {
    SmallVector<OpFoldResult> offsets(3, b.getIndexAttr(0));
    offsets.push_back(b.getIndexAttr(channel));
    return offsets;
  };
  Value x1 = tensor::ExtractSliceOp::create(b, loc, halfType, op.getInput(),
                                            offsetsAt(0), sizes, strides);
  Value x2 = tensor::ExtractSliceOp::create(b, loc, halfType, op.getInput(),
                                            offsetsAt(half), sizes, strides);

  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d3 = getAffineDimExpr(3, ctx);
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
  auto rotated = buildGeneric(
      b, loc, ValueRange{x1, x2, op.getPositions(), invFreq},
      ValueRange{emptyTensor(b, loc, halfShape, elemType),
                 emptyTensor(b, loc, halfShape, elemType)},
      {id, id, map(ctx, 4, {d0, d1}), map(ctx, 4, {d3}), id, id}, iterators(4),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value a = toF32(nb, nloc, args[0]);
        Value c = toF32(nb, nloc, args[1]);
        Value pos = arith::SIToFPOp::create(nb, nloc, f32, args[2]);
        Value angle = arith::MulFOp::create(nb, nloc, pos, args[3]);
        Value cos = math::CosOp::create(nb, nloc, angle);
        Value sin = math::SinOp::create(nb, nloc, angle);
        // HF: x*cos + rotate_half(x)*sin, rotate_half(x) = (-x2, x1).
        Value aCos = arith::MulFOp::create(nb, nloc, a, cos);
        Value cSin = arith::MulFOp::create(nb, nloc, c, sin);
        Value r1 = arith::SubFOp::create(nb, nloc, aCos, cSin);
        Value cCos = arith::MulFOp::create(nb, nloc, c, cos);
        Value aSin = arith::MulFOp::create(nb, nloc, a, sin);
        Value r2 = arith::AddFOp::create(nb, nloc, cCos, aSin);
        Value o1 = fromF32(nb, nloc, r1, elemType);
        Value o2 = fromF32(nb, nloc, r2, elemType);
        return SmallVector<Value>{o1, o2};
      });
  Value result = tensor::InsertSliceOp::create(b, loc, rotated.getResult(0),
                                               op.getInput(), offsetsAt(0),
                                               sizes, strides);
  result = tensor::InsertSliceOp::create(b, loc, rotated.getResult(1), result,
                                         offsetsAt(half), sizes, strides);
  rewriter.replaceOp(op, result);
  return success();
}

struct LowerRoPEPass : mm01::model::impl::MM01LowerRoPEBase<LowerRoPEPass> {
  void runOnOperation() override {
    SmallVector<RoPEOp> ops;
    getOperation()->walk([&](RoPEOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool ok = true;
    for (RoPEOp op : ops) {
      rewriter.setInsertionPoint(op);
      ok &= succeeded(lowerRoPE(rewriter, op));
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
