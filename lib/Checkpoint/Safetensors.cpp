//===- Safetensors.cpp - safetensors reading, mapping and writing ---------===//
//
// Layout: u64 little-endian header length N, N bytes of JSON header, then the
// data region; a tensor's data_offsets are relative to the data region.
// Headers are validated strictly on open so that later code can trust every
// TensorInfo; the data is mapped (read-only, private) only when first used.
//
// Built with -fexceptions for nlohmann; every exception is caught here.
//
//===----------------------------------------------------------------------===//

#include "mm01/Support/FileIO.h"
#include "mm01/Checkpoint/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mm01;
using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// DTypes, shapes, conversions
//===----------------------------------------------------------------------===//

size_t mm01::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 0;
}

const char *mm01::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return "F64";
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::I64:
    return "I64";
  case DType::I32:
    return "I32";
  case DType::I16:
    return "I16";
  case DType::I8:
    return "I8";
  case DType::U8:
    return "U8";
  case DType::Bool:
    return "BOOL";
  }
  return "?";
}

Result<DType> mm01::parseDType(const std::string &name) {
  static const std::pair<const char *, DType> names[] = {
      {"F64", DType::F64}, {"F32", DType::F32},   {"F16", DType::F16},
      {"BF16", DType::BF16}, {"I64", DType::I64}, {"I32", DType::I32},
      {"I16", DType::I16}, {"I8", DType::I8},     {"U8", DType::U8},
      {"BOOL", DType::Bool}};
  for (const auto &[spelling, dtype] : names)
    if (name == spelling)
      return dtype;
  return makeError("unknown dtype '" + name +
                   "' (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 "
                   "or BOOL)");
}

std::string mm01::shapeToString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

uint16_t mm01::floatToBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if (std::isnan(value))
    // Keep sign and the top payload bits; force a quiet bit so that a
    // payload living only in the low 16 bits does not turn into infinity.
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit.
  uint32_t lsb = (bits >> 16) & 1;
  bits += 0x7fff + lsb;
  return static_cast<uint16_t>(bits >> 16);
}

float mm01::bf16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof(f));
  return f;
}

float mm01::f16ToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t out;
  if (exponent == 0x1f) {
    out = sign | 0x7f800000 | (mantissa << 13); // inf / nan (payload kept)
  } else if (exponent != 0) {
    out = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign; // signed zero
  } else {
    // Subnormal: value = mantissa * 2^-24, exact in float.
    float f = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -f : f;
  }
  float f;
  std::memcpy(&f, &out, sizeof(f));
  return f;
}

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

namespace {

std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}

std::string quoteName(const std::string &name) { return "'" + oneLine(name) + "'"; }

std::string errnoText() { return std::strerror(errno); }

/// Thrown while parsing a header; turned into an Error by open().
struct HeaderError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw HeaderError{std::move(message)}; }

uint64_t readU64LE(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}


/// Closes a file descriptor on every path out of a function.

uint64_t nonNegativeInt(const json &v, const std::string &what) {
  if (v.is_number_unsigned())
    return v.get<uint64_t>();
  if (v.is_number_integer())
    fail(what + " is negative (" + std::to_string(v.get<int64_t>()) + ")");
  fail(what + " must be a non-negative integer, found " + oneLine(v.dump()));
}

struct Range {
  uint64_t begin, end;
  const std::string *name;
};

} // namespace

