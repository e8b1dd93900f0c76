//===- XXHash.cpp - 64-bit xxHash (XXH64) ---------------------------------===//
//
// Written from the XXH64 specification (xxHash doc/xxhash_spec.md): four
// 64-bit lanes over 32-byte stripes, merged, then the tail in 8/4/1-byte
// steps and an avalanche. Inputs are read little-endian byte by byte, so the
// digest does not depend on the host's endianness or alignment.
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/XXHash.h"

#include <cstdio>
#include <cstring>

using namespace mm01::engine;

namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t read64(const unsigned char *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

inline uint32_t read32(const unsigned char *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

inline uint64_t round(uint64_t acc, uint64_t lane) {
  acc += lane * kPrime2;
  acc = rotl(acc, 31);
  return acc * kPrime1;
}

inline uint64_t mergeRound(uint64_t acc, uint64_t lane) {
  acc ^= round(0, lane);
  return acc * kPrime1 + kPrime4;
}

/// Consumes whole 32-byte stripes; returns the number of bytes consumed.
size_t consumeStripes(uint64_t acc[4], const unsigned char *p, size_t size) {
  size_t done = 0;
  while (size - done >= 32) {
    acc[0] = round(acc[0], read64(p + done));
    acc[1] = round(acc[1], read64(p + done + 8));
    acc[2] = round(acc[2], read64(p + done + 16));
    acc[3] = round(acc[3], read64(p + done + 24));
    done += 32;
  }
  return done;
}

uint64_t finish(uint64_t acc, const unsigned char *p, size_t size) {
  while (size >= 8) {
    acc ^= round(0, read64(p));
    acc = rotl(acc, 27) * kPrime1 + kPrime4;
    p += 8;
    size -= 8;
  }
  if (size >= 4) {
    acc ^= static_cast<uint64_t>(read32(p)) * kPrime1;
    acc = rotl(acc, 23) * kPrime2 + kPrime3;
    p += 4;
    size -= 4;
  }
  while (size > 0) {
    acc ^= static_cast<uint64_t>(*p) * kPrime5;
    acc = rotl(acc, 11) * kPrime1;
    ++p;
    --size;
  }
  acc ^= acc >> 33;
  acc *= kPrime2;
  acc ^= acc >> 29;
  acc *= kPrime3;
  acc ^= acc >> 32;
  return acc;
}

uint64_t convergeLanes(const uint64_t acc[4]) {
  uint64_t h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) +
               rotl(acc[3], 18);
  for (int i = 0; i < 4; ++i)
    h = mergeRound(h, acc[i]);
  return h;
}

void initLanes(uint64_t acc[4], uint64_t seed) {
  acc[0] = seed + kPrime1 + kPrime2;
  acc[1] = seed + kPrime2;
  acc[2] = seed;
  acc[3] = seed - kPrime1;
}

} // namespace

uint64_t mm01::engine::xxh64(const void *data, size_t size, uint64_t seed) {
  XXH64State state(seed);
  state.update(data, size);
  return state.digest();
}

XXH64State::XXH64State(uint64_t seed) : seed_(seed) { initLanes(acc_, seed); }

void XXH64State::update(const void *data, size_t size) {
  if (size == 0)
    return;
  const unsigned char *p = static_cast<const unsigned char *>(data);
  totalLength_ += size;
  if (buffered_ > 0) {
    size_t take = 32 - buffered_ < size ? 32 - buffered_ : size;
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
    if (buffered_ < 32)
      return;
    consumeStripes(acc_, buffer_, 32);
    buffered_ = 0;
  }
  size_t done = consumeStripes(acc_, p, size);
  std::memcpy(buffer_, p + done, size - done);
  buffered_ = size - done;
}

uint64_t XXH64State::digest() const {
  uint64_t h = totalLength_ >= 32 ? convergeLanes(acc_) : seed_ + kPrime5;
  h += totalLength_;
  return finish(h, buffer_, buffered_);
}

std::string mm01::engine::hex64(uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%016llx",
                static_cast<unsigned long long>(value));
  return text;
}
