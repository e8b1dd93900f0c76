//===- XXHash.h - 64-bit xxHash (XXH64) -------------------------*- C++ -*-===//
//
// The checksum of the engine format (docs/engine-format.md): XXH64 with seed
// 0, as specified by the xxHash project (Cyan4973/xxHash, doc/xxhash_spec.md).
// One-shot and streaming; the streaming form gives the same digest for any
// split of the input. No dependencies.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_ENGINE_XXHASH_H
#define MM01_ENGINE_XXHASH_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace mm01::engine {

/// XXH64 of `size` bytes at `data`.
uint64_t xxh64(const void *data, size_t size, uint64_t seed = 0);

/// Incremental XXH64: update() any number of times, then digest().
class XXH64State {
public:
  explicit XXH64State(uint64_t seed = 0);
  void update(const void *data, size_t size);
  uint64_t digest() const;

private:
  uint64_t acc_[4];
  uint64_t seed_;
  uint64_t totalLength_ = 0;
  unsigned char buffer_[32];
  size_t buffered_ = 0;
};

/// "0x" followed by 16 lower-case hex digits.
std::string hex64(uint64_t value);

} // namespace mm01::engine

#endif // MM01_ENGINE_XXHASH_H
