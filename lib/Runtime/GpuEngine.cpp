//===- GpuEngine.cpp - loading an engine: arenas, kernel images, weights ---===//
#include "mm01/Runtime/GpuEngine.h"

#include "CudaStatus.h"
#include "Driver.h"
#include "GemmRunner.h"
#include "mm01/Runtime/LoadPlan.h"

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;

namespace {
/// Dynamic shared memory a kernel may use without opting in.
constexpr uint64_t kDefaultDynamicSmem = 48 * 1024;

/// Loads one kernel image (cubin, PTX or fatbin) with the JIT error log, so
/// that a PTX the driver cannot compile says why.
Status loadImage(const Driver &driver, const EngineReader &reader,
                 const SectionInfo &section, CUmodule &module) {
  const uint8_t *data = reader.sectionData(section);
  std::string ptx;
  const void *image = data;
  if (section.kind == SectionKind::Ptx) {
    // The driver reads PTX as a NUL-terminated string; the section is not.
    ptx.assign(reinterpret_cast<const char *>(data), section.size);
    image = ptx.c_str();
  }
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof(log)))};
  CUresult r = driver.moduleLoadDataEx(&module, image, 2, options, values);
  if (r == CUDA_SUCCESS)
    return Status::success();
  std::string firstLine(log);
  firstLine = firstLine.substr(0, firstLine.find('\n'));
  return makeError(reader.path() + ": cannot load kernel section '" + section.name +
                   "' (" + sectionKindName(section.kind) + "): " + driver.errorName(r) +
                   (firstLine.empty() ? "" : ": " + firstLine));
}
} // namespace

const Manifest &GpuEngine::manifest() const { return reader_->manifest(); }
const std::string &GpuEngine::path() const { return reader_->path(); }

GpuEngine::~GpuEngine() {
  for (auto &[key, exec] : graphs_)
    cudaGraphExecDestroy(exec);
  gemm_.reset();
  if (driver_)
    for (void *m : modules_)
      if (m)
        driver_->moduleUnload(static_cast<CUmodule>(m));
  for (void *a : arenas_)
    if (a)
      cudaFree(a);
}

Result<std::unique_ptr<GpuEngine>> GpuEngine::load(const std::string &path,
                                                   const LoadOptions &options) {
  std::unique_ptr<GpuEngine> e(new GpuEngine());
  OpenOptions open;
  open.verifySections = options.verifySections;
  Result<std::unique_ptr<EngineReader>> reader = EngineReader::open(path, open);
  if (!reader)
    return reader.takeError();
  e->reader_ = std::move(reader).value();
  const Manifest &m = e->reader_->manifest();
  e->limits_ = callLimits(m);

  Result<DeviceProperties> device = queryDevice(options.device);
  if (!device)
    return makeError(path + ": " + device.error());
  e->device_ = *device;
  Result<LoadPlan> plan = planLoad(*e->reader_, e->device_, options.gemmWorkspaceBytes);
  if (!plan)
    return plan.takeError();
  Result<const Driver *> driver = Driver::get();
  if (!driver)
    return makeError(path + ": " + driver.error());
  e->driver_ = *driver;
  // Make the primary context current for the driver API calls below.
  if (Status s = cudaStatus(cudaFree(nullptr), "cannot initialize CUDA"); !s)
    return Error{s.error()};

  static const char *const arenaNames[kNumLifetimes] = {
      "weights", "state", "kv_cache", "activation", "workspace"};
  e->arenas_.assign(kNumLifetimes, nullptr);
  for (int i = 0; i < kNumLifetimes; ++i) {
    uint64_t bytes = plan->memory.bytes[i];
    if (bytes == 0)
      continue;
    if (Status s = cudaStatus(cudaMalloc(&e->arenas_[i], bytes),
                              path + ": cannot allocate the " + arenaNames[i] +
                                  " arena (" + std::to_string(bytes) + " bytes)");
        !s)
      return Error{s.error()};
    e->bases_[i] = reinterpret_cast<uint64_t>(e->arenas_[i]);
  }

  // Kernel images: one module per section that a kernel uses.
  std::map<std::string, CUmodule> modules;
  e->functions_.assign(m.kernels.size(), nullptr);
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    const Kernel &kernel = m.kernels[k];
    auto it = modules.find(kernel.section);
    if (it == modules.end()) {
      const SectionInfo *section = e->reader_->findSection(kernel.section);
      if (!section || !isKernelImage(section->kind))
        return makeError(path + ": kernel '" + kernel.name + "': section '" +
                         kernel.section + "' is not a kernel image");
      CUmodule module = nullptr;
      if (Status s = loadImage(**driver, *e->reader_, *section, module); !s)
        return Error{s.error()};
      e->modules_.push_back(module);
      it = modules.emplace(kernel.section, module).first;
    }
    CUfunction fn = nullptr;
    CUresult r = e->driver_->moduleGetFunction(&fn, it->second, kernel.entry.c_str());
    if (r != CUDA_SUCCESS)
      return makeError(path + ": kernel '" + kernel.name + "': no entry '" + kernel.entry +
                       "' in section '" + kernel.section + "' (" +
                       e->driver_->errorName(r) + ")");
    if (kernel.dynamicSmemBytes > kDefaultDynamicSmem) {
      r = e->driver_->funcSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                       static_cast<int>(kernel.dynamicSmemBytes));
      if (r != CUDA_SUCCESS)
        return makeError(path + ": kernel '" + kernel.name + "': cannot allow " +
                         std::to_string(kernel.dynamicSmemBytes) +
                         " bytes of dynamic shared memory (" + e->driver_->errorName(r) +
                         ")");
      // A kernel that asks for this much shared memory wants the whole
      // carveout: with the default split the L1 share can leave room for
      // one block per SM where the kernel was sized for two. A hint: a
      // driver that ignores it costs speed, not correctness.
      (void)e->driver_->funcSetAttribute(
          fn, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100);
    }
    e->functions_[k] = fn;
  }

  const uint64_t weightsBase = e->bases_[static_cast<int>(Lifetime::Weights)];
  for (const WeightCopy &w : plan->weights)
    if (Status s = cudaStatus(cudaMemcpy(reinterpret_cast<void *>(weightsBase + w.arenaOffset),
                                         w.host, w.bytes, cudaMemcpyHostToDevice),
                              path + ": cannot copy weight '" + w.buffer + "' to the device");
        !s)
      return Error{s.error()};

  Result<std::unique_ptr<GemmRunner>> gemm = GemmRunner::create(options.gemmWorkspaceBytes);
  if (!gemm)
    return makeError(path + ": " + gemm.error());
  e->gemm_ = std::move(gemm).value();
  if (Status s = cudaStatus(cudaDeviceSynchronize(), path + ": loading failed"); !s)
    return Error{s.error()};
  return e;
}

