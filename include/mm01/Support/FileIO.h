//===- FileIO.h - small POSIX file helpers (no MLIR) ------------*- C++ -*-===//
#ifndef MM01_SUPPORT_FILEIO_H
#define MM01_SUPPORT_FILEIO_H

#include <cstddef>
#include <cstdint>

namespace mm01 {

/// Closes a file descriptor when it goes out of scope (negative: none).
struct FdGuard {
  int fd;
  ~FdGuard();
};

/// Reads exactly `size` bytes at `offset`, retrying short reads and EINTR.
/// False on an error or end of file.
bool readAt(int fd, void *buffer, size_t size, uint64_t offset);

} // namespace mm01

#endif // MM01_SUPPORT_FILEIO_H
