//===- TestUtil.h - helpers shared by the mm01 unit tests -------*- C++ -*-===//
#ifndef MM01_TEST_UNIT_TESTUTIL_H
#define MM01_TEST_UNIT_TESTUTIL_H

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mm01 {
struct ModelConfig;
}

namespace mm01::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

void writeFile(const std::string &path, const std::string &bytes);
std::string readFile(const std::string &path);

/// The HF fixture directory (minimax-tiny), or "" when absent.
std::string fixtureDir();
/// True when $CI is set and non-empty: missing fixtures are failures.
bool runningUnderCI();
/// Every tensor (name, shape) of docs/minimax01-model.md for `config`,
/// without the lightning decay tables.
std::vector<std::pair<std::string, std::vector<int64_t>>>
expectedTensors(const ModelConfig &config);

/// Source-tree test inputs (test/Inputs).
std::string inputsDir();

} // namespace mm01::test

/// Skips the test when the fixture is missing, fails instead under CI.
#define MM01_REQUIRE_FIXTURE(dirVar)                                           \
  std::string dirVar = ::mm01::test::fixtureDir();                             \
  do {                                                                         \
    if (dirVar.empty()) {                                                      \
      if (::mm01::test::runningUnderCI())                                      \
        FAIL() << "fixture minimax-tiny not found (set MM01_FIXTURES)";        \
      GTEST_SKIP() << "fixture minimax-tiny not found (set MM01_FIXTURES)";    \
    }                                                                          \
  } while (0)

/// Asserts that a Result/Status failed with a message containing `substr`.
#define EXPECT_ERROR_CONTAINS(result, substr)                                  \
  do {                                                                         \
    const auto &r_ = (result);                                                 \
    ASSERT_FALSE(r_.ok()) << "expected an error containing: " << (substr);     \
    EXPECT_NE(r_.error().find(substr), std::string::npos)                      \
        << "message: " << r_.error() << "\nexpected substring: " << (substr);  \
    EXPECT_EQ(r_.error().find('\n'), std::string::npos)                        \
        << "message is not one line: " << r_.error();                          \
  } while (0)

#endif // MM01_TEST_UNIT_TESTUTIL_H
