//===- CpuTestUtil.h - helpers of the CPU runner tests ----------*- C++ -*-===//
#ifndef MM01_TEST_UNIT_CPU_CPUTESTUTIL_H
#define MM01_TEST_UNIT_CPU_CPUTESTUTIL_H

#include "Model/CPU/JitRunner.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace mm01::cpu::testing {

inline float bf16ToFloat(uint16_t v) {
  uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Round to nearest even (finite inputs).
inline uint16_t floatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

/// Deterministic pseudo-random data.
class Rng {
public:
  explicit Rng(uint32_t seed) : gen(seed) {}
  float uniform() { return std::uniform_real_distribution<float>(0.0f, 1.0f)(gen); }
  /// Uniform in [-scale, scale].
  std::vector<float> floats(size_t n, float scale) {
    std::vector<float> v(n);
    for (float &x : v)
      x = (2 * uniform() - 1) * scale;
    return v;
  }
  std::vector<uint16_t> bf16s(size_t n, float scale) {
    std::vector<uint16_t> v(n);
    for (uint16_t &x : v)
      x = floatToBf16((2 * uniform() - 1) * scale);
    return v;
  }

private:
  std::mt19937 gen;
};

template <typename T> ElementType elementTypeFor();
template <> inline ElementType elementTypeFor<float>() { return ElementType::F32; }
template <> inline ElementType elementTypeFor<double>() { return ElementType::F64; }
template <> inline ElementType elementTypeFor<uint16_t>() { return ElementType::BF16; }
template <> inline ElementType elementTypeFor<int64_t>() { return ElementType::I64; }
template <> inline ElementType elementTypeFor<int32_t>() { return ElementType::I32; }

/// A MemRefArg over `v` (uint16_t means bf16).
template <typename T>
MemRefArg arg(std::vector<T> &v, llvm::ArrayRef<int64_t> sizes) {
  MemRefArg a;
  a.data = v.data();
  a.type = elementTypeFor<T>();
  a.sizes.assign(sizes.begin(), sizes.end());
  EXPECT_EQ(size_t(a.numElements()), v.size()) << "test buffer size";
  return a;
}

inline mlir::DialectRegistry jitRegistry() {
  mlir::DialectRegistry registry;
  registerJitDialects(registry);
  return registry;
}

} // namespace mm01::cpu::testing

#define ASSERT_NO_ERROR(expr)                                                  \
  do {                                                                         \
    llvm::Error err_ = (expr);                                                 \
    ASSERT_FALSE(bool(err_)) << llvm::toString(std::move(err_));               \
  } while (0)

#endif // MM01_TEST_UNIT_CPU_CPUTESTUTIL_H
