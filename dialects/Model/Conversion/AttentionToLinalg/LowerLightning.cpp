//===- LowerLightning.cpp - lightning attention to linalg -----------------===//
//
// mm01.lightning_attention -> chunked form (scf.for over full chunks + a
// static tail chunk), mm01.lightning_decode -> recurrent form. Everything is
// computed in f32 on tensors; see Passes.td for the math.
//
// Layout: q, k, v [B, T, H, D] are converted once to f32 [B, H, T, D] and
// flattened to [B·H, T, D] so that the per-chunk products are plain
// linalg.batch_matmuls over the (batch, head) dimension `bh`; the head of
// `bh` is `bh mod H`, which is how the per-head decay tables are indexed.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/AttentionToLinalg/Passes.h"
#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01LOWERLIGHTNING
#include "Model/Conversion/AttentionToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
using namespace mm01::model::attn;

namespace {

constexpr StringLiteral kPassName = "mm01-lower-lightning";

/// exp(-lambda * n) in f64, rounded to f32. `lambda` is f64, `n` an index.
Value expNegScaled(OpBuilder &b, Location loc, Value lambda, Value n) {
  Value ni = arith::IndexCastOp::create(b, loc, b.getI64Type(), n);
  Value nf = arith::SIToFPOp::create(b, loc, b.getF64Type(), ni);
  Value x = arith::MulFOp::create(b, loc, lambda, nf);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::TruncFOp::create(b, loc, b.getF32Type(), e);
}

/// exp(-lambda * n) for a constant n.
Value expNegScaled(OpBuilder &b, Location loc, Value lambda, int64_t n) {
  Value nf = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(double(n)));
  Value x = arith::MulFOp::create(b, loc, lambda, nf);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::TruncFOp::create(b, loc, b.getF32Type(), e);
}

/// The per-head decay factors of one chunk of `m` tokens, f32.
struct DecayTables {
  Value mask;       // [H, m, m]: e^{-λ(i-j)} for i >= j, else 0
  Value queryDecay; // [H, m]:    e^{-λ(i+1)}
  Value keyDecay;   // [H, m]:    e^{-λ(m-1-j)}
  Value stateDecay; // [H]:       e^{-λ m}
};

/// Builds a table of shape [H, rest...] from the λ constant (tensor<Hxf64>);
/// `fn` gets the λ of the row's head and the linalg.index values of the
/// table's dimensions (idx[0], the head, is null) and returns the f32 entry.
Value buildHeadTable(
    OpBuilder &b, Location loc, Value lambdas, ArrayRef<int64_t> shape,
    function_ref<Value(OpBuilder &, Location, Value, ArrayRef<Value>)> fn) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = shape.size();
  Value init = emptyTensor(b, loc, shape, b.getF32Type());
  AffineMap headMap = map(ctx, rank, {getAffineDimExpr(0, ctx)});
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  return buildGeneric(b, loc, lambdas, init, {headMap, id}, iterators(rank),
                      [&](OpBuilder &nb, Location nloc, ValueRange args) {
                        // idx[0] (the head) is not needed: λ is the input.
                        SmallVector<Value> idx{Value()};
                        for (unsigned d = 1; d < rank; ++d)
                          idx.push_back(linalg::IndexOp::create(nb, nloc, d));
                        return SmallVector<Value>{fn(nb, nloc, args[0], idx)};
                      })
      .getResult(0);
}

DecayTables buildDecayTables(OpBuilder &b, Location loc, Value lambdas,
                             int64_t heads, int64_t m) {
  DecayTables t;
  t.mask = buildHeadTable(
      b, loc, lambdas, {heads, m, m},
      [&](OpBuilder &nb, Location nloc, Value lambda, ArrayRef<Value> idx) {
        Value i = idx[1], j = idx[2];
        Value causal =
            arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sge, i, j);
        Value zeroIdx = indexConstant(nb, nloc, 0);
        Value diff = arith::SubIOp::create(nb, nloc, i, j);
        diff = arith::SelectOp::create(nb, nloc, causal, diff, zeroIdx);
        Value e = expNegScaled(nb, nloc, lambda, diff);
        return Value(arith::SelectOp::create(nb, nloc, causal, e,
                                             f32Constant(nb, nloc, 0.0)));
      });
  t.queryDecay = buildHeadTable(
      b, loc, lambdas, {heads, m},
      [&](OpBuilder &nb, Location nloc, Value lambda, ArrayRef<Value> idx) {
        Value n = arith::AddIOp::create(nb, nloc, idx[1], indexConstant(nb, nloc, 1));
        return expNegScaled(nb, nloc, lambda, n);
      });
  t.keyDecay = buildHeadTable(
      b, loc, lambdas, {heads, m},
      [&](OpBuilder &nb, Location nloc, Value lambda, ArrayRef<Value> idx) {
        Value n = arith::SubIOp::create(nb, nloc, indexConstant(nb, nloc, m - 1),
                                        idx[1]);
        return expNegScaled(nb, nloc, lambda, n);
      });
  t.stateDecay = buildHeadTable(
      b, loc, lambdas, {heads},
      [&](OpBuilder &nb, Location nloc, Value lambda, ArrayRef<Value>) {
        return expNegScaled(nb, nloc, lambda, m);
      });
  return t;
}

