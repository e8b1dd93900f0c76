//===- NpzReader.h - read the arrays of an uncompressed .npz -----*- C++ -*-===//
//
// numpy.savez writes a zip of NAME.npy members, stored (not deflated), with
// ZIP64 extra fields (force_zip64). This reads it through the central
// directory: each member's sizes (32-bit or from the ZIP64 extra field) and
// local-header offset, then parses the member with mm01::parseNpy. Header
// only, no MLIR: used by mm01-engine-eval and the CPU-side test tool.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_TOOLS_NPZREADER_H
#define MM01_TOOLS_NPZREADER_H

#include "mm01/Support/Npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>

namespace mm01 {

inline Result<std::map<std::string, NpyArray>> readNpz(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return makeError("cannot open '" + path + "'");
  std::string z((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u16 = [&](size_t at) -> uint64_t {
    return uint8_t(z[at]) | uint64_t(uint8_t(z[at + 1])) << 8;
  };
  auto u32 = [&](size_t at) -> uint64_t { return u16(at) | u16(at + 2) << 16; };
  auto u64 = [&](size_t at) -> uint64_t { return u32(at) | u32(at + 4) << 32; };
  auto bad = [&](const std::string &why) {
    return makeError("'" + path + "' is not a readable .npz (" + why + ")");
  };
  if (z.size() < 22)
    return bad("too short");
  size_t eocd = std::string::npos;
  for (size_t i = z.size() - 22 + 1; i-- > 0 && z.size() - i < 22 + 65536;)
    if (u32(i) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos)
    return bad("no end of central directory");
  uint64_t entries = u16(eocd + 10), cd = u32(eocd + 16);
  std::map<std::string, NpyArray> arrays;
  for (uint64_t e = 0; e < entries; ++e) {
    if (cd + 46 > z.size() || u32(cd) != 0x02014b50)
      return bad("bad central directory entry");
    uint64_t method = u16(cd + 10), csize = u32(cd + 20), usize = u32(cd + 24);
    uint64_t nameLen = u16(cd + 28), extraLen = u16(cd + 30), commentLen = u16(cd + 32);
    uint64_t local = u32(cd + 42);
    std::string name = z.substr(cd + 46, nameLen);
    // ZIP64 extra field: the 0xFFFFFFFF fields, in order usize, csize, offset.
    for (size_t x = cd + 46 + nameLen; x + 4 <= cd + 46 + nameLen + extraLen;) {
      uint64_t id = u16(x), len = u16(x + 2);
      if (id == 1) {
        size_t f = x + 4;
        if (usize == 0xFFFFFFFF) { usize = u64(f); f += 8; }
        if (csize == 0xFFFFFFFF) { csize = u64(f); f += 8; }
        if (local == 0xFFFFFFFF) { local = u64(f); f += 8; }
      }
      x += 4 + len;
    }
    if (method != 0)
      return bad("member '" + name + "' is compressed (use numpy.savez)");
    if (local + 30 > z.size() || u32(local) != 0x04034b50)
      return bad("bad local header of '" + name + "'");
    uint64_t data = local + 30 + u16(local + 26) + u16(local + 28);
    if (data + csize > z.size())
      return bad("member '" + name + "' is truncated");
    auto array = parseNpy(z.substr(data, csize), path + ":" + name);
    if (!array.ok())
      return makeError(array.error());
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    arrays[name] = std::move(array.value());
    cd += 46 + nameLen + extraLen + commentLen;
  }
  return arrays;
}

} // namespace mm01

#endif // MM01_TOOLS_NPZREADER_H
