//===- KernelBuilder.cpp - terse construction of gpu.func bodies ----------===//
#include "Model/Conversion/ModelToGPU/KernelBuilder.h"

using namespace mlir;

namespace mm01::gpu {

Value KernelBuilder::threadId(mlir::gpu::Dimension d) {
  return mlir::gpu::ThreadIdOp::create(b, loc, d);
}
Value KernelBuilder::blockId(mlir::gpu::Dimension d) {
  return mlir::gpu::BlockIdOp::create(b, loc, d);
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
