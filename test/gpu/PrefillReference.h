//===- PrefillReference.h - float64 check of a lightning prefill -*- C++ -*-===//
//
// The host side of the GPU prefill test: the recurrent form of lightning
// attention (S_t = e^{-λ} S_{t-1} + k_tᵀ v_t, o_t = q_t S_t) in float64,
// and per-element bounds derived from the kernels' rounding, checked
// against a call's outputs and final states. Sequences × heads are
// independent, so they run on a pool of threads (the reference, not the
// GPU, is what a test case's time goes to); the result, the printed
// mismatches and their order do not depend on the thread count (the
// statistics' sums only in their last bits). No CUDA here: the unit test
// test/unit/PrefillReferenceTest.cpp runs it on the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef MM01_TEST_GPU_PREFILLREFERENCE_H
#define MM01_TEST_GPU_PREFILLREFERENCE_H

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace mm01::test {

struct PrefillErrors {
  double oNorm = 0, sNorm = 0, worst = 0, oMaxRel = 0, sMaxRel = 0;
  long long bad = 0;
};

/// One call: B packed sequences (rows cu[b] .. cu[b+1]-1) of H heads of
/// dimension D, and what the kernels returned.
struct PrefillCall {
  int B = 0, H = 0, D = 0;
  std::vector<long long> cu;
  /// q, k, v (which 0, 1, 2) at row t, head h, column d, as the kernels
  /// read them (after SiLU where the plan applies it).
  std::function<double(int which, long long t, int h, int d)> input;
  /// The kernels' output at row t, head h, column j.
  std::function<double(long long t, int h, int j)> output;
  const float *state0 = nullptr;     // incoming state [B][H][D][D]
  const float *finalState = nullptr; // the kernels' final state, same layout
  std::vector<double> decay;         // λ per head
  bool silu = false;                 // SiLU'd inputs (one ulp of slack each)
  bool hiLo = true;                  // state update as bf16 hi + lo
  int hiLoTailLog2 = 0;              // hi + lo only in the final state's window
};

/// Kernel rounding model (bf16: ρ = 2^-8 = unit roundoff of an 8-bit
/// significand):
///   o: P = (q·k)·decay and S (the chunk's incoming state) are rounded to
///      bf16 as tensor-core operands (ρ each, relative to |terms|), the
///      output is rounded to bf16 (ρ|o|); with SiLU, each of q', k', v' may
///      be one ulp (2ρ) off the reference's bf16(silu(x)) (approximate exp
///      in the kernel). With A = Σ |terms| (the recurrence on |q|, |k|, |v|,
///      |S0|): |o - o_ref| ≤ ρ|o_ref| + (1+ρ)(2ρ + 6ρ[silu] + εS)·A.
///   S: fp32 accumulation, K̃ = k·e^{-λ(m-1-j)} kept as bf16 hi + lo (2^-16),
///      approximate exp2 (2^-22), f32 products/sums over a chunk (64·2^-24):
///      |S - S_ref| ≤ εS·Sabs with εS = 2^-14 (2× the sum of those, ≤ 2^-15),
///      plus 4ρ·Sabs[silu] (k', v' one ulp off). Without hi + lo K̃ is
///      rounded to bf16 once (2^-9): εS = 2^-8.
///   hiLoTailLog2 = n: the outputs kernel's running state takes bf16 updates
///      (εS = 2^-8 in the outputs' bound); the final state hi + lo ones
///      from the chunk before its window on, so its bf16 terms are all
///      tokens t with (len-1-t)·λ ≥ n·ln 2: |S - S_ref| ≤ 2^-14·Sabs +
///      2^-8·Spre, Spre the recurrence on |k v| of those tokens alone.
/// Prints the first 5 mismatches (in sequence, head, row order); `threads`
/// 0: the machine's.
inline bool checkPrefill(const PrefillCall &c, PrefillErrors &err, unsigned threads = 0) {
  const int B = c.B, H = c.H, D = c.D;
  const double rho = std::ldexp(1.0, -8), epsS = std::ldexp(1.0, c.hiLo ? -14 : -8),
               epsSOut = c.hiLoTailLog2 > 0 ? std::ldexp(1.0, -8) : epsS;
  const double oCoef = (1 + rho) * (2 * rho + (c.silu ? 6 * rho : 0) + epsSOut);
  const double sCoef = epsS + (c.silu ? 4 * rho : 0);
  const bool tail = c.hiLoTailLog2 > 0;

  // One (sequence, head): its statistics and its first mismatches.
  struct Head {
    double oDiff2 = 0, oRef2 = 0, sDiff2 = 0, sRef2 = 0, oMaxD = 0, oMaxR = 0, sMaxD = 0,
           sMaxR = 0, worst = 0;
    long long bad = 0;
    std::vector<std::string> shown;
  };
  std::vector<Head> heads(size_t(B) * H);
  auto mismatch = [](Head &r, const char *fmt, auto... args) {
    if (r.bad++ < 5) {
      char buf[256];
      std::snprintf(buf, sizeof(buf), fmt, args...);
      r.shown.push_back(buf);
    }
  };
  auto runHead = [&](int b, int h, Head &r) {
    std::vector<double> S(size_t(D) * D), Sa(S.size()), Sp(tail ? S.size() : 0), q(D), k(D),
        v(D);
    const double dec = std::exp(-c.decay[h]);
    const size_t base = (size_t(b) * H + h) * D * D;
    for (size_t i = 0; i < S.size(); ++i) {
      S[i] = c.state0[base + i];
      Sa[i] = std::fabs(S[i]);
    }
    for (long long t = c.cu[b]; t < c.cu[b + 1]; ++t) {
      for (int i = 0; i < D; ++i)
        q[i] = c.input(0, t, h, i), k[i] = c.input(1, t, h, i), v[i] = c.input(2, t, h, i);
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          S[i * D + j] = dec * S[i * D + j] + k[i] * v[j];
          Sa[i * D + j] = dec * Sa[i * D + j] + std::fabs(k[i] * v[j]);
        }
      if (tail) {
        const bool pre = double(c.cu[b + 1] - 1 - t) * c.decay[h] >=
                         c.hiLoTailLog2 * std::log(2.0);
        for (size_t i = 0; i < Sp.size(); ++i)
          Sp[i] = dec * Sp[i] + (pre ? std::fabs(k[i / D] * v[i % D]) : 0.0);
      }
      for (int j = 0; j < D; ++j) {
        double o = 0, a = 0;
        for (int i = 0; i < D; ++i) {
          o += q[i] * S[i * D + j];
          a += std::fabs(q[i]) * Sa[i * D + j];
        }
        double got = c.output(t, h, j);
        double diff = std::fabs(got - o), tol = rho * std::fabs(o) + oCoef * a;
        if (!(diff <= tol))
          mismatch(r, "  o mismatch b=%d h=%d t=%lld j=%d: got %.6g want %.6g (tol %.3g)\n", b,
                   h, t - c.cu[b], j, got, o, tol);
        r.worst = std::max(r.worst, std::isfinite(diff) ? diff / tol : 1e30);
        r.oDiff2 += diff * diff, r.oRef2 += o * o;
        r.oMaxD = std::max(r.oMaxD, diff), r.oMaxR = std::max(r.oMaxR, std::fabs(o));
      }
    }
    for (size_t i = 0; i < S.size(); ++i) {
      double got = c.finalState[base + i];
      double diff = std::fabs(got - S[i]),
             tol = sCoef * Sa[i] + (tail ? rho * Sp[i] : 0.0) + 1e-30;
      if (!(diff <= tol))
        mismatch(r, "  state mismatch b=%d h=%d (%d,%d): got %.8g want %.8g (tol %.3g)\n", b, h,
                 int(i / D), int(i % D), got, S[i], tol);
      r.worst = std::max(r.worst, std::isfinite(diff) ? diff / tol : 1e30);
      r.sDiff2 += diff * diff, r.sRef2 += S[i] * S[i];
      r.sMaxD = std::max(r.sMaxD, diff), r.sMaxR = std::max(r.sMaxR, std::fabs(S[i]));
    }
  };

  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<size_t>(1, heads.size()));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < heads.size();)
      runHead(int(i / H), int(i % H), heads[i]);
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();

  // In (sequence, head) order, as one thread would have found them.
  Head all;
  for (const Head &r : heads) {
    for (const std::string &s : r.shown)
      if (err.bad + (&s - r.shown.data()) < 5)
        std::fputs(s.c_str(), stdout);
    err.bad += r.bad;
    all.oDiff2 += r.oDiff2, all.oRef2 += r.oRef2, all.sDiff2 += r.sDiff2, all.sRef2 += r.sRef2;
    all.oMaxD = std::max(all.oMaxD, r.oMaxD), all.oMaxR = std::max(all.oMaxR, r.oMaxR);
    all.sMaxD = std::max(all.sMaxD, r.sMaxD), all.sMaxR = std::max(all.sMaxR, r.sMaxR);
    err.worst = std::max(err.worst, r.worst);
  }
  err.oNorm = all.oRef2 > 0 ? std::sqrt(all.oDiff2 / all.oRef2) : 0;
  err.sNorm = all.sRef2 > 0 ? std::sqrt(all.sDiff2 / all.sRef2) : 0;
  err.oMaxRel = all.oMaxR > 0 ? all.oMaxD / all.oMaxR : 0;
  err.sMaxRel = all.sMaxR > 0 ? all.sMaxD / all.sMaxR : 0;
  for (const Head &r : heads)
    if (r.bad)
      return false;
  return true;
}

} // namespace mm01::test

#endif // MM01_TEST_GPU_PREFILLREFERENCE_H
