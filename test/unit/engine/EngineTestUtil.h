//===- EngineTestUtil.h - helpers for the engine tests ----------*- C++ -*-===//
#ifndef MM01_TEST_UNIT_ENGINE_ENGINETESTUTIL_H
#define MM01_TEST_UNIT_ENGINE_ENGINETESTUTIL_H

#include "mm01/Engine/Engine.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm01::engine::test {

/// A section for assemble(): offsets, kinds and checksums may be forced to
/// wrong values to build files the writer refuses to produce.
struct RawSection {
  std::string name;
  uint32_t kind = 6;
  std::vector<uint8_t> bytes;
  std::optional<uint64_t> offset;   // default: next multiple of 256
  std::optional<uint64_t> checksum; // default: XXH64 of bytes
};

/// Lays out an engine file from docs/engine-format.md, independently of
/// EngineWriter: header, section table, manifest text, sections. The header
/// checksum is always correct for what is written.
std::vector<uint8_t> assemble(const std::string &manifestText,
                              const std::vector<RawSection> &sections);

/// The sections of a file as RawSections (offsets and checksums kept).
std::vector<RawSection> rawSections(const EngineReader &reader);

std::vector<uint8_t> readBytes(const std::string &path);
void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);

uint64_t getU64(const std::vector<uint8_t> &bytes, size_t offset);
void putU32(std::vector<uint8_t> &bytes, size_t offset, uint32_t value);

} // namespace mm01::engine::test

#endif // MM01_TEST_UNIT_ENGINE_ENGINETESTUTIL_H
