//===- GemmRunner.cpp - cuBLASLt matmuls with cached plans -----------------===//
#include "GemmRunner.h"

#include "CudaStatus.h"

using namespace mm01;
using namespace mm01::runtime;

namespace {
Status ltStatus(cublasStatus_t s, const std::string &what) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return makeError(what + ": " + cublasLtGetStatusName(s) + " (" +
                   cublasLtGetStatusString(s) + ")");
}

cudaDataType_t cudaType(DType t) {
  switch (t) {
  case DType::BF16:
    return CUDA_R_16BF;
  case DType::F16:
    return CUDA_R_16F;
  default:
    return CUDA_R_32F; // checkGemmTypes admits nothing else
  }
}

/// The largest power of two (at most 256) dividing the address: the
/// heuristic must only pick kernels whose vector loads this alignment allows.
unsigned alignmentOf(uint64_t address) {
  unsigned a = 256;
  while (a > 1 && address % a != 0)
    a /= 2;
  return a;
}
} // namespace

Result<std::unique_ptr<GemmRunner>> GemmRunner::create(uint64_t workspaceBytes) {
  std::unique_ptr<GemmRunner> runner(new GemmRunner());
  if (Status s = ltStatus(cublasLtCreate(&runner->handle), "cublasLtCreate"); !s)
    return Error{s.error()};
  if (workspaceBytes > 0)
    if (Status s = cudaStatus(cudaMalloc(&runner->workspace, workspaceBytes),
                              "cannot allocate the cuBLASLt workspace (" +
                                  std::to_string(workspaceBytes) + " bytes)");
        !s)
      return Error{s.error()};
  runner->workspaceBytes = workspaceBytes;
  return runner;
}

GemmRunner::~GemmRunner() {
  for (auto &[key, p] : plans) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatmulDescDestroy(p.desc);
  }
  if (workspace)
    cudaFree(workspace);
  if (handle)
    cublasLtDestroy(handle);
}

GemmRunner::Key GemmRunner::keyOf(const ResolvedGemm &g) {
  // cuBLASLt's A is our B, its B our A (GemmLayout.h).
  return Key(g.lt.m, g.lt.n, g.lt.k, g.lt.a.trans, g.lt.b.trans, g.lt.a.ld, g.lt.b.ld,
             g.lt.c.ld, static_cast<int>(g.aType), static_cast<int>(g.cType),
             alignmentOf(g.b), alignmentOf(g.a), alignmentOf(g.c));
}

Result<GemmRunner::Plan *> GemmRunner::plan(const ResolvedGemm &g) {
  Key key = keyOf(g);
  if (auto it = plans.find(key); it != plans.end())
    return &it->second;
  Plan p;
  const cudaDataType_t ab = cudaType(g.aType), c = cudaType(g.cType);
  std::string shape = "gemm " + std::to_string(g.lt.n) + "x" + std::to_string(g.lt.m) +
                      "x" + std::to_string(g.lt.k);
  Status s = ltStatus(cublasLtMatmulDescCreate(&p.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                      shape + ": cublasLtMatmulDescCreate");
  cublasOperation_t ta = g.lt.a.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t tb = g.lt.b.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (s)
    s = ltStatus(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta,
                                                sizeof(ta)),
                 shape + ": TRANSA");
  if (s)
    s = ltStatus(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb,
                                                sizeof(tb)),
                 shape + ": TRANSB");
  if (s)
    s = ltStatus(cublasLtMatrixLayoutCreate(&p.a, ab, g.lt.a.rows, g.lt.a.cols, g.lt.a.ld),
                 shape + ": layout of B");
  if (s)
    s = ltStatus(cublasLtMatrixLayoutCreate(&p.b, ab, g.lt.b.rows, g.lt.b.cols, g.lt.b.ld),
                 shape + ": layout of A");
  if (s)
    s = ltStatus(cublasLtMatrixLayoutCreate(&p.c, c, g.lt.c.rows, g.lt.c.cols, g.lt.c.ld),
                 shape + ": layout of C");
  cublasLtMatmulPreference_t pref = nullptr;
  if (s)
    s = ltStatus(cublasLtMatmulPreferenceCreate(&pref), shape + ": preference");
  if (s) {
    uint64_t ws = workspaceBytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                         &ws, sizeof(ws));
    uint32_t alignA = alignmentOf(g.b), alignB = alignmentOf(g.a),
             alignC = alignmentOf(g.c);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                         &alignA, sizeof(alignA));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                         &alignB, sizeof(alignB));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                         &alignC, sizeof(alignC));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                         &alignC, sizeof(alignC));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    s = ltStatus(cublasLtMatmulAlgoGetHeuristic(handle, p.desc, p.a, p.b, p.c, p.c, pref,
                                                1, &result, &found),
                 shape + ": cublasLtMatmulAlgoGetHeuristic");
    if (s && found == 0)
      s = makeError(shape + " (" + dtypeName(g.aType) + " -> " + dtypeName(g.cType) +
                    "): cuBLASLt found no algorithm");
    if (s)
      p.algo = result.algo;
  }
  if (pref)
    cublasLtMatmulPreferenceDestroy(pref);
  if (!s) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatmulDescDestroy(p.desc);
    return Error{s.error()};
  }
  return &plans.emplace(key, p).first->second;
}

Status GemmRunner::prepare(const ResolvedGemm &g) {
  Result<Plan *> p = plan(g);
  return p ? Status::success() : Status(p.takeError());
}

Status GemmRunner::run(const ResolvedGemm &g, cudaStream_t stream) {
  Result<Plan *> p = plan(g);
  if (!p)
    return p.takeError();
  const Plan &pl = **p;
  void *c = reinterpret_cast<void *>(g.c);
  return ltStatus(cublasLtMatmul(handle, pl.desc, &g.alpha, reinterpret_cast<void *>(g.b),
                                 pl.a, reinterpret_cast<void *>(g.a), pl.b, &g.beta, c,
                                 pl.c, c, pl.c, &pl.algo, workspace, workspaceBytes,
                                 stream),
                  "cublasLtMatmul");
}