Result<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return makeError(path + ": cannot open: " + errnoText());
  FdGuard guard{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return makeError(path + ": cannot stat: " + errnoText());
  if (!S_ISREG(st.st_mode))
    return makeError(path + ": not a regular file");
  uint64_t fileSize = static_cast<uint64_t>(st.st_size);
  if (fileSize < 8)
    return makeError(path + ": file is " + std::to_string(fileSize) +
                     " bytes, too short for the 8-byte safetensors header "
                     "length");
  unsigned char lengthBytes[8];
  if (!readAt(fd, lengthBytes, 8, 0))
    return makeError(path + ": cannot read the header length: " + errnoText());
  uint64_t headerLength = readU64LE(lengthBytes);
  if (headerLength > fileSize - 8)
    return makeError(path + ": truncated header: header length is " +
                     std::to_string(headerLength) + " bytes but only " +
                     std::to_string(fileSize - 8) +
                     " bytes follow the length field");
  if (headerLength < 2)
    return makeError(path + ": header length is " +
                     std::to_string(headerLength) +
                     " bytes, too short for a JSON object");

  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->fileSize_ = fileSize;
  const uint64_t dataStart = 8 + headerLength;
  const uint64_t dataSize = fileSize - dataStart;

  try {
    std::string header(headerLength, '\0');
    if (!readAt(fd, header.data(), header.size(), 8))
      return makeError(path + ": cannot read the header: " + errnoText());
    json root;
    try {
      root = json::parse(header);
    } catch (const json::exception &e) {
      return makeError(path + ": invalid JSON header: " + oneLine(e.what()));
    }
    if (!root.is_object())
      fail("header is not a JSON object (found " + std::string(root.type_name()) +
           ")");

    std::vector<Range> ranges;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string &name = it.key();
      const json &entry = it.value();
      if (name == "__metadata__") {
        if (!entry.is_object())
          fail("__metadata__ must be an object of strings, found " +
               std::string(entry.type_name()));
        for (auto m = entry.begin(); m != entry.end(); ++m) {
          if (!m.value().is_string())
            fail("__metadata__ entry " + quoteName(m.key()) +
                 " must be a string, found " + m.value().type_name());
          file->metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      std::string what = "tensor " + quoteName(name);
      if (!entry.is_object())
        fail(what + ": entry must be an object, found " + entry.type_name());

      auto dtypeIt = entry.find("dtype");
      if (dtypeIt == entry.end() || !dtypeIt->is_string())
        fail(what + ": 'dtype' is missing or not a string");
      Result<DType> dtype = parseDType(dtypeIt->get<std::string>());
      if (!dtype)
        fail(what + ": " + dtype.error());

      auto shapeIt = entry.find("shape");
      if (shapeIt == entry.end() || !shapeIt->is_array())
        fail(what + ": 'shape' is missing or not an array");
      std::vector<int64_t> shape;
      uint64_t numElements = 1;
      bool overflow = false;
      for (const json &dim : *shapeIt) {
        uint64_t d = nonNegativeInt(dim, what + ": dimension");
        if (d > static_cast<uint64_t>(INT64_MAX))
          fail(what + ": dimension " + std::to_string(d) + " is too large");
        shape.push_back(static_cast<int64_t>(d));
        overflow |= __builtin_mul_overflow(numElements, d, &numElements);
      }

      auto offIt = entry.find("data_offsets");
      if (offIt == entry.end() || !offIt->is_array() || offIt->size() != 2)
        fail(what + ": 'data_offsets' must be an array [begin, end]");
      uint64_t begin = nonNegativeInt((*offIt)[0], what + ": data_offsets begin");
      uint64_t end = nonNegativeInt((*offIt)[1], what + ": data_offsets end");
      if (end < begin)
        fail(what + ": data_offsets [" + std::to_string(begin) + ", " +
             std::to_string(end) + "] end before they begin");
      if (end > dataSize)
        fail("data for tensor " + quoteName(name) + " ends at byte " +
             std::to_string(dataStart + end) + " but the file has only " +
             std::to_string(fileSize));
      uint64_t expectedBytes;
      overflow |= __builtin_mul_overflow(numElements, dtypeSize(*dtype),
                                         &expectedBytes);
      if (overflow || end - begin != expectedBytes)
        fail(what + ": data_offsets span " + std::to_string(end - begin) +
             " bytes but " + dtypeName(*dtype) + " " + shapeToString(shape) +
             " needs " +
             (overflow ? std::string("more than 2^64")
                       : std::to_string(expectedBytes)));

      TensorInfo info;
      info.name = name;
      info.dtype = *dtype;
      info.shape = std::move(shape);
      info.file = path;
      info.dataOffset = dataStart + begin;
      info.byteSize = end - begin;
      auto inserted = file->tensors_.emplace(name, std::move(info));
      if (begin != end)
        ranges.push_back({begin, end, &inserted.first->first});
    }

    // Two tensors sharing bytes would alias silently: reject.
    std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
      return a.begin != b.begin ? a.begin < b.begin : *a.name < *b.name;
    });
    for (size_t i = 1; i < ranges.size(); ++i)
      if (ranges[i].begin < ranges[i - 1].end)
        fail("tensors " + quoteName(*ranges[i - 1].name) + " (bytes " +
             std::to_string(ranges[i - 1].begin) + ".." +
             std::to_string(ranges[i - 1].end) + ") and " +
             quoteName(*ranges[i].name) + " (bytes " +
             std::to_string(ranges[i].begin) + ".." +
             std::to_string(ranges[i].end) + ") overlap");
  } catch (const HeaderError &e) {
    return makeError(path + ": " + e.message);
  } catch (const std::exception &e) {
    return makeError(path + ": " + oneLine(e.what()));
  } catch (...) {
    return makeError(path + ": unexpected error while reading the header");
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_)
    ::munmap(mapping_, fileSize_);
}

