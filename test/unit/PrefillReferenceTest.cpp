// The GPU prefill test's host check (test/gpu/PrefillReference.h) on the
// CPU: outputs and states that follow the recurrence pass, one wrong
// element fails, and the verdict does not depend on the thread count.

#include "PrefillReference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

using mm01::test::checkPrefill;
using mm01::test::PrefillCall;
using mm01::test::PrefillErrors;

/// A small call and "kernel results" from an independent float64
/// recurrence (outputs rounded to float, final state to float).
struct Fixture {
  int B = 3, H = 3, D = 16;
  std::vector<long long> cu = {0, 5, 5, 75};
  std::vector<double> decay = {0.5, 0.05, 0.005};
  std::vector<double> qkv;  // [T][H][3][D]
  std::vector<float> s0, sOut;
  std::vector<double> out;  // [T][H][D]

  Fixture() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> uni(-1, 1);
    const long long T = cu.back();
    qkv.resize(size_t(T) * H * 3 * D);
    for (double &x : qkv)
      x = uni(rng);
    s0.resize(size_t(B) * H * D * D);
    for (float &x : s0)
      x = float(uni(rng));
    sOut.resize(s0.size());
    out.assign(size_t(T) * H * D, 0.0);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        std::vector<double> S(s0.begin() + (size_t(b) * H + h) * D * D,
                              s0.begin() + (size_t(b) * H + h + 1) * D * D);
        for (long long t = cu[b]; t < cu[b + 1]; ++t) {
          for (int i = 0; i < D; ++i)
            for (int j = 0; j < D; ++j)
              S[i * D + j] = std::exp(-decay[h]) * S[i * D + j] + in(1, t, h, i) * in(2, t, h, j);
          for (int j = 0; j < D; ++j) {
            double o = 0;
            for (int i = 0; i < D; ++i)
              o += in(0, t, h, i) * S[i * D + j];
            out[(size_t(t) * H + h) * D + j] = float(o);
          }
        }
        for (int i = 0; i < D * D; ++i)
          sOut[(size_t(b) * H + h) * D * D + i] = float(S[i]);
      }
  }
  double in(int which, long long t, int h, int d) const {
    return qkv[((size_t(t) * H + h) * 3 + which) * D + d];
  }
  PrefillCall call() const {
    PrefillCall c;
    c.B = B, c.H = H, c.D = D, c.cu = cu, c.decay = decay;
    c.input = [this](int which, long long t, int h, int d) { return in(which, t, h, d); };
    c.output = [this](long long t, int h, int j) { return out[(size_t(t) * H + h) * D + j]; };
    c.state0 = s0.data();
    c.finalState = sOut.data();
    return c;
  }
};

TEST(PrefillReference, RecurrencePasses) {
  Fixture f;
  for (unsigned threads : {1u, 4u, 0u}) {
    PrefillErrors err;
    EXPECT_TRUE(checkPrefill(f.call(), err, threads)) << threads;
    EXPECT_EQ(err.bad, 0);
    EXPECT_LT(err.worst, 1.0);
    EXPECT_LT(err.oMaxRel, 1e-6);
    EXPECT_LT(err.sMaxRel, 1e-6);
  }
  // The hi + lo window's bound (and its own recurrence) also holds.
  PrefillCall c = f.call();
  c.hiLoTailLog2 = 12;
  PrefillErrors err;
  EXPECT_TRUE(checkPrefill(c, err, 2));
}

TEST(PrefillReference, WrongElementsFailWhateverTheThreads) {
  Fixture f;
  // One output of sequence 2, head 1, and one state value of sequence 0,
  // head 2, far outside their bounds.
  f.out[(size_t(40) * f.H + 1) * f.D + 3] += 100.0;
  f.sOut[(size_t(0) * f.H + 2) * f.D * f.D + 17] -= 100.0f;
  PrefillErrors one, many;
  EXPECT_FALSE(checkPrefill(f.call(), one, 1));
  EXPECT_FALSE(checkPrefill(f.call(), many, 5));
  EXPECT_EQ(one.bad, 2);
  EXPECT_EQ(many.bad, 2);
  EXPECT_GT(one.worst, 1.0);
  EXPECT_EQ(one.worst, many.worst);
  EXPECT_EQ(one.oMaxRel, many.oMaxRel);
  EXPECT_EQ(one.sMaxRel, many.sMaxRel);
  EXPECT_NEAR(one.oNorm, many.oNorm, 1e-12 * one.oNorm);
}

TEST(PrefillReference, BoundsFollowTheRoundingModel) {
  Fixture f;
  // Without hi + lo the state's bound is 2^-8 of |terms| instead of 2^-14:
  // a state error of ~1e-3 relative fails the first and passes the second.
  for (float &x : f.sOut)
    x *= 1.0f + 1e-3f;
  PrefillCall c = f.call();
  PrefillErrors tight, loose;
  EXPECT_FALSE(checkPrefill(c, tight, 3));
  c.hiLo = false;
  EXPECT_TRUE(checkPrefill(c, loose, 3));
}

} // namespace
