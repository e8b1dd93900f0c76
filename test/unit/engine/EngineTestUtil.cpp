//===- EngineTestUtil.cpp - helpers for the engine tests ------------------===//

#include "EngineTestUtil.h"

#include "mm01/Engine/XXHash.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace mm01::engine;
using namespace mm01::engine::test;

namespace {
void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
} // namespace

std::vector<uint8_t> mm01::engine::test::assemble(const std::string &manifestText,
                                                  const std::vector<RawSection> &sections) {
  const uint64_t tableOffset = 64;
  const uint64_t manifestOffset = tableOffset + 96 * sections.size();
  uint64_t end = manifestOffset + manifestText.size();
  std::vector<uint64_t> offsets;
  for (const RawSection &s : sections) {
    uint64_t offset = s.offset ? *s.offset : (end + 255) / 256 * 256;
    offsets.push_back(offset);
    end = std::max(end, offset + s.bytes.size());
  }
  std::vector<uint8_t> file(end, 0);
  std::memcpy(file.data(), "MM01ENGN", 8);
  put32(&file[8], kFormatVersion);
  put32(&file[12], 64);
  put64(&file[16], end);
  put64(&file[24], tableOffset);
  put32(&file[32], static_cast<uint32_t>(sections.size()));
  put32(&file[36], 96);
  put64(&file[40], manifestOffset);
  put64(&file[48], manifestText.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    uint8_t *e = &file[tableOffset + 96 * i];
    std::memcpy(e, sections[i].name.data(), std::min<size_t>(sections[i].name.size(), 64));
    put32(e + 64, sections[i].kind);
    put64(e + 72, offsets[i]);
    put64(e + 80, sections[i].bytes.size());
    put64(e + 88, sections[i].checksum
                      ? *sections[i].checksum
                      : xxh64(sections[i].bytes.data(), sections[i].bytes.size()));
  }
  std::memcpy(&file[manifestOffset], manifestText.data(), manifestText.size());
  for (size_t i = 0; i < sections.size(); ++i)
    if (!sections[i].bytes.empty())
      std::memcpy(&file[offsets[i]], sections[i].bytes.data(), sections[i].bytes.size());
  XXH64State state;
  state.update(file.data(), 56);
  state.update(&file[tableOffset], 96 * sections.size());
  // Hashes the manifest bytes as they end up in the file (a section forced
  // on top of them changes them).
  state.update(&file[manifestOffset], manifestText.size());
  put64(&file[56], state.digest());
  return file;
}

std::vector<RawSection> mm01::engine::test::rawSections(const EngineReader &reader) {
  std::vector<RawSection> out;
  for (const SectionInfo &s : reader.sections()) {
    RawSection r;
    r.name = s.name;
    r.kind = static_cast<uint32_t>(s.kind);
    const uint8_t *data = reader.sectionData(s);
    r.bytes.assign(data, data + s.size);
    r.offset = s.offset;
    r.checksum = s.checksum;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<uint8_t> mm01::engine::test::readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void mm01::engine::test::writeBytes(const std::string &path,
                                    const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

uint64_t mm01::engine::test::getU64(const std::vector<uint8_t> &bytes, size_t offset) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(bytes[offset + i]) << (8 * i);
  return v;
}

void mm01::engine::test::putU32(std::vector<uint8_t> &bytes, size_t offset,
                                uint32_t value) {
  put32(&bytes[offset], value);
}
