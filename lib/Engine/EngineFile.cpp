//===- EngineFile.cpp - engine file layout: writer and reader -------------===//
//
// The byte layout of docs/engine-format.md:
//
//   [0, 64)          header (magic, version, sizes, offsets, checksum)
//   [64, 64 + 96·n)  section table, n entries of 96 bytes
//   then             manifest (UTF-8 JSON)
//   then             sections, each starting at a multiple of 256
//
// All integers little-endian. The reader checks every offset against the
// file size before touching memory, and reports the first problem it finds
// as one line prefixed with the file path.
//
//===----------------------------------------------------------------------===//

#include "mm01/Support/FileIO.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Engine/XXHash.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mm01;
using namespace mm01::engine;

namespace {

// Header field offsets.
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHeaderSize = 12;
constexpr size_t kOffFileSize = 16;
constexpr size_t kOffTableOffset = 24;
constexpr size_t kOffSectionCount = 32;
constexpr size_t kOffEntrySize = 36;
constexpr size_t kOffManifestOffset = 40;
constexpr size_t kOffManifestSize = 48;
constexpr size_t kOffChecksum = 56;

// Section table entry field offsets.
constexpr size_t kEntName = 0;
constexpr size_t kEntNameBytes = 64;
constexpr size_t kEntKind = 64;
constexpr size_t kEntFlags = 68;
constexpr size_t kEntOffset = 72;
constexpr size_t kEntSize = 80;
constexpr size_t kEntChecksum = 88;

void putU32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t getU32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string errnoText() { return std::strerror(errno); }

Status checkSectionName(const std::string &name) {
  if (name.empty())
    return makeError("section name is empty");
  if (name.size() > kMaxSectionNameLength)
    return makeError("section name '" + name + "' is " +
                     std::to_string(name.size()) + " bytes, longer than " +
                     std::to_string(kMaxSectionNameLength));
  for (char c : name)
    if (c < 0x21 || c > 0x7e)
      return makeError("section name '" + name +
                       "' has a character outside printable ASCII");
  return Status::success();
}

/// Where everything goes in the file.
struct Layout {
  std::string manifest;
  std::vector<SectionInfo> sections;
  std::vector<uint8_t> header;  // kHeaderSize bytes, checksum filled in
  std::vector<uint8_t> table;   // sectionCount × kSectionEntrySize
  uint64_t manifestOffset = 0;
  uint64_t fileSize = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

EngineWriter::EngineWriter(Manifest manifest) : manifest_(std::move(manifest)) {}

EngineWriter::PendingSection *EngineWriter::findSection(const std::string &name) {
  for (PendingSection &s : sections_)
    if (s.name == name)
      return &s;
  return nullptr;
}

Status EngineWriter::addSection(const std::string &name, SectionKind kind,
                                std::vector<uint8_t> bytes) {
  Status ok = checkSectionName(name);
  if (!ok)
    return ok;
  if (findSection(name))
    return makeError("section '" + name + "' already exists");
  sections_.push_back(PendingSection{name, kind, std::move(bytes)});
  return Status::success();
}

Result<uint64_t> EngineWriter::appendToSection(const std::string &name,
                                               SectionKind kind, const void *data,
                                               size_t size, uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return makeError("alignment " + std::to_string(alignment) +
                     " is not a power of two");
  PendingSection *section = findSection(name);
  if (!section) {
    Status ok = addSection(name, kind, {});
    if (!ok)
      return Error{ok.error()};
    section = &sections_.back();
  } else if (section->kind != kind) {
    return makeError("section '" + name + "' has kind " +
                     sectionKindName(section->kind) + ", not " +
                     sectionKindName(kind));
  }
  uint64_t offset = alignUp(section->bytes.size(), alignment);
  section->bytes.resize(offset, 0);
  const uint8_t *p = static_cast<const uint8_t *>(data);
  if (size > 0)
    section->bytes.insert(section->bytes.end(), p, p + size);
  return offset;
}

Status EngineWriter::addPackedWeight(Weight weight, const void *data, size_t size) {
  if (weight.section.empty())
    weight.section = "weights";
  if (weight.byteSize() != size)
    return makeError("weight '" + weight.buffer + "': " + dtypeName(weight.dtype) +
                     " " + shapeToString(weight.shape) + " is " +
                     std::to_string(weight.byteSize()) + " bytes, given " +
                     std::to_string(size));
  Result<uint64_t> offset =
      appendToSection(weight.section, SectionKind::Weights, data, size);
  if (!offset)
    return Error{offset.error()};
  weight.storage = WeightStorage::Packed;
  weight.sectionOffset = *offset;
  manifest_.weights.push_back(std::move(weight));
  return Status::success();
}

std::vector<SectionInfo> EngineWriter::sectionTable() const {
  std::vector<SectionInfo> table;
  std::string manifest = manifestToJson(manifest_);
  uint64_t cursor = kHeaderSize +
                    static_cast<uint64_t>(sections_.size()) * kSectionEntrySize +
                    manifest.size();
  for (const PendingSection &s : sections_) {
    SectionInfo info;
    info.name = s.name;
    info.kind = s.kind;
    info.offset = alignUp(cursor, kSectionAlignment);
    info.size = s.bytes.size();
    info.checksum = xxh64(s.bytes.data(), s.bytes.size());
    cursor = info.offset + info.size;
    table.push_back(std::move(info));
  }
  return table;
}

namespace {

Result<Layout> layOut(const Manifest &manifest,
                      std::vector<SectionInfo> sections) {
  Status valid = validateManifest(manifest, sections);
  if (!valid)
    return Error{valid.error()};
  Layout layout;
  layout.manifest = manifestToJson(manifest);
  if (layout.manifest.empty())
    return makeError("cannot serialize the manifest (invalid UTF-8 in a name?)");
  layout.sections = std::move(sections);
  const uint64_t count = layout.sections.size();
  if (count > UINT32_MAX)
    return makeError("too many sections");
  layout.manifestOffset = kHeaderSize + count * kSectionEntrySize;
  layout.fileSize = layout.manifestOffset + layout.manifest.size();
  if (!layout.sections.empty())
    layout.fileSize = layout.sections.back().offset + layout.sections.back().size;

  layout.table.assign(count * kSectionEntrySize, 0);
  for (size_t i = 0; i < count; ++i) {
    const SectionInfo &s = layout.sections[i];
    uint8_t *e = layout.table.data() + i * kSectionEntrySize;
    std::memcpy(e + kEntName, s.name.data(), s.name.size());
    putU32(e + kEntKind, static_cast<uint32_t>(s.kind));
    putU32(e + kEntFlags, 0);
    putU64(e + kEntOffset, s.offset);
    putU64(e + kEntSize, s.size);
    putU64(e + kEntChecksum, s.checksum);
  }

  layout.header.assign(kHeaderSize, 0);
  uint8_t *h = layout.header.data();
  std::memcpy(h + kOffMagic, kMagic, 8);
  putU32(h + kOffVersion, kFormatVersion);
  putU32(h + kOffHeaderSize, kHeaderSize);
  putU64(h + kOffFileSize, layout.fileSize);
  putU64(h + kOffTableOffset, kHeaderSize);
  putU32(h + kOffSectionCount, static_cast<uint32_t>(count));
  putU32(h + kOffEntrySize, kSectionEntrySize);
  putU64(h + kOffManifestOffset, layout.manifestOffset);
  putU64(h + kOffManifestSize, layout.manifest.size());
  XXH64State state;
  state.update(h, kOffChecksum);
  state.update(layout.table.data(), layout.table.size());
  state.update(layout.manifest.data(), layout.manifest.size());
  putU64(h + kOffChecksum, state.digest());
  return layout;
}

/// Emits the file bytes in order through `sink(data, size) -> bool`.
template <typename Sink>
bool emitFile(const Layout &layout,
              const std::vector<const std::vector<uint8_t> *> &bodies, Sink sink) {
  static const uint8_t zeros[kSectionAlignment] = {};
  uint64_t written = 0;
  auto put = [&](const void *data, size_t size) {
    written += size;
    return size == 0 || sink(data, size);
  };
  if (!put(layout.header.data(), layout.header.size()) ||
      !put(layout.table.data(), layout.table.size()) ||
      !put(layout.manifest.data(), layout.manifest.size()))
    return false;
  for (size_t i = 0; i < layout.sections.size(); ++i) {
    if (!put(zeros, layout.sections[i].offset - written))
      return false;
    if (!put(bodies[i]->data(), bodies[i]->size()))
      return false;
  }
  return written == layout.fileSize;
}

} // namespace

Result<std::vector<uint8_t>> EngineWriter::serialize() const {
  Result<Layout> layout = layOut(manifest_, sectionTable());
  if (!layout)
    return layout.takeError();
  std::vector<const std::vector<uint8_t> *> bodies;
  for (const PendingSection &s : sections_)
    bodies.push_back(&s.bytes);
  std::vector<uint8_t> out;
  out.reserve(layout->fileSize);
  emitFile(*layout, bodies, [&](const void *data, size_t size) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    out.insert(out.end(), p, p + size);
    return true;
  });
  return out;
}

Status EngineWriter::write(const std::string &path) const {
  Result<Layout> layout = layOut(manifest_, sectionTable());
  if (!layout)
    return makeError(path + ": " + layout.error());
  std::vector<const std::vector<uint8_t> *> bodies;
  for (const PendingSection &s : sections_)
    bodies.push_back(&s.bytes);

  return writeFileAtomically(path, [&](const ByteSink &write) {
    return emitFile(*layout, bodies, write);
  });
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

namespace {



std::string truncated(uint64_t expected, uint64_t found, bool atLeast) {
  return std::string("truncated file (expected ") + (atLeast ? "at least " : "") +
         std::to_string(expected) + " bytes, found " + std::to_string(found) + ")";
}

} // namespace

EngineReader::~EngineReader() {
  if (mapping_)
    ::munmap(const_cast<uint8_t *>(mapping_), mappingSize_);
}

Result<std::unique_ptr<EngineReader>>
EngineReader::open(const std::string &path, const OpenOptions &options) {
  auto error = [&](const std::string &message) {
    return makeError(path + ": " + message);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return error("cannot open: " + errnoText());
  FdGuard guard{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return error("cannot stat: " + errnoText());
  if (!S_ISREG(st.st_mode))
    return error("not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  // Magic and version first: they decide how to read the rest.
  uint8_t h[kHeaderSize] = {};
  const size_t headBytes = static_cast<size_t>(std::min<uint64_t>(size, kHeaderSize));
  if (!readAt(fd, h, headBytes, 0))
    return error("cannot read the header: " + errnoText());
  if (size == 0)
    return error("empty file, not an mm01 engine");
  if (std::memcmp(h, kMagic, std::min<size_t>(headBytes, 8)) != 0)
    return error("not an mm01 engine (bad magic)");
  if (size < kOffVersion + 4)
    return error(truncated(kHeaderSize, size, true));
  const uint32_t version = getU32(h + kOffVersion);
  if (version != kFormatVersion)
    return error("unsupported engine format version " + std::to_string(version) +
                 " (this build reads version " + std::to_string(kFormatVersion) +
                 (version < kFormatVersion
                      ? "): recompile the engine with this build's mm01-compile"
                      : "): the engine was written by a newer mm01"));
  if (size < kHeaderSize)
    return error(truncated(kHeaderSize, size, true));

  std::unique_ptr<EngineReader> reader(new EngineReader());
  reader->path_ = path;
  Header &hd = reader->header_;
  hd.formatVersion = version;
  hd.headerSize = getU32(h + kOffHeaderSize);
  hd.fileSize = getU64(h + kOffFileSize);
  hd.sectionTableOffset = getU64(h + kOffTableOffset);
  hd.sectionCount = getU32(h + kOffSectionCount);
  hd.sectionEntrySize = getU32(h + kOffEntrySize);
  hd.manifestOffset = getU64(h + kOffManifestOffset);
  hd.manifestSize = getU64(h + kOffManifestSize);
  hd.checksum = getU64(h + kOffChecksum);

  if (hd.headerSize != kHeaderSize)
    return error("header size is " + std::to_string(hd.headerSize) +
                 " bytes, expected " + std::to_string(kHeaderSize) +
                 " for format version " + std::to_string(kFormatVersion));
  if (size < hd.fileSize)
    return error(truncated(hd.fileSize, size, false));
  if (size > hd.fileSize)
    return error("file is " + std::to_string(size) + " bytes, the header says " +
                 std::to_string(hd.fileSize) + " (trailing data)");
  if (hd.sectionEntrySize != kSectionEntrySize)
    return error("section table entries are " +
                 std::to_string(hd.sectionEntrySize) + " bytes, expected " +
                 std::to_string(kSectionEntrySize));
  const uint64_t tableBytes = static_cast<uint64_t>(hd.sectionCount) * kSectionEntrySize;
  if (hd.sectionTableOffset < kHeaderSize || hd.sectionTableOffset > size ||
      tableBytes > size - hd.sectionTableOffset)
    return error("section table (" + std::to_string(hd.sectionCount) +
                 " entries at offset " + std::to_string(hd.sectionTableOffset) +
                 ") lies outside the file (" + std::to_string(size) + " bytes)");
  if (hd.manifestOffset < kHeaderSize || hd.manifestOffset > size ||
      hd.manifestSize > size - hd.manifestOffset)
    return error("manifest (" + std::to_string(hd.manifestSize) +
                 " bytes at offset " + std::to_string(hd.manifestOffset) +
                 ") lies outside the file (" + std::to_string(size) + " bytes)");

  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED)
    return error("cannot map: " + errnoText());
  reader->mapping_ = static_cast<const uint8_t *>(map);
  reader->mappingSize_ = size;
  const uint8_t *base = reader->mapping_;
  const uint8_t *table = base + hd.sectionTableOffset;

  XXH64State state;
  state.update(base, kOffChecksum);
  state.update(table, tableBytes);
  state.update(base + hd.manifestOffset, hd.manifestSize);
  uint64_t computed = state.digest();
  if (computed != hd.checksum)
    return error("checksum mismatch in the header, section table or manifest "
                 "(stored " + hex64(hd.checksum) + ", computed " +
                 hex64(computed) + ")");

  // The section table.
  struct Region {
    uint64_t begin, end;
    std::string what;
  };
  std::vector<Region> regions = {
      {0, kHeaderSize, "the header"},
      {hd.sectionTableOffset, hd.sectionTableOffset + tableBytes, "the section table"},
      {hd.manifestOffset, hd.manifestOffset + hd.manifestSize, "the manifest"}};
  for (uint32_t i = 0; i < hd.sectionCount; ++i) {
    const uint8_t *e = table + static_cast<uint64_t>(i) * kSectionEntrySize;
    const void *nul = std::memchr(e + kEntName, 0, kEntNameBytes);
    std::string where = "section table entry " + std::to_string(i);
    if (!nul)
      return error(where + ": name is not NUL-terminated");
    SectionInfo s;
    s.name.assign(reinterpret_cast<const char *>(e + kEntName),
                  static_cast<const uint8_t *>(nul) - (e + kEntName));
    Status nameOk = checkSectionName(s.name);
    if (!nameOk)
      return error(where + ": " + nameOk.error());
    where = "section '" + s.name + "'";
    uint32_t kind = getU32(e + kEntKind);
    if (kind < static_cast<uint32_t>(SectionKind::Cubin) ||
        kind > static_cast<uint32_t>(SectionKind::Data))
      return error(where + " has unknown kind " + std::to_string(kind));
    s.kind = static_cast<SectionKind>(kind);
    s.offset = getU64(e + kEntOffset);
    s.size = getU64(e + kEntSize);
    s.checksum = getU64(e + kEntChecksum);
    if (s.offset % kSectionAlignment != 0)
      return error(where + " starts at offset " + std::to_string(s.offset) +
                   ", not a multiple of " + std::to_string(kSectionAlignment));
    if (s.offset > size || s.size > size - s.offset)
      return error(where + " (" + std::to_string(s.size) + " bytes at offset " +
                   std::to_string(s.offset) + ") lies outside the file (" +
                   std::to_string(size) + " bytes)");
    for (const SectionInfo &other : reader->sections_)
      if (other.name == s.name)
        return error("section name '" + s.name + "' appears twice");
    regions.push_back({s.offset, s.offset + s.size, where});
    reader->sections_.push_back(std::move(s));
  }
  // Non-empty regions, sorted by start, are disjoint iff neighbours are.
  regions.erase(std::remove_if(regions.begin(), regions.end(),
                               [](const Region &r) { return r.end == r.begin; }),
                regions.end());
  std::stable_sort(regions.begin(), regions.end(),
                   [](const Region &a, const Region &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < regions.size(); ++i)
    if (regions[i].begin < regions[i - 1].end)
      return error(regions[i].what + " overlaps " + regions[i - 1].what);

  // The manifest.
  reader->manifestText_.assign(
      reinterpret_cast<const char *>(base + hd.manifestOffset), hd.manifestSize);
  Result<Manifest> manifest = parseManifest(reader->manifestText_);
  if (!manifest)
    return error(manifest.error());
  reader->manifest_ = std::move(manifest).value();
  Status valid = validateManifest(reader->manifest_, reader->sections_);
  if (!valid)
    return error(valid.error());

  if (options.verifySections) {
    Status ok = reader->verifyAllSections();
    if (!ok)
      return Error{ok.error()};
  }
  return reader;
}

const SectionInfo *EngineReader::findSection(const std::string &name) const {
  for (const SectionInfo &s : sections_)
    if (s.name == name)
      return &s;
  return nullptr;
}

const uint8_t *EngineReader::sectionData(const SectionInfo &section) const {
  return mapping_ + section.offset;
}

Status EngineReader::verifySection(const SectionInfo &section) const {
  uint64_t computed = xxh64(sectionData(section), section.size);
  if (computed != section.checksum)
    return makeError(path_ + ": checksum mismatch in section '" + section.name +
                     "' (stored " + hex64(section.checksum) + ", computed " +
                     hex64(computed) + ")");
  return Status::success();
}

Status EngineReader::verifyAllSections() const {
  for (const SectionInfo &s : sections_) {
    Status ok = verifySection(s);
    if (!ok)
      return ok;
  }
  return Status::success();
}
