//===- Result.h - value-or-error without exceptions or LLVM -----*- C++ -*-===//
//
// The runtime side of mm01 (checkpoint and engine loading) links no LLVM, so
// it cannot use llvm::Expected. Result<T> carries either a value or a
// one-line error message that names the offending file, tensor or field.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_SUPPORT_RESULT_H
#define MM01_SUPPORT_RESULT_H

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace mm01 {

/// A one-line, human-readable error.
struct Error {
  std::string message;
};

inline Error makeError(std::string message) { return Error{std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
public:
  Result(T value) : storage_(std::move(value)) {}
  Result(Error error) : storage_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(storage_); }
  explicit operator bool() const { return ok(); }

  T &value() & {
    assert(ok() && "value() on an error Result");
    return std::get<T>(storage_);
  }
  const T &value() const & {
    assert(ok() && "value() on an error Result");
    return std::get<T>(storage_);
  }
  T &&value() && {
    assert(ok() && "value() on an error Result");
    return std::get<T>(std::move(storage_));
  }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() & { return value(); }

  const std::string &error() const {
    assert(!ok() && "error() on a successful Result");
    return std::get<Error>(storage_).message;
  }
  Error takeError() { return std::get<Error>(std::move(storage_)); }

private:
  std::variant<T, Error> storage_;
};

/// Result of an operation that returns nothing.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error.message)), failed_(true) {}
  static Status success() { return Status(); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &error() const { return error_; }

private:
  std::string error_;
  bool failed_ = false;
};

} // namespace mm01

#endif // MM01_SUPPORT_RESULT_H
