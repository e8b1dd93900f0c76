//===- KernelBuilder.h - terse construction of gpu.func bodies --*- C++ -*-===//
//
// ArithBuilder plus the thread/block coordinates, strided loops and the
// warp- and block-wide sums of the row and decode kernels.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H

#include "Model/Conversion/ModelToGPU/ArithBuilder.h"

#include <functional>

namespace mm01::gpu {

class KernelBuilder : public ArithBuilder {
public:
  KernelBuilder(mlir::OpBuilder &b, mlir::Location loc) : ArithBuilder(b, loc) {}

  mlir::Value threadId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  mlir::Value blockId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);

  /// for (i = lb; i < ub; i += step) body(i), no loop-carried values.
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
               const std::function<void(mlir::Value)> &body);
  /// Same with one f32 accumulator; returns its final value.
  mlir::Value forLoopAcc(mlir::Value lb, mlir::Value ub, mlir::Value step,
                         mlir::Value init,
                         const std::function<mlir::Value(mlir::Value, mlir::Value)> &body);

  /// Sum of `x` over the 32 lanes of a warp (xor butterfly; every lane gets it).
  mlir::Value warpSum(mlir::Value x);
  /// Sum of `x` over a block of `threads` threads (a multiple of 32), using
  /// `scratch` (workgroup memref<Wxf32>, W = threads / 32). Every thread gets
  /// the sum. Contains barriers: call from uniform control flow.
  mlir::Value blockSum(mlir::Value x, mlir::Value scratch, int64_t threads);
};

/// A workgroup-memory memref type (shape, f32 by default).
mlir::MemRefType workgroupMemRef(mlir::MLIRContext *ctx,
                                 llvm::ArrayRef<int64_t> shape,
                                 mlir::Type elt);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H
