//===- LowerToLinalg.cpp - mm01 compute ops to linalg on tensors ----------===//
//
// One pattern per op. Each builds linalg.generic ops whose bodies compute in
// f32 (bf16 operands are extended inside the loop) and round to the
// activation type where HF's own run of that dtype rounds. The numerical
// contract is docs/minimax01-model.md; the CPU target is the f32 reference,
// so the f32 paths follow HF's formulas and rounding points (the fixture's
// logits match HF's float32 run to ~1e-6).
//
// Loop order: linalg-to-loops nests loops in the order of the iteration
// dimensions, so contractions put the reduction dimension *before* the
// output column dimension (an `axpy` inner loop over contiguous columns that
// LLVM vectorises without reassociating sums). Weights are transposed first
// where that makes the inner loop contiguous.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToLinalg/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

namespace mm01::model {
#define GEN_PASS_DEF_MM01LOWERTOLINALG
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

RankedTensorType tensorTy(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Sizes of `t` as static attributes or `tensor.dim` values.
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value t) {
  return tensor::getMixedSizes(b, loc, t);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

/// A tensor of `sizes` filled with the scalar `value` of type `elementType`.
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value) {
  Value init = emptyTensor(b, loc, sizes, elementType);
  Value cst = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(elementType, value));
  return linalg::FillOp::create(b, loc, cst, init).getResult(0);
}

Value filledIntTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                      Type elementType, int64_t value) {
  Value init = emptyTensor(b, loc, sizes, elementType);
  Value cst = arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(elementType, value));
  return linalg::FillOp::create(b, loc, cst, init).getResult(0);
}

/// Converts a float scalar to another float type (extf / truncf; two types
/// of one width go through f32).
Value castFloat(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = cast<FloatType>(from), toF = cast<FloatType>(to);
  if (fromF.getWidth() < toF.getWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  if (fromF.getWidth() > toF.getWidth())
    return arith::TruncFOp::create(b, loc, to, v);
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  return arith::TruncFOp::create(b, loc, to, wide);
}

Value toF32(OpBuilder &b, Location loc, Value v) {
  return castFloat(b, loc, v, b.getF32Type());
}

/// Rounds an f32 scalar through `act` and back: identity for f32, the bf16
/// rounding of HF's bf16 run otherwise.
Value roundThrough(OpBuilder &b, Location loc, Value f32, Type act) {
  if (act.isF32())
    return f32;
  return toF32(b, loc, castFloat(b, loc, f32, act));
}

Value f32Const(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(static_cast<float>(v)));
}

/// `x · sigmoid(x)` as HF/ATen compute it: `x / (1 + exp(-x))`.
Value siluScalar(OpBuilder &b, Location loc, Value x) {
  Value one = f32Const(b, loc, 1.0);
  Value negX = arith::NegFOp::create(b, loc, x);
  Value den = arith::AddFOp::create(b, loc, one, math::ExpOp::create(b, loc, negX));
  return arith::DivFOp::create(b, loc, x, den);
}

Value sigmoidScalar(OpBuilder &b, Location loc, Value x) {
  Value one = f32Const(b, loc, 1.0);
  Value negX = arith::NegFOp::create(b, loc, x);
  Value den = arith::AddFOp::create(b, loc, one, math::ExpOp::create(b, loc, negX));
  return arith::DivFOp::create(b, loc, one, den);
}

/// `acc + a * b` for a contraction body: `contract` lets LLVM fuse it into an
/// FMA (what a BLAS does as well); the summation order is left alone.
Value multiplyAccumulate(OpBuilder &b, Location loc, Value acc, Value x, Value y) {
  auto fmf = arith::FastMathFlagsAttr::get(b.getContext(),
                                           arith::FastMathFlags::contract);
  Value prod = arith::MulFOp::create(b, loc, x, y, fmf);
  return arith::AddFOp::create(b, loc, acc, prod, fmf);
}

/// Affine map over `numDims` dims selecting `dims` in order.
AffineMap selectDims(MLIRContext *ctx, unsigned numDims, ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

SmallVector<unsigned> range(unsigned begin, unsigned end) {
  SmallVector<unsigned> r;
  for (unsigned i = begin; i < end; ++i)
    r.push_back(i);
  return r;
}

/// Swaps the last two dimensions of `t` (a copy, element type kept).
Value transposeLastTwo(OpBuilder &b, Location loc, Value t) {
  auto type = tensorTy(t);
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, t);
  std::swap(sizes[rank - 1], sizes[rank - 2]);
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return linalg::TransposeOp::create(b, loc, t, init, perm).getResult()[0];
}

