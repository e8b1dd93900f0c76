//===- EntryShape.h - the call sizes an entry function is compiled for -*- C++ -*-===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_ENTRYSHAPE_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_ENTRYSHAPE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <utility>

namespace mm01::gpu {

/// The token shape {B, B·T} of an entry (a func.func with `mm01.entry`): its
/// embedding's ids, or, in a module without an embedding (a single-op test
/// module, test/gpu/ops), its first argument, which must then be a
/// [B, T, ...] activation. {0, 0} if neither.
std::pair<int64_t, int64_t> entryTokenShape(mlir::func::FuncOp fn);

/// The largest B·T over the module's entries: the pointer extents of the
/// generated kernels, which prefill and decode share.
int64_t kernelMaxTokens(mlir::ModuleOp module);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_ENTRYSHAPE_H