Result<const void *> SafetensorsFile::data(const TensorInfo &tensor) {
  if (tensor.file != path_ || tensor.dataOffset + tensor.byteSize > fileSize_)
    return makeError(path_ + ": tensor " + quoteName(tensor.name) +
                     " does not belong to this file");
  std::lock_guard<std::mutex> lock(mapMutex_);
  if (!mapping_) {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return makeError(path_ + ": cannot open: " + errnoText());
    FdGuard guard{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0)
      return makeError(path_ + ": cannot stat: " + errnoText());
    // A shorter file would SIGBUS on access; the header checks no longer hold.
    if (static_cast<uint64_t>(st.st_size) != fileSize_)
      return makeError(path_ + ": file changed size since it was opened (" +
                       std::to_string(fileSize_) + " -> " +
                       std::to_string(st.st_size) + " bytes)");
    void *p = ::mmap(nullptr, fileSize_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      return makeError(path_ + ": cannot map " + std::to_string(fileSize_) +
                       " bytes: " + errnoText());
    mapping_ = p;
  }
  return static_cast<const void *>(static_cast<const char *>(mapping_) +
                                   tensor.dataOffset);
}

//===----------------------------------------------------------------------===//
// Checkpoint
//===----------------------------------------------------------------------===//

namespace {

bool isRegularFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string joinPath(const std::string &dir, const std::string &name) {
  if (dir.empty() || dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

} // namespace

Result<std::unique_ptr<Checkpoint>> Checkpoint::open(const std::string &dir) {
  if (!isDirectory(dir))
    return makeError(dir + ": checkpoint directory does not exist or is not a "
                           "directory");
  std::unique_ptr<Checkpoint> ckpt(new Checkpoint());
  ckpt->dir_ = dir;

  std::string indexPath = joinPath(dir, "model.safetensors.index.json");
  std::string singlePath = joinPath(dir, "model.safetensors");
  if (isRegularFile(indexPath)) {
    // weight_map: tensor -> shard file name (relative to the directory).
    std::vector<std::pair<std::string, std::string>> weightMap;
    try {
      std::ifstream in(indexPath, std::ios::binary);
      if (!in)
        return makeError(indexPath + ": cannot open");
      json root;
      try {
        root = json::parse(in);
      } catch (const json::exception &e) {
        return makeError(indexPath + ": invalid JSON: " + oneLine(e.what()));
      }
      if (!root.is_object())
        return makeError(indexPath + ": expected a JSON object at the top level");
      auto wm = root.find("weight_map");
      if (wm == root.end())
        return makeError(indexPath + ": field 'weight_map' is missing");
      if (!wm->is_object())
        return makeError(indexPath + ": field 'weight_map' must be an object, "
                                     "found " +
                         wm->type_name());
      for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string())
          return makeError(indexPath + ": weight_map entry for tensor " +
                           quoteName(it.key()) + " must be a string, found " +
                           it.value().type_name());
        std::string shard = it.value().get<std::string>();
        // Shards live next to the index: no absolute paths or '..' escapes.
        if (shard.empty() || shard.front() == '/' ||
            shard.find("..") != std::string::npos)
          return makeError(indexPath + ": weight_map entry for tensor " +
                           quoteName(it.key()) + " names an invalid shard file " +
                           quoteName(shard));
        weightMap.emplace_back(it.key(), std::move(shard));
      }
    } catch (const std::exception &e) {
      return makeError(indexPath + ": " + oneLine(e.what()));
    } catch (...) {
      return makeError(indexPath + ": unexpected error while reading the index");
    }
    if (weightMap.empty())
      return makeError(indexPath + ": field 'weight_map' is empty");

    std::map<std::string, size_t> shardIndex;
    for (const auto &[tensor, shard] : weightMap) {
      auto found = shardIndex.find(shard);
      size_t fileIndex;
      if (found == shardIndex.end()) {
        std::string shardPath = joinPath(dir, shard);
        if (!isRegularFile(shardPath))
          return makeError(indexPath + ": shard file " + quoteName(shard) +
                           " (listed for tensor " + quoteName(tensor) +
                           ") is missing: " + shardPath);
        auto file = SafetensorsFile::open(shardPath);
        if (!file)
          return file.takeError();
        fileIndex = ckpt->files_.size();
        ckpt->files_.push_back(std::move(file).value());
        shardIndex.emplace(shard, fileIndex);
      } else {
        fileIndex = found->second;
      }
      const SafetensorsFile &file = *ckpt->files_[fileIndex];
      auto info = file.tensors().find(tensor);
      if (info == file.tensors().end())
        return makeError(indexPath + ": tensor " + quoteName(tensor) +
                         " is listed in shard " + quoteName(shard) +
                         " but that shard has no such tensor");
      ckpt->index_[tensor] = {fileIndex, &info->second};
    }
    return ckpt;
  }

  if (isRegularFile(singlePath)) {
    auto file = SafetensorsFile::open(singlePath);
    if (!file)
      return file.takeError();
    ckpt->files_.push_back(std::move(file).value());
    for (const auto &[name, info] : ckpt->files_[0]->tensors())
      ckpt->index_[name] = {0, &info};
    return ckpt;
  }
  return makeError("no model.safetensors or model.safetensors.index.json in " +
                   dir);
}

const TensorInfo *Checkpoint::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.second;
}

