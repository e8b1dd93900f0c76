//===- Execute.cpp - running an entry point: eagerly or as a CUDA graph ----===//
#include "mm01/Runtime/GpuEngine.h"

#include "CudaStatus.h"
#include "Driver.h"
#include "GemmRunner.h"

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;

namespace {
std::string stepName(const EntryPoint &entry, size_t index) {
  std::string name = "entry point '" + entry.name + "' step " + std::to_string(index);
  if (!entry.steps[index].label.empty())
    name += " (" + entry.steps[index].label + ")";
  return name;
}
} // namespace

const EntryPoint *GpuEngine::entryPoint(const std::string &name, Status &error) const {
  const EntryPoint *entry = manifest().findEntryPoint(name);
  if (!entry) {
    std::string names;
    for (const EntryPoint &e : manifest().entryPoints)
      names += (names.empty() ? "'" : ", '") + e.name + "'";
    error = makeError(path() + ": engine has no entry point '" + name + "' (it has " +
                      (names.empty() ? std::string("none") : names) + ")");
  }
  return entry;
}

Status GpuEngine::execute(const EntryPoint &entry, const std::vector<ResolvedStep> &steps,
                          cudaStream_t stream) {
  for (const ResolvedStep &step : steps) {
    Status s;
    if (auto *k = std::get_if<ResolvedLaunch>(&step.body)) {
      std::vector<void *> params;
      params.reserve(k->offsets.size());
      for (size_t off : k->offsets)
        params.push_back(const_cast<uint8_t *>(k->params.data()) + off);
      auto fn = static_cast<CUfunction>(functions_[k->kernel]);
      void **args = params.empty() ? nullptr : params.data();
      CUresult r;
      if (k->overlapPrevious) {
        // Programmatic dependent launch: the kernel's blocks may start once
        // every block of the previous kernel has started (or triggered);
        // the kernel waits for that grid itself (griddepcontrol.wait). In a
        // captured graph this becomes a programmatic edge.
        CUlaunchAttribute attr{};
        attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
        attr.value.programmaticStreamSerializationAllowed = 1;
        CUlaunchConfig config{};
        config.gridDimX = k->grid[0];
        config.gridDimY = k->grid[1];
        config.gridDimZ = k->grid[2];
        config.blockDimX = k->block[0];
        config.blockDimY = k->block[1];
        config.blockDimZ = k->block[2];
        config.sharedMemBytes = k->sharedBytes;
        config.hStream = stream;
        config.attrs = &attr;
        config.numAttrs = 1;
        r = driver_->launchKernelEx(&config, fn, args, nullptr);
      } else {
        r = driver_->launchKernel(fn, k->grid[0], k->grid[1], k->grid[2], k->block[0],
                                  k->block[1], k->block[2], k->sharedBytes, stream, args,
                                  nullptr);
      }
      if (r != CUDA_SUCCESS)
        s = makeError(std::string(k->overlapPrevious ? "cuLaunchKernelEx" : "cuLaunchKernel") +
                      " of kernel '" + manifest().kernels[k->kernel].name +
                      "' failed: " + driver_->errorName(r));
    } else if (auto *g = std::get_if<ResolvedGemm>(&step.body)) {
      s = gemm_->run(*g, stream);
    } else if (auto *m = std::get_if<ResolvedMemset>(&step.body)) {
      s = cudaStatus(cudaMemsetAsync(reinterpret_cast<void *>(m->dst), m->value, m->bytes,
                                     stream),
                     "cudaMemsetAsync");
    } else if (auto *c = std::get_if<ResolvedCopy>(&step.body)) {
      s = cudaStatus(cudaMemcpyAsync(reinterpret_cast<void *>(c->dst),
                                     reinterpret_cast<const void *>(c->src), c->bytes,
                                     cudaMemcpyDeviceToDevice, stream),
                     "cudaMemcpyAsync");
    }
    if (!s)
      return makeError(stepName(entry, step.index) + ": " + s.error());
  }
  return Status::success();
}

Status GpuEngine::run(const std::string &name, const DimEnv &env, cudaStream_t stream) {
  Status error;
  const EntryPoint *entry = entryPoint(name, error);
  if (!entry)
    return error;
  if (Status s = checkCall(env, limits_); !s)
    return s;
  Result<std::vector<ResolvedStep>> steps =
      resolveEntryPoint(manifest(), *entry, env, bases_);
  if (!steps)
    return steps.takeError();
  return execute(*entry, *steps, stream);
}

Status GpuEngine::runGraph(const std::string &name, const DimEnv &env,
                           cudaStream_t stream) {
  Status error;
  const EntryPoint *entry = entryPoint(name, error);
  if (!entry)
    return error;
  if (Status s = checkCall(env, limits_); !s)
    return s;
  // One graph per batch size: checkDependsOnBatchOnly (on capture) makes
  // every expression, the steps' `when` conditions included, a function of
  // the batch, so the replayed graph runs the steps this call would run.
  auto key = std::make_pair(name, env.batch);
  auto it = graphs_.find(key);
  if (it == graphs_.end()) {
    if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
      return makeError("entry point '" + name +
                       "': a CUDA graph is captured on a created stream, not the "
                       "default stream");
    if (Status s = checkDependsOnBatchOnly(manifest(), *entry); !s)
      return s;
    Result<std::vector<ResolvedStep>> steps =
        resolveEntryPoint(manifest(), *entry, env, bases_);
    if (!steps)
      return steps.takeError();
    // Plan the GEMMs outside the capture: the capture should record launches
    // only, not the heuristic's queries.
    for (const ResolvedStep &step : *steps)
      if (auto *g = std::get_if<ResolvedGemm>(&step.body))
        if (Status s = gemm_->prepare(*g); !s)
          return makeError(stepName(*entry, step.index) + ": " + s.error());
    std::string what = "capturing entry point '" + name + "' (batch " +
                       std::to_string(env.batch) + ")";
    if (Status s = cudaStatus(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
                              what);
        !s)
      return s;
    Status recorded = execute(*entry, *steps, stream);
    cudaGraph_t graph = nullptr;
    // End the capture whatever happened, so that the stream is usable again.
    Status ended = cudaStatus(cudaStreamEndCapture(stream, &graph), what);
    if (!recorded || !ended) {
      if (graph)
        cudaGraphDestroy(graph);
      return !recorded ? recorded : ended;
    }
    cudaGraphExec_t exec = nullptr;
    Status inst = cudaStatus(cudaGraphInstantiate(&exec, graph, 0), what);
    cudaGraphDestroy(graph);
    if (!inst)
      return inst;
    it = graphs_.emplace(key, exec).first;
  }
  return cudaStatus(cudaGraphLaunch(it->second, stream),
                    "replaying entry point '" + name + "' (batch " +
                        std::to_string(env.batch) + ")");
}
