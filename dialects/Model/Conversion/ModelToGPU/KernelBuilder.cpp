//===- KernelBuilder.cpp - terse construction of gpu.func bodies ----------===//
#include "Model/Conversion/ModelToGPU/KernelBuilder.h"

using namespace mlir;

namespace mm01::gpu {

Value KernelBuilder::idx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value KernelBuilder::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
}
Value KernelBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value KernelBuilder::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value KernelBuilder::div(Value x, int64_t y) {
  return arith::DivUIOp::create(b, loc, x, idx(y));
}
Value KernelBuilder::rem(Value x, int64_t y) {
  return arith::RemUIOp::create(b, loc, x, idx(y));
}
Value KernelBuilder::lt(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
}
Value KernelBuilder::indexOf(Value i32) {
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i32);
}
Value KernelBuilder::threadId(mlir::gpu::Dimension d) {
  return mlir::gpu::ThreadIdOp::create(b, loc, d);
}
Value KernelBuilder::blockId(mlir::gpu::Dimension d) {
  return mlir::gpu::BlockIdOp::create(b, loc, d);
}
Value KernelBuilder::fadd(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value KernelBuilder::fmul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value KernelBuilder::toF32(Value x) {
  if (x.getType().isF32())
    return x;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
}
Value KernelBuilder::round(Value x, Type elt) {
  if (elt.isF32())
    return x;
  return arith::TruncFOp::create(b, loc, elt, x);
}
Value KernelBuilder::roundTrip(Value x, Type elt) {
  return elt.isF32() ? x : toF32(round(x, elt));
}
Value KernelBuilder::load(Value memref, Value index) {
  return memref::LoadOp::create(b, loc, memref, ValueRange{index});
}
void KernelBuilder::store(Value v, Value memref, Value index) {
  memref::StoreOp::create(b, loc, v, memref, ValueRange{index});
}

void KernelBuilder::forLoop(Value lb, Value ub, Value step,
                            const std::function<void(Value)> &body) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

Value KernelBuilder::forLoopAcc(Value lb, Value ub, Value step, Value init,
                                const std::function<Value(Value, Value)> &body) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, step, ValueRange{init});
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loop.getBody());
    Value next = body(loop.getInductionVar(), loop.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, next);
  }
  // The builder-created body has an implicit empty yield only when no
  // iter_args are given; with iter_args we added the yield ourselves.
  return loop.getResult(0);
}

void KernelBuilder::ifThen(Value cond, const std::function<void()> &body) {
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

Value KernelBuilder::warpSum(Value x) {
  for (int32_t off = 16; off >= 1; off /= 2) {
    Value y = mlir::gpu::ShuffleOp::create(b, loc, x, off, 32,
                                           mlir::gpu::ShuffleMode::XOR)
                  .getShuffleResult();
    x = fadd(x, y);
  }
  return x;
}

Value KernelBuilder::blockSum(Value x, Value scratch, int64_t threads) {
  Value s = warpSum(x);
  int64_t warps = threads / 32;
  if (warps == 1)
    return s;
  Value tid = threadId();
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value isLane0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        lane, idx(0));
  ifThen(isLane0, [&] { store(s, scratch, warp); });
  mlir::gpu::BarrierOp::create(b, loc);
  Value total = load(scratch, idx(0));
  for (int64_t w = 1; w < warps; ++w)
    total = fadd(total, load(scratch, idx(w)));
  // A second barrier so that a following blockSum may reuse the scratch.
  mlir::gpu::BarrierOp::create(b, loc);
  return total;
}

MemRefType workgroupMemRef(MLIRContext *ctx, ArrayRef<int64_t> shape,
                           Type elt) {
  auto space = mlir::gpu::AddressSpaceAttr::get(
      ctx, mlir::gpu::AddressSpace::Workgroup);
  return MemRefType::get(shape, elt, AffineMap(), space);
}

} // namespace mm01::gpu
