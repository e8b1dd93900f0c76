//===- SafetensorsTest.cpp - safetensors reading, writing, checkpoints ----===//
#include "TestUtil.h"

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mm01;
using namespace mm01::test;

namespace {

TensorData makeTensor(std::string name, DType dtype, std::vector<int64_t> shape,
                      uint8_t fill) {
  TensorData t{std::move(name), dtype, std::move(shape), {}};
  size_t n = 1;
  for (int64_t d : t.shape)
    n *= static_cast<size_t>(d);
  t.bytes.resize(n * dtypeSize(dtype));
  for (size_t i = 0; i < t.bytes.size(); ++i)
    t.bytes[i] = static_cast<uint8_t>(fill + i * 7);
  return t;
}

/// A raw safetensors file: length field (given or the real one), header
/// text, then `dataSize` data bytes.
std::string rawFile(const std::string &header, size_t dataSize,
                    uint64_t length = std::numeric_limits<uint64_t>::max()) {
  if (length == std::numeric_limits<uint64_t>::max())
    length = header.size();
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<char>(length >> (8 * i)));
  return bytes + header + std::string(dataSize, '\x11');
}

/// Writes `bytes` as `name` in a temp dir and opens it.
Result<std::unique_ptr<SafetensorsFile>> openRaw(const TempDir &tmp,
                                                 const std::string &bytes,
                                                 const std::string &name =
                                                     "model.safetensors") {
  writeFile(tmp.file(name), bytes);
  return SafetensorsFile::open(tmp.file(name));
}

} // namespace

//===----------------------------------------------------------------------===//
// Write / read round trip
//===----------------------------------------------------------------------===//

TEST(Safetensors, WriteReadRoundTrip) {
  TempDir tmp;
  std::vector<TensorData> tensors = {
      makeTensor("b.weight", DType::BF16, {2, 3}, 1),
      makeTensor("a.f32", DType::F32, {5}, 2),
      makeTensor("ids", DType::I64, {2, 2}, 3),
      makeTensor("empty", DType::U8, {0, 4}, 4),
      makeTensor("scalar", DType::F16, {}, 5),
      makeTensor("flag", DType::Bool, {3}, 6)};
  std::string path = tmp.file("x.safetensors");
  Status written = writeSafetensors(path, tensors, {{"format", "pt"}});
  ASSERT_TRUE(written.ok()) << written.error();

  // Header padded so the data region starts 8-byte aligned.
  std::string bytes = readFile(path);
  uint64_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data(), 8);
  EXPECT_EQ(headerLength % 8, 0u);

  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error();
  SafetensorsFile &f = **file;
  EXPECT_EQ(f.path(), path);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  EXPECT_EQ(f.metadata().at("format"), "pt");
  uint64_t expectedOffset = 8 + headerLength;
  for (const TensorData &t : tensors) {
    SCOPED_TRACE(t.name);
    auto it = f.tensors().find(t.name);
    ASSERT_NE(it, f.tensors().end());
    const TensorInfo &info = it->second;
    EXPECT_EQ(info.name, t.name);
    EXPECT_EQ(info.dtype, t.dtype);
    EXPECT_EQ(info.shape, t.shape);
    EXPECT_EQ(info.file, path);
    EXPECT_EQ(info.byteSize, t.bytes.size());
    EXPECT_EQ(info.dataOffset, expectedOffset); // written in the given order
    EXPECT_EQ(static_cast<size_t>(info.numElements()) * dtypeSize(t.dtype),
              t.bytes.size());
    expectedOffset += t.bytes.size();
    Result<const void *> data = f.data(info);
    ASSERT_TRUE(data.ok()) << data.error();
    if (!t.bytes.empty()) { // memcmp with a null vector data() is UB
      EXPECT_EQ(std::memcmp(*data, t.bytes.data(), t.bytes.size()), 0);
    }
  }
  EXPECT_EQ(expectedOffset, bytes.size());

  // Writing the same tensors again gives the same bytes.
  ASSERT_TRUE(writeSafetensors(tmp.file("y.safetensors"), tensors,
                               {{"format", "pt"}})
                  .ok());
  EXPECT_EQ(readFile(tmp.file("y.safetensors")), bytes);
}

