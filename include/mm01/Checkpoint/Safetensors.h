//===- Safetensors.h - safetensors checkpoints (read, mmap, write) *- C++ -*-===//
//
// A checkpoint directory holds `model.safetensors`, or shards listed by
// `model.safetensors.index.json`. Headers are parsed eagerly and validated
// (offsets inside the file, sizes matching dtype × shape, no overlaps);
// tensor data is memory-mapped on first use. No LLVM: the runtime uses it.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_CHECKPOINT_SAFETENSORS_H
#define MM01_CHECKPOINT_SAFETENSORS_H

#include "mm01/Support/Result.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mm01 {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// The safetensors spelling ("BF16", "F32", ...).
const char *dtypeName(DType dtype);
/// Parses the safetensors spelling.
Result<DType> parseDType(const std::string &name);

std::string shapeToString(const std::vector<int64_t> &shape); // "[4, 64]"

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string file;      // the shard holding it
  uint64_t dataOffset;   // absolute byte offset in `file`
  uint64_t byteSize;
  int64_t numElements() const;
};

/// One .safetensors file: header parsed on open, data mapped on demand.
class SafetensorsFile {
public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string &path);
  ~SafetensorsFile();

  const std::string &path() const { return path_; }
  const std::map<std::string, TensorInfo> &tensors() const { return tensors_; }
  const std::map<std::string, std::string> &metadata() const { return metadata_; }
  /// Pointer to the tensor's bytes in the mapping (maps the file on first
  /// call). Thread-safe. No alignment is guaranteed beyond what the file
  /// layout gives: copy, or check, before vector loads.
  Result<const void *> data(const TensorInfo &tensor);

private:
  SafetensorsFile() = default;
  std::string path_;
  uint64_t fileSize_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  void *mapping_ = nullptr; // whole file, fileSize_ bytes
  std::mutex mapMutex_;      // data() may be called from several threads
};

/// A checkpoint directory (single file or sharded index).
class Checkpoint {
public:
  static Result<std::unique_ptr<Checkpoint>> open(const std::string &dir);

  const std::string &directory() const { return dir_; }
  /// nullptr when the checkpoint has no such tensor.
  const TensorInfo *find(const std::string &name) const;
  std::vector<std::string> tensorNames() const;
  /// Checks that `name` exists with this dtype and shape; the error names
  /// the tensor, the expected and the found shape/dtype.
  Status expect(const std::string &name, DType dtype,
                const std::vector<int64_t> &shape) const;
  /// Mapped bytes of a tensor.
  Result<const void *> data(const std::string &name);

private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, const TensorInfo *>> index_;
};

/// A tensor to write.
struct TensorData {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

/// Writes one safetensors file (header 8-byte aligned, tensors in order).
Status writeSafetensors(const std::string &path,
                        const std::vector<TensorData> &tensors,
                        const std::map<std::string, std::string> &metadata = {});

/// Writes a `model.safetensors.index.json` (HF layout: metadata.total_size
/// and weight_map tensor -> shard file name).
Status writeSafetensorsIndex(const std::string &path,
                             const std::map<std::string, std::string> &weightMap,
                             uint64_t totalSize);

/// float <-> bfloat16 (round to nearest even), as stored in checkpoints.
uint16_t floatToBF16(float value);
float bf16ToFloat(uint16_t bits);
float f16ToFloat(uint16_t bits);

} // namespace mm01

#endif // MM01_CHECKPOINT_SAFETENSORS_H
