//===- DimExpr.cpp - integer size expressions -----------------------------===//
//
// A recursive-descent parser to postfix code and a small stack evaluator.
// No exceptions: errors travel as Result values.
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/DimExpr.h"

#include <cctype>
#include <limits>
#include <optional>
#include <utility>

using namespace mm01;
using namespace mm01::engine;

namespace {

class Parser {
public:
  explicit Parser(const std::string &text) : text_(text) {}

  /// Parses the whole text into `code`; returns an error message or "".
  std::string run(std::vector<DimExpr::Insn> &code) {
    code_ = &code;
    skipSpace();
    if (pos_ == text_.size())
      return "expression is empty";
    if (!parseExpr())
      return error_;
    skipSpace();
    if (pos_ != text_.size())
      return fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return "";
  }

private:
  const std::string &text_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<DimExpr::Insn> *code_ = nullptr;
  std::string error_;

  bool failBool(const std::string &message) {
    fail(message);
    return false;
  }
  std::string fail(const std::string &message) {
    if (error_.empty())
      error_ = message + " at offset " + std::to_string(pos_);
    return error_;
  }
  void emit(DimExpr::Op op, int64_t value = 0) { code_->push_back({op, value}); }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool parseExpr() {
    if (++depth_ > 64)
      return failBool("expression nests too deeply");
    if (!parseTerm())
      return false;
    for (;;) {
      if (consume('+')) {
        if (!parseTerm())
          return false;
        emit(DimExpr::Op::Add);
      } else if (consume('-')) {
        if (!parseTerm())
          return false;
        emit(DimExpr::Op::Sub);
      } else {
        break;
      }
    }
    --depth_;
    return true;
  }

  bool parseTerm() {
    if (!parseUnary())
      return false;
    for (;;) {
      DimExpr::Op op;
      if (consume('*'))
        op = DimExpr::Op::Mul;
      else if (consume('/'))
        op = DimExpr::Op::Div;
      else if (consume('%'))
        op = DimExpr::Op::Mod;
      else
        break;
      if (!parseUnary())
        return false;
      emit(op);
    }
    return true;
  }

  bool parseUnary() {
    if (consume('-')) {
      if (++depth_ > 64)
        return failBool("expression nests too deeply");
      if (!parseUnary())
        return false;
      --depth_;
      emit(DimExpr::Op::Neg);
      return true;
    }
    return parseAtom();
  }

  static std::optional<DimExpr::Op> functionOp(const std::string &name) {
    static const std::pair<const char *, DimExpr::Op> functions[] = {
        {"cdiv", DimExpr::Op::CDiv}, {"min", DimExpr::Op::Min},
        {"max", DimExpr::Op::Max},   {"ge", DimExpr::Op::Ge},
        {"gt", DimExpr::Op::Gt},     {"le", DimExpr::Op::Le},
        {"lt", DimExpr::Op::Lt}};
    for (const auto &[spelling, op] : functions)
      if (name == spelling)
        return op;
    return std::nullopt;
  }

  /// The two arguments of `name(a, b)` and the closing ')'; a call with
  /// another number of arguments says how many it has.
  bool parseArgs(const std::string &name) {
    std::string arity = "'" + name + "' takes 2 arguments (" + name + "(a, b)), found ";
    if (consume(')'))
      return failBool(arity + "none");
    if (!parseExpr())
      return false;
    if (consume(')'))
      return failBool(arity + "1");
    if (!consume(','))
      return failBool("expected ',' in '" + name + "(a, b)'");
    if (!parseExpr())
      return false;
    if (consume(','))
      return failBool(arity + "more");
    if (!consume(')'))
      return failBool("expected ')'");
    return true;
  }

  bool parseAtom() {
    skipSpace();
    if (pos_ == text_.size())
      return failBool("expected a number, a symbol or '('");
    char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      int64_t value = 0;
      while (pos_ < text_.size() &&
             std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        int digit = text_[pos_] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return failBool("integer literal out of range");
        value = value * 10 + digit;
        ++pos_;
      }
      emit(DimExpr::Op::Push, value);
      return true;
    }
    if (c == '(') {
      ++pos_;
      if (!parseExpr())
        return false;
      if (!consume(')'))
        return failBool("expected ')'");
      return true;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
              text_[pos_] == '_'))
        ++pos_;
      std::string name = text_.substr(start, pos_ - start);
      if (name == "batch")
        emit(DimExpr::Op::Batch);
      else if (name == "seq")
        emit(DimExpr::Op::Seq);
      else if (name == "tokens")
        emit(DimExpr::Op::Tokens);
      else if (name == "context")
        emit(DimExpr::Op::Context);
      else if (name == "past")
        emit(DimExpr::Op::Past);
      else if (std::optional<DimExpr::Op> op = functionOp(name)) {
        if (!consume('('))
          return failBool("expected '(' after '" + name + "'");
        if (!parseArgs(name))
          return false;
        emit(*op);
      } else {
        pos_ = start;
        return failBool("unknown symbol '" + name +
                        "' (known: batch, seq, tokens, context, past, cdiv, "
                        "min, max, ge, gt, le, lt)");
      }
      return true;
    }
    return failBool("unexpected '" + std::string(1, c) + "'");
  }
};

