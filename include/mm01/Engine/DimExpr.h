//===- DimExpr.h - integer size expressions of an engine --------*- C++ -*-===//
//
// Launch dimensions, GEMM sizes, byte counts and offsets in an engine's
// schedule may depend on the request (batch, tokens, context length). They
// are stored as small integer expressions over a fixed set of symbols and
// evaluated by the runtime per step:
//
//   expr   := term (('+' | '-') term)*
//   term   := unary (('*' | '/' | '%') unary)*
//   unary  := '-' unary | atom
//   atom   := INTEGER | SYMBOL | FUNC '(' expr ',' expr ')' | '(' expr ')'
//   SYMBOL := batch | seq | tokens | context | past
//   FUNC   := cdiv | min | max | ge | gt | le | lt
//
// batch: sequences in this call; seq: new tokens per sequence in this call
// (1 for decode); tokens = batch * seq; context: tokens in the cache after
// this call (past + seq); past = context - seq. '/' and '%' truncate (C++);
// cdiv(a, b) = ceil(a / b) for a >= 0, b > 0. The comparisons ge(a, b)
// (a >= b), gt (>), le (<=) and lt (<) are 1 or 0, so that min/max/1 - x
// combine them into the conditions of steps that run only for some calls
// (Step::when). Evaluation checks overflow and division by zero.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_ENGINE_DIMEXPR_H
#define MM01_ENGINE_DIMEXPR_H

#include "mm01/Support/Result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm01::engine {

/// The values of the symbols for one call of an entry point.
///
/// A call may mix sequence lengths (packed tokens, no padding): then `seq` is
/// the longest number of new tokens of a sequence, `context` the longest
/// sequence after the call, and `tokens` the total of new tokens. When
/// `tokens` is negative (the default) it is `batch * seq`.
struct DimEnv {
  int64_t batch = 0;
  int64_t seq = 0;
  int64_t context = 0;
  int64_t tokens = -1;
};

class DimExpr {
public:
  /// A constant (implicit, so that `{256, 1, 1}` initializes dimensions).
  DimExpr(int64_t value = 0);
  DimExpr(int value) : DimExpr(static_cast<int64_t>(value)) {}

  /// Parses `text`; the error quotes the text and says what is wrong where.
  static Result<DimExpr> parse(const std::string &text);

  /// The source text (a constant's decimal spelling).
  const std::string &text() const { return text_; }
  /// True for a bare integer literal such as "256" (written to JSON as a
  /// number); `constant()` also folds symbol-free expressions like "2*128".
  bool isLiteral() const { return literal_; }
  std::optional<int64_t> constant() const;
  bool usesSymbols() const;

  Result<int64_t> evaluate(const DimEnv &env) const;

  bool operator==(const DimExpr &other) const { return text_ == other.text_; }
  bool operator!=(const DimExpr &other) const { return !(*this == other); }

  enum class Op : uint8_t {
    Push, Batch, Seq, Tokens, Context, Past,
    Add, Sub, Mul, Div, Mod, Neg, CDiv, Min, Max, Ge, Gt, Le, Lt
  };
  struct Insn {
    Op op;
    int64_t value; // Push only
  };

private:
  std::string text_;
  std::vector<Insn> code_; // postfix
  bool literal_ = true;
};

} // namespace mm01::engine

#endif // MM01_ENGINE_DIMEXPR_H