TEST(Safetensors, WriteRejectsInconsistentTensors) {
  TempDir tmp;
  TensorData bad = makeTensor("w", DType::BF16, {2, 2}, 0);
  bad.bytes.pop_back();
  EXPECT_ERROR_CONTAINS(writeSafetensors(tmp.file("a.safetensors"), {bad}),
                        "tensor 'w' has 7 bytes but BF16 [2, 2] needs 8");
  TensorData t = makeTensor("w", DType::F32, {1}, 0);
  EXPECT_ERROR_CONTAINS(writeSafetensors(tmp.file("a.safetensors"), {t, t}),
                        "tensor 'w' is listed twice");
  EXPECT_ERROR_CONTAINS(
      writeSafetensors(tmp.file("a.safetensors"),
                       {makeTensor("__metadata__", DType::U8, {1}, 0)}),
      "invalid tensor name '__metadata__'");
  EXPECT_ERROR_CONTAINS(
      writeSafetensors(tmp.file("no-such-dir/a.safetensors"), {t}),
      "cannot create");
}

TEST(Safetensors, DataRejectsForeignTensor) {
  TempDir tmp;
  ASSERT_TRUE(writeSafetensors(tmp.file("a.safetensors"),
                               {makeTensor("w", DType::F32, {4}, 0)})
                  .ok());
  auto file = SafetensorsFile::open(tmp.file("a.safetensors"));
  ASSERT_TRUE(file.ok()) << file.error();
  TensorInfo other = (*file)->tensors().at("w");
  other.file = tmp.file("b.safetensors");
  EXPECT_ERROR_CONTAINS((*file)->data(other),
                        "tensor 'w' does not belong to this file");
}

TEST(Safetensors, DTypeNames) {
  for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                  DType::I32, DType::I16, DType::I8, DType::U8, DType::Bool}) {
    Result<DType> parsed = parseDType(dtypeName(d));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, d);
  }
  EXPECT_EQ(dtypeSize(DType::BF16), 2u);
  EXPECT_EQ(dtypeSize(DType::F64), 8u);
  EXPECT_EQ(dtypeSize(DType::Bool), 1u);
  EXPECT_ERROR_CONTAINS(parseDType("bf16"), "unknown dtype 'bf16'");
  EXPECT_EQ(shapeToString({}), "[]");
  EXPECT_EQ(shapeToString({768, 256}), "[768, 256]");
}

//===----------------------------------------------------------------------===//
// Malformed files
//===----------------------------------------------------------------------===//

TEST(SafetensorsErrors, EmptyAndTinyFiles) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(openRaw(tmp, ""),
                        tmp.file("model.safetensors") +
                            ": file is 0 bytes, too short for the 8-byte "
                            "safetensors header length");
  EXPECT_ERROR_CONTAINS(openRaw(tmp, std::string("\x02\0\0\0\0", 5)),
                        "file is 5 bytes, too short");
  EXPECT_ERROR_CONTAINS(SafetensorsFile::open(tmp.file("absent.safetensors")),
                        tmp.file("absent.safetensors") + ": cannot open");
}

TEST(SafetensorsErrors, TruncatedHeader) {
  TempDir tmp;
  // A valid file cut off in the middle of its header.
  ASSERT_TRUE(writeSafetensors(tmp.file("ok.safetensors"),
                               {makeTensor("w", DType::F32, {4}, 0)})
                  .ok());
  std::string bytes = readFile(tmp.file("ok.safetensors"));
  uint64_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data(), 8);
  std::string cut = bytes.substr(0, 8 + headerLength / 2);
  EXPECT_ERROR_CONTAINS(openRaw(tmp, cut),
                        "truncated header: header length is " +
                            std::to_string(headerLength) + " bytes but only " +
                            std::to_string(headerLength / 2) +
                            " bytes follow the length field");
}

TEST(SafetensorsErrors, HeaderLengthLargerThanFile) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(openRaw(tmp, rawFile("{}", 0, uint64_t(1) << 40)),
                        "truncated header: header length is 1099511627776 "
                        "bytes but only 2 bytes follow the length field");
  // Also a length whose 8 + N would overflow.
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{}", 0, std::numeric_limits<uint64_t>::max() - 3)),
      "truncated header");
}

TEST(SafetensorsErrors, InvalidJson) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(openRaw(tmp, rawFile("{\"w\": {\"dtype\": ", 0)),
                        tmp.file("model.safetensors") + ": invalid JSON header");
  EXPECT_ERROR_CONTAINS(openRaw(tmp, rawFile("[1, 2, 3]", 0)),
                        "header is not a JSON object (found array)");
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4)),
      "tensor 'w': 'dtype' is missing or not a string");
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], "
                           "\"data_offsets\": [0]}}",
                           4)),
      "tensor 'w': 'data_offsets' must be an array [begin, end]");
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"__metadata__\": {\"format\": 1}}", 0)),
      "__metadata__ entry 'format' must be a string");
}

