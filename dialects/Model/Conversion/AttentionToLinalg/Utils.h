//===- Utils.h - helpers shared by the attention lowerings ------*- C++ -*-===//
//
// Small builders for the tensor-level IR the attention lowerings emit:
// f32 conversion of scalars, empty/filled tensors, elementwise and structured
// linalg.generic ops, and the checks every lowering makes before touching IR.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_CONVERSION_ATTENTIONTOLINALG_UTILS_H
#define MM01_CONVERSION_ATTENTIONTOLINALG_UTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace mm01::model::attn {

/// Fails with an error on `op` naming `pass` unless every operand and result
/// of `op` is a tensor with a static shape.
mlir::LogicalResult requireStaticShapes(mlir::Operation *op, llvm::StringRef pass);

/// Fails with an error on `op` unless `type` is a float type of at most 32
/// bits (the lowerings compute in f32 and round back to `type`).
mlir::LogicalResult requireF32Computable(mlir::Operation *op,
                                         llvm::StringRef what, mlir::Type type);

/// Extends a scalar float to f32 (no-op for f32).
mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);
/// Rounds an f32 scalar to `type` (no-op for f32).
mlir::Value fromF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                    mlir::Type type);

mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape, mlir::Type elementType);
/// A tensor of `shape` filled with `value` (linalg.fill).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, mlir::FloatType type,
                         double value);
/// A tensor of `shape` filled with -inf.
mlir::Value negInfTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, mlir::FloatType type);

mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc, double value);
mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc, int64_t value);

/// `numParallel` parallel iterators followed by `numReduction` reductions.
llvm::SmallVector<mlir::utils::IteratorType>
iterators(unsigned numParallel, unsigned numReduction = 0);

/// The affine map `(d0, ..., d{numDims-1}) -> (exprs...)`.
mlir::AffineMap map(mlir::MLIRContext *ctx, unsigned numDims,
                    llvm::ArrayRef<mlir::AffineExpr> exprs);

/// Body builder of a linalg.generic: gets the block arguments (inputs, then
/// outputs) and returns the values to yield.
using BodyFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// Builds a linalg.generic on tensors and returns its results.
mlir::linalg::GenericOp
buildGeneric(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
             mlir::ValueRange outputs, llvm::ArrayRef<mlir::AffineMap> maps,
             llvm::ArrayRef<mlir::utils::IteratorType> iters, BodyFn body);

/// A new tensor of `dstShape` whose element at index `i` is `src[srcMap(i)]`
/// converted to `dstElementType` (extf, truncf or nothing): an elementwise
/// cast fused with a transpose when `srcMap` is a permutation.
mlir::Value convertTensor(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value src, mlir::AffineMap srcMap,
                          llvm::ArrayRef<int64_t> dstShape,
                          mlir::Type dstElementType);

} // namespace mm01::model::attn

#endif // MM01_CONVERSION_ATTENTIONTOLINALG_UTILS_H
