//===- TensorCoreBuilder.h - IR for tensor-core tiles --------*- C++ -*-===//
//
// The device primitives that generated tensor-core kernels call, as IR
// builders (on ArithBuilder's arithmetic): bf16 packing, cp.async (16-byte
// global -> shared copies), ldmatrix fragments (x1/x2/x4, optionally
// transposed) and mma.sync m16n8k16 (bf16 x bf16 -> f32). Fragment layouts
// are PTX's: lane = 4*g + t, an A fragment holds rows g and g+8, columns
// 2t..2t+1 and 2t+8..2t+9 of a 16 x 16 tile; a C fragment rows g and g+8,
// columns 2t..2t+1 of a 16 x 8 tile.
//
// Shared memory is addressed as integers (index-typed byte addresses from
// memref.extract_aligned_pointer_as_index) so that cp.async and ldmatrix take
// addresses the generator computes once per thread.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_TENSORCOREBUILDER_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_TENSORCOREBUILDER_H

#include "Model/Conversion/ModelToGPU/ArithBuilder.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <array>

namespace mm01::gpu {

using Frag4 = std::array<mlir::Value, 4>; // A fragment (4 x i32) or C fragment (4 x f32)
using Frag2 = std::array<mlir::Value, 2>; // B fragment (2 x i32)

// The builder is used inside generator translation units that say
// `using namespace mlir`; spell the types out here.
namespace tc_detail {
using namespace mlir;
/// Terse IR construction inside a tensor-core kernel body.
struct TensorCoreBuilder : ArithBuilder {
  Type f32, bf16, i32;

  TensorCoreBuilder(mlir::OpBuilder &b, mlir::Location loc)
      : ArithBuilder(b, loc), f32(b.getF32Type()), bf16(b.getBF16Type()),
        i32(b.getI32Type()) {}