TEST(SafetensorsErrors, OffsetsPastEndOfFile) {
  TempDir tmp;
  std::string header =
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [8], \"data_offsets\": [0, 32]}}";
  std::string bytes = rawFile(header, 20);
  EXPECT_ERROR_CONTAINS(openRaw(tmp, bytes),
                        tmp.file("model.safetensors") +
                            ": data for tensor 'w' ends at byte " +
                            std::to_string(8 + header.size() + 32) +
                            " but the file has only " +
                            std::to_string(bytes.size()));
}

TEST(SafetensorsErrors, WrongByteSize) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"BF16\", \"shape\": [2, 2], "
                           "\"data_offsets\": [0, 6]}}",
                           8)),
      "tensor 'w': data_offsets span 6 bytes but BF16 [2, 2] needs 8");
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], "
                           "\"data_offsets\": [4, 0]}}",
                           8)),
      "tensor 'w': data_offsets [4, 0] end before they begin");
  // Element count overflowing 64 bits.
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": "
                           "[4294967296, 4294967296], \"data_offsets\": [0, 0]}}",
                           0)),
      "needs more than 2^64");
}

TEST(SafetensorsErrors, UnknownDType) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"Q4\", \"shape\": [2], "
                           "\"data_offsets\": [0, 1]}}",
                           1)),
      tmp.file("model.safetensors") + ": tensor 'w': unknown dtype 'Q4'");
}

TEST(SafetensorsErrors, NegativeDimension) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp, rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -1], "
                           "\"data_offsets\": [0, 0]}}",
                           0)),
      "tensor 'w': dimension is negative (-1)");
}

TEST(SafetensorsErrors, OverlappingTensors) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(
      openRaw(tmp,
              rawFile("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
                      "\"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", "
                      "\"shape\": [2], \"data_offsets\": [4, 12]}}",
                      12)),
      "tensors 'a' (bytes 0..8) and 'b' (bytes 4..12) overlap");
  // Empty tensors overlap nothing.
  auto ok = openRaw(tmp, rawFile("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
                                 "\"data_offsets\": [0, 8]}, \"e\": {\"dtype\": "
                                 "\"F32\", \"shape\": [0], \"data_offsets\": "
                                 "[4, 4]}}",
                                 8));
  EXPECT_TRUE(ok.ok()) << ok.error();
}

TEST(SafetensorsErrors, RandomCorruptionNeverCrashes) {
  // Flip bytes of a valid file (header and length field included): open()
  // must either fail with a one-line message or give tensors whose data
  // lies inside the file.
  TempDir tmp;
  ASSERT_TRUE(writeSafetensors(tmp.file("ok.safetensors"),
                               {makeTensor("a", DType::BF16, {3, 5}, 1),
                                makeTensor("b", DType::F32, {7}, 2),
                                makeTensor("c", DType::I8, {0}, 3)},
                               {{"format", "pt"}})
                  .ok());
  const std::string good = readFile(tmp.file("ok.safetensors"));
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  int opened = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string bytes = good;
    int flips = 1 + next() % 4;
    for (int i = 0; i < flips; ++i) {
      // Mostly the length field and the header, where parsing happens.
      size_t limit =
          iter % 4 == 0 ? bytes.size() : std::min<size_t>(bytes.size(), 200);
      bytes[next() % limit] = static_cast<char>(next());
    }
    if (iter % 7 == 0)
      bytes.resize(next() % bytes.size());
    std::string path = tmp.file("fuzz.safetensors");
    writeFile(path, bytes);
    auto file = SafetensorsFile::open(path);
    if (!file.ok()) {
      EXPECT_EQ(file.error().find('\n'), std::string::npos) << file.error();
      EXPECT_EQ(file.error().rfind(path + ": ", 0), 0u) << file.error();
      continue;
    }
    ++opened;
    for (const auto &entry : (*file)->tensors()) {
      const TensorInfo &info = entry.second;
      ASSERT_LE(info.dataOffset + info.byteSize, bytes.size());
      Result<const void *> data = (*file)->data(info);
      ASSERT_TRUE(data.ok()) << data.error();
      if (info.byteSize) {
        EXPECT_EQ(std::memcmp(*data, bytes.data() + info.dataOffset,
                              info.byteSize),
                  0);
      }
    }
  }
  EXPECT_GT(opened, 0); // some flips land in data bytes or harmless spots
}

