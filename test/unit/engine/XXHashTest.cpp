//===- XXHashTest.cpp - XXH64 against the reference test vectors ----------===//

#include "mm01/Engine/XXHash.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace mm01::engine;

namespace {

/// The sanity buffer of xxHash's own test suite (cli/xsum_sanity_check.c):
/// byte i is the top byte of PRIME32 · PRIME64^i (mod 2^64).
std::vector<uint8_t> sanityBuffer(size_t size) {
  std::vector<uint8_t> buffer(size);
  uint64_t gen = 2654435761ULL;
  for (size_t i = 0; i < size; ++i) {
    buffer[i] = static_cast<uint8_t>(gen >> 56);
    gen *= 11400714785074694797ULL;
  }
  return buffer;
}

} // namespace

TEST(EngineXXHash, ReferenceVectors) {
  const uint64_t prime = 2654435761ULL;
  struct Vector {
    size_t length;
    uint64_t seed, expected;
  };
  const Vector vectors[] = {
      {0, 0, 0xEF46DB3751D8E999ULL},   {0, prime, 0xAC75FDA2929B17EFULL},
      {1, 0, 0xE934A84ADB052768ULL},   {1, prime, 0x5014607643A9B4C3ULL},
      {4, 0, 0x9136A0DCA57457EEULL},   {14, 0, 0x8282DCC4994E35C8ULL},
      {14, prime, 0xC3BD6BF63DEB6DF0ULL}, {222, 0, 0xB641AE8CB691C174ULL},
      {222, prime, 0x20CB8AB7AE10C14AULL}};
  std::vector<uint8_t> buffer = sanityBuffer(222);
  for (const Vector &v : vectors)
    EXPECT_EQ(xxh64(buffer.data(), v.length, v.seed), v.expected)
        << "length " << v.length << " seed " << v.seed;
}

TEST(EngineXXHash, Strings) {
  auto hash = [](const std::string &s) { return xxh64(s.data(), s.size()); };
  EXPECT_EQ(hash(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(hash("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(hash("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(EngineXXHash, StreamingMatchesOneShotForEverySplit) {
  std::vector<uint8_t> buffer = sanityBuffer(300);
  for (size_t length : {size_t(0), size_t(31), size_t(32), size_t(33), size_t(100),
                        size_t(300)}) {
    uint64_t expected = xxh64(buffer.data(), length);
    for (size_t split = 0; split <= length; ++split) {
      XXH64State state;
      state.update(buffer.data(), split);
      state.update(buffer.data() + split, length - split);
      ASSERT_EQ(state.digest(), expected) << "length " << length << " split " << split;
    }
    XXH64State bytewise;
    for (size_t i = 0; i < length; ++i)
      bytewise.update(buffer.data() + i, 1);
    EXPECT_EQ(bytewise.digest(), expected) << "length " << length;
  }
}

TEST(EngineXXHash, Hex) {
  EXPECT_EQ(hex64(0), "0x0000000000000000");
  EXPECT_EQ(hex64(0xEF46DB3751D8E999ULL), "0xef46db3751d8e999");
}
