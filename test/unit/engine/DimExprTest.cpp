//===- DimExprTest.cpp - size expressions of the launch schedule ----------===//

#include "mm01/Engine/DimExpr.h"

#include "../TestUtil.h"

#include <limits>

using namespace mm01;
using namespace mm01::engine;

namespace {
int64_t eval(const std::string &text, DimEnv env = {4, 8, 100}) {
  Result<DimExpr> e = DimExpr::parse(text);
  EXPECT_TRUE(e.ok()) << e.error();
  if (!e)
    return -999;
  Result<int64_t> v = e->evaluate(env);
  EXPECT_TRUE(v.ok()) << v.error();
  return v ? *v : -999;
}
} // namespace

TEST(EngineDimExpr, Evaluates) {
  EXPECT_EQ(eval("256"), 256);
  EXPECT_EQ(eval("batch"), 4);
  EXPECT_EQ(eval("seq"), 8);
  EXPECT_EQ(eval("tokens"), 32);
  EXPECT_EQ(eval("context"), 100);
  EXPECT_EQ(eval("past"), 92);
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("10 - 4 - 3"), 3);
  EXPECT_EQ(eval("100 / 7 % 5"), 4);
  EXPECT_EQ(eval("-tokens + 40"), 8);
  EXPECT_EQ(eval("cdiv(tokens, 64)"), 1);
  EXPECT_EQ(eval("cdiv(tokens, 8)"), 4);
  EXPECT_EQ(eval("cdiv(33, 8)"), 5);
  EXPECT_EQ(eval("cdiv(0, 8)"), 0);
  EXPECT_EQ(eval("min(batch, seq) * max(batch, seq)"), 32);
  EXPECT_EQ(eval(" cdiv( context , 16 )*16 "), 112);
}

TEST(EngineDimExpr, Constants) {
  DimExpr literal(256);
  EXPECT_TRUE(literal.isLiteral());
  EXPECT_EQ(literal.text(), "256");
  EXPECT_EQ(literal.constant(), 256);
  EXPECT_EQ(DimExpr::parse("256").value(), literal);
  EXPECT_TRUE(DimExpr::parse("-3").value().isLiteral());
  EXPECT_EQ(DimExpr(-3).constant(), -3);

  DimExpr folded = DimExpr::parse("2*128").value();
  EXPECT_FALSE(folded.isLiteral());
  EXPECT_EQ(folded.constant(), 256);
  EXPECT_FALSE(folded.usesSymbols());

  DimExpr symbolic = DimExpr::parse("tokens").value();
  EXPECT_TRUE(symbolic.usesSymbols());
  EXPECT_FALSE(symbolic.constant().has_value());
  EXPECT_FALSE(DimExpr::parse("0256").value().isLiteral()); // not canonical
}

TEST(EngineDimExpr, ParseErrors) {
  EXPECT_ERROR_CONTAINS(DimExpr::parse(""), "expression is empty");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("tokens +"),
                        "invalid expression 'tokens +': expected a number");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("heads * 2"), "unknown symbol 'heads'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("(tokens"), "expected ')'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("tokens)"), "unexpected ')' at offset 6");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("cdiv(tokens)"),
                        "'cdiv' takes 2 arguments (cdiv(a, b)), found 1");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("cdiv(tokens 2)"),
                        "expected ',' in 'cdiv(a, b)'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("min 3"), "expected '(' after 'min'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("99999999999999999999"),
                        "integer literal out of range");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("2.5"), "unexpected '.'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse(std::string(200, '(') + "1" +
                                       std::string(200, ')')),
                        "nests too deeply");
}