/// A scalar index from an integer tensor element, clamped into [0, bound).
Value clampedIndex(OpBuilder &b, Location loc, Value id, Value bound) {
  Value idx = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value last = arith::SubIOp::create(b, loc, bound, one);
  idx = arith::MaxSIOp::create(b, loc, idx, zero);
  return arith::MinSIOp::create(b, loc, idx, last);
}

Value dimValue(OpBuilder &b, Location loc, Value t, int64_t dim) {
  return getValueOrCreateConstantIndexOp(b, loc, tensor::getMixedSize(b, loc, t, dim));
}

/// An elementwise generic over `inputs` (identity maps, same shape as
/// `shapeSource`) producing one tensor of `resultType`.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  Value shapeSource, ValueRange inputs,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  unsigned rank = resultType.getRank();
  Value init = emptyTensor(b, loc, sizesOf(b, loc, shapeSource),
                           resultType.getElementType());
  SmallVector<AffineMap> maps(inputs.size() + 1, b.getMultiDimIdentityMap(rank));
  SmallVector<IteratorType> iters(rank, kPar);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return op.getResult(0);
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value table = adaptor.getTable(), ids = adaptor.getIds();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type act = resultType.getElementType();
    SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(rewriter, loc, ids, 0),
                                       tensor::getMixedSize(rewriter, loc, ids, 1),
                                       tensor::getMixedSize(rewriter, loc, table, 1)};
    Value init = emptyTensor(rewriter, loc, sizes, act);
    Value vocab = dimValue(rewriter, loc, table, 0);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {selectDims(ctx, 3, {0, 1}),
                                   rewriter.getMultiDimIdentityMap(3)};
    auto gather = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{ids}, ValueRange{init},
        maps, SmallVector<IteratorType>(3, kPar),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value row = clampedIndex(b, l, args[0], vocab);
          Value col = linalg::IndexOp::create(b, l, 2);
          Value v = tensor::ExtractOp::create(b, l, table, ValueRange{row, col});
          linalg::YieldOp::create(b, l, castFloat(b, l, v, act));
        });
    rewriter.replaceOp(op, gather.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

struct RMSNormLowering : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), w = adaptor.getWeight();
    auto xType = tensorTy(x);
    Type act = xType.getElementType();
    unsigned rank = xType.getRank();
    Type f32 = rewriter.getF32Type();

    // sum(x_f32²) over the last dimension.
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, x);
    SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
    Value sumInit = filledTensor(rewriter, loc, rowSizes, f32, 0.0);
    AffineMap rowMap = selectDims(ctx, rank, range(0, rank - 1));
    SmallVector<IteratorType> redIters(rank - 1, kPar);
    redIters.push_back(kRed);
    auto sumSq = linalg::GenericOp::create(
        rewriter, loc, TypeRange{sumInit.getType()}, ValueRange{x},
        ValueRange{sumInit},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank), rowMap}, redIters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value xf = toF32(b, l, args[0]);
          Value sq = arith::MulFOp::create(b, l, xf, xf);
          linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[1], sq).getResult());
        });

    // Number of channels and epsilon, in f32 (as torch computes the mean and
    // `variance + eps` in f32).
    Value n;
    int64_t staticN = xType.getDimSize(rank - 1);
    if (ShapedType::isStatic(staticN)) {
      n = f32Const(rewriter, loc, static_cast<double>(staticN));
    } else {
      Value dim = dimValue(rewriter, loc, x, rank - 1);
      Value i64 = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), dim);
      n = arith::SIToFPOp::create(rewriter, loc, f32, i64);
    }
    Value eps = f32Const(rewriter, loc, op.getEpsilon().convertToDouble());

    // w ⊙ cast_back(x_f32 · rsqrt(sum / n + eps)); the product in `act`.
    Value init = emptyTensor(rewriter, loc, sizes, act);
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank), rowMap,
                                   selectDims(ctx, rank, {rank - 1}),
                                   rewriter.getMultiDimIdentityMap(rank)};
    auto norm = linalg::GenericOp::create(
        rewriter, loc, TypeRange{xType}, ValueRange{x, sumSq.getResult(0), w},
        ValueRange{init}, maps, SmallVector<IteratorType>(rank, kPar),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value xf = toF32(b, l, args[0]);
          Value mean = arith::DivFOp::create(b, l, args[1], n);
          Value inv = math::RsqrtOp::create(
              b, l, arith::AddFOp::create(b, l, mean, eps).getResult());
          Value normed = castFloat(b, l, arith::MulFOp::create(b, l, xf, inv), act);
          Value weight = castFloat(b, l, args[2], act);
          linalg::YieldOp::create(b, l, arith::MulFOp::create(b, l, weight, normed).getResult());
        });
    rewriter.replaceOp(op, norm.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

/// y[..., n] = Σ_k x[..., k] · W[n, k], accumulated in f32 and returned as
/// an f32 tensor. The iteration space is (batch..., k, n): W is transposed to
/// [K, N] first so the inner loop streams contiguous rows of Wᵀ and y.
Value buildLinearF32(OpBuilder &b, Location loc, Value x, Value weight) {
  MLIRContext *ctx = b.getContext();
  auto xType = tensorTy(x);
  unsigned rank = xType.getRank();
  Value wT = transposeLastTwo(b, loc, weight);
  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, x);
  sizes.back() = tensor::getMixedSize(b, loc, weight, 0);
  Value acc = filledTensor(b, loc, sizes, b.getF32Type(), 0.0);
  // dims: 0..rank-2 batch, rank-1 = k, rank = n.
  unsigned numDims = rank + 1;
  SmallVector<unsigned> batch = range(0, rank - 1);
  SmallVector<unsigned> xDims = batch, yDims = batch;
  xDims.push_back(rank - 1);
  yDims.push_back(rank);
  SmallVector<AffineMap> maps = {selectDims(ctx, numDims, xDims),
                                 selectDims(ctx, numDims, {rank - 1, rank}),
                                 selectDims(ctx, numDims, yDims)};
  SmallVector<IteratorType> iters(rank - 1, kPar);
  iters.push_back(kRed);
  iters.push_back(kPar);
  auto mm = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{x, wT}, ValueRange{acc}, maps,
      iters, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = toF32(nb, l, args[0]);
        Value w = toF32(nb, l, args[1]);
        Value r = multiplyAccumulate(nb, l, args[2], x, w);
        linalg::YieldOp::create(nb, l, r);
      });
  return mm.getResult(0);
}