//===----------------------------------------------------------------------===//
// Checkpoint directories
//===----------------------------------------------------------------------===//

TEST(Checkpoint, SingleFile) {
  TempDir tmp;
  std::vector<TensorData> tensors = {
      makeTensor("model.layers.0.self_attn.qkv_proj.weight", DType::BF16,
                 {768, 255}, 1),
      makeTensor("model.norm.weight", DType::BF16, {256}, 2)};
  ASSERT_TRUE(writeSafetensors(tmp.file("model.safetensors"), tensors).ok());
  auto ckpt = Checkpoint::open(tmp.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  Checkpoint &c = **ckpt;
  EXPECT_EQ(c.directory(), tmp.path());
  EXPECT_EQ(c.tensorNames(),
            (std::vector<std::string>{"model.layers.0.self_attn.qkv_proj.weight",
                                      "model.norm.weight"}));
  ASSERT_NE(c.find("model.norm.weight"), nullptr);
  EXPECT_EQ(c.find("model.norm.weight")->shape, (std::vector<int64_t>{256}));
  EXPECT_EQ(c.find("nope"), nullptr);
  EXPECT_TRUE(c.expect("model.norm.weight", DType::BF16, {256}).ok());

  EXPECT_ERROR_CONTAINS(
      c.expect("model.layers.0.self_attn.qkv_proj.weight", DType::BF16,
               {768, 256}),
      tmp.file("model.safetensors") +
          ": tensor 'model.layers.0.self_attn.qkv_proj.weight': expected "
          "shape [768, 256] BF16, found [768, 255] BF16");
  EXPECT_ERROR_CONTAINS(c.expect("model.norm.weight", DType::F32, {256}),
                        "tensor 'model.norm.weight': expected shape [256] F32, "
                        "found [256] BF16");
  EXPECT_ERROR_CONTAINS(c.expect("lm_head.weight", DType::BF16, {512, 256}),
                        tmp.path() + ": checkpoint has no tensor 'lm_head.weight'");
  EXPECT_ERROR_CONTAINS(c.data("lm_head.weight"),
                        "checkpoint has no tensor 'lm_head.weight'");

  Result<const void *> data = c.data("model.norm.weight");
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(std::memcmp(*data, tensors[1].bytes.data(), tensors[1].bytes.size()),
            0);
}

TEST(Checkpoint, Sharded) {
  TempDir tmp;
  std::vector<TensorData> shard1 = {makeTensor("a", DType::BF16, {4, 4}, 1),
                                    makeTensor("b", DType::F32, {3}, 2)};
  std::vector<TensorData> shard2 = {makeTensor("c", DType::BF16, {8}, 3),
                                    // Not in the index: ignored.
                                    makeTensor("unlisted", DType::U8, {1}, 4)};
  ASSERT_TRUE(
      writeSafetensors(tmp.file("model-00001-of-00002.safetensors"), shard1).ok());
  ASSERT_TRUE(
      writeSafetensors(tmp.file("model-00002-of-00002.safetensors"), shard2).ok());
  ASSERT_TRUE(writeSafetensorsIndex(
                  tmp.file("model.safetensors.index.json"),
                  {{"a", "model-00001-of-00002.safetensors"},
                   {"b", "model-00001-of-00002.safetensors"},
                   {"c", "model-00002-of-00002.safetensors"}},
                  32 + 12 + 16)
                  .ok());
  // The index wins over a stray single file.
  ASSERT_TRUE(writeSafetensors(tmp.file("model.safetensors"),
                               {makeTensor("z", DType::U8, {1}, 0)})
                  .ok());

  auto ckpt = Checkpoint::open(tmp.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  EXPECT_EQ((*ckpt)->tensorNames(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*ckpt)->find("c")->file,
            tmp.file("model-00002-of-00002.safetensors"));
  EXPECT_TRUE((*ckpt)->expect("a", DType::BF16, {4, 4}).ok());
  EXPECT_TRUE((*ckpt)->expect("b", DType::F32, {3}).ok());
  for (const TensorData &t : {shard1[0], shard1[1], shard2[0]}) {
    Result<const void *> data = (*ckpt)->data(t.name);
    ASSERT_TRUE(data.ok()) << data.error();
    EXPECT_EQ(std::memcmp(*data, t.bytes.data(), t.bytes.size()), 0) << t.name;
  }
  EXPECT_EQ((*ckpt)->find("unlisted"), nullptr);
}

TEST(CheckpointErrors, NoCheckpointFiles) {
  TempDir tmp;
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        "no model.safetensors or model.safetensors.index.json "
                        "in " +
                            tmp.path());
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.file("absent")),
                        tmp.file("absent") + ": checkpoint directory does not "
                                             "exist");
}

