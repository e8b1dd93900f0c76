//===- EngineFileTest.cpp - engine files: round trip and corruption -------===//

#include "EngineTestUtil.h"
#include "SampleEngine.h"

#include "mm01/Engine/XXHash.h"

#include "../TestUtil.h"

#include <cstring>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::engine::test;
using mm01::test::TempDir;

namespace {

EngineWriter sample() {
  Result<EngineWriter> writer = makeSampleEngine();
  EXPECT_TRUE(writer.ok()) << writer.error();
  return std::move(writer).value();
}

/// The sample engine's bytes, written to `dir/name`.
std::string writeSample(const TempDir &dir, const std::string &name = "e.mm01") {
  std::string path = dir.file(name);
  Status ok = sample().write(path);
  EXPECT_TRUE(ok.ok()) << ok.error();
  return path;
}

Result<std::unique_ptr<EngineReader>> openBytes(const TempDir &dir,
                                                const std::vector<uint8_t> &bytes,
                                                bool verifySections = true) {
  std::string path = dir.file("case.mm01");
  writeBytes(path, bytes);
  OpenOptions options;
  options.verifySections = verifySections;
  return EngineReader::open(path, options);
}

} // namespace

TEST(EngineFile, RoundTrip) {
  TempDir dir;
  EngineWriter writer = sample();
  std::string path = dir.file("e.mm01");
  ASSERT_TRUE(writer.write(path).ok());

  auto reader = EngineReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error();
  const EngineReader &r = **reader;
  EXPECT_EQ(manifestToJson(r.manifest()), manifestToJson(writer.manifest()));
  EXPECT_EQ(r.manifestText(), manifestToJson(writer.manifest()));
  EXPECT_EQ(r.manifest().model, sampleModelConfig());
  EXPECT_EQ(r.manifest().arch, "sm_90a");
  EXPECT_EQ(r.manifest().mm01Version, kMM01Version);
  EXPECT_EQ(r.manifest().options.maxBatch, 4);
  EXPECT_EQ(r.manifest().options.maxContext, 128);
  EXPECT_EQ(r.manifest().kernels.size(), 3u);
  EXPECT_EQ(r.manifest().entryPoints.size(), 2u);
  ASSERT_NE(r.manifest().findEntryPoint("prefill"), nullptr);
  EXPECT_EQ(r.manifest().findEntryPoint("prefill")->steps.size(), 5u);

  const Header &h = r.header();
  EXPECT_EQ(h.formatVersion, kFormatVersion);
  EXPECT_EQ(h.formatVersion, 2u);
  EXPECT_EQ(h.headerSize, 64u);
  EXPECT_EQ(h.sectionTableOffset, 64u);
  EXPECT_EQ(h.sectionEntrySize, 96u);
  EXPECT_EQ(h.sectionCount, 5u);
  EXPECT_EQ(h.manifestOffset, 64u + 5 * 96);
  std::vector<uint8_t> bytes = readBytes(path);
  EXPECT_EQ(h.fileSize, bytes.size());
  EXPECT_EQ(std::memcmp(bytes.data(), "MM01ENGN", 8), 0);

  // Sections: names, kinds and bytes as written.
  std::vector<SectionInfo> expected = writer.sectionTable();
  ASSERT_EQ(r.sections().size(), expected.size());
  const char *names[] = {"kernels", "kernels.ptx", "schedule", "empty", "weights"};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.sections()[i].name, names[i]);
    EXPECT_EQ(r.sections()[i].kind, expected[i].kind);
    EXPECT_EQ(r.sections()[i].offset, expected[i].offset);
    EXPECT_EQ(r.sections()[i].size, expected[i].size);
    EXPECT_EQ(r.sections()[i].checksum, expected[i].checksum);
  }
  const SectionInfo *cubin = r.findSection("kernels");
  ASSERT_NE(cubin, nullptr);
  EXPECT_EQ(cubin->kind, SectionKind::Cubin);
  EXPECT_EQ(std::memcmp(r.sectionData(*cubin), "\x7f" "ELF", 4), 0);
  EXPECT_EQ(r.findSection("empty")->size, 0u);
  EXPECT_EQ(r.findSection("nope"), nullptr);

  // Packed weights read back byte for byte at their offsets.
  auto embed = std::find_if(r.manifest().weights.begin(), r.manifest().weights.end(),
                            [](const Weight &w) {
                              return w.buffer == "model.embed_tokens.weight";
                            });
  ASSERT_NE(embed, r.manifest().weights.end());
  EXPECT_EQ(embed->storage, WeightStorage::Packed);
  EXPECT_EQ(embed->byteSize(), 128u * 64 * 2);
  const SectionInfo *weights = r.findSection("weights");
  ASSERT_NE(weights, nullptr);
  EXPECT_EQ(weights->kind, SectionKind::Weights);
  EXPECT_LE(embed->sectionOffset + embed->byteSize(), weights->size);
}

