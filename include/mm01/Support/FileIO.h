//===- FileIO.h - small POSIX file helpers (no MLIR) ------------*- C++ -*-===//
#ifndef MM01_SUPPORT_FILEIO_H
#define MM01_SUPPORT_FILEIO_H

#include "mm01/Support/Result.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace mm01 {

/// Closes a file descriptor when it goes out of scope (negative: none).
struct FdGuard {
  int fd;
  ~FdGuard();
};

/// Reads exactly `size` bytes at `offset`, retrying short reads and EINTR.
/// False on an error or end of file.
bool readAt(int fd, void *buffer, size_t size, uint64_t offset);

/// Writes `path` through `write(data, size)` calls made by `produce`, into a
/// temporary file renamed into place, so readers never see a partial file.
/// `produce` returns false to abort; errors name the file and the cause.
using ByteSink = std::function<bool(const void *data, size_t size)>;
Status writeFileAtomically(const std::string &path,
                           const std::function<bool(const ByteSink &write)> &produce);

} // namespace mm01

#endif // MM01_SUPPORT_FILEIO_H
