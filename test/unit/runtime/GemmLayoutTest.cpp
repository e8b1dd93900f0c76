//===- GemmLayoutTest.cpp - row-major GEMMs as cuBLASLt column-major ones --===//
//
// The mapping is checked by running it: a column-major GEMM that reads and
// writes memory exactly as cuBLASLt would with the computed layouts must
// give the row-major result computed directly.
//
//===----------------------------------------------------------------------===//
#include "mm01/Runtime/GemmLayout.h"

#include "../TestUtil.h"

#include <cmath>

using namespace mm01;
using namespace mm01::runtime;

namespace {
/// cuBLASLt's semantics: D = op(A) · op(B), column-major with leading dims.
void columnMajorGemm(const LtGemm &g, const std::vector<double> &a,
                     const std::vector<double> &b, std::vector<double> &c) {
  auto at = [](const LtOperand &op, const std::vector<double> &x, int64_t i, int64_t j) {
    // Element (i, j) of op(X).
    return op.trans ? x[j + i * op.ld] : x[i + j * op.ld];
  };
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < g.k; ++k)
        sum += at(g.a, a, i, k) * at(g.b, b, k, j);
      c[i + j * g.c.ld] = sum;
    }
}

struct Case {
  int64_t m, n, k;
  bool transA, transB;
  int64_t padA, padB, padC; // extra elements per stored row (0: dense)
};

void check(const Case &t) {
  // Row-major storage: A [M,K] or [K,M]; B [K,N] or [N,K]; C [M,N].
  const int64_t aRows = t.transA ? t.k : t.m, aCols = t.transA ? t.m : t.k;
  const int64_t bRows = t.transB ? t.n : t.k, bCols = t.transB ? t.k : t.n;
  const int64_t lda = aCols + t.padA, ldb = bCols + t.padB, ldc = t.n + t.padC;
  std::vector<double> A(aRows * lda), B(bRows * ldb), C(t.m * ldc, 0), ref(t.m * t.n);
  for (size_t i = 0; i < A.size(); ++i)
    A[i] = std::sin(0.7 * i + 0.1);
  for (size_t i = 0; i < B.size(); ++i)
    B[i] = std::cos(0.3 * i);
  auto opA = [&](int64_t i, int64_t k) { return t.transA ? A[k * lda + i] : A[i * lda + k]; };
  auto opB = [&](int64_t k, int64_t j) { return t.transB ? B[j * ldb + k] : B[k * ldb + j]; };
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = 0; j < t.n; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < t.k; ++k)
        sum += opA(i, k) * opB(k, j);
      ref[i * t.n + j] = sum;
    }

  RowMajorGemm g{t.m, t.n, t.k, t.transA, t.transB, std::nullopt, std::nullopt,
                 std::nullopt};
  if (t.padA)
    g.lda = lda;
  if (t.padB)
    g.ldb = ldb;
  if (t.padC)
    g.ldc = ldc;
  Result<LtGemm> lt = toColumnMajor(g);
  ASSERT_TRUE(lt.ok()) << lt.error();
  EXPECT_EQ(lt->m, t.n);
  EXPECT_EQ(lt->n, t.m);
  // The extents are what the runtime checks against the buffers: exactly the
  // stored matrices, less the padding after the last row.
  EXPECT_EQ(lt->b.extent(), (aRows - 1) * lda + aCols);
  EXPECT_EQ(lt->a.extent(), (bRows - 1) * ldb + bCols);
  EXPECT_EQ(lt->c.extent(), (t.m - 1) * ldc + t.n);
  // cuBLASLt's first operand is B, its second A.
  columnMajorGemm(*lt, B, A, C);
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = 0; j < t.n; ++j)
      ASSERT_NEAR(C[i * ldc + j], ref[i * t.n + j], 1e-12)
          << "m " << t.m << " n " << t.n << " k " << t.k << " transA " << t.transA
          << " transB " << t.transB << " at [" << i << ", " << j << "]";
}
} // namespace

TEST(GemmLayout, EveryTransposeCombinationMatchesTheRowMajorReference) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check({5, 3, 4, ta, tb, 0, 0, 0});
      check({1, 7, 2, ta, tb, 0, 0, 0});
      check({4, 6, 3, ta, tb, 2, 1, 3}); // leading dimensions past the rows
    }
}

TEST(GemmLayout, LinearLayerIsTransB) {
  // y[T, N] = x[T, K] · W[N, K]ᵀ: cuBLASLt computes yᵀ[N, T] = W · xᵀ, its A
  // being W (stored [N, K] row-major, i.e. [K, N] column-major) transposed.
  Result<LtGemm> lt = toColumnMajor({8, 16, 32, false, true, std::nullopt,
                                     std::nullopt, std::nullopt});
  ASSERT_TRUE(lt.ok());
  EXPECT_TRUE(lt->a.trans);
  EXPECT_FALSE(lt->b.trans);
  EXPECT_EQ(lt->a.rows, 32);
  EXPECT_EQ(lt->a.cols, 16);
  EXPECT_EQ(lt->a.ld, 32);
  EXPECT_EQ(lt->b.rows, 32);
  EXPECT_EQ(lt->b.cols, 8);
  EXPECT_EQ(lt->c.rows, 16);
  EXPECT_EQ(lt->c.ld, 16);
}

TEST(GemmLayout, RefusesShortLeadingDimensionsAndEmptySizes) {
  EXPECT_ERROR_CONTAINS(toColumnMajor({4, 4, 8, false, false, 7, std::nullopt, std::nullopt}),
                        "lda 7 is less than the row length 8");
  EXPECT_ERROR_CONTAINS(toColumnMajor({4, 4, 8, false, true, std::nullopt, 4, std::nullopt}),
                        "ldb 4 is less than the row length 8");
  EXPECT_ERROR_CONTAINS(toColumnMajor({4, 5, 8, false, false, std::nullopt, std::nullopt, 4}),
                        "ldc 4 is less than the row length 5");
  EXPECT_ERROR_CONTAINS(toColumnMajor({0, 4, 8, false, false, {}, {}, {}}),
                        "gemm sizes must be positive, found m 0");
}
