//===- GemmLayout.cpp - row-major GEMM to cuBLASLt's column-major view -----===//
#include "mm01/Runtime/GemmLayout.h"

#include <string>

using namespace mm01;
using namespace mm01::runtime;

namespace {
/// A row-major matrix stored [rows, cols] is column-major [cols, rows].
Result<LtOperand> storedAs(const char *field, int64_t storedRows, int64_t storedCols,
                           std::optional<int64_t> ld, bool trans) {
  LtOperand op;
  op.rows = storedCols;
  op.cols = storedRows;
  op.ld = ld.value_or(storedCols);
  op.trans = trans;
  if (op.ld < op.rows)
    return makeError(std::string(field) + " " + std::to_string(op.ld) +
                     " is less than the row length " + std::to_string(op.rows));
  return op;
}
} // namespace

Result<LtGemm> mm01::runtime::toColumnMajor(const RowMajorGemm &g) {
  if (g.m < 1 || g.n < 1 || g.k < 1)
    return makeError("gemm sizes must be positive, found m " + std::to_string(g.m) +
                     ", n " + std::to_string(g.n) + ", k " + std::to_string(g.k));
  LtGemm lt;
  lt.m = g.n;
  lt.n = g.m;
  lt.k = g.k;
  // cuBLASLt's first operand is our B: op(B)ᵀ is [N, K]. Stored [K, N] it
  // reads column-major as [N, K] already; stored [N, K] (trans_b) it reads
  // as [K, N] and is transposed.
  Result<LtOperand> a = g.transB ? storedAs("ldb", g.n, g.k, g.ldb, true)
                                 : storedAs("ldb", g.k, g.n, g.ldb, false);
  if (!a)
    return a.takeError();
  // The second operand is our A: op(A)ᵀ is [K, M]. Stored [M, K] it reads as
  // [K, M]; stored [K, M] (trans_a) it reads as [M, K] and is transposed.
  Result<LtOperand> b = g.transA ? storedAs("lda", g.k, g.m, g.lda, true)
                                 : storedAs("lda", g.m, g.k, g.lda, false);
  if (!b)
    return b.takeError();
  Result<LtOperand> c = storedAs("ldc", g.m, g.n, g.ldc, false);
  if (!c)
    return c.takeError();
  lt.a = *a;
  lt.b = *b;
  lt.c = *c;
  return lt;
}
