//===- Resolve.h - an entry point's steps, evaluated for one call -*- C++ -*-===//
//
// Before anything is launched, every expression of an entry point's steps is
// evaluated for the call's DimEnv and every buffer reference becomes a device
// address (arena base + buffer offset + reference offset). What comes out is
// plain data the executor hands to the CUDA driver, cuBLASLt and the stream
// APIs: kernel parameters packed per the manifest's parameter types, launch
// dimensions, GEMM sizes, byte counts. Resolution checks what a launch
// cannot: dimensions positive and within CUDA's limits, integers fitting
// their parameter type, accessed bytes inside their buffer. Pure host code
// (no CUDA), tested without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_RUNTIME_RESOLVE_H
#define MM01_RUNTIME_RESOLVE_H

#include "mm01/Engine/Engine.h"
#include "mm01/Runtime/GemmLayout.h"
#include "mm01/Support/Result.h"

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mm01::runtime {

/// Device addresses of the arenas, indexed by engine::Lifetime.
using ArenaBases = std::array<uint64_t, engine::kNumLifetimes>;

struct ResolvedLaunch {
  size_t kernel = 0; // index in manifest.kernels
  std::array<uint32_t, 3> grid{}, block{};
  uint32_t sharedBytes = 0;
  bool overlapPrevious = false; // programmatic dependent launch
  /// The parameter values, each at its natural alignment, and where each
  /// starts: cuLaunchKernel's kernelParams[i] = params.data() + offsets[i].
  std::vector<uint8_t> params;
  std::vector<size_t> offsets;
};

struct ResolvedGemm {
  LtGemm lt;                  // cuBLASLt's column-major view
  uint64_t a = 0, b = 0, c = 0; // device addresses of OUR A, B, C
  DType aType = DType::BF16, bType = DType::BF16, cType = DType::BF16;
  float alpha = 1, beta = 0;
};

struct ResolvedMemset {
  uint64_t dst = 0, bytes = 0;
  uint8_t value = 0;
};

/// A device-to-device copy (also what a one-rank collective is).
struct ResolvedCopy {
  uint64_t src = 0, dst = 0, bytes = 0;
};

struct ResolvedStep {
  size_t index = 0; // in the entry point's steps
  std::variant<ResolvedLaunch, ResolvedGemm, ResolvedMemset, ResolvedCopy> body;
};

/// Evaluates every step of `entry` for `env`. Errors name the entry point,
/// the step (index and label) and the field: "entry point 'prefill' step 3
/// (lm_head): m = 'tokens' evaluates to 0, must be positive". A step whose
/// `when` evaluates to 0 is left out (nothing else of it is evaluated);
/// ResolvedStep::index still counts every step. Collectives are refused
/// unless the engine has one rank (then they are copies, or nothing when
/// send and receive coincide).
Result<std::vector<ResolvedStep>> resolveEntryPoint(const engine::Manifest &manifest,
                                                    const engine::EntryPoint &entry,
                                                    const engine::DimEnv &env,
                                                    const ArenaBases &arenas);

/// The symbols ("batch", "tokens", ...) an expression uses.
std::vector<std::string> symbolsOf(const engine::DimExpr &expr);

/// An entry point whose expressions use `batch` only can be captured once per
/// batch size as a CUDA graph and replayed (docs/gpu-engine-abi.md: decode).
/// This includes the steps' `when` conditions: the graph keeps the steps
/// that ran for the captured call, so the same steps must run for every
/// call of that batch size. Otherwise the error names the first step and
/// symbol that vary otherwise.
Status checkDependsOnBatchOnly(const engine::Manifest &manifest,
                               const engine::EntryPoint &entry);

/// The GEMM type combinations the runtime runs (cuBLASLt, f32 compute):
/// A and B alike, BF16 -> BF16|F32, F16 -> F16|F32, F32 -> F32.
Status checkGemmTypes(DType a, DType b, DType c);

} // namespace mm01::runtime

#endif // MM01_RUNTIME_RESOLVE_H
