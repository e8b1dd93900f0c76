//===- KernelBuilder.h - terse construction of gpu.func bodies --*- C++ -*-===//
//
// The kernel generators build gpu.func bodies with upstream ops (arith, scf,
// memref, gpu, math). This wraps the most common idioms — index arithmetic,
// f32 upcast / rounding to the activation type, strided loops, a block-wide
// sum — so that a generator reads like the kernel it builds.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace mm01::gpu {

class KernelBuilder {
public:
  KernelBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::Value idx(int64_t v);
  mlir::Value f32(double v);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value add(mlir::Value x, int64_t y) { return add(x, idx(y)); }
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, int64_t y) { return mul(x, idx(y)); }
  mlir::Value div(mlir::Value x, int64_t y);
  mlir::Value rem(mlir::Value x, int64_t y);
  mlir::Value lt(mlir::Value x, mlir::Value y); // unsigned index compare
  /// An i32 parameter as an index (non-negative by contract).
  mlir::Value indexOf(mlir::Value i32);
  mlir::Value threadId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  mlir::Value blockId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);

  mlir::Value fadd(mlir::Value x, mlir::Value y);
  mlir::Value fmul(mlir::Value x, mlir::Value y);
  /// x as f32 (extf from bf16/f16, identity for f32).
  mlir::Value toF32(mlir::Value x);
  /// f32 x rounded to `elt` (round to nearest even) — identity for f32.
  mlir::Value round(mlir::Value x, mlir::Type elt);
  /// f32 x rounded to `elt` and back to f32: a value as a materialized
  /// tensor of `elt` would hold it.
  mlir::Value roundTrip(mlir::Value x, mlir::Type elt);
  mlir::Value load(mlir::Value memref, mlir::Value index);
  void store(mlir::Value v, mlir::Value memref, mlir::Value index);

  /// for (i = lb; i < ub; i += step) body(i), no loop-carried values.
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
               const std::function<void(mlir::Value)> &body);
  /// Same with one f32 accumulator; returns its final value.
  mlir::Value forLoopAcc(mlir::Value lb, mlir::Value ub, mlir::Value step,
                         mlir::Value init,
                         const std::function<mlir::Value(mlir::Value, mlir::Value)> &body);
  /// if (cond) body()
  void ifThen(mlir::Value cond, const std::function<void()> &body);

  /// Sum of `x` over the 32 lanes of a warp (xor butterfly; every lane gets it).
  mlir::Value warpSum(mlir::Value x);
  /// Sum of `x` over a block of `threads` threads (a multiple of 32), using
  /// `scratch` (workgroup memref<Wxf32>, W = threads / 32). Every thread gets
  /// the sum. Contains barriers: call from uniform control flow.
  mlir::Value blockSum(mlir::Value x, mlir::Value scratch, int64_t threads);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

/// A workgroup-memory memref type (shape, f32 by default).
mlir::MemRefType workgroupMemRef(mlir::MLIRContext *ctx,
                                 llvm::ArrayRef<int64_t> shape,
                                 mlir::Type elt);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_KERNELBUILDER_H
