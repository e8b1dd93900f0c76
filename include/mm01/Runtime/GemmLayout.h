//===- GemmLayout.h - a row-major GEMM as cuBLASLt's column-major one -*- C++ -*-===//
//
// The schedule's GEMMs are row-major (docs/engine-format.md):
//   C[M, N] = alpha · op(A) · op(B) + beta · C,  op(A) [M, K], op(B) [K, N],
// trans_b meaning B is stored [N, K]. cuBLASLt is column-major, and a
// row-major X[r, c] with leading dimension ld is, read column-major, the
// matrix Xᵀ [c, r] with the same ld. So the runtime computes
//   Cᵀ[N, M] = op(B)ᵀ · op(A)ᵀ
// in cuBLASLt: its first operand is our B, its second our A, its m/n are
// our N/M. This header does that mapping (and the default, dense leading
// dimensions) as a pure function, tested against a host reference.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_GEMMLAYOUT_H
#define MM01_RUNTIME_GEMMLAYOUT_H

#include "mm01/Support/Result.h"

#include <cstdint>
#include <optional>

namespace mm01::runtime {

/// A row-major GEMM of the schedule, sizes evaluated. Absent leading
/// dimensions are dense: A's row length (K, or M with trans_a), B's (N, or
/// K with trans_b), C's N.
struct RowMajorGemm {
  int64_t m = 0, n = 0, k = 0;
  bool transA = false, transB = false;
  std::optional<int64_t> lda, ldb, ldc;
};

/// One operand as cuBLASLt's matrix layout: column-major rows x cols with
/// leading dimension ld (elements), and whether the matmul transposes it.
struct LtOperand {
  int64_t rows = 0, cols = 0, ld = 0;
  bool trans = false;
  /// Elements from the first to one past the last one the GEMM reads or
  /// writes: (cols - 1) * ld + rows.
  int64_t extent() const { return (cols - 1) * ld + rows; }
};

/// The cuBLASLt problem: D[m, n] = alpha · op(a) · op(b) + beta · C, C = D
/// with layout c (never transposed).
struct LtGemm {
  int64_t m = 0, n = 0, k = 0;
  LtOperand a, b, c;
};

/// Maps a row-major GEMM to cuBLASLt's view. Refuses non-positive sizes and
/// leading dimensions shorter than a row; the error names the field.
Result<LtGemm> toColumnMajor(const RowMajorGemm &gemm);

} // namespace mm01::runtime

#endif // MM01_RUNTIME_GEMMLAYOUT_H
