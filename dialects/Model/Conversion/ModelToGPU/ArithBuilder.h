//===- ArithBuilder.h - the arithmetic every kernel generator uses -*- C++ -*-===//
//
// Terse construction of gpu.func bodies with upstream ops (arith, math,
// memref, scf, gpu): index and f32 arithmetic, conversions between the
// activation type and f32, memory access and structured control flow, so
// that a generator reads like the kernel it builds. The specialised
// builders extend it: KernelBuilder (warp/block reductions, loops),
// TensorCoreBuilder (shared-memory addresses, cp.async, ldmatrix,
// mma.sync), WgmmaBuilder (warpgroup MMAs), and each generator's own
// helpers.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_ARITHBUILDER_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_ARITHBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace mm01::gpu {

struct ArithBuilder {
  mlir::OpBuilder &b;
  mlir::Location loc;

  ArithBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  // ---- constants ----
  mlir::Value idx(int64_t v) { return mlir::arith::ConstantIndexOp::create(b, loc, v); }
  mlir::Value i32c(int64_t v) {
    return mlir::arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  mlir::Value i1c(bool v) {
    return mlir::arith::ConstantIntOp::create(b, loc, b.getI1Type(), v);
  }
  mlir::Value f32c(double v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  mlir::Value f64c(double v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }

  // ---- index arithmetic (unsigned division; constants folded where trivial) ----
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value add(mlir::Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, int64_t y) { return y == 1 ? x : mul(x, idx(y)); }
  mlir::Value div(mlir::Value x, int64_t y) {
    return y == 1 ? x : mlir::arith::DivUIOp::create(b, loc, x, idx(y)).getResult();
  }
  mlir::Value rem(mlir::Value x, int64_t y) {
    return mlir::arith::RemUIOp::create(b, loc, x, idx(y));
  }
  mlir::Value cdiv(mlir::Value x, int64_t y) { return div(add(x, y - 1), y); }
  mlir::Value minS(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinSIOp::create(b, loc, x, y);
  }
  mlir::Value maxS(mlir::Value x, mlir::Value y) {
    return mlir::arith::MaxSIOp::create(b, loc, x, y);
  }
  mlir::Value cmp(mlir::arith::CmpIPredicate p, mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, loc, p, x, y);
  }
  mlir::Value ult(mlir::Value x, mlir::Value y) { return cmp(mlir::arith::CmpIPredicate::ult, x, y); }
  mlir::Value ult(mlir::Value x, int64_t y) { return ult(x, idx(y)); }
  mlir::Value slt(mlir::Value x, mlir::Value y) { return cmp(mlir::arith::CmpIPredicate::slt, x, y); }
  mlir::Value eq(mlir::Value x, mlir::Value y) { return cmp(mlir::arith::CmpIPredicate::eq, x, y); }
  mlir::Value land(mlir::Value x, mlir::Value y) { return mlir::arith::AndIOp::create(b, loc, x, y); }
  mlir::Value lor(mlir::Value x, mlir::Value y) { return mlir::arith::OrIOp::create(b, loc, x, y); }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return mlir::arith::SelectOp::create(b, loc, c, x, y);
  }