std::vector<std::string> Checkpoint::tensorNames() const {
  std::vector<std::string> names;
  names.reserve(index_.size());
  for (const auto &entry : index_)
    names.push_back(entry.first);
  return names;
}

Status Checkpoint::expect(const std::string &name, DType dtype,
                          const std::vector<int64_t> &shape) const {
  const TensorInfo *info = find(name);
  if (!info)
    return makeError(dir_ + ": checkpoint has no tensor " + quoteName(name));
  if (info->dtype != dtype || info->shape != shape)
    return makeError(info->file + ": tensor " + quoteName(name) +
                     ": expected shape " + shapeToString(shape) + " " +
                     dtypeName(dtype) + ", found " +
                     shapeToString(info->shape) + " " + dtypeName(info->dtype));
  return Status::success();
}

Result<const void *> Checkpoint::data(const std::string &name) {
  auto it = index_.find(name);
  if (it == index_.end())
    return makeError(dir_ + ": checkpoint has no tensor " + quoteName(name));
  return files_[it->second.first]->data(*it->second.second);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status mm01::writeSafetensors(const std::string &path,
                              const std::vector<TensorData> &tensors,
                              const std::map<std::string, std::string> &metadata) {
  std::string header;
  try {
    // ordered_json: __metadata__ first, then tensors in data order, as HF does.
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
      nlohmann::ordered_json meta = nlohmann::ordered_json::object();
      for (const auto &[key, value] : metadata)
        meta[key] = value;
      root["__metadata__"] = std::move(meta);
    }
    std::set<std::string> seen;
    uint64_t offset = 0;
    for (const TensorData &t : tensors) {
      if (t.name.empty() || t.name == "__metadata__")
        return makeError(path + ": invalid tensor name " + quoteName(t.name));
      if (!seen.insert(t.name).second)
        return makeError(path + ": tensor " + quoteName(t.name) +
                         " is listed twice");
      uint64_t numElements = 1;
      for (int64_t d : t.shape) {
        if (d < 0)
          return makeError(path + ": tensor " + quoteName(t.name) + " has shape " +
                           shapeToString(t.shape) + " with a negative dimension");
        numElements *= static_cast<uint64_t>(d);
      }
      if (t.bytes.size() != numElements * dtypeSize(t.dtype))
        return makeError(path + ": tensor " + quoteName(t.name) + " has " +
                         std::to_string(t.bytes.size()) + " bytes but " +
                         dtypeName(t.dtype) + " " + shapeToString(t.shape) +
                         " needs " +
                         std::to_string(numElements * dtypeSize(t.dtype)));
      root[t.name] = {{"dtype", dtypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
      offset += t.bytes.size();
    }
    header = root.dump();
  } catch (const std::exception &e) {
    return makeError(path + ": cannot build the header: " + oneLine(e.what()));
  } catch (...) {
    return makeError(path + ": cannot build the header");
  }
  // Pad with spaces so that the data region starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  unsigned char lengthBytes[8];
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<unsigned char>(length >> (8 * i));
  return writeFileAtomically(path, [&](const ByteSink &write) {
    if (!write(lengthBytes, 8) || !write(header.data(), header.size()))
      return false;
    for (const TensorData &t : tensors)
      if (!write(t.bytes.data(), t.bytes.size()))
        return false;
    return true;
  });
}

Status mm01::writeSafetensorsIndex(
    const std::string &path, const std::map<std::string, std::string> &weightMap,
    uint64_t totalSize) {
  std::string text;
  try {
    json root = {{"metadata", {{"total_size", totalSize}}},
                 {"weight_map", weightMap}};
    text = root.dump(2) + "\n";
  } catch (const std::exception &e) {
    return makeError(path + ": cannot build the index: " + oneLine(e.what()));
  } catch (...) {
    return makeError(path + ": cannot build the index");
  }
  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    return makeError(path + ": cannot create: " + errnoText());
  bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  std::string writeError = ok ? "" : errnoText();
  if (std::fclose(out) != 0 && ok) {
    ok = false;
    writeError = errnoText();
  }
  if (!ok)
    return makeError(path + ": write failed: " + writeError);
  return Status::success();
}