TEST(EngineFile, WriterOutputIsDeterministicAndMatchesTheSpec) {
  TempDir dir;
  EngineWriter writer = sample();
  Result<std::vector<uint8_t>> a = writer.serialize();
  Result<std::vector<uint8_t>> b = sample().serialize();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  std::string path = writeSample(dir);
  EXPECT_EQ(readBytes(path), *a);

  // An independent implementation of docs/engine-format.md gives the same
  // bytes from the same manifest text and sections.
  auto reader = EngineReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error();
  std::vector<RawSection> raw = rawSections(**reader);
  for (RawSection &s : raw) {
    s.offset.reset();
    s.checksum.reset();
  }
  EXPECT_EQ(assemble((*reader)->manifestText(), raw), *a);
}

TEST(EngineFile, Alignment) {
  TempDir dir;
  auto reader = EngineReader::open(writeSample(dir));
  ASSERT_TRUE(reader.ok()) << reader.error();
  for (const SectionInfo &s : (*reader)->sections()) {
    EXPECT_EQ(s.offset % kSectionAlignment, 0u) << s.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*reader)->sectionData(s)) %
                  kSectionAlignment,
              0u)
        << s.name;
  }
  for (const Weight &w : (*reader)->manifest().weights)
    EXPECT_EQ(w.sectionOffset % kSectionAlignment, 0u) << w.buffer;
  for (const Buffer &b : (*reader)->manifest().buffers)
    EXPECT_EQ(b.offset % b.alignment, 0u) << b.name;
}

TEST(EngineFile, AppendToSectionAligns) {
  EngineWriter writer;
  uint8_t bytes[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  Result<uint64_t> a = writer.appendToSection("w", SectionKind::Weights, bytes, 10);
  Result<uint64_t> b = writer.appendToSection("w", SectionKind::Weights, bytes, 10);
  Result<uint64_t> c = writer.appendToSection("w", SectionKind::Weights, bytes, 10, 16);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, 0u);
  EXPECT_EQ(*b, 256u);
  EXPECT_EQ(*c, 272u);
  EXPECT_ERROR_CONTAINS(writer.appendToSection("w", SectionKind::Cubin, bytes, 1),
                        "section 'w' has kind weights, not cubin");
  EXPECT_ERROR_CONTAINS(writer.appendToSection("w", SectionKind::Weights, bytes, 1, 3),
                        "alignment 3 is not a power of two");
}

TEST(EngineFile, WriterRefusesBadSectionsAndManifests) {
  EngineWriter writer = sample();
  EXPECT_ERROR_CONTAINS(writer.addSection("kernels", SectionKind::Cubin, {}),
                        "section 'kernels' already exists");
  EXPECT_ERROR_CONTAINS(writer.addSection("", SectionKind::Data, {}),
                        "section name is empty");
  EXPECT_ERROR_CONTAINS(writer.addSection(std::string(64, 'x'), SectionKind::Data, {}),
                        "longer than 63");
  EXPECT_ERROR_CONTAINS(writer.addSection("a b", SectionKind::Data, {}),
                        "outside printable ASCII");
  EXPECT_TRUE(writer.addSection(std::string(63, 'x'), SectionKind::Data, {}).ok());

  Weight w;
  w.buffer = "model.norm.weight";
  w.sources = {"model.norm.weight"};
  w.shape = {64};
  uint8_t bytes[10] = {};
  EXPECT_ERROR_CONTAINS(writer.addPackedWeight(w, bytes, 10),
                        "weight 'model.norm.weight': BF16 [64] is 128 bytes, given 10");

  writer.manifest().kernels[0].section = "nope";
  TempDir dir;
  EXPECT_ERROR_CONTAINS(writer.write(dir.file("bad.mm01")),
                        "malformed manifest: field 'kernels[0].section' names no "
                        "section ('nope')");
  EXPECT_ERROR_CONTAINS(writer.serialize(), "kernels[0].section");
}