Result<uint64_t> GpuEngine::bufferAddress(const std::string &name) const {
  const Buffer *b = manifest().findBuffer(name);
  if (!b)
    return makeError("engine has no buffer '" + name + "'");
  return bases_[static_cast<int>(b->lifetime)] + b->offset;
}

Result<uint64_t> GpuEngine::checkedAddress(const std::string &name, uint64_t offset,
                                           uint64_t bytes) const {
  const Buffer *b = manifest().findBuffer(name);
  if (!b)
    return makeError("engine has no buffer '" + name + "'");
  if (offset > b->bytes || bytes > b->bytes - offset)
    return makeError("buffer '" + name + "': " + std::to_string(bytes) +
                     " bytes at offset " + std::to_string(offset) + " exceed its " +
                     std::to_string(b->bytes) + " bytes");
  return bases_[static_cast<int>(b->lifetime)] + b->offset + offset;
}

Status GpuEngine::upload(const std::string &buffer, const void *data, uint64_t bytes,
                         cudaStream_t stream, uint64_t offset) {
  Result<uint64_t> addr = checkedAddress(buffer, offset, bytes);
  if (!addr)
    return addr.takeError();
  if (bytes == 0)
    return Status::success();
  return cudaStatus(cudaMemcpyAsync(reinterpret_cast<void *>(*addr), data, bytes,
                                    cudaMemcpyHostToDevice, stream),
                    "upload to buffer '" + buffer + "'");
}

Status GpuEngine::download(const std::string &buffer, void *data, uint64_t bytes,
                           cudaStream_t stream, uint64_t offset) const {
  Result<uint64_t> addr = checkedAddress(buffer, offset, bytes);
  if (!addr)
    return addr.takeError();
  if (bytes == 0)
    return Status::success();
  if (Status s = cudaStatus(cudaMemcpyAsync(data, reinterpret_cast<void *>(*addr), bytes,
                                            cudaMemcpyDeviceToHost, stream),
                            "download from buffer '" + buffer + "'");
      !s)
    return s;
  // The caller reads `data` next: wait for the copy (and what it depends on).
  return cudaStatus(cudaStreamSynchronize(stream),
                    "download from buffer '" + buffer + "'");
}

Status GpuEngine::zeroArena(Lifetime lifetime, cudaStream_t stream) {
  int i = static_cast<int>(lifetime);
  uint64_t bytes = manifest().arenaBytes(lifetime);
  if (bytes == 0)
    return Status::success();
  return cudaStatus(cudaMemsetAsync(arenas_[i], 0, bytes, stream),
                    std::string("zeroing the ") + lifetimeName(lifetime) + " arena");
}