TEST(CheckpointErrors, MissingShard) {
  TempDir tmp;
  ASSERT_TRUE(writeSafetensors(tmp.file("model-00001-of-00002.safetensors"),
                               {makeTensor("a", DType::F32, {1}, 0)})
                  .ok());
  ASSERT_TRUE(writeSafetensorsIndex(tmp.file("model.safetensors.index.json"),
                                    {{"a", "model-00001-of-00002.safetensors"},
                                     {"b", "model-00002-of-00002.safetensors"}},
                                    8)
                  .ok());
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        tmp.file("model.safetensors.index.json") +
                            ": shard file 'model-00002-of-00002.safetensors' "
                            "(listed for tensor 'b') is missing");
}

TEST(CheckpointErrors, IndexListsTensorAbsentFromShard) {
  TempDir tmp;
  ASSERT_TRUE(writeSafetensors(tmp.file("model-00001-of-00001.safetensors"),
                               {makeTensor("a", DType::F32, {1}, 0)})
                  .ok());
  ASSERT_TRUE(writeSafetensorsIndex(tmp.file("model.safetensors.index.json"),
                                    {{"a", "model-00001-of-00001.safetensors"},
                                     {"ghost", "model-00001-of-00001.safetensors"}},
                                    4)
                  .ok());
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        "tensor 'ghost' is listed in shard "
                        "'model-00001-of-00001.safetensors' but that shard has "
                        "no such tensor");
}

TEST(CheckpointErrors, MalformedIndexAndShard) {
  TempDir tmp;
  std::string index = tmp.file("model.safetensors.index.json");
  writeFile(index, "{\"weight_map\": ");
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()), index + ": invalid JSON");
  writeFile(index, "{\"metadata\": {}}");
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        index + ": field 'weight_map' is missing");
  writeFile(index, "{\"weight_map\": {\"a\": 3}}");
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        "weight_map entry for tensor 'a' must be a string");
  writeFile(index, "{\"weight_map\": {\"a\": \"../evil.safetensors\"}}");
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        "names an invalid shard file '../evil.safetensors'");
  // A broken shard reports the shard's own path.
  writeFile(index, "{\"weight_map\": {\"a\": \"s.safetensors\"}}");
  writeFile(tmp.file("s.safetensors"), "abc");
  EXPECT_ERROR_CONTAINS(Checkpoint::open(tmp.path()),
                        tmp.file("s.safetensors") + ": file is 3 bytes");
}

//===----------------------------------------------------------------------===//
// The HF fixture
//===----------------------------------------------------------------------===//

