//===- FileIO.cpp - small POSIX file helpers -------------------------------===//
#include "mm01/Support/FileIO.h"

#include <cerrno>
#include <unistd.h>

namespace mm01 {

FdGuard::~FdGuard() {
  if (fd >= 0)
    ::close(fd);
}

bool readAt(int fd, void *buffer, size_t size, uint64_t offset) {
  auto *out = static_cast<char *>(buffer);
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

} // namespace mm01