std::string quoted(const std::string &text) { return "'" + text + "'"; }

} // namespace

DimExpr::DimExpr(int64_t value) : text_(std::to_string(value)) {
  if (value < 0) {
    // "-5" parses as Neg(Push 5); keep the code consistent with the text.
    if (value == std::numeric_limits<int64_t>::min()) {
      code_ = {{Op::Push, value}};
    } else {
      code_ = {{Op::Push, -value}, {Op::Neg, 0}};
    }
    literal_ = true;
    return;
  }
  code_ = {{Op::Push, value}};
}

Result<DimExpr> DimExpr::parse(const std::string &text) {
  DimExpr expr;
  expr.text_ = text;
  expr.code_.clear();
  Parser parser(text);
  std::string error = parser.run(expr.code_);
  if (!error.empty())
    return makeError("invalid expression " + quoted(text) + ": " + error);
  // A literal: optional '-' then digits only, in canonical spelling.
  expr.literal_ =
      (expr.code_.size() == 1 && expr.code_[0].op == Op::Push &&
       std::to_string(expr.code_[0].value) == text) ||
      (expr.code_.size() == 2 && expr.code_[0].op == Op::Push &&
       expr.code_[1].op == Op::Neg && expr.code_[0].value != 0 &&
       "-" + std::to_string(expr.code_[0].value) == text);
  return expr;
}

bool DimExpr::usesSymbols() const {
  for (const Insn &insn : code_)
    if (insn.op >= Op::Batch && insn.op <= Op::Past)
      return true;
  return false;
}

std::optional<int64_t> DimExpr::constant() const {
  if (usesSymbols())
    return std::nullopt;
  Result<int64_t> value = evaluate(DimEnv{});
  if (!value)
    return std::nullopt;
  return *value;
}

Result<int64_t> DimExpr::evaluate(const DimEnv &env) const {
  int64_t stack[256];
  size_t top = 0;
  auto overflow = [&]() {
    return makeError("expression " + quoted(text_) + " overflows");
  };
  for (const Insn &insn : code_) {
    if (insn.op <= Op::Past) {
      int64_t v = 0;
      switch (insn.op) {
      case Op::Push:
        v = insn.value;
        break;
      case Op::Batch:
        v = env.batch;
        break;
      case Op::Seq:
        v = env.seq;
        break;
      case Op::Tokens:
        if (env.tokens >= 0)
          v = env.tokens;
        else if (__builtin_mul_overflow(env.batch, env.seq, &v))
          return overflow();
        break;
      case Op::Context:
        v = env.context;
        break;
      case Op::Past:
        if (__builtin_sub_overflow(env.context, env.seq, &v))
          return overflow();
        break;
      default:
        break;
      }
      if (top == sizeof(stack) / sizeof(stack[0]))
        return makeError("expression " + quoted(text_) + " is too deep");
      stack[top++] = v;
      continue;
    }
    if (insn.op == Op::Neg) {
      if (top < 1)
        return makeError("expression " + quoted(text_) + " is malformed");
      if (stack[top - 1] == std::numeric_limits<int64_t>::min())
        return overflow();
      stack[top - 1] = -stack[top - 1];
      continue;
    }
    if (top < 2)
      return makeError("expression " + quoted(text_) + " is malformed");
    int64_t b = stack[--top];
    int64_t a = stack[top - 1];
    int64_t r = 0;
    switch (insn.op) {
    case Op::Add:
      if (__builtin_add_overflow(a, b, &r))
        return overflow();
      break;
    case Op::Sub:
      if (__builtin_sub_overflow(a, b, &r))
        return overflow();
      break;
    case Op::Mul:
      if (__builtin_mul_overflow(a, b, &r))
        return overflow();
      break;
    case Op::Div:
    case Op::Mod:
      if (b == 0)
        return makeError("expression " + quoted(text_) + " divides by zero");
      if (a == std::numeric_limits<int64_t>::min() && b == -1)
        return overflow();
      r = insn.op == Op::Div ? a / b : a % b;
      break;
    case Op::CDiv:
      if (b <= 0 || a < 0)
        return makeError("expression " + quoted(text_) + ": cdiv(" +
                         std::to_string(a) + ", " + std::to_string(b) +
                         ") needs a >= 0 and b > 0");
      r = a / b + (a % b != 0);
      break;
    case Op::Min:
      r = a < b ? a : b;
      break;
    case Op::Max:
      r = a < b ? b : a;
      break;
    case Op::Ge:
      r = a >= b;
      break;
    case Op::Gt:
      r = a > b;
      break;
    case Op::Le:
      r = a <= b;
      break;
    case Op::Lt:
      r = a < b;
      break;
    default:
      return makeError("expression " + quoted(text_) + " is malformed");
    }
    stack[top - 1] = r;
  }
  if (top != 1)
    return makeError("expression " + quoted(text_) + " is malformed");
  return stack[0];
}