/// Converts an f32 tensor to `act` (no-op for f32).
Value castTensor(OpBuilder &b, Location loc, Value t, Type act) {
  auto type = tensorTy(t);
  if (type.getElementType() == act)
    return t;
  return elementwise(b, loc, type.clone(act), t, ValueRange{t},
                     [&](OpBuilder &nb, Location l, ValueRange args) {
                       return castFloat(nb, l, args[0], act);
                     });
}

struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type act = tensorTy(op.getResult()).getElementType();
    Value y = buildLinearF32(rewriter, loc, adaptor.getInput(), adaptor.getWeight());
    rewriter.replaceOp(op, castTensor(rewriter, loc, y, act));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// A unary op computed in f32 and rounded to the tensor's element type.
template <typename OpTy>
struct UnaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpConversionPattern<OpTy>::OpAdaptor;
  LogicalResult matchAndRewrite(OpTy op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto type = tensorTy(x);
    Type act = type.getElementType();
    Value r = elementwise(rewriter, loc, type, x, ValueRange{x},
                          [&](OpBuilder &b, Location l, ValueRange args) {
                            Value xf = toF32(b, l, args[0]);
                            Value y = std::is_same_v<OpTy, SiLUOp>
                                          ? siluScalar(b, l, xf)
                                          : sigmoidScalar(b, l, xf);
                            return castFloat(b, l, y, act);
                          });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// α · residual + β · update, each product rounded to the activation type
/// and then summed in it (torch's order for `r * α + u * β`).
struct DeepNormResidualLowering : OpConversionPattern<DeepNormResidualOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DeepNormResidualOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value r = adaptor.getResidual(), u = adaptor.getUpdate();
    auto type = tensorTy(r);
    Type act = type.getElementType();
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value result = elementwise(
        rewriter, loc, type, r, ValueRange{r, u},
        [&](OpBuilder &b, Location l, ValueRange args) {
          // (Operands are built one statement at a time so that the op
          // order does not depend on the compiler's argument evaluation.)
          Value r = toF32(b, l, args[0]);
          Value a = arith::MulFOp::create(b, l, r, f32Const(b, l, alpha));
          Value u = toF32(b, l, args[1]);
          Value c = arith::MulFOp::create(b, l, u, f32Const(b, l, beta));
          Value ra = castFloat(b, l, a, act);
          Value uc = castFloat(b, l, c, act);
          return arith::AddFOp::create(b, l, ra, uc).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Head reshapes
//===----------------------------------------------------------------------===//

struct SplitHeadsLowering : OpConversionPattern<SplitHeadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SplitHeadsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3}};
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, op.getType(),
                                                       adaptor.getInput(), reassoc);
    return success();
  }
};

