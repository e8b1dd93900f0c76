//===- LoopOrder.cpp - mm01-interchange-reductions ------------------------===//
//
// convert-linalg-to-loops nests loops in the order of a linalg op's
// iteration dimensions. A contraction written (..., n, k) with k reduced
// innermost becomes a scalar dot product per output element, which LLVM
// cannot vectorise without reassociating the sum; reordered to (..., k, n)
// the inner loop is an axpy over contiguous output columns that it does
// vectorise, and every output element still sums its terms in the same
// order.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToLinalg/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01INTERCHANGEREDUCTIONS
#include "Model/Conversion/ModelToLinalg/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

/// The loop order that puts the outputs' last dimension innermost, or an
/// empty vector when the op is fine as it is or reordering would not help.
SmallVector<unsigned> contiguousOrder(linalg::GenericOp op) {
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  if (iters.empty() || iters.back() != utils::IteratorType::reduction)
    return {};
  // Every output must be indexed last by one parallel dimension `n`.
  std::optional<unsigned> n;
  for (OpOperand &out : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&out);
    if (map.getNumResults() == 0)
      return {};
    auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!dim || (n && *n != dim.getPosition()))
      return {};
    n = dim.getPosition();
  }
  if (!n || iters[*n] != utils::IteratorType::parallel)
    return {};
  // Every input that depends on `n` must have it as its last index, so the
  // new inner loop reads it contiguously.
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(in);
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      if (!expr.isFunctionOfDim(*n))
        continue;
      bool last = i + 1 == map.getNumResults() && isa<AffineDimExpr>(expr);
      if (!last)
        return {};
    }
  }
  SmallVector<unsigned> order;
  for (unsigned d = 0; d < iters.size(); ++d)
    if (d != *n && iters[d] == utils::IteratorType::parallel)
      order.push_back(d);
  for (unsigned d = 0; d < iters.size(); ++d)
    if (iters[d] == utils::IteratorType::reduction)
      order.push_back(d);
  order.push_back(*n);
  return order;
}

struct InterchangeReductionsPass
    : mm01::model::impl::MM01InterchangeReductionsBase<InterchangeReductionsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Named contractions (matmul, batch_matmul, ...) become generics first.
    SmallVector<linalg::LinalgOp> named;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::GenericOp>(op) && linalg::isaContractionOpInterface(op))
        named.push_back(op);
    });
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp op : generics) {
      SmallVector<unsigned> order = contiguousOrder(op);
      if (order.empty())
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, order)))
        return signalPassFailure();
    }
  }
};

} // namespace
