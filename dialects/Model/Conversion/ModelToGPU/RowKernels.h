//===- RowKernels.h - per-token-row kernels: gather, norms, elementwise -*- C++ -*-===//
//
// Kernels whose work is independent per token row: the embedding gather,
// RMSNorm with the fusions the model needs (the DeepNorm residual that
// feeds it, the sigmoid gate that multiplies it) and plain elementwise ops.
// They reproduce the CPU target's rounding points exactly (see
// ModelToLinalg/LowerToLinalg.cpp): every value the model IR materializes as
// an activation tensor is rounded to the activation type, also inside a
// fused kernel.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_ROWKERNELS_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_ROWKERNELS_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/Support/LogicalResult.h"

namespace mm01::gpu {

/// out[t, :] = table[ids[t], :].
/// Params: table, ids (i32 [tokens]), out, tokens.
struct EmbeddingSpec {
  int64_t vocab = 0, hidden = 0;
  mlir::Type elt;
  int64_t maxTokens = 0;
};
mlir::FailureOr<GeneratedKernel> buildEmbedding(mlir::OpBuilder &b,
                                                mlir::gpu::GPUModuleOp module,
                                                const EmbeddingSpec &spec,
                                                mlir::Location loc);

/// One block per token row of `width` channels:
///   s   = residual ? round(round(α·a) + round(β·b)) : a
///   y   = round(w · round(s · rsqrt(mean(s²) + eps)))
///   out = gate ? round(y · round(sigmoid(g))) : y
/// Params: a, [b], w, [g], out, tokens. Row r of a tensor x is at
/// x + r · xStride (strides in elements; views of wider rows are allowed).
struct RowNormSpec {
  int64_t width = 0;
  double eps = 1e-5;
  mlir::Type elt;
  bool residual = false;
  double alpha = 1, beta = 1;
  bool gate = false;
  int64_t aStride = 0, bStride = 0, gStride = 0, outStride = 0;
  int64_t maxTokens = 0;
  int64_t threads = 128;
};
mlir::FailureOr<GeneratedKernel> buildRowNorm(mlir::OpBuilder &b,
                                              mlir::gpu::GPUModuleOp module,
                                              const RowNormSpec &spec,
                                              mlir::Location loc);

/// out = f(a[, b]) elementwise over `tokens` rows of `width`, computed in f32
/// and rounded once (residual: each product rounded first, as the CPU
/// lowering does). Params: a, [b], out, tokens.
struct ElementwiseSpec {
  enum class Kind { SiLU, Sigmoid, Mul, Residual };
  Kind kind = Kind::SiLU;
  int64_t width = 0;
  mlir::Type elt;
  double alpha = 1, beta = 1; // Residual
  int64_t aStride = 0, bStride = 0, outStride = 0;
  int64_t maxTokens = 0;
};
mlir::FailureOr<GeneratedKernel> buildElementwise(mlir::OpBuilder &b,
                                                  mlir::gpu::GPUModuleOp module,
                                                  const ElementwiseSpec &spec,
                                                  mlir::Location loc);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_ROWKERNELS_H