struct MergeHeadsLowering : OpConversionPattern<MergeHeadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MergeHeadsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3}};
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, op.getType(),
                                                         adaptor.getInput(), reassoc);
    return success();
  }
};

/// [B, T, 3HD] -> [B, T, H, 3, D] -> three rank-reduced slices [B, T, H, D].
struct SplitQKVLowering : OpConversionPattern<SplitQKVOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SplitQKVOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value qkv = adaptor.getQkv();
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    auto inType = tensorTy(qkv);
    int64_t heads = qType.getDimSize(2), headDim = qType.getDimSize(3);
    auto expandedType = RankedTensorType::get(
        {inType.getDimSize(0), inType.getDimSize(1), heads, 3, headDim},
        inType.getElementType());
    SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3, 4}};
    Value expanded =
        tensor::ExpandShapeOp::create(rewriter, loc, expandedType, qkv, reassoc);
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, expanded);
    sizes[3] = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(5, rewriter.getIndexAttr(1));
    SmallVector<Value> parts;
    for (int64_t j = 0; j < 3; ++j) {
      SmallVector<OpFoldResult> offsets(5, rewriter.getIndexAttr(0));
      offsets[3] = rewriter.getIndexAttr(j);
      parts.push_back(tensor::ExtractSliceOp::create(rewriter, loc, qType, expanded,
                                                     offsets, sizes, strides));
    }
    rewriter.replaceOp(op, parts);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MoE router
//===----------------------------------------------------------------------===//

