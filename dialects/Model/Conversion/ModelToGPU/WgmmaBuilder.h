//===- WgmmaBuilder.h - IR for Hopper warpgroup MMA tiles ------*- C++ -*-===//
//
// The sm_90a device primitives that generated warpgroup kernels call, as IR
// builders on top of TensorCoreBuilder: wgmma.mma_async (m64nNk16, bf16 x bf16
// -> f32, A from shared memory or registers, B from shared memory), its
// fence / commit / wait, shared-memory matrix descriptors for the 128-byte
// swizzled layout, the generic -> async proxy fence and named barriers.
//
// Layout (PTX ISA "Shared Memory Matrix Layout", 128B swizzle): a tile is
// stored as panels of 64 bf16 columns; a panel is rows of 128 bytes, 8 rows
// (1024 bytes, 1024-aligned) form a swizzle atom in which the 16-byte piece c
// of row r sits at piece c ^ (r % 8). The same bytes serve as a K-major
// operand (rows = M or N, columns = K: descriptor SBO = 1024, one k16 step =
// +32 bytes inside the row, the next panel after 4 steps) and as an MN-major
// one (rows = K, columns = M or N: SBO = 1024 between 8-row groups of K, LBO
// = the panel stride between 64-column blocks, one k16 step = +2048 bytes).
//
// wgmma is asynchronous: its accumulator registers may only be touched after
// a wait. Each fence/wait is emitted as one inline-asm statement whose tied
// operands are the registers it guards, so that no arithmetic on them can be
// scheduled across it (what CUTLASS's warpgroup_fence_operand does).
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_WGMMABUILDER_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_WGMMABUILDER_H

#include "Model/Conversion/ModelToGPU/TensorCoreBuilder.h"

#include "llvm/ADT/Twine.h"

#include <string>

namespace mm01::gpu {
namespace tc_detail {

struct WgmmaBuilder {
  TensorCoreBuilder &g;
  explicit WgmmaBuilder(TensorCoreBuilder &g) : g(g) {}

