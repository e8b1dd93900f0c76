//===- Npy.h - NumPy .npy / .npz files (no MLIR) ----------------*- C++ -*-===//
//
// The runners read token ids from .npy and write results as .npz, the format
// of the fixture's reference.npz. Little-endian, C-order only.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_SUPPORT_NPY_H
#define MM01_SUPPORT_NPY_H

#include "mm01/Support/Result.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mm01 {

enum class NpyType { I64, I32, F32, F64 };

const char *npyTypeName(NpyType type); // "int64", "float32", ...
size_t npyTypeSize(NpyType type);

struct NpyArray {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t numElements() const;
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
  template <typename T> T *data() { return reinterpret_cast<T *>(bytes.data()); }

  static NpyArray make(NpyType type, std::vector<int64_t> shape);
};

/// Reads a .npy file; the error names the file and what is wrong with it
/// (not an .npy, unsupported dtype, Fortran order, truncated data).
Result<NpyArray> readNpy(const std::string &path);
/// Parses .npy bytes (`source` names them in messages).
Result<NpyArray> parseNpy(const std::string &bytes, const std::string &source);
/// Serializes one array as .npy (format version 1.0).
std::string encodeNpy(const NpyArray &array);
Status writeNpy(const std::string &path, const NpyArray &array);
/// Writes an uncompressed .npz (a zip of NAME.npy members), as numpy.savez.
Status writeNpz(const std::string &path,
                const std::vector<std::pair<std::string, NpyArray>> &arrays);

} // namespace mm01

#endif // MM01_SUPPORT_NPY_H