  Value loadIndex(Value memref, Value i) { return toIndex(load(memref, i)); } // i32 element
  Value truncBF16(Value x) { return arith::TruncFOp::create(b, loc, bf16, x); }
  Value extF32(Value x) { return arith::ExtFOp::create(b, loc, f32, x); }
  /// Two f32 rounded to bf16 and packed into an i32 (x in the low half).
  Value pack(Value x, Value y) {
    Value v = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, bf16), ValueRange{truncBF16(x), truncBF16(y)});
    return LLVM::BitcastOp::create(b, loc, i32, v);
  }
  /// pack(x, y) as one cvt.rn.bf16x2.f32 (F2FP.BF16.F32.PACK_AB): the same
  /// rounding, where ptxas would otherwise keep two per-element conversions
  /// (F2F, on the quarter-rate conversion pipe) and a PRMT.
  Value packCvt(Value x, Value y) {
    return ptxPure(i32, "cvt.rn.bf16x2.f32 $0, $2, $1;", "=r,f,f", ValueRange{x, y});
  }
  /// Two adjacent bf16 of a shared 2-D buffer as an i32 (4-byte aligned).
  Value ld2(Value mem, Value r, Value col) {
    Value v = vector::LoadOp::create(b, loc, VectorType::get({2}, bf16), mem,
                                     ValueRange{r, col}, /*nontemporal=*/false,
                                     llvm::MaybeAlign(4));
    return LLVM::BitcastOp::create(b, loc, i32, v);
  }
  void st2(Value packed, Value mem, ValueRange idx) {
    Value v = LLVM::BitcastOp::create(b, loc, VectorType::get({2}, bf16), packed);
    vector::StoreOp::create(b, loc, v, mem, idx, /*nontemporal=*/false,
                            llvm::MaybeAlign(4));
  }
  // ---- raw addresses (index-typed byte addresses) ----
  /// The aligned base address of a memref (global or shared).
  Value baseAddr(Value memref) {
    return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  }
  Value ptr(Value addr, unsigned space) {
    Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(), addr);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), space), i);
  }
  Value smemPtr(Value addr) { return ptr(addr, 3); }
  /// 32-bit store to shared memory.
  void sts32(Value addr, Value x) { LLVM::StoreOp::create(b, loc, x, smemPtr(addr), 4); }
  /// cp.async.cg of 16 bytes, global → shared.
  void cpAsync16(Value dst, Value src) {
    NVVM::CpAsyncOp::create(b, loc, smemPtr(dst), ptr(src, 1), 16,
                            NVVM::LoadCacheModifierKind::CG, Value());
  }
  /// ldmatrix.sync.aligned.m8n8.x{num}[.trans].shared.b16: `num` i32 per lane.
  SmallVector<Value> ldsm(Value addr, int64_t num, bool trans) {
    Type resTy = i32;
    if (num > 1)
      resTy = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                               SmallVector<Type>(num, i32));
    Value r = NVVM::LdMatrixOp::create(
        b, loc, resTy, smemPtr(addr), uint32_t(num),
        trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
        NVVM::LdStMatrixEltType::B16);
    if (num == 1)
      return {r};
    SmallVector<Value> out;
    for (int64_t e = 0; e < num; ++e)
      out.push_back(LLVM::ExtractValueOp::create(b, loc, r, ArrayRef<int64_t>{e}));
    return out;
  }
  Frag4 ldsm4(Value addr, bool trans) {
    auto v = ldsm(addr, 4, trans);
    return {v[0], v[1], v[2], v[3]};
  }
  Frag2 ldsm2(Value addr, bool trans) {
    auto v = ldsm(addr, 2, trans);
    return {v[0], v[1]};
  }
  /// Element e (0: low half) of a bf16 pair held in an i32, as f32.
  Value unpackBF16(Value x, int64_t e) {
    Value bits;
    if (e == 0)
      bits = arith::ShLIOp::create(b, loc, x,
                                   arith::ConstantIntOp::create(b, loc, i32, 16));
    else
      bits = arith::AndIOp::create(b, loc, x,
                                   arith::ConstantIntOp::create(b, loc, i32, -65536));
    return arith::BitcastOp::create(b, loc, f32, bits);
  }
  /// Two bf16 packed into an i32 (x in the low half).
  Value packBF16(Value x, Value y) {
    Value v = vector::FromElementsOp::create(b, loc, VectorType::get({2}, bf16),
                                             ValueRange{x, y});
    return LLVM::BitcastOp::create(b, loc, i32, v);
  }

  /// D = A·B + C with mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32.
  Frag4 mma(const Frag4 &a, const Frag2 &bb, const Frag4 &acc) {
    auto resTy = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                  {f32, f32, f32, f32});
    Value r = NVVM::MmaOp::create(
        b, loc, resTy, ValueRange(a), ValueRange(bb), ValueRange(acc),
        ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    Frag4 out;
    for (int64_t e = 0; e < 4; ++e)
      out[e] = LLVM::ExtractValueOp::create(b, loc, r, ArrayRef<int64_t>{e});
    return out;
  }
  /// A fragment (16 × 16, row-major) at (r0, k0) of a shared [rows][cols] buffer.
  Frag4 fragA(Value mem, Value r0, Value k0, Value g, Value t2) {
    Value ra = add(r0, g), rb = add(ra, 8), ka = add(k0, t2), kb = add(ka, 8);
    return {ld2(mem, ra, ka), ld2(mem, rb, ka), ld2(mem, ra, kb), ld2(mem, rb, kb)};
  }
  /// B fragment (16 × 8, "col") at (k0, n0) from a shared buffer holding Bᵀ
  /// row-major ([n][k]).
  Frag2 fragB(Value memT, Value n0, Value k0, Value g, Value t2) {
    Value n = add(n0, g), ka = add(k0, t2);
    return {ld2(memT, n, ka), ld2(memT, n, add(ka, 8))};
  }
  Frag4 zero4() {
    Value z = f32c(0.0);
    return {z, z, z, z};
  }
};

} // namespace tc_detail

using tc_detail::TensorCoreBuilder;

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_TENSORCOREBUILDER_H