/// p = softmax_f32(logits); top-k by repeated argmax (a strictly larger
/// probability wins, an equal one goes to the lower index); the chosen
/// probabilities renormalised to sum to one.
struct MoERouteLowering : OpConversionPattern<MoERouteOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MoERouteOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value logits = adaptor.getLogits();
    auto lType = tensorTy(logits);
    unsigned rank = lType.getRank();
    int64_t k = op.getTopK();
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    auto expertsType = cast<RankedTensorType>(op.getExperts().getType());
    auto weightsType = cast<RankedTensorType>(op.getWeights().getType());

    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, logits);
    SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap rowMap = selectDims(ctx, rank, range(0, rank - 1));
    SmallVector<IteratorType> redIters(rank - 1, kPar);
    redIters.push_back(kRed);
    SmallVector<IteratorType> parIters(rank, kPar);
    double negInf = -std::numeric_limits<double>::infinity();

    // Row max and Σ exp(l - max).
    Value maxInit = filledTensor(rewriter, loc, rowSizes, f32, negInf);
    Value rowMax =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{maxInit.getType()}, ValueRange{logits},
            ValueRange{maxInit}, SmallVector<AffineMap>{id, rowMap}, redIters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value m = arith::MaximumFOp::create(b, l, args[1], toF32(b, l, args[0]));
              linalg::YieldOp::create(b, l, m);
            })
            .getResult(0);
    Value sumInit = filledTensor(rewriter, loc, rowSizes, f32, 0.0);
    Value rowSum =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{sumInit.getType()}, ValueRange{logits, rowMax},
            ValueRange{sumInit}, SmallVector<AffineMap>{id, rowMap, rowMap}, redIters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value e = math::ExpOp::create(
                  b, l, arith::SubFOp::create(b, l, toF32(b, l, args[0]), args[1]));
              linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[2], e).getResult());
            })
            .getResult(0);
    auto probType = RankedTensorType::get(lType.getShape(), f32);
    Value probs =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{probType}, ValueRange{logits, rowMax, rowSum},
            ValueRange{emptyTensor(rewriter, loc, sizes, f32)},
            SmallVector<AffineMap>{id, rowMap, rowMap, id}, parIters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value e = math::ExpOp::create(
                  b, l, arith::SubFOp::create(b, l, toF32(b, l, args[0]), args[1]));
              linalg::YieldOp::create(b, l, arith::DivFOp::create(b, l, e, args[2]).getResult());
            })
            .getResult(0);

    // k rounds of argmax, masking each winner with -inf.
    SmallVector<Value> values, indices;
    Value masked = probs;
    for (int64_t j = 0; j < k; ++j) {
      Value valInit = filledTensor(rewriter, loc, rowSizes, f32, negInf);
      Value idxInit = filledIntTensor(rewriter, loc, rowSizes, i64, 0);
      auto argmax = linalg::GenericOp::create(
          rewriter, loc, TypeRange{valInit.getType(), idxInit.getType()},
          ValueRange{masked}, ValueRange{valInit, idxInit},
          SmallVector<AffineMap>{id, rowMap, rowMap}, redIters,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value p = args[0], best = args[1], bestIdx = args[2];
            Value e = arith::IndexCastOp::create(
                b, l, b.getI64Type(), linalg::IndexOp::create(b, l, rank - 1));
            Value greater =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, p, best);
            Value equal =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, p, best);
            Value lower =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, e, bestIdx);
            Value take = arith::OrIOp::create(
                b, l, greater, arith::AndIOp::create(b, l, equal, lower).getResult());
            Value v = arith::SelectOp::create(b, l, take, p, best);
            Value i = arith::SelectOp::create(b, l, take, e, bestIdx);
            linalg::YieldOp::create(b, l, ValueRange{v, i});
          });
      values.push_back(argmax.getResult(0));
      indices.push_back(argmax.getResult(1));
      if (j + 1 == k)
        break;
      masked =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{probType}, ValueRange{masked, argmax.getResult(1)},
              ValueRange{emptyTensor(rewriter, loc, sizes, f32)},
              SmallVector<AffineMap>{id, rowMap, id}, parIters,
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value e = arith::IndexCastOp::create(
                    b, l, b.getI64Type(), linalg::IndexOp::create(b, l, rank - 1));
                Value hit =
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, e, args[1]);
                Value r = arith::SelectOp::create(b, l, hit, f32Const(b, l, negInf),
                                                  args[0]);
                linalg::YieldOp::create(b, l, r);
              })
              .getResult(0);
    }

    // Assemble [..., K]: weights renormalised, indices converted.
    SmallVector<OpFoldResult> outSizes = rowSizes;
    outSizes.push_back(rewriter.getIndexAttr(k));
    SmallVector<Value> ins;
    ins.append(values.begin(), values.end());
    ins.append(indices.begin(), indices.end());
    SmallVector<AffineMap> maps(2 * k, rowMap);
    maps.push_back(id);
    maps.push_back(id);
    Type idxElt = expertsType.getElementType();
    auto assemble = linalg::GenericOp::create(
        rewriter, loc, TypeRange{weightsType, expertsType}, ins,
        ValueRange{emptyTensor(rewriter, loc, outSizes, f32),
                   emptyTensor(rewriter, loc, outSizes, idxElt)},
        maps, parIters, [&](OpBuilder &b, Location l, ValueRange args) {
          Value slot = linalg::IndexOp::create(b, l, rank - 1);
          Value sum = args[0];
          for (int64_t j = 1; j < k; ++j)
            sum = arith::AddFOp::create(b, l, sum, args[j]);
          Value v = args[0], e = args[k];
          for (int64_t j = 1; j < k; ++j) {
            Value isJ = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, slot,
                                              arith::ConstantIndexOp::create(b, l, j));
            v = arith::SelectOp::create(b, l, isJ, args[j], v);
            e = arith::SelectOp::create(b, l, isJ, args[k + j], e);
          }
          Value w = arith::DivFOp::create(b, l, v, sum);
          if (idxElt != e.getType())
            e = arith::TruncIOp::create(b, l, idxElt, e);
          linalg::YieldOp::create(b, l, ValueRange{w, e});
        });
    rewriter.replaceOp(op, assemble.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MoE experts
//===----------------------------------------------------------------------===//

/// A rank-reduced slice of `source` at `offsets` with `sizes` (unit sizes
/// dropped), strides 1.
Value sliceOf(OpBuilder &b, Location loc, Value source, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, unsigned resultRank) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  auto type = tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
      resultRank, tensorTy(source), sizes);
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes, strides);
}