/// linalg.batch_matmul `init + A·B` with explicit indexing maps over the
/// iteration space (bh, i, j, k), so transposed operands need no copy.
Value batchMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init,
                  AffineMap lhsMap, AffineMap rhsMap) {
  MLIRContext *ctx = b.getContext();
  AffineExpr bh = getAffineDimExpr(0, ctx), i = getAffineDimExpr(1, ctx),
             j = getAffineDimExpr(2, ctx);
  auto op = linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                          ValueRange{lhs, rhs}, ValueRange{init});
  op.setIndexingMapsAttr(b.getAffineMapArrayAttr(
      {lhsMap, rhsMap, map(ctx, 4, {bh, i, j})}));
  return op.getResult(0);
}

/// `x[bh, i, ...] * table[bh mod H, <tableDims>]` elementwise over x.
Value scaleByHeadTable(OpBuilder &b, Location loc, Value x, Value table,
                       int64_t heads, ArrayRef<unsigned> tableDims) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  SmallVector<AffineExpr> tableExprs{getAffineDimExpr(0, ctx) % heads};
  for (unsigned d : tableDims)
    tableExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  Value init = emptyTensor(b, loc, type.getShape(), type.getElementType());
  return buildGeneric(b, loc, ValueRange{x, table}, init,
                      {id, map(ctx, rank, tableExprs), id}, iterators(rank),
                      [&](OpBuilder &nb, Location nloc, ValueRange args) {
                        return SmallVector<Value>{
                            arith::MulFOp::create(nb, nloc, args[0], args[1])};
                      })
      .getResult(0);
}

/// `state[bh, a, c] *= table[bh mod H]`, with `state` as the generic's init
/// (destination), so that it bufferizes in place.
Value scaleStateInPlace(OpBuilder &b, Location loc, Value state, Value table,
                        int64_t heads) {
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(3, ctx);
  return buildGeneric(b, loc, ValueRange{table}, state,
                      {map(ctx, 3, {getAffineDimExpr(0, ctx) % heads}), id},
                      iterators(3),
                      [&](OpBuilder &nb, Location nloc, ValueRange args) {
                        return SmallVector<Value>{
                            arith::MulFOp::create(nb, nloc, args[1], args[0])};
                      })
      .getResult(0);
}

struct ChunkState {
  Value state;  // [BH, D, D] f32
  Value output; // [BH, T, D] f32
};

