//===- Utils.cpp - helpers shared by the attention lowerings --------------===//
#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;

namespace mm01::model::attn {

LogicalResult requireStaticShapes(Operation *op, StringRef pass) {
  auto check = [&](Type t, StringRef kind, unsigned i) -> LogicalResult {
    auto shaped = dyn_cast<RankedTensorType>(t);
    if (shaped && shaped.hasStaticShape())
      return success();
    return op->emitOpError() << "cannot be lowered by " << pass
                             << ": it needs static shapes, but " << kind << " #"
                             << i << " has type " << t;
  };
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (failed(check(v.getType(), "operand", i)))
      return failure();
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    if (failed(check(v.getType(), "result", i)))
      return failure();
  return success();
}

LogicalResult requireF32Computable(Operation *op, StringRef what, Type type) {
  auto ft = dyn_cast<FloatType>(type);
  if (ft && ft.getWidth() <= 32)
    return success();
  return op->emitOpError() << "cannot be lowered: " << what << " element type "
                           << type
                           << " is not supported (the lowering computes in f32; "
                              "inputs of at most 32 bits are accepted)";
}

Value toF32(OpBuilder &b, Location loc, Value v) {
  Type f32 = b.getF32Type();
  if (v.getType() == f32)
    return v;
  return arith::ExtFOp::create(b, loc, f32, v);
}

Value fromF32(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return arith::TruncFOp::create(b, loc, type, v);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   FloatType type, double value) {
  Value init = emptyTensor(b, loc, shape, type);
  Value cst = arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return linalg::FillOp::create(b, loc, ValueRange{cst}, ValueRange{init})
      .getResult(0);
}

Value negInfTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   FloatType type) {
  return filledTensor(b, loc, shape, type,
                      -std::numeric_limits<double>::infinity());
}

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

SmallVector<utils::IteratorType> iterators(unsigned numParallel,
                                           unsigned numReduction) {
  SmallVector<utils::IteratorType> its(numParallel, utils::IteratorType::parallel);
  its.append(numReduction, utils::IteratorType::reduction);
  return its;
}

AffineMap map(MLIRContext *ctx, unsigned numDims, ArrayRef<AffineExpr> exprs) {
  return AffineMap::get(numDims, /*symbolCount=*/0, exprs, ctx);
}

linalg::GenericOp buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                               ValueRange outputs, ArrayRef<AffineMap> maps,
                               ArrayRef<utils::IteratorType> iters, BodyFn body) {
  SmallVector<Type> resultTypes = llvm::to_vector(outputs.getTypes());
  return linalg::GenericOp::create(
      b, loc, resultTypes, inputs, outputs, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        SmallVector<Value> results = body(nb, nloc, args);
        linalg::YieldOp::create(nb, nloc, results);
      });
}

Value convertTensor(OpBuilder &b, Location loc, Value src, AffineMap srcMap,
                    ArrayRef<int64_t> dstShape, Type dstElementType) {
  MLIRContext *ctx = b.getContext();
  Value init = emptyTensor(b, loc, dstShape, dstElementType);
  AffineMap id = AffineMap::getMultiDimIdentityMap(dstShape.size(), ctx);
  return buildGeneric(
             b, loc, src, init, {srcMap, id}, iterators(dstShape.size()),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value v = args[0];
               if (v.getType() != dstElementType) {
                 auto from = cast<FloatType>(v.getType());
                 auto to = cast<FloatType>(dstElementType);
                 v = from.getWidth() < to.getWidth()
                         ? Value(arith::ExtFOp::create(nb, nloc, to, v))
                         : Value(arith::TruncFOp::create(nb, nloc, to, v));
               }
               return SmallVector<Value>{v};
             })
      .getResult(0);
}

} // namespace mm01::model::attn