TEST(EngineFile, FlippedByteInEachSectionNamesTheSection) {
  TempDir dir;
  std::vector<uint8_t> good = readBytes(writeSample(dir));
  auto reader = openBytes(dir, good);
  ASSERT_TRUE(reader.ok()) << reader.error();
  std::vector<SectionInfo> sections = (*reader)->sections();
  reader = Error{"closed"};
  int tested = 0;
  for (const SectionInfo &s : sections) {
    if (s.size == 0)
      continue;
    for (uint64_t at : {uint64_t(0), s.size / 2, s.size - 1}) {
      std::vector<uint8_t> bad = good;
      bad[s.offset + at] ^= 0x01;
      EXPECT_ERROR_CONTAINS(openBytes(dir, bad),
                            "checksum mismatch in section '" + s.name + "'");
      // Without section verification the file opens; verifySection finds it.
      auto lazy = openBytes(dir, bad, /*verifySections=*/false);
      ASSERT_TRUE(lazy.ok()) << lazy.error();
      const SectionInfo *found = (*lazy)->findSection(s.name);
      ASSERT_NE(found, nullptr);
      EXPECT_ERROR_CONTAINS((*lazy)->verifySection(*found),
                            "checksum mismatch in section '" + s.name + "' (stored 0x");
      EXPECT_ERROR_CONTAINS((*lazy)->verifyAllSections(), "'" + s.name + "'");
      ++tested;
    }
  }
  EXPECT_EQ(tested, 4 * 3);
}

TEST(EngineFile, FlippedByteInMetadataIsCaught) {
  TempDir dir;
  std::vector<uint8_t> good = readBytes(writeSample(dir));
  uint64_t manifestOffset = getU64(good, 40), manifestSize = getU64(good, 48);
  // The checksum field itself, bytes of the section table (a name, an
  // offset, a stored checksum), and bytes of the manifest.
  for (uint64_t at : {uint64_t(56), uint64_t(63), uint64_t(64), uint64_t(64 + 72),
                      uint64_t(64 + 96 + 88), manifestOffset,
                      manifestOffset + manifestSize / 2,
                      manifestOffset + manifestSize - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x20;
    EXPECT_ERROR_CONTAINS(openBytes(dir, bad),
                          "checksum mismatch in the header, section table or "
                          "manifest");
  }
}

TEST(EngineFile, TruncatedFiles) {
  TempDir dir;
  std::vector<uint8_t> good = readBytes(writeSample(dir));
  const uint64_t size = good.size();
  uint64_t manifestOffset = getU64(good, 40);
  EXPECT_ERROR_CONTAINS(openBytes(dir, {}), "empty file, not an mm01 engine");
  for (uint64_t cut : {uint64_t(3), uint64_t(8), uint64_t(11), uint64_t(12),
                       uint64_t(63)})
    EXPECT_ERROR_CONTAINS(
        openBytes(dir, std::vector<uint8_t>(good.begin(), good.begin() + cut)),
        "truncated file (expected at least 64 bytes, found " + std::to_string(cut) +
            ")");
  for (uint64_t cut : {uint64_t(64), uint64_t(200), manifestOffset + 10,
                       size / 2, size - 1})
    EXPECT_ERROR_CONTAINS(
        openBytes(dir, std::vector<uint8_t>(good.begin(), good.begin() + cut)),
        "truncated file (expected " + std::to_string(size) + " bytes, found " +
            std::to_string(cut) + ")");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_ERROR_CONTAINS(openBytes(dir, longer),
                        "file is " + std::to_string(size + 1) +
                            " bytes, the header says " + std::to_string(size) +
                            " (trailing data)");
}

TEST(EngineFile, WrongMagic) {
  TempDir dir;
  std::vector<uint8_t> good = readBytes(writeSample(dir));
  std::vector<uint8_t> bad = good;
  bad[3] = 'X';
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad), "not an mm01 engine (bad magic)");
  std::string json = "{\"hello\": 1}\n";
  EXPECT_ERROR_CONTAINS(openBytes(dir, std::vector<uint8_t>(json.begin(), json.end())),
                        "not an mm01 engine (bad magic)");
  EXPECT_ERROR_CONTAINS(openBytes(dir, {'P', 'K'}), "not an mm01 engine");
  EXPECT_ERROR_CONTAINS(EngineReader::open(dir.file("missing.mm01")),
                        "missing.mm01: cannot open: No such file");
  EXPECT_ERROR_CONTAINS(EngineReader::open(dir.path()), "not a regular file");
}

TEST(EngineFile, FutureVersion) {
  TempDir dir;
  std::vector<uint8_t> bad = readBytes(writeSample(dir));
  putU32(bad, 8, 3);
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad),
                        "unsupported engine format version 3 (this build reads "
                        "version 2): the engine was written by a newer mm01");
  // Even when truncated right after the version field.
  EXPECT_ERROR_CONTAINS(openBytes(dir, std::vector<uint8_t>(bad.begin(), bad.begin() + 20)),
                        "unsupported engine format version 3");
}

