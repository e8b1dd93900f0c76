//===- GpuTestSupport.h - shared pieces of the GPU test launchers ---------===//
//
// The MLIR-free launchers of test/gpu load cubins that mm01-opt wrote into
// the `gpu.binary` of an .mlir file, check the driver API's results, convert
// bf16 and report medians: the same few helpers, kept here once.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TEST_GPU_GPUTESTSUPPORT_H
#define MM01_TEST_GPU_GPUTESTSUPPORT_H

#include <cuda.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace mm01::gputest {

/// ctest's SKIP_RETURN_CODE: no driver or no device.
constexpr int kSkip = 77;

#define CU_CHECK(expr)                                                         \
  do {                                                                         \
    CUresult rc_ = (expr);                                                     \
    if (rc_ != CUDA_SUCCESS) {                                                 \
      const char *msg_ = nullptr;                                              \
      cuGetErrorString(rc_, &msg_);                                            \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,      \
                   #expr, msg_ ? msg_ : "?");                                  \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

/// The contents of the MLIR string literal starting at `pos` (just after the
/// opening quote), with its escapes (`\\`, `\HH`) undone. False when the
/// literal is malformed or unterminated.
inline bool unescapeMLIRString(const std::string &text, size_t pos,
                               std::string &out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"')
      return true;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
      continue;
    }
    if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0)
      return false;
    out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
    i += 2;
  }
  return false;
}

/// f32 -> bf16, round to nearest even (NaN stays a quiet NaN).
inline uint16_t toBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return 0x7fc0;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float fromBF16(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

} // namespace mm01::gputest

#endif // MM01_TEST_GPU_GPUTESTSUPPORT_H