Value insertInto(OpBuilder &b, Location loc, Value slice, Value dest,
                 ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, loc, slice, dest, offsets, sizes, strides);
}

/// Only the routed experts are computed. For token (b, t) and slot j with
/// expert e = experts[b, t, j]:
///   h1 = x · w1[e]ᵀ, h3 = x · w3[e]ᵀ
///   g  = silu(h1) ⊙ h3
///   y  = g · w2[e]ᵀ
///   out = Σ_j weights[b, t, j] · y[j]         in f32, then cast to act
/// The projections are an scf.for nest over (b, t, j) that reads e once and
/// runs a small linalg.generic against the slice w[e] (a gather of whole
/// expert matrices, not of elements, so the inner loops stay contiguous and
/// vectorise). The expert weights are transposed once ([E, d, I] and
/// [E, I, d]) so those inner loops run over output columns. With bf16
/// activations, h1, h3, silu, g, y and the routing weight are rounded to
/// bf16 as HF's bf16 run does.
struct MoEExpertsLowering : OpConversionPattern<MoEExpertsOp> {
  using OpConversionPattern::OpConversionPattern;

  /// out[b, t, j, :] = Σ_r in[b, t, r] · w[e(b,t,j), r, :] for every routed
  /// (b, t, j); `inputHasSlot`: `in` is [B, T, K, R] instead of [B, T, R].
  /// `weights` holds one or two stacked, transposed matrices [E, R, N]
  /// (sharing the input); returns one f32 [B, T, K, N] per matrix.
  static SmallVector<Value> routedProjections(OpBuilder &b, Location loc, Value in,
                                              bool inputHasSlot, Value experts,
                                              ArrayRef<Value> weights) {
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    OpFoldResult bDim = tensor::getMixedSize(b, loc, experts, 0);
    OpFoldResult tDim = tensor::getMixedSize(b, loc, experts, 1);
    OpFoldResult kDim = tensor::getMixedSize(b, loc, experts, 2);
    OpFoldResult rDim = tensor::getMixedSize(b, loc, weights[0], 1);
    OpFoldResult nDim = tensor::getMixedSize(b, loc, weights[0], 2);
    Value numExperts = dimValue(b, loc, weights[0], 0);
    SmallVector<Value> inits;
    for (size_t m = 0; m < weights.size(); ++m)
      inits.push_back(filledTensor(b, loc, {bDim, tDim, kDim, nDim}, f32, 0.0));

    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<Value> ubs = {getValueOrCreateConstantIndexOp(b, loc, bDim),
                              getValueOrCreateConstantIndexOp(b, loc, tDim),
                              getValueOrCreateConstantIndexOp(b, loc, kDim)};
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, {zero, zero, zero}, ubs, {one, one, one}, inits,
        [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange iters) {
          OpFoldResult i0 = nb.getIndexAttr(0), i1 = nb.getIndexAttr(1);
          Value e = clampedIndex(
              nb, l, tensor::ExtractOp::create(nb, l, experts, ivs).getResult(),
              numExperts);
          Value row =
              inputHasSlot
                  ? sliceOf(nb, l, in, {ivs[0], ivs[1], ivs[2], i0}, {i1, i1, i1, rDim}, 1)
                  : sliceOf(nb, l, in, {ivs[0], ivs[1], i0}, {i1, i1, rDim}, 1);
          SmallVector<Value> ins = {row};
          for (Value w : weights)
            ins.push_back(sliceOf(nb, l, w, {e, i0, i0}, {i1, rDim, nDim}, 2));
          SmallVector<OpFoldResult> outOffsets = {ivs[0], ivs[1], ivs[2], i0};
          SmallVector<OpFoldResult> outSizes = {i1, i1, i1, nDim};
          SmallVector<Value> outs;
          for (Value acc : iters)
            outs.push_back(sliceOf(nb, l, acc, outOffsets, outSizes, 1));
          // dims (r, n): r reduced, n the contiguous inner loop. One generic
          // per matrix: a loop with a single store needs few runtime alias
          // checks, so LLVM vectorises it.
          SmallVector<AffineMap> maps = {selectDims(ctx, 2, {0}), selectDims(ctx, 2, {0, 1}),
                                         selectDims(ctx, 2, {1})};
          SmallVector<Value> results;
          for (auto [w, out] : llvm::zip(ArrayRef(ins).drop_front(), outs)) {
            auto gemv = linalg::GenericOp::create(
                nb, l, TypeRange{out.getType()}, ValueRange{row, w}, ValueRange{out}, maps,
                SmallVector<IteratorType>{kRed, kPar},
                [&](OpBuilder &bb, Location bl, ValueRange args) {
                  Value x = toF32(bb, bl, args[0]);
                  Value w = toF32(bb, bl, args[1]);
                  Value r = multiplyAccumulate(bb, bl, args[2], x, w);
                  linalg::YieldOp::create(bb, bl, r);
                });
            results.push_back(gemv.getResult(0));
          }
          SmallVector<Value> updated;
          for (auto [res, acc] : llvm::zip(results, iters))
            updated.push_back(insertInto(nb, l, res, acc, outOffsets, outSizes));
          return scf::ValueVector(updated.begin(), updated.end());
        });
    return SmallVector<Value>(nest.results.begin(), nest.results.end());
  }

  LogicalResult matchAndRewrite(MoEExpertsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), weights = adaptor.getWeights();
    Value experts = adaptor.getExperts();
    auto xType = tensorTy(x);
    Type act = xType.getElementType();
    Type f32 = rewriter.getF32Type();

    Value w1T = transposeLastTwo(rewriter, loc, adaptor.getW1()); // [E, d, I]
    Value w3T = transposeLastTwo(rewriter, loc, adaptor.getW3()); // [E, d, I]
    Value w2T = transposeLastTwo(rewriter, loc, adaptor.getW2()); // [E, I, d]

    // Gate and up projections of the routed experts.
    SmallVector<Value> up =
        routedProjections(rewriter, loc, x, /*inputHasSlot=*/false, experts, {w1T, w3T});

    // SwiGLU.
    auto gType = cast<RankedTensorType>(up[0].getType());
    Value gated = elementwise(
        rewriter, loc, gType, up[0], ValueRange{up[0], up[1]},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value h1 = roundThrough(b, l, args[0], act);
          Value h3 = roundThrough(b, l, args[1], act);
          Value s = roundThrough(b, l, siluScalar(b, l, h1), act);
          return roundThrough(b, l, arith::MulFOp::create(b, l, s, h3), act);
        });

    // Down projection.
    Value down =
        routedProjections(rewriter, loc, gated, /*inputHasSlot=*/true, experts, {w2T})[0];

    // Weighted combine over the k slots: dims (b, t, c, j).
    OpFoldResult bDim = tensor::getMixedSize(rewriter, loc, x, 0);
    OpFoldResult tDim = tensor::getMixedSize(rewriter, loc, x, 1);
    OpFoldResult dDim = tensor::getMixedSize(rewriter, loc, x, 2);
    Value outInit = filledTensor(rewriter, loc, {bDim, tDim, dDim}, f32, 0.0);
    SmallVector<AffineMap> combineMaps = {selectDims(ctx, 4, {0, 1, 3, 2}),
                                          selectDims(ctx, 4, {0, 1, 3}),
                                          selectDims(ctx, 4, {0, 1, 2})};
    auto combine = linalg::GenericOp::create(
        rewriter, loc, TypeRange{outInit.getType()}, ValueRange{down, weights},
        ValueRange{outInit}, combineMaps,
        SmallVector<IteratorType>{kPar, kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value y = roundThrough(b, l, args[0], act);
          Value w = roundThrough(b, l, args[1], act);
          Value term = roundThrough(b, l, arith::MulFOp::create(b, l, w, y), act);
          linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[2], term).getResult());
        });
    rewriter.replaceOp(op, castTensor(rewriter, loc, combine.getResult(0), act));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct LowerToLinalgPass
    : mm01::model::impl::MM01LowerToLinalgBase<LowerToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect, scf::SCFDialect>();
    target.addIllegalOp<EmbeddingOp, RMSNormOp, LinearOp, SiLUOp, SigmoidOp,
                        DeepNormResidualOp, SplitHeadsOp, MergeHeadsOp,
                        SplitQKVOp, MoERouteOp, MoEExpertsOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(ctx);
    patterns.add<EmbeddingLowering, RMSNormLowering, LinearLowering,
                 UnaryLowering<SiLUOp>, UnaryLowering<SigmoidOp>,
                 DeepNormResidualLowering, SplitHeadsLowering, MergeHeadsLowering,
                 SplitQKVLowering, MoERouteLowering, MoEExpertsLowering>(ctx);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
