//===- GeneratedKernel.h - what a kernel generator returns ------*- C++ -*-===//
//
// Every GPU kernel of an engine is built by a generator function from a spec
// (shapes known at compile time, tile sizes chosen by the caller) into a
// gpu.func inside a gpu.module. The function follows the calling convention
// of docs/gpu-engine-abi.md: memref parameters are static-shape, identity-
// layout memrefs (one device pointer each under the bare-pointer convention),
// scalars are i32 or f32. The launch configuration is returned next to it as
// engine expressions (docs/engine-format.md) over batch/seq/tokens/context/
// past, so the schedule can be written without knowing the kernel's insides.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_GENERATEDKERNEL_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_GENERATEDKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mm01::gpu {

enum class ParamKind { Ptr, I32, F32 };

struct KernelParamDesc {
  std::string name; // "q", "cu_seqlens", "tokens", ...
  ParamKind kind = ParamKind::Ptr;
};

struct GeneratedKernel {
  mlir::gpu::GPUFuncOp func;
  /// Grid dimensions as engine expressions, e.g. {"cdiv(tokens, 4)", "8", "1"}.
  std::array<std::string, 3> grid = {"1", "1", "1"};
  std::array<int64_t, 3> block = {1, 1, 1};
  int64_t dynamicSmemBytes = 0;
  /// One entry per gpu.func argument, in order.
  std::vector<KernelParamDesc> params;
  /// In a sequence of kernels (a generator returning several), this one may
  /// start before the previous one finishes (programmatic dependent
  /// launch): it reads what that kernel wrote only after
  /// `nvvm.griddepcontrol wait`, and all else it reads was written before
  /// the sequence started.
  bool overlapsPrevious = false;
};

/// A 1-D static memref of `elements` values of `elt`: the type of a pointer
/// parameter (the extent is only an upper bound; kernels index it linearly).
inline mlir::MemRefType pointerParamType(mlir::Type elt, int64_t elements) {
  return mlir::MemRefType::get({elements}, elt);
}

/// Creates an empty kernel `name` at the end of `module` with the given
/// parameters (memref types for Ptr, i32/f32 otherwise), marked as a kernel
/// with a known block size, with `workgroupBuffers` as workgroup (shared
/// memory) attributions (see workgroupMemRef in KernelBuilder.h). The body has one block whose arguments are the
/// parameters; the caller fills it and ends it with gpu.return.
mlir::gpu::GPUFuncOp
createKernelFunc(mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                 llvm::StringRef name, llvm::ArrayRef<mlir::Type> paramTypes,
                 std::array<int64_t, 3> block, mlir::Location loc,
                 llvm::ArrayRef<mlir::Type> workgroupBuffers = {});

/// The gpu.module named `name` in `module`, created (with no target yet)
/// when absent.
mlir::gpu::GPUModuleOp getOrCreateGPUModule(mlir::ModuleOp module,
                                            llvm::StringRef name);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_GENERATEDKERNEL_H