  // ---- integer conversions ----
  /// A signed i32 as an index.
  mlir::Value toIndex(mlir::Value i32) {
    return mlir::arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
  }
  /// A non-negative i32 as an index.
  mlir::Value toIndexU(mlir::Value i32) {
    return mlir::arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i32);
  }
  mlir::Value toI32(mlir::Value index) {
    return mlir::arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
  }
  /// A signed index as f32.
  mlir::Value indexToF32(mlir::Value x) {
    return mlir::arith::SIToFPOp::create(b, loc, b.getF32Type(), toI32(x));
  }

  // ---- f32 arithmetic ----
  mlir::Value fadd(mlir::Value x, mlir::Value y) { return mlir::arith::AddFOp::create(b, loc, x, y); }
  mlir::Value fsub(mlir::Value x, mlir::Value y) { return mlir::arith::SubFOp::create(b, loc, x, y); }
  mlir::Value fmul(mlir::Value x, mlir::Value y) { return mlir::arith::MulFOp::create(b, loc, x, y); }
  mlir::Value fdiv(mlir::Value x, mlir::Value y) { return mlir::arith::DivFOp::create(b, loc, x, y); }
  /// x·y + z as two roundings (no contraction: what the CPU target computes).
  mlir::Value mulAdd(mlir::Value x, mlir::Value y, mlir::Value z) { return fadd(fmul(x, y), z); }
  /// acc + x·y with `contract`: one fma.rn.f32.
  mlir::Value fmaContract(mlir::Value x, mlir::Value y, mlir::Value acc) {
    auto fmf = mlir::arith::FastMathFlagsAttr::get(b.getContext(),
                                                   mlir::arith::FastMathFlags::contract);
    mlir::Value prod = mlir::arith::MulFOp::create(b, loc, x, y, fmf);
    return mlir::arith::AddFOp::create(b, loc, acc, prod, fmf);
  }
  /// max(x, y) for non-NaN operands as compare + select (arith.maxnumf would
  /// become a libdevice call, __nv_fmaxf, in convert-gpu-to-nvvm).
  mlir::Value fmax(mlir::Value x, mlir::Value y) {
    mlir::Value gt =
        mlir::arith::CmpFOp::create(b, loc, mlir::arith::CmpFPredicate::OGT, x, y);
    return select(gt, x, y);
  }
  /// 2^x as math.exp2 (libdevice's exp2f: ex2.approx with a rescale below 2^-126).
  mlir::Value exp2(mlir::Value x) { return mlir::math::Exp2Op::create(b, loc, x); }
  /// One PTX instruction with one result as a pure inline-asm statement
  /// (no side effects: free to be scheduled and CSE'd).
  mlir::Value ptxPure(mlir::Type result, llvm::StringRef code, llvm::StringRef constraints,
                      mlir::ValueRange operands) {
    mlir::MLIRContext *ctx = b.getContext();
    return mlir::LLVM::InlineAsmOp::create(
               b, loc, result, operands, b.getStringAttr(code),
               b.getStringAttr(constraints), /*has_side_effects=*/mlir::UnitAttr(),
               /*is_align_stack=*/mlir::UnitAttr(),
               mlir::LLVM::TailCallKindAttr::get(ctx,
                                                 mlir::LLVM::tailcallkind::TailCallKind::None),
               mlir::LLVM::AsmDialectAttr::get(ctx, mlir::LLVM::AsmDialect::AD_ATT),
               /*operand_attrs=*/mlir::ArrayAttr())
        .getResult(0);
  }
  /// One f32 → f32 PTX instruction ("op $0, $1;").
  mlir::Value ptxUnary(llvm::StringRef code, mlir::Value x) {
    return ptxPure(b.getF32Type(), code, "=f,f", x);
  }
  /// 2^x as ex2.approx.ftz.f32: one MUFU.EX2 (results below 2^-126 flush to 0).
  mlir::Value exp2Ftz(mlir::Value x) { return ptxUnary("ex2.approx.ftz.f32 $0, $1;", x); }

  // ---- activation type <-> f32 (scalars or vectors) ----
  mlir::Value toF32(mlir::Value x) {
    mlir::Type f32 = b.getF32Type();
    if (mlir::getElementTypeOrSelf(x.getType()).isF32())
      return x;
    if (auto vt = llvm::dyn_cast<mlir::VectorType>(x.getType()))
      return mlir::arith::ExtFOp::create(b, loc, mlir::VectorType::get(vt.getShape(), f32), x);
    return mlir::arith::ExtFOp::create(b, loc, f32, x);
  }
  /// f32 x rounded to `elt` (round to nearest even); identity for f32.
  mlir::Value fromF32(mlir::Value x, mlir::Type elt) {
    if (elt.isF32())
      return x;
    if (auto vt = llvm::dyn_cast<mlir::VectorType>(x.getType()))
      return mlir::arith::TruncFOp::create(b, loc, mlir::VectorType::get(vt.getShape(), elt), x);
    return mlir::arith::TruncFOp::create(b, loc, elt, x);
  }
  /// f32 x rounded to `elt` and back: what a materialized tensor of `elt`
  /// would hold.
  mlir::Value roundTrip(mlir::Value x, mlir::Type elt) {
    return elt.isF32() ? x : toF32(fromF32(x, elt));
  }

  // ---- memory, synchronisation ----
  mlir::Value load(mlir::Value mem, mlir::Value i) {
    return mlir::memref::LoadOp::create(b, loc, mem, mlir::ValueRange{i});
  }
  void store(mlir::Value v, mlir::Value mem, mlir::Value i) {
    mlir::memref::StoreOp::create(b, loc, v, mem, mlir::ValueRange{i});
  }
  void barrier() { mlir::gpu::BarrierOp::create(b, loc); }

  // ---- structured control flow ----
  /// if (cond) body()
  void ifThen(mlir::Value cond, const std::function<void()> &body) {
    auto op = mlir::scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.thenBlock());
    body();
  }
  /// if (cond) then() else other()
  void ifThenElse(mlir::Value cond, const std::function<void()> &then,
                  const std::function<void()> &other) {
    auto op = mlir::scf::IfOp::create(b, loc, cond, /*withElseRegion=*/true);
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.thenBlock());
    then();
    b.setInsertionPointToStart(op.elseBlock());
    other();
  }
  /// cond ? then() : other(), one value from each region.
  mlir::Value ifElse(mlir::Value cond, const std::function<mlir::Value()> &then,
                     const std::function<mlir::Value()> &other) {
    auto op = mlir::scf::IfOp::create(
        b, loc, cond,
        [&](mlir::OpBuilder &, mlir::Location) { mlir::scf::YieldOp::create(b, loc, then()); },
        [&](mlir::OpBuilder &, mlir::Location) { mlir::scf::YieldOp::create(b, loc, other()); });
    return op.getResult(0);
  }
  /// scf.for lb..ub step with iter args; `body(iv, args)` returns the next
  /// args. Returns the loop's results.
  llvm::SmallVector<mlir::Value>
  loop(mlir::Value lb, mlir::Value ub, mlir::Value step, mlir::ValueRange init,
       const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> &body) {
    auto op = mlir::scf::ForOp::create(
        b, loc, lb, ub, step, init,
        [&](mlir::OpBuilder &, mlir::Location, mlir::Value iv, mlir::ValueRange args) {
          mlir::scf::YieldOp::create(b, loc, body(iv, args));
        });
    return llvm::SmallVector<mlir::Value>(op.getResults().begin(), op.getResults().end());
  }
};

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_ARITHBUILDER_H