/// One chunk of `m` tokens starting at token `offset`.
ChunkState emitChunk(OpBuilder &b, Location loc, Value q, Value k, Value v,
                     ChunkState in, OpFoldResult offset, int64_t bh,
                     int64_t heads, int64_t m, int64_t headDim,
                     const DecayTables &tables) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  auto chunkType = RankedTensorType::get({bh, m, headDim}, f32);
  SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), offset, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(bh), b.getIndexAttr(m),
                                  b.getIndexAttr(headDim)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  auto slice = [&](Value src) -> Value {
    return tensor::ExtractSliceOp::create(b, loc, chunkType, src, offsets,
                                          sizes, strides);
  };
  Value qc = slice(q), kc = slice(k), vc = slice(v);

  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  // Iteration space of every batch_matmul: (bh, i, j, k), C[bh,i,j] += A·B.
  AffineMap aIK = map(ctx, 4, {d0, d1, d3});  // A[bh, i, k]
  AffineMap bKJ = map(ctx, 4, {d0, d3, d2});  // B[bh, k, j]
  AffineMap bJK = map(ctx, 4, {d0, d2, d3});  // B[bh, j, k] (Bᵀ)
  AffineMap aKI = map(ctx, 4, {d0, d3, d1});  // A[bh, k, i] (Aᵀ)

  // Intra-chunk: ((Q Kᵀ) ⊙ M) V.
  Value scores = batchMatmul(b, loc, qc, kc,
                             filledTensor(b, loc, {bh, m, m}, b.getF32Type(), 0.0),
                             aIK, bJK);
  Value masked = scaleByHeadTable(b, loc, scores, tables.mask, heads, {1, 2});
  Value intra = batchMatmul(b, loc, masked, vc,
                            filledTensor(b, loc, {bh, m, headDim}, b.getF32Type(), 0.0),
                            aIK, bKJ);
  // Inter-chunk: + (Q ⊙ e^{-λ(i+1)}) S_prev, accumulated onto the intra part.
  Value qDecayed = scaleByHeadTable(b, loc, qc, tables.queryDecay, heads, {1});
  Value out = batchMatmul(b, loc, qDecayed, in.state, intra, aIK, bKJ);
  // State update: S_next = e^{-λm} S_prev + (K ⊙ e^{-λ(m-1-j)})ᵀ V.
  // In place on the carried state (it is not read after this point), so the
  // loop's yielded state bufferizes to the iter_arg's buffer.
  Value stateDecayed = scaleStateInPlace(b, loc, in.state, tables.stateDecay, heads);
  Value kDecayed = scaleByHeadTable(b, loc, kc, tables.keyDecay, heads, {1});
  Value newState = batchMatmul(b, loc, kDecayed, vc, stateDecayed, aKI, bKJ);

  Value newOutput = tensor::InsertSliceOp::create(b, loc, out, in.output,
                                                  offsets, sizes, strides);
  return {newState, newOutput};
}

Value lambdaConstant(OpBuilder &b, Location loc, ArrayRef<double> decay) {
  auto type = RankedTensorType::get({static_cast<int64_t>(decay.size())},
                                    b.getF64Type());
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, decay));
}

LogicalResult lowerLightningAttention(RewriterBase &rewriter,
                                      LightningAttentionOp op, int64_t chunk) {
  if (failed(requireStaticShapes(op, kPassName)))
    return failure();
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  if (failed(requireF32Computable(op, "query", qType.getElementType())))
    return failure();

  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  OpBuilder &b = rewriter;
  Type f32 = b.getF32Type();
  Type elemType = qType.getElementType();
  int64_t batch = qType.getDimSize(0), seq = qType.getDimSize(1),
          heads = qType.getDimSize(2), headDim = qType.getDimSize(3);
  int64_t bh = batch * heads;

  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  // [B, T, H, D] (elem) -> [B, H, T, D] (f32) -> [B·H, T, D].
  AffineMap toHeadMajor = map(ctx, 4, {d0, d2, d1, d3});
  SmallVector<ReassociationIndices> flatten{{0, 1}, {2}, {3}};
  auto headMajor = [&](Value x) -> Value {
    Value t = convertTensor(b, loc, x, toHeadMajor, {batch, heads, seq, headDim}, f32);
    return tensor::CollapseShapeOp::create(b, loc, t, flatten);
  };
  Value q = headMajor(op.getQuery());
  Value k = headMajor(op.getKey());
  Value v = headMajor(op.getValue());
  Value state = tensor::CollapseShapeOp::create(b, loc, op.getState(), flatten);

  Value lambdas = lambdaConstant(b, loc, op.getDecay());
  int64_t numFull = seq / chunk, tail = seq % chunk;
  ChunkState cur{state, emptyTensor(b, loc, {bh, seq, headDim}, f32)};

  if (numFull > 0) {
    DecayTables tables = buildDecayTables(b, loc, lambdas, heads, chunk);
    Value lb = indexConstant(b, loc, 0);
    Value ub = indexConstant(b, loc, numFull * chunk);
    Value step = indexConstant(b, loc, chunk);
    auto loop = scf::ForOp::create(
        b, loc, lb, ub, step, ValueRange{cur.state, cur.output},
        [&](OpBuilder &nb, Location nloc, Value iv, ValueRange args) {
          ChunkState next = emitChunk(nb, nloc, q, k, v, {args[0], args[1]}, iv,
                                      bh, heads, chunk, headDim, tables);
          scf::YieldOp::create(nb, nloc, ValueRange{next.state, next.output});
        });
    cur = {loop.getResult(0), loop.getResult(1)};
  }
  if (tail > 0) {
    DecayTables tables = buildDecayTables(b, loc, lambdas, heads, tail);
    cur = emitChunk(b, loc, q, k, v, cur, b.getIndexAttr(numFull * chunk), bh,
                    heads, tail, headDim, tables);
  }

  // [B·H, T, D] f32 -> [B, H, T, D] -> [B, T, H, D] (elem).
  auto expanded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({batch, heads, seq, headDim}, f32),
      cur.output, flatten);
  Value output = convertTensor(b, loc, expanded, toHeadMajor,
                               {batch, seq, heads, headDim}, elemType);
  Value newState = tensor::ExpandShapeOp::create(b, loc, op.getState().getType(),
                                                 cur.state, flatten);
  rewriter.replaceOp(op, ValueRange{output, newState});
  return success();
}