TEST(EngineFile, OldVersion) {
  // Version 1 had no step conditions: such an engine must be recompiled.
  TempDir dir;
  std::vector<uint8_t> old = readBytes(writeSample(dir));
  putU32(old, 8, 1);
  EXPECT_ERROR_CONTAINS(openBytes(dir, old),
                        "unsupported engine format version 1 (this build reads "
                        "version 2): recompile the engine with this build's "
                        "mm01-compile");
}

TEST(EngineFile, BadHeaderFields) {
  TempDir dir;
  std::vector<uint8_t> good = readBytes(writeSample(dir));
  std::vector<uint8_t> bad = good;
  putU32(bad, 12, 80);
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad), "header size is 80 bytes, expected 64");
  bad = good;
  putU32(bad, 36, 100);
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad),
                        "section table entries are 100 bytes, expected 96");
  bad = good;
  putU32(bad, 32, 1000000);
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad), "section table (1000000 entries at "
                                             "offset 64) lies outside the file");
  bad = good;
  bad[48 + 7] = 0x10; // manifest size huge
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad), "manifest (");
  EXPECT_ERROR_CONTAINS(openBytes(dir, bad), "lies outside the file");
}

TEST(EngineFile, BadSectionTableWithValidChecksum) {
  TempDir dir;
  auto reader = EngineReader::open(writeSample(dir));
  ASSERT_TRUE(reader.ok()) << reader.error();
  const std::string manifest = (*reader)->manifestText();
  const std::vector<RawSection> good = rawSections(**reader);
  reader = Error{"closed"};

  // The assembler reproduces a valid file.
  ASSERT_TRUE(openBytes(dir, assemble(manifest, good)).ok());

  std::vector<RawSection> bad = good;
  bad[2].kind = 99;
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section 'schedule' has unknown kind 99");
  bad = good;
  bad[2].kind = 0;
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)), "unknown kind 0");

  bad = good;
  *bad[2].offset += 8;
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section 'schedule' starts at offset " +
                            std::to_string(*bad[2].offset) +
                            ", not a multiple of 256");
  bad = good;
  bad[2].offset = *bad[0].offset; // on top of 'kernels'
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section 'schedule' overlaps section 'kernels'");
  bad = good;
  ASSERT_GT(manifest.size(), 2000u);
  bad[0].offset = 1024; // inside the manifest [544, 544 + size)
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section 'kernels' overlaps the manifest");
  bad = good;
  bad[1].name = "kernels";
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section name 'kernels' appears twice");
  bad = good;
  bad[1].name = std::string(64, 'n'); // fills the field: no NUL
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "section table entry 1: name is not NUL-terminated");
  bad = good;
  bad[1].name = "bad\tname";
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "outside printable ASCII");
  bad = good;
  bad[1].checksum = 12345;
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(manifest, bad)),
                        "checksum mismatch in section 'kernels.ptx' (stored "
                        "0x0000000000003039");
}

TEST(EngineFile, MalformedManifests) {
  TempDir dir;
  auto reader = EngineReader::open(writeSample(dir));
  ASSERT_TRUE(reader.ok()) << reader.error();
  const std::string manifest = (*reader)->manifestText();
  std::vector<RawSection> sections = rawSections(**reader);
  for (RawSection &s : sections)
    s.offset.reset();
  reader = Error{"closed"};

  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble("{\"format_version\": 2,", sections)),
                        "case.mm01: malformed manifest: invalid JSON");
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble("", sections)),
                        "malformed manifest: invalid JSON");
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble("[1, 2]", sections)),
                        "malformed manifest: expected a JSON object at the top "
                        "level, found array [1,2]");

  // A missing required field, named by its path.
  std::string noEntry = manifest;
  size_t at = noEntry.find("\"entry\": \"mm01_embed_bf16\",");
  ASSERT_NE(at, std::string::npos);
  noEntry.erase(at, std::string("\"entry\": \"mm01_embed_bf16\",").size());
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(noEntry, sections)),
                        "malformed manifest: field 'kernels[0].entry' is missing");

  // A reference to a section the file does not have.
  std::string noSection = manifest;
  at = noSection.find("\"section\": \"kernels.ptx\"");
  ASSERT_NE(at, std::string::npos);
  noSection.replace(at, std::string("\"section\": \"kernels.ptx\"").size(),
                    "\"section\": \"kernels.cu\"");
  EXPECT_ERROR_CONTAINS(openBytes(dir, assemble(noSection, sections)),
                        "malformed manifest: field 'kernels[2].section' names no "
                        "section ('kernels.cu')");
}
