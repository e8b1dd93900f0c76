//===- CPULoader.cpp - dlopen the CPU target next to mm01-run --------------===//
#include "CPUModel.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mm01;

namespace {
/// The directory holding the running executable.
std::string executableDir() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0)
    return ".";
  std::string exe(path, static_cast<size_t>(n));
  size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}
} // namespace

Result<std::unique_ptr<CPUModel>> mm01::openCPUModel(const std::string &checkpointDir) {
  std::string plugin = executableDir() + "/" + kCPUPluginFile;
  struct stat st;
  if (stat(plugin.c_str(), &st) != 0)
    return makeError("the CPU target library " + plugin +
                     " is missing (mm01-run runs checkpoint directories through it; "
                     "build the MM01CPUBackend target)");
  // Never closed: the MLIR/LLVM libraries it pulls in keep global state
  // until exit.
  void *handle = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError("cannot load the CPU target library: " + std::string(dlerror()));
  auto *open = reinterpret_cast<OpenCPUModelFn *>(dlsym(handle, kCPUPluginSymbol));
  if (!open)
    return makeError("the CPU target library " + plugin + " has no " + kCPUPluginSymbol);
  std::string error;
  CPUModel *model = open(checkpointDir.c_str(), &error);
  if (!model)
    return makeError(error);
  return std::unique_ptr<CPUModel>(model);
}