TEST(Checkpoint, OpensFixture) {
  MM01_REQUIRE_FIXTURE(dir);
  Result<ModelConfig> config = loadModelConfig(dir + "/config.json");
  ASSERT_TRUE(config.ok()) << config.error();
  auto ckpt = Checkpoint::open(dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  for (const auto &[name, shape] : expectedTensors(*config)) {
    Status s = (*ckpt)->expect(name, DType::BF16, shape);
    EXPECT_TRUE(s.ok()) << s.error();
  }
  // 7 lightning layers also carry 4 decay tables each (ignored).
  EXPECT_EQ((*ckpt)->tensorNames().size(),
            expectedTensors(*config).size() + 4 * 7);
  EXPECT_TRUE((*ckpt)
                  ->expect("model.layers.0.self_attn.slope_rate", DType::BF16,
                           {4, 1, 1})
                  .ok());

  // First elements, read with Python from the file.
  auto firstFour = [&](const std::string &name) {
    Result<const void *> data = (*ckpt)->data(name);
    EXPECT_TRUE(data.ok()) << data.error();
    std::vector<uint16_t> bits(4);
    if (data.ok())
      std::memcpy(bits.data(), *data, 8);
    return bits;
  };
  EXPECT_EQ(firstFour("model.norm.weight"),
            (std::vector<uint16_t>{0x3f80, 0x3f80, 0x3f80, 0x3f80}));
  EXPECT_EQ(firstFour("model.layers.3.self_attn.qkv_proj.weight"),
            (std::vector<uint16_t>{0xbc93, 0xbac5, 0x3c5c, 0x3c40}));
  EXPECT_EQ(firstFour("lm_head.weight"),
            (std::vector<uint16_t>{0xbc85, 0xbb1f, 0x3cb7, 0x3c5e}));
  EXPECT_FLOAT_EQ(bf16ToFloat(0xbc93), -0.0179443359375f);
}

//===----------------------------------------------------------------------===//
// bf16 / f16
//===----------------------------------------------------------------------===//

namespace {
float fromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
} // namespace

TEST(BF16, RoundToNearestEven) {
  EXPECT_EQ(floatToBF16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBF16(-2.0f), 0xc000);
  EXPECT_EQ(floatToBF16(0.0f), 0x0000);
  EXPECT_EQ(floatToBF16(-0.0f), 0x8000);
  // bf16 ulp at 1 is 2^-7. Exactly half an ulp: ties to even.
  EXPECT_EQ(floatToBF16(1.0f + 0x1p-8f), 0x3f80);          // tie, down to even
  EXPECT_EQ(floatToBF16(1.0f + 3 * 0x1p-8f), 0x3f82);      // tie, up to even
  EXPECT_EQ(floatToBF16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81); // above half
  EXPECT_EQ(floatToBF16(1.0f + 0x1p-8f - 0x1p-20f), 0x3f80); // below half
  EXPECT_EQ(floatToBF16(-(1.0f + 3 * 0x1p-8f)), 0xbf82);
  // Rounding carries into the exponent.
  EXPECT_EQ(floatToBF16(fromBits(0x3fffffff)), 0x4000);
  // The largest floats round up to infinity.
  EXPECT_EQ(floatToBF16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(floatToBF16(fromBits(0x7f7f7fff)), 0x7f7f); // largest bf16 stays
  // Subnormals round like any other value.
  EXPECT_EQ(floatToBF16(fromBits(0x00008000)), 0x0000); // tie to even (0)
  EXPECT_EQ(floatToBF16(fromBits(0x00018000)), 0x0002); // tie to even (2)
  EXPECT_EQ(floatToBF16(fromBits(0x00018001)), 0x0002);
}

TEST(BF16, InfAndNaN) {
  EXPECT_EQ(floatToBF16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(floatToBF16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(floatToBF16(std::numeric_limits<float>::quiet_NaN()), 0x7fc0);
  // NaNs stay NaN even when the payload sits only in the dropped bits, and
  // keep their sign; rounding must not carry them into infinity or beyond.
  for (uint32_t bits : {0x7f800001u, 0x7fffffffu, 0xff800001u, 0xffc00000u,
                        0x7fbfffffu}) {
    uint16_t b = floatToBF16(fromBits(bits));
    EXPECT_TRUE(std::isnan(bf16ToFloat(b))) << std::hex << bits;
    EXPECT_EQ(b >> 15, bits >> 31) << std::hex << bits;
  }
  EXPECT_TRUE(std::isinf(bf16ToFloat(0x7f80)));
  EXPECT_LT(bf16ToFloat(0xff80), 0);
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7fc0)));
  EXPECT_TRUE(std::isnan(bf16ToFloat(0xff81)));
}

TEST(BF16, ExactRoundTripOfEveryValue) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16ToFloat(static_cast<uint16_t>(b));
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    ASSERT_EQ(bits, b << 16);
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToBF16(f), b) << std::hex << b;
    }
  }
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0x0001), 0x1p-133f); // smallest subnormal
}

TEST(F16, Conversions) {
  EXPECT_EQ(f16ToFloat(0x3c00), 1.0f);
  EXPECT_EQ(f16ToFloat(0xc000), -2.0f);
  EXPECT_EQ(f16ToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(f16ToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(f16ToFloat(0x0400), 0x1p-14f); // smallest normal
  EXPECT_EQ(f16ToFloat(0x0001), 0x1p-24f); // smallest subnormal
  EXPECT_EQ(f16ToFloat(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(f16ToFloat(0x8001), -0x1p-24f);
  float negZero = f16ToFloat(0x8000);
  EXPECT_EQ(negZero, 0.0f);
  EXPECT_TRUE(std::signbit(negZero));
  EXPECT_EQ(f16ToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16ToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16ToFloat(0x7e00)));
  EXPECT_TRUE(std::isnan(f16ToFloat(0x7c01))); // signalling payload kept
  EXPECT_TRUE(std::isnan(f16ToFloat(0xfe00)));
}