  /// Inline PTX; `results` types in order (none, one, or a struct of them).
  SmallVector<Value> ptx(StringRef code, StringRef constraints, ValueRange operands,
                         ArrayRef<Type> results) {
    MLIRContext *ctx = g.b.getContext();
    Type resTy;
    if (results.size() == 1)
      resTy = results[0];
    else if (results.size() > 1)
      resTy = LLVM::LLVMStructType::getLiteral(ctx, results);
    auto op = LLVM::InlineAsmOp::create(
        g.b, g.loc, resTy ? TypeRange{resTy} : TypeRange{}, operands,
        g.b.getStringAttr(code), g.b.getStringAttr(constraints),
        /*has_side_effects=*/g.b.getUnitAttr(), /*is_align_stack=*/UnitAttr(),
        LLVM::TailCallKindAttr::get(ctx, LLVM::tailcallkind::TailCallKind::None),
        LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    SmallVector<Value> out;
    if (results.size() == 1)
      out.push_back(op.getResult(0));
    else
      for (int64_t i = 0, e = results.size(); i < e; ++i)
        out.push_back(LLVM::ExtractValueOp::create(g.b, g.loc, op.getResult(0),
                                                   ArrayRef<int64_t>{i}));
    return out;
  }
  void ptx(StringRef code) { ptx(code, "", {}, {}); }

  /// `code` with `regs` (f32 or i32) as tied in/out operands: the returned
  /// values are the registers after it.
  SmallVector<Value> guarded(StringRef code, ValueRange regs) {
    if (regs.empty()) {
      ptx(code);
      return {};
    }
    std::string cons;
    SmallVector<Type> types;
    for (Value r : regs) {
      cons += (cons.empty() ? "" : ",");
      cons += r.getType().isF32() ? "=f" : "=r";
      types.push_back(r.getType());
    }
    for (size_t i = 0; i < regs.size(); ++i)
      cons += "," + std::to_string(i);
    return ptx(code, cons, regs, types);
  }
  /// wgmma.fence: orders earlier register writes before later wgmmas.
  SmallVector<Value> fence(ValueRange regs) {
    return guarded("wgmma.fence.sync.aligned;", regs);
  }
  void commit() { ptx("wgmma.commit_group.sync.aligned;"); }
  /// Waits until at most `pending` committed groups are still running.
  SmallVector<Value> wait(int64_t pending, ValueRange regs) {
    return guarded(("wgmma.wait_group.sync.aligned " + llvm::Twine(pending) + ";").str(),
                   regs);
  }
  /// Generic-proxy shared-memory writes (st.shared, cp.async) made visible
  /// to later wgmma reads (after a barrier).
  void fenceProxyAsync() { ptx("fence.proxy.async.shared::cta;"); }
  /// bar.sync `id`, `threads` (a barrier of a subset of the block's warps).
  void namedBarrier(int64_t id, int64_t threads) {
    ptx(("bar.sync " + llvm::Twine(id) + ", " + llvm::Twine(threads) + ";").str());
  }

  /// bar.arrive `id`, `threads`: signals a named barrier without waiting.
  void namedBarrierArrive(int64_t id, int64_t threads) {
    ptx(("bar.arrive " + llvm::Twine(id) + ", " + llvm::Twine(threads) + ";").str());
  }

  /// Matrix descriptor (i64) of a 128B-swizzled operand starting at shared
  /// byte address `addr` (index): start >> 4 in bits 0-13, LBO >> 4 in
  /// 16-29, SBO >> 4 in 32-45, swizzle mode 1 (128B) in 62-63.
  Value desc(Value addr, int64_t lboBytes, int64_t sboBytes) {
    Type i64 = g.b.getI64Type();
    Value a = arith::IndexCastOp::create(g.b, g.loc, i64, addr);
    auto cst = [&](int64_t v) { return arith::ConstantIntOp::create(g.b, g.loc, i64, v); };
    a = arith::ShRUIOp::create(g.b, g.loc,
                               arith::AndIOp::create(g.b, g.loc, a, cst(0x3FFFF)),
                               cst(4));
    int64_t hi = ((lboBytes >> 4) & 0x3FFF) << 16 | ((sboBytes >> 4) & 0x3FFF) << 32 |
                 (int64_t(1) << 62);
    return arith::OrIOp::create(g.b, g.loc, a, cst(hi));
  }
  /// `d` advanced by `bytes` (a multiple of 16).
  Value advance(Value d, int64_t bytes) {
    if (!bytes)
      return d;
    return arith::AddIOp::create(
        g.b, g.loc, d,
        arith::ConstantIntOp::create(g.b, g.loc, g.b.getI64Type(), bytes >> 4));
  }
  /// K-major descriptor (LBO unused: 16 bytes) / MN-major (LBO: panel stride).
  Value descK(Value addr) { return desc(addr, 16, 1024); }
  Value descMN(Value addr, int64_t panelBytes) { return desc(addr, panelBytes, 1024); }

  /// Byte offset of element (row, col) of a swizzled tile of `rows` rows.
  Value swizzled(Value row, Value col, int64_t rows) {
    Value panel = g.div(col, 64), c = g.rem(col, 64);
    Value piece = arith::XOrIOp::create(g.b, g.loc, g.div(c, 8), g.rem(row, 8));
    return g.add(g.add(g.mul(panel, rows * 128), g.mul(row, 128)),
                 g.add(g.mul(piece, 16), g.mul(g.rem(c, 8), 2)));
  }

  /// wgmma.mma_async m64{n}k16 f32 += bf16 · bf16, A and B from shared
  /// memory (`transA`/`transB`: M-/N-major). `accumulate` false: D = A·B.
  SmallVector<Value> mmaSS(int64_t n, ValueRange acc, Value descA, Value descB,
                           bool accumulate, bool transA, bool transB) {
    return mma(n, acc, {descA}, descB, accumulate, transA, transB);
  }
  /// The same with A (64 x 16 bf16, the m16n8k16 A fragment of each warp's
  /// 16 rows: 4 x i32) from registers.
  SmallVector<Value> mmaRS(int64_t n, ValueRange acc, ValueRange aFrag, Value descB,
                           bool accumulate, bool transB) {
    return mma(n, acc, aFrag, descB, accumulate, /*transA=*/false, transB);
  }

private:
  SmallVector<Value> mma(int64_t n, ValueRange acc, ValueRange a, Value descB,
                         bool accumulate, bool transA, bool transB) {
    const int64_t nAcc = n / 2;
    assert(int64_t(acc.size()) == nAcc && "m64nN accumulators: N/2 f32 per thread");
    const bool regA = a.size() == 4;
    std::string code = "{\n.reg .pred p;\nsetp.ne.b32 p, $" +
                       std::to_string(nAcc + a.size() + 1) + ", 0;\n" +
                       "wgmma.mma_async.sync.aligned.m64n" + std::to_string(n) +
                       "k16.f32.bf16.bf16 {";
    std::string cons;
    for (int64_t i = 0; i < nAcc; ++i) {
      code += (i ? ", $" : "$") + std::to_string(i);
      cons += (i ? ",=f" : "=f");
    }
    code += "}, ";
    if (regA) {
      code += "{";
      for (int64_t i = 0; i < 4; ++i)
        code += (i ? ", $" : "$") + std::to_string(nAcc + i);
      code += "}";
      cons += ",r,r,r,r";
    } else {
      code += "$" + std::to_string(nAcc);
      cons += ",l";
    }
    code += ", $" + std::to_string(nAcc + a.size()) + ", p, 1, 1";
    if (!regA)
      code += transA ? ", 1" : ", 0";
    code += transB ? ", 1;\n}" : ", 0;\n}";
    cons += ",l,r";
    for (int64_t i = 0; i < nAcc; ++i)
      cons += "," + std::to_string(i);
    SmallVector<Value> operands(a.begin(), a.end());
    operands.push_back(descB);
    operands.push_back(arith::ConstantIntOp::create(g.b, g.loc, g.i32, accumulate));
    operands.append(acc.begin(), acc.end());
    return ptx(code, cons, operands, SmallVector<Type>(nAcc, g.f32));
  }
};

} // namespace tc_detail

using tc_detail::WgmmaBuilder;

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_WGMMABUILDER_H
