//===- FileIO.cpp - small POSIX file helpers -------------------------------===//
#include "mm01/Support/FileIO.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
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

Status writeFileAtomically(const std::string &path,
                           const std::function<bool(const ByteSink &write)> &produce) {
  std::string tmpPath = path + ".tmp";
  std::FILE *out = std::fopen(tmpPath.c_str(), "wb");
  if (!out)
    return makeError(tmpPath + ": cannot create: " + std::strerror(errno));
  bool ok = produce([&](const void *data, size_t size) {
    return size == 0 || std::fwrite(data, 1, size, out) == size;
  });
  std::string writeError = ok ? "" : std::strerror(errno);
  if (std::fclose(out) != 0 && ok) {
    ok = false;
    writeError = std::strerror(errno);
  }
  if (!ok) {
    std::remove(tmpPath.c_str());
    return makeError(path + ": write failed: " + writeError);
  }
  if (std::rename(tmpPath.c_str(), path.c_str()) != 0) {
    std::string error = std::strerror(errno);
    std::remove(tmpPath.c_str());
    return makeError(path + ": cannot rename the written file into place: " + error);
  }
  return Status::success();
}

} // namespace mm01
