//===- LightningDecodeKernel.h - lightning-attention decode kernel -*- C++ -*-===//
//
// Generator of the recurrent lightning-attention decode step (one token per
// sequence; token b belongs to state slot b):
//
//   S_b,h ← e^{-λ_h} S_b,h + k_b,hᵀ v_b,h        (fp32 state, in place)
//   o_b,h = q_b,h S_b,h
//
// Every state element is read and written once (16-byte vectors, coalesced
// along the columns); o is reduced with gpu.shuffle xor and, across warps,
// through workgroup memory. The kernel body is shared with the older
// `mm01-lightning-decode-to-gpu` pass (memref-descriptor kernels, dense
// q/k/v), which builds it through buildLightningDecodeFunc below; see
// LightningDecodeKernel.cpp for the thread layout and docs/gpu-codegen.md.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGDECODEKERNEL_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGDECODEKERNEL_H

#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <functional>
#include <string>

namespace mm01::gpu {

/// The engine generator's spec. Parameters (bound by name, bare pointers):
///   q, k, v  (elt)  element (b, h, i) at b·token + h·head + i of its Strides
///                   (in the model: views of one interleaved QKV projection,
///                   bound at element offsets 0, D, 2D)
///   state    (f32)  [maxBatch, H, D, D], slot b = sequence b, in place
///   out      (elt)  element (b, h, j) likewise with `out`
/// Grid ("batch*H", D / cols, 1), block (threads): nothing but `batch` is
/// read at launch time. v is loaded and out stored as 4-element vectors when
/// their strides are multiples of 4 elements (the bound pointers must then be
/// 4-element aligned: offsets multiples of 4), element by element otherwise.
struct LightningDecodeSpec {
  int64_t heads = 0, dim = 0;      // H, D
  mlir::Type elt;                  // activation element type (bf16 or f32)
  llvm::SmallVector<double> decay; // λ_h per head
  bool siluInputs = false;         // SiLU on q, k, v as they are loaded
  /// Where element (b, h, i) of an activation is: b·token + h·head + i.
  struct Strides {
    int64_t token = 0, head = 0; // elements
  };
  Strides q, k, v, out;
  int64_t maxBatch = 1, maxTokens = 1; // upper bounds (memref extents)
  int64_t cols = 64;    // state columns per thread block (power of two, 4..128)
  int64_t threads = 256; // threads per block (multiple of 32, at most 1024)
  /// A second kernel for small batches (0: none): calls of at most
  /// `smallBatchMax` sequences run it instead (launch conditions
  /// smallBatchCondition / 1 - it), with its own tiling.
  int64_t smallBatchMax = 0;
  int64_t smallCols = 16, smallThreads = 512;
};

/// Fills in the tiling for a GPU of `smCount` SMs (measured on an H200,
/// docs/gpu-codegen.md "Decode tiling"): 64 columns × 512 threads per block
/// (4 rows per thread at D = 128); where a call of at most smallBatchMax
/// sequences gives no more than one such block per SM, a second kernel of
/// 16 columns with one row per thread spreads the same state over 4× the
/// blocks (the step is latency-bound there). When every batch up to
/// maxBatch is that small, the small tiling is the only one.
void chooseLightningDecodeTiles(LightningDecodeSpec &spec, int64_t smCount);

/// `spec` with the small-batch tiling as its tiling (and no second kernel).
LightningDecodeSpec smallBatchSpec(const LightningDecodeSpec &spec);

/// The launch condition of the small-batch kernel: "le(batch, N)".
std::string smallBatchCondition(const LightningDecodeSpec &spec);

/// Builds the decode kernel of `spec` at the end of `module` (name
/// lightning_decode_h<H>_d<D>_<elt>_c<cols>_t<threads>[_silu], made unique;
/// its decay table is the constant global <name>_decay). Emits an error at
/// `loc` and fails for an unsupported spec.
mlir::FailureOr<GeneratedKernel>
buildLightningDecode(mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
                     const LightningDecodeSpec &spec, mlir::Location loc);

//===----------------------------------------------------------------------===//
// The kernel body, shared with mm01-lightning-decode-to-gpu.
//===----------------------------------------------------------------------===//

/// What the body is specialized for.
struct LightningDecodeTiling {
  static constexpr int64_t kVec = 4; // state columns per thread
  int64_t heads = 0, dim = 0, cols = 64, threads = 256;
  mlir::Type elt;
  bool siluInputs = false;
  bool vectorV = true, vectorOut = true; // 4-element vector v loads / o stores
  // q_i, k_i of a thread's rows read 4 at a time (when R is a multiple of 4)
  bool vectorQK = true;

  int64_t colGroups() const { return cols / kVec; }
  int64_t rowGroups() const { return threads / colGroups(); }
  int64_t rowsPerThread() const { return dim / rowGroups(); }
  int64_t warps() const { return threads / 32; }
};

/// Empty when (dim, cols, threads) is supported; otherwise the reason.
std::string checkLightningDecodeTiling(int64_t dim, int64_t cols,
                                       int64_t threads);

/// An element of a kernel operand: the memref (a kernel argument) and the
/// indices to load or store at.
struct DecodeAccess {
  mlir::Value memref;
  llvm::SmallVector<mlir::Value, 4> indices;
};
enum class DecodeOperand { Q, K, V, Out };
/// How the kernel arguments `args` are addressed: activations by (sequence
/// b, head h, position i along D), the state by (b, h, row, column).
struct LightningDecodeAddressing {
  std::function<DecodeAccess(mlir::OpBuilder &, mlir::ValueRange args,
                             DecodeOperand, mlir::Value b, mlir::Value h,
                             mlir::Value i)>
      act;
  std::function<DecodeAccess(mlir::OpBuilder &, mlir::ValueRange args,
                             mlir::Value b, mlir::Value h, mlir::Value row,
                             mlir::Value col)>
      state;
};

/// Creates the constant table `<name>_decay` (e^{-λ_h}: f64 exp rounded to
/// f32) and the kernel `name` with `paramTypes` at the end of `module`, and
/// emits its body. The grid must be (B·H, D / cols), the block (threads).
mlir::gpu::GPUFuncOp buildLightningDecodeFunc(
    mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
    llvm::StringRef name, const LightningDecodeTiling &tiling,
    llvm::ArrayRef<double> decay, llvm::ArrayRef<mlir::Type> paramTypes,
    const LightningDecodeAddressing &addressing, mlir::Location loc);

/// Registers the test pass `mm01-test-lightning-decode-kernel` (builds a
/// module holding just the kernel of one spec).
void registerTestLightningDecodeKernelPass();

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_LIGHTNINGDECODEKERNEL_H