TEST(EngineDimExpr, Comparisons) {
  // env: batch 4, seq 8 (tokens 32), context 100.
  EXPECT_EQ(eval("ge(tokens, 32)"), 1);
  EXPECT_EQ(eval("ge(tokens, 33)"), 0);
  EXPECT_EQ(eval("gt(tokens, 32)"), 0);
  EXPECT_EQ(eval("gt(tokens, 31)"), 1);
  EXPECT_EQ(eval("le(batch, 4)"), 1);
  EXPECT_EQ(eval("le(batch, 3)"), 0);
  EXPECT_EQ(eval("lt(batch, 4)"), 0);
  EXPECT_EQ(eval("lt(batch, 5)"), 1);
  EXPECT_EQ(eval("lt(-1, 0)"), 1);
  EXPECT_EQ(eval("ge(context - seq, past)"), 1);
  EXPECT_EQ(eval(" lt ( batch , 2 ) * 7 "), 0);

  // A condition and its complement: two plans, exactly one runs per call.
  const std::string both = "min(lt(batch, 2), ge(tokens, 16384))";
  const std::string other = "1 - " + both;
  for (DimEnv env : {DimEnv{1, 16384, 16384}, DimEnv{1, 32768, 32768},
                     DimEnv{1, 16383, 16383}, DimEnv{2, 16384, 16384},
                     DimEnv{4, 8, 100}}) {
    int64_t expected = env.batch < 2 && env.batch * env.seq >= 16384;
    EXPECT_EQ(eval(both, env), expected) << env.batch << " x " << env.seq;
    EXPECT_EQ(eval(other, env), 1 - expected) << env.batch << " x " << env.seq;
  }
  // Mixed lengths: tokens is given, not batch * seq.
  EXPECT_EQ(eval(both, DimEnv{1, 20000, 20000, 20000}), 1);
  EXPECT_EQ(eval("max(ge(tokens, 100), lt(context, 10))", DimEnv{3, 40, 60, 90}), 0);

  DimExpr cond = DimExpr::parse("ge(tokens, 16384)").value();
  EXPECT_TRUE(cond.usesSymbols());
  EXPECT_FALSE(cond.isLiteral());
  EXPECT_EQ(DimExpr::parse("lt(1, 2)").value().constant(), 1);
}

TEST(EngineDimExpr, ComparisonParseErrors) {
  EXPECT_ERROR_CONTAINS(DimExpr::parse("ge(tokens)"),
                        "invalid expression 'ge(tokens)': 'ge' takes 2 arguments "
                        "(ge(a, b)), found 1 at offset 10");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("lt()"),
                        "'lt' takes 2 arguments (lt(a, b)), found none");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("le(batch, 2, 3)"),
                        "'le' takes 2 arguments (le(a, b)), found more");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("gt batch"), "expected '(' after 'gt'");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("min(lt(batch, 2), ge(tokens))"),
                        "'ge' takes 2 arguments (ge(a, b)), found 1");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("eq(batch, 2)"),
                        "unknown symbol 'eq' (known: batch, seq, tokens, context, "
                        "past, cdiv, min, max, ge, gt, le, lt)");
}

TEST(EngineDimExpr, EvaluationErrors) {
  DimEnv env{0, 0, 0};
  EXPECT_ERROR_CONTAINS(DimExpr::parse("4 / batch").value().evaluate(env),
                        "divides by zero");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("4 % batch").value().evaluate(env),
                        "divides by zero");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("cdiv(4, batch)").value().evaluate(env),
                        "cdiv(4, 0) needs a >= 0 and b > 0");
  DimEnv big{std::numeric_limits<int64_t>::max(), 2, 0};
  EXPECT_ERROR_CONTAINS(DimExpr::parse("tokens").value().evaluate(big), "overflows");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("batch + 1").value().evaluate(big),
                        "overflows");
  EXPECT_ERROR_CONTAINS(DimExpr::parse("batch * 3").value().evaluate(big),
                        "overflows");
}

TEST(EngineDimExpr, DeepButValidExpressionsEvaluate) {
  // 60 nested parentheses and a long flat sum both stay within the limits.
  std::string nested = std::string(60, '(') + "batch" + std::string(60, ')');
  EXPECT_EQ(eval(nested), 4);
  std::string sum = "1";
  for (int i = 0; i < 500; ++i)
    sum += " + 1";
  EXPECT_EQ(eval(sum), 501);
  std::string chain = "1";
  for (int i = 0; i < 60; ++i)
    chain = "max(1, " + chain + " + 1)";
  EXPECT_EQ(eval(chain), 61);
}
