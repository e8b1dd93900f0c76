//===- Fingerprint.cpp - checkpoint fingerprints --------------------------===//
//
// An engine whose weights stay in the checkpoint records, per safetensors
// file, its size and the XXH64 of its header (the 8-byte length and the JSON
// header: every tensor's name, dtype, shape and offsets). Hashing the header
// only keeps the check cheap for terabyte checkpoints; a file rewritten with
// the same layout and size but other values is not detected.
//
//===----------------------------------------------------------------------===//

#include "mm01/Support/FileIO.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Engine/XXHash.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mm01;
using namespace mm01::engine;

namespace {



std::string joinPath(const std::string &dir, const std::string &file) {
  if (dir.empty() || (!file.empty() && file[0] == '/'))
    return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

Result<CheckpointFile> mm01::engine::fingerprintFile(const std::string &dir,
                                                     const std::string &file) {
  std::string path = joinPath(dir, file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return makeError(path + ": cannot open: " + std::strerror(errno));
  FdGuard guard{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return makeError(path + ": cannot stat: " + std::strerror(errno));
  CheckpointFile fp;
  fp.file = file;
  fp.size = static_cast<uint64_t>(st.st_size);
  uint8_t lengthBytes[8] = {};
  uint64_t length = 0;
  if (fp.size >= 8) {
    if (!readAt(fd, lengthBytes, 8, 0))
      return makeError(path + ": cannot read: " + std::strerror(errno));
    for (int i = 0; i < 8; ++i)
      length |= static_cast<uint64_t>(lengthBytes[i]) << (8 * i);
  }
  // A malformed length is hashed as far as the file goes: the fingerprint
  // still changes with the file, and Checkpoint::open reports the damage.
  uint64_t hashed = std::min<uint64_t>(fp.size, length > fp.size ? fp.size : 8 + length);
  XXH64State state;
  std::vector<uint8_t> chunk(1 << 20);
  for (uint64_t done = 0; done < hashed;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), hashed - done));
    if (!readAt(fd, chunk.data(), n, done))
      return makeError(path + ": cannot read: " + std::strerror(errno));
    state.update(chunk.data(), n);
    done += n;
  }
  fp.headerHash = state.digest();
  return fp;
}

Result<CheckpointRef>
mm01::engine::fingerprintCheckpoint(const std::string &dir,
                                    const std::vector<std::string> &tensors,
                                    const std::string &recordedPath) {
  Result<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::open(dir);
  if (!checkpoint)
    return checkpoint.takeError();
  std::set<std::string> files;
  if (tensors.empty()) {
    for (const std::string &name : (*checkpoint)->tensorNames())
      files.insert(baseName((*checkpoint)->find(name)->file));
  } else {
    for (const std::string &name : tensors) {
      const TensorInfo *info = (*checkpoint)->find(name);
      if (!info)
        return makeError("checkpoint " + dir + " has no tensor '" + name + "'");
      files.insert(baseName(info->file));
    }
  }
  CheckpointRef ref;
  ref.path = recordedPath;
  for (const std::string &file : files) {
    Result<CheckpointFile> fp = fingerprintFile(dir, file);
    if (!fp)
      return fp.takeError();
    ref.files.push_back(std::move(fp).value());
  }
  return ref;
}

std::string mm01::engine::resolveCheckpointDir(const CheckpointRef &ref,
                                               const std::string &enginePath) {
  if (!ref.path.empty() && ref.path[0] == '/')
    return ref.path;
  size_t slash = enginePath.find_last_of('/');
  if (slash == std::string::npos)
    return ref.path;
  return joinPath(enginePath.substr(0, slash + 1), ref.path);
}

Status mm01::engine::checkCheckpoint(const CheckpointRef &ref,
                                     const std::string &dir) {
  for (const CheckpointFile &expected : ref.files) {
    Result<CheckpointFile> found = fingerprintFile(dir, expected.file);
    if (!found)
      return makeError("checkpoint file '" + expected.file +
                       "' is not readable: " + found.error());
    if (found->size != expected.size)
      return makeError("checkpoint file '" + expected.file + "' in " + dir +
                       " changed since the engine was built (size " +
                       std::to_string(found->size) + " bytes, the engine expects " +
                       std::to_string(expected.size) + ")");
    if (found->headerHash != expected.headerHash)
      return makeError("checkpoint file '" + expected.file + "' in " + dir +
                       " changed since the engine was built (header hash " +
                       hex64(found->headerHash) + ", the engine expects " +
                       hex64(expected.headerHash) + ")");
  }
  return Status::success();
}