LogicalResult lowerLightningDecode(RewriterBase &rewriter, LightningDecodeOp op) {
  if (failed(requireStaticShapes(op, kPassName)))
    return failure();
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  if (failed(requireF32Computable(op, "query", qType.getElementType())))
    return failure();

  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  OpBuilder &b = rewriter;
  Type f32 = b.getF32Type();
  Type elemType = qType.getElementType();
  int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(2),
          headDim = qType.getDimSize(3);

  Value lambdas = lambdaConstant(b, loc, op.getDecay());
  Value decay = buildHeadTable(
      b, loc, lambdas, {heads},
      [&](OpBuilder &nb, Location nloc, Value lambda, ArrayRef<Value>) {
        return expNegScaled(nb, nloc, lambda, int64_t(1));
      });

  // The single token: [B, 1, H, D] -> [B, H, D].
  SmallVector<ReassociationIndices> dropSeq{{0, 1}, {2}, {3}};
  auto token = [&](Value x) -> Value {
    return tensor::CollapseShapeOp::create(b, loc, x, dropSeq);
  };
  Value q = token(op.getQuery()), k = token(op.getKey()), v = token(op.getValue());

  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  // S'[b,h,a,c] = e^{-λ_h} S[b,h,a,c] + k[b,h,a] v[b,h,c], with the state
  // as the generic's init so that the update bufferizes in place.
  Value newState =
      buildGeneric(
          b, loc, ValueRange{k, v, decay}, op.getState(),
          {map(ctx, 4, {d0, d1, d2}), map(ctx, 4, {d0, d1, d3}),
           map(ctx, 4, {d1}), id4},
          iterators(4),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value decayed = arith::MulFOp::create(nb, nloc, args[2], args[3]);
            Value kf = toF32(nb, nloc, args[0]);
            Value vf = toF32(nb, nloc, args[1]);
            Value kv = arith::MulFOp::create(nb, nloc, kf, vf);
            return SmallVector<Value>{
                arith::AddFOp::create(nb, nloc, decayed, kv)};
          })
          .getResult(0);
  // o[b,h,c] = Σ_a q[b,h,a] S'[b,h,a,c]; iteration space (b, h, c, a).
  Value out =
      buildGeneric(
          b, loc, ValueRange{q, newState},
          filledTensor(b, loc, {batch, heads, headDim}, b.getF32Type(), 0.0),
          {map(ctx, 4, {d0, d1, d3}), map(ctx, 4, {d0, d1, d3, d2}),
           map(ctx, 4, {d0, d1, d2})},
          iterators(3, 1),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value prod = arith::MulFOp::create(nb, nloc, toF32(nb, nloc, args[0]),
                                               args[1]);
            return SmallVector<Value>{
                arith::AddFOp::create(nb, nloc, args[2], prod)};
          })
          .getResult(0);
  if (elemType != f32)
    out = convertTensor(b, loc, out, AffineMap::getMultiDimIdentityMap(3, ctx),
                        {batch, heads, headDim}, elemType);
  out = tensor::ExpandShapeOp::create(b, loc, qType, out, dropSeq);
  rewriter.replaceOp(op, ValueRange{out, newState});
  return success();
}

struct LowerLightningPass
    : mm01::model::impl::MM01LowerLightningBase<LowerLightningPass> {
  using MM01LowerLightningBase::MM01LowerLightningBase;

  void runOnOperation() override {
    if (chunkSize <= 0) {
      mlir::emitError(getOperation()->getLoc())
          << kPassName << ": chunk-size must be positive, found "
          << static_cast<int64_t>(chunkSize);
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<LightningAttentionOp, LightningDecodeOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    bool ok = true;
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult result =
          isa<LightningAttentionOp>(op)
              ? lowerLightningAttention(rewriter, cast<LightningAttentionOp>(op),
                                        chunkSize)
              : lowerLightningDecode(rewriter, cast<LightningDecodeOp>(op));
      ok &= succeeded(result);
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
