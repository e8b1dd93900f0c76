//===- Npy.cpp - NumPy .npy / .npz files ----------------------------------===//
#include "mm01/Support/Npy.h"

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mm01 {

const char *npyTypeName(NpyType type) {
  switch (type) {
  case NpyType::I64: return "int64";
  case NpyType::I32: return "int32";
  case NpyType::F32: return "float32";
  case NpyType::F64: return "float64";
  }
  return "?";
}

size_t npyTypeSize(NpyType type) {
  return type == NpyType::I64 || type == NpyType::F64 ? 8 : 4;
}

static const char *descrOf(NpyType type) {
  switch (type) {
  case NpyType::I64: return "<i8";
  case NpyType::I32: return "<i4";
  case NpyType::F32: return "<f4";
  case NpyType::F64: return "<f8";
  }
  return "?";
}

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

NpyArray NpyArray::make(NpyType type, std::vector<int64_t> shape) {
  NpyArray a;
  a.type = type;
  a.shape = std::move(shape);
  a.bytes.assign(static_cast<size_t>(a.numElements()) * npyTypeSize(type), 0);
  return a;
}

/// Value of `'key': VALUE` in the header dict, up to the next top-level comma.
static bool findField(const std::string &header, const std::string &key,
                      std::string &value) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return false;
  at = header.find(':', at);
  if (at == std::string::npos)
    return false;
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  size_t end = at;
  if (end < header.size() && header[end] == '(') {
    end = header.find(')', end);
    if (end == std::string::npos)
      return false;
    ++end;
  } else {
    while (end < header.size() && header[end] != ',' && header[end] != '}')
      ++end;
  }
  value = header.substr(at, end - at);
  return true;
}

Result<NpyArray> parseNpy(const std::string &bytes, const std::string &source) {
  auto bad = [&](const std::string &why) {
    return makeError(source + ": " + why);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("not a .npy file (bad magic)");
  unsigned major = static_cast<uint8_t>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated .npy header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | static_cast<uint8_t>(bytes[8 + i]);
    headerStart = 12;
  } else {
    return bad("unsupported .npy format version " + std::to_string(major));
  }
  if (headerStart + headerLen > bytes.size())
    return bad("truncated .npy header");
  std::string header = bytes.substr(headerStart, headerLen);
  std::string descr, fortran, shapeText;
  if (!findField(header, "descr", descr) || !findField(header, "fortran_order", fortran) ||
      !findField(header, "shape", shapeText))
    return bad("malformed .npy header: " + header);
  NpyArray array;
  if (descr == "'<i8'") array.type = NpyType::I64;
  else if (descr == "'<i4'") array.type = NpyType::I32;
  else if (descr == "'<f4'") array.type = NpyType::F32;
  else if (descr == "'<f8'") array.type = NpyType::F64;
  else
    return bad("unsupported dtype " + descr +
               " (expected little-endian int64, int32, float32 or float64)");
  if (fortran.find("False") == std::string::npos)
    return bad("Fortran-ordered arrays are not supported");
  if (shapeText.size() < 2 || shapeText.front() != '(' || shapeText.back() != ')')
    return bad("malformed shape " + shapeText);
  std::stringstream ss(shapeText.substr(1, shapeText.size() - 2));
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos)
      continue;
    char *end = nullptr;
    long long v = std::strtoll(item.c_str() + b, &end, 10);
    if (v < 0 || end == item.c_str() + b)
      return bad("malformed shape " + shapeText);
    array.shape.push_back(v);
  }
  size_t need = static_cast<size_t>(array.numElements()) * npyTypeSize(array.type);
  size_t dataStart = headerStart + headerLen;
  if (bytes.size() - dataStart < need)
    return bad("truncated data: shape needs " + std::to_string(need) + " bytes, file has " +
               std::to_string(bytes.size() - dataStart));
  array.bytes.assign(bytes.begin() + dataStart, bytes.begin() + dataStart + need);
  return array;
}

Result<NpyArray> readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return makeError(path + ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseNpy(buffer.str(), path);
}

std::string encodeNpy(const NpyArray &array) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i)
    shape += std::to_string(array.shape[i]) + (array.shape.size() == 1 || i + 1 < array.shape.size() ? "," : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + descrOf(array.type) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary; the header ends in '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char *>(array.bytes.data()), array.bytes.size());
  return out;
}

Status writeNpy(const std::string &path, const NpyArray &array) {
  std::ofstream out(path, std::ios::binary);
  std::string bytes = encodeNpy(array);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    return makeError(path + ": cannot write file");
  return Status::success();
}

namespace {
uint32_t crc32(const std::string &data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char byte : data)
    c = table[(c ^ byte) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put16(std::string &s, uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void put32(std::string &s, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
} // namespace

Status writeNpz(const std::string &path,
                const std::vector<std::pair<std::string, NpyArray>> &arrays) {
  // A zip archive of stored (uncompressed) members; ZIP64 is not needed for
  // the sizes the runners write (< 4 GiB), and we refuse larger ones.
  std::string body, central;
  uint16_t count = 0;
  for (const auto &[name, array] : arrays) {
    std::string member = name + ".npy";
    std::string data = encodeNpy(array);
    if (data.size() >= 0xFFFFFFFFull || body.size() >= 0xFFFFFFFFull)
      return makeError(path + ": array '" + name + "' too large for a non-ZIP64 .npz");
    uint32_t crc = crc32(data), offset = static_cast<uint32_t>(body.size());
    auto common = [&](std::string &s) {
      put16(s, 20);           // version needed
      put16(s, 0);            // flags
      put16(s, 0);            // stored
      put16(s, 0);            // time
      put16(s, 0x21);         // date (1980-01-01)
      put32(s, crc);
      put32(s, static_cast<uint32_t>(data.size()));
      put32(s, static_cast<uint32_t>(data.size()));
      put16(s, static_cast<uint16_t>(member.size()));
      put16(s, 0);            // extra length
    };
    put32(body, 0x04034b50);
    common(body);
    body += member;
    body += data;
    put32(central, 0x02014b50);
    put16(central, 20);       // version made by
    common(central);
    put16(central, 0);        // comment length
    put16(central, 0);        // disk
    put16(central, 0);        // internal attributes
    put32(central, 0);        // external attributes
    put32(central, offset);
    central += member;
    ++count;
  }
  std::string end;
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, count);
  put16(end, count);
  put32(end, static_cast<uint32_t>(central.size()));
  put32(end, static_cast<uint32_t>(body.size()));
  put16(end, 0);
  std::ofstream out(path, std::ios::binary);
  out << body << central << end;
  if (!out)
    return makeError(path + ": cannot write file");
  return Status::success();
}

} // namespace mm01
