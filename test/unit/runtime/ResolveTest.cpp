//===- ResolveTest.cpp - steps evaluated for a call: packing and refusals ---===//
#include "mm01/Runtime/Resolve.h"

#include "ToyEngine.h"

#include "../TestUtil.h"

#include <cstring>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;
using namespace mm01::runtime::test;

namespace {
ArenaBases bases() {
  return {0x10000000, 0x20000000, 0x30000000, 0x40000000, 0x50000000};
}

uint64_t addr(const Manifest &m, const std::string &buffer) {
  const Buffer *b = m.findBuffer(buffer);
  return bases()[static_cast<int>(b->lifetime)] + b->offset;
}

template <typename T> T param(const ResolvedLaunch &l, size_t i) {
  T v;
  std::memcpy(&v, l.params.data() + l.offsets[i], sizeof(T));
  return v;
}

DimEnv prefillEnv(int64_t batch, int64_t seq, int64_t context, int64_t tokens) {
  DimEnv env;
  env.batch = batch;
  env.seq = seq;
  env.context = context;
  env.tokens = tokens;
  return env;
}
} // namespace

TEST(Resolve, PacksKernelParametersByTheirTypes) {
  Manifest m = toyManifest();
  auto steps = resolveEntryPoint(m, *m.findEntryPoint("prefill"),
                                 prefillEnv(3, 5, 9, 11), bases());
  ASSERT_TRUE(steps.ok()) << steps.error();
  // The in-place one-rank all_reduce resolves to nothing.
  ASSERT_EQ(steps->size(), 8u);

  const auto &embed = std::get<ResolvedLaunch>((*steps)[0].body);
  EXPECT_EQ(m.kernels[embed.kernel].name, "embed_prefill");
  EXPECT_EQ(embed.grid, (std::array<uint32_t, 3>{6, 1, 1})); // cdiv(11 * 64, 128)
  EXPECT_EQ(embed.block, (std::array<uint32_t, 3>{128, 1, 1}));
  // 5 pointers, i32 rows, i32 cols, f32 scale: natural alignment each.
  EXPECT_EQ(embed.offsets, (std::vector<size_t>{0, 8, 16, 24, 32, 40, 44, 48}));
  EXPECT_EQ(embed.params.size(), 52u);
  EXPECT_EQ(param<uint64_t>(embed, 0), addr(m, "token_ids"));
  EXPECT_EQ(param<uint64_t>(embed, 2), addr(m, "embed"));
  EXPECT_EQ(param<int32_t>(embed, 5), 11);
  EXPECT_EQ(param<int32_t>(embed, 6), kHidden);
  EXPECT_EQ(param<float>(embed, 7), kPosScale);

  const auto &acc = std::get<ResolvedLaunch>((*steps)[1].body);
  // 5 pointers, i64 at 40, u32 at 48, i32 at 52.
  EXPECT_EQ(acc.offsets, (std::vector<size_t>{0, 8, 16, 24, 32, 40, 48, 52}));
  EXPECT_EQ(param<uint64_t>(acc, 3), addr(m, "state"));
  EXPECT_EQ(param<uint64_t>(acc, 4), addr(m, "cache"));
  EXPECT_EQ(param<int64_t>(acc, 5), 11);
  EXPECT_EQ(param<uint32_t>(acc, 6), static_cast<uint32_t>(kHidden));
  EXPECT_EQ(param<int32_t>(acc, 7), kMaxContext);

  const auto &lm = std::get<ResolvedGemm>((*steps)[2].body);
  EXPECT_EQ(lm.a, addr(m, "xb"));
  EXPECT_EQ(lm.b, addr(m, "lm_head"));
  EXPECT_EQ(lm.c, addr(m, "logits"));
  EXPECT_EQ(lm.lt.m, kVocab);
  EXPECT_EQ(lm.lt.n, 11);
  EXPECT_TRUE(lm.lt.a.trans);

  const auto &zero = std::get<ResolvedMemset>((*steps)[4].body);
  EXPECT_EQ(zero.dst, addr(m, "aux"));
  EXPECT_EQ(zero.bytes, 11u * kProj * 4);
  const auto &proj = std::get<ResolvedGemm>((*steps)[5].body);
  EXPECT_EQ(proj.alpha, 0.5f);
  EXPECT_EQ(proj.beta, 1.0f);
  const auto &copy = std::get<ResolvedCopy>((*steps)[6].body);
  EXPECT_EQ(copy.src, addr(m, "aux"));
  EXPECT_EQ(copy.dst, addr(m, "aux_copy"));
  const auto &marker = std::get<ResolvedMemset>((*steps)[7].body);
  EXPECT_EQ(marker.value, 0x5a);
  EXPECT_EQ(marker.bytes, 11u);
}

TEST(Resolve, RefusesWhatALaunchCannotCheck) {
  Manifest m = toyManifest();
  const EntryPoint &prefill = *m.findEntryPoint("prefill");
  // More tokens than the activation buffers hold (a caller that skipped
  // checkCall): the first access past a buffer is named.
  EXPECT_ERROR_CONTAINS(resolveEntryPoint(m, prefill, prefillEnv(4, 64, 64, 200), bases()),
                        "entry point 'prefill' step 2 (lm_head): a: 25600 bytes at offset 0 "
                        "exceed buffer 'xb' (16384 bytes)");
  EXPECT_ERROR_CONTAINS(resolveEntryPoint(m, prefill, prefillEnv(1, 1, 1, 0), bases()),
                        "step 0 (embed): kernel 'embed_prefill' grid.x = 'cdiv(tokens * 64, "
                        "128)' evaluates to 0, must be positive");

  // An integer that does not fit its parameter type.
  Manifest big = toyManifest();
  std::get<KernelLaunch>(big.entryPoints[0].steps[0].body).args[5] =
      KernelArg::intArg(DimExpr::parse("tokens * 1000000000").value());
  EXPECT_ERROR_CONTAINS(
      resolveEntryPoint(big, big.entryPoints[0], prefillEnv(1, 4, 4, 4), bases()),
      "args[5] (rows) = 4000000000 does not fit i32");

  Manifest ranks = toyManifest();
  ranks.options.worldSize = 2;
  EXPECT_ERROR_CONTAINS(
      resolveEntryPoint(ranks, ranks.entryPoints[0], prefillEnv(1, 4, 4, 4), bases()),
      "step 8 (all_reduce): all_reduce needs NCCL: multi-rank engines (world_size 2) are "
      "not supported by this runtime yet");

  Manifest badGemm = toyManifest();
  std::get<GemmCall>(badGemm.entryPoints[0].steps[3].body).cType = DType::F16;
  EXPECT_ERROR_CONTAINS(
      resolveEntryPoint(badGemm, badGemm.entryPoints[0], prefillEnv(1, 4, 4, 4), bases()),
      "step 3 (hb): gemm types BF16 x BF16 -> F16 are not supported");
}

TEST(Resolve, OneRankCollectiveIsACopy) {
  Manifest m = toyManifest();
  auto &reduce = std::get<CollectiveCall>(m.entryPoints[1].steps[8].body);
  reduce.op = CollectiveOp::AllGather;
  reduce.recv = {"aux_copy", 0};
  reduce.count = DimExpr::parse("batch * 4").value();
  auto steps = resolveEntryPoint(m, m.entryPoints[1], prefillEnv(2, 1, 3, 2), bases());
  ASSERT_TRUE(steps.ok()) << steps.error();
  ASSERT_EQ(steps->size(), 9u);
  const auto &copy = std::get<ResolvedCopy>(steps->back().body);
  EXPECT_EQ(copy.src, addr(m, "logits"));
  EXPECT_EQ(copy.dst, addr(m, "aux_copy"));
  EXPECT_EQ(copy.bytes, 2u * 4 * 4);
}

TEST(Resolve, SymbolsOfAnExpression) {
  EXPECT_EQ(symbolsOf(DimExpr::parse("cdiv(tokens, 4) + batch * past - tokens").value()),
            (std::vector<std::string>{"tokens", "batch", "past"}));
  EXPECT_TRUE(symbolsOf(DimExpr(256)).empty());
  EXPECT_EQ(symbolsOf(DimExpr::parse("max(batch, 2)").value()),
            (std::vector<std::string>{"batch"}));
}

TEST(Resolve, OnlyBatchOnlyEntryPointsBecomeGraphs) {
  Manifest m = toyManifest();
  EXPECT_TRUE(checkDependsOnBatchOnly(m, *m.findEntryPoint("decode")).ok());
  EXPECT_ERROR_CONTAINS(checkDependsOnBatchOnly(m, *m.findEntryPoint("prefill")),
                        "entry point 'prefill' cannot be captured as a CUDA graph: step 0 "
                        "(embed) kernel 'embed_prefill' grid = 'cdiv(tokens * 64, 128)' "
                        "uses 'tokens'");
  // A decode step whose offset depends on the context is refused too.
  Manifest ctx = toyManifest();
  std::get<MemsetCall>(ctx.entryPoints[1].steps[4].body).dst.offset =
      DimExpr::parse("(context - 1) * 4").value();
  EXPECT_ERROR_CONTAINS(checkDependsOnBatchOnly(ctx, ctx.entryPoints[1]),
                        "step 4 (zero_aux) dst.offset = '(context - 1) * 4' uses 'context'");
}

TEST(Resolve, CarriesOverlapPrevious) {
  Manifest m = toyManifest();
  EntryPoint &prefill = m.entryPoints[0];
  ASSERT_EQ(prefill.name, "prefill");
  std::get<KernelLaunch>(prefill.steps[1].body).overlapPrevious = true;
  auto steps = resolveEntryPoint(m, prefill, prefillEnv(3, 5, 9, 11), bases());
  ASSERT_TRUE(steps.ok()) << steps.error();
  EXPECT_FALSE(std::get<ResolvedLaunch>((*steps)[0].body).overlapPrevious);
  EXPECT_TRUE(std::get<ResolvedLaunch>((*steps)[1].body).overlapPrevious);
}

TEST(Resolve, SkipsStepsWhoseConditionIsZero) {
  // Two plans for the logits: lm_head from 11 tokens on, hb below.
  Manifest m = toyManifest();
  EntryPoint &prefill = m.entryPoints[0];
  prefill.steps[2].when = DimExpr::parse("ge(tokens, 11)").value();
  prefill.steps[3].when = DimExpr::parse("1 - ge(tokens, 11)").value();
  auto indices = [&](const DimEnv &env) {
    auto steps = resolveEntryPoint(m, prefill, env, bases());
    EXPECT_TRUE(steps.ok()) << steps.error();
    std::vector<size_t> out;
    if (steps)
      for (const ResolvedStep &s : *steps)
        out.push_back(s.index);
    return out;
  };
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 11)), (std::vector<size_t>{0, 1, 2, 4, 5, 6, 7}));
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 10)), (std::vector<size_t>{0, 1, 3, 4, 5, 6, 7}));
  // Any nonzero value runs the step, a negative one too.
  prefill.steps[3].when = DimExpr::parse("tokens - 11").value();
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 10)), (std::vector<size_t>{0, 1, 3, 4, 5, 6, 7}));
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 11)), (std::vector<size_t>{0, 1, 2, 4, 5, 6, 7}));
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 12)), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}));

  // Nothing else of a skipped step is evaluated: this one would not fit i32.
  std::get<KernelLaunch>(prefill.steps[1].body).args[5] =
      KernelArg::intArg(DimExpr::parse("tokens * 1000000000").value());
  prefill.steps[1].when = DimExpr(0);
  EXPECT_EQ(indices(prefillEnv(3, 5, 9, 11)), (std::vector<size_t>{0, 2, 4, 5, 6, 7}));
}

TEST(Resolve, RefusesConditionsThatDoNotEvaluate) {
  Manifest m = toyManifest();
  m.entryPoints[0].steps[2].when = DimExpr::parse("ge(tokens / (batch - 3), 1)").value();
  EXPECT_ERROR_CONTAINS(resolveEntryPoint(m, m.entryPoints[0], prefillEnv(3, 5, 9, 11),
                                          bases()),
                        "entry point 'prefill' step 2 (lm_head): when = 'ge(tokens / "
                        "(batch - 3), 1)': expression 'ge(tokens / (batch - 3), 1)' "
                        "divides by zero");
}

TEST(Resolve, RefusesAnOverlapAfterASkippedStep) {
  // validateManifest refuses this; resolution does not rely on it.
  Manifest m = toyManifest();
  EntryPoint &prefill = m.entryPoints[0];
  std::get<KernelLaunch>(prefill.steps[1].body).overlapPrevious = true;
  prefill.steps[0].when = DimExpr::parse("lt(tokens, 8)").value();
  EXPECT_ERROR_CONTAINS(resolveEntryPoint(m, prefill, prefillEnv(3, 5, 9, 11), bases()),
                        "entry point 'prefill' step 1 (accumulate): overlap_previous is "
                        "set, but the previous step does not run for this call");
  // Both skipped, or both run: fine.
  prefill.steps[1].when = prefill.steps[0].when;
  EXPECT_TRUE(resolveEntryPoint(m, prefill, prefillEnv(3, 5, 9, 11), bases()).ok());
  auto steps = resolveEntryPoint(m, prefill, prefillEnv(1, 5, 5, 5), bases());
  ASSERT_TRUE(steps.ok()) << steps.error();
  EXPECT_TRUE(std::get<ResolvedLaunch>((*steps)[1].body).overlapPrevious);
}

TEST(Resolve, GraphsNeedConditionsOnTheBatchOnly) {
  // A graph replays the steps of the call it captured: a condition on the
  // batch is fixed per graph, one on the context is not.
  Manifest m = toyManifest();
  EntryPoint &decode = m.entryPoints[1];
  decode.steps[2].when = DimExpr::parse("lt(batch, 2)").value();
  decode.steps[3].when = DimExpr::parse("ge(batch, 2)").value();
  EXPECT_TRUE(checkDependsOnBatchOnly(m, decode).ok());
  decode.steps[3].when = DimExpr::parse("min(ge(batch, 2), ge(context, 64))").value();
  EXPECT_ERROR_CONTAINS(checkDependsOnBatchOnly(m, decode),
                        "entry point 'decode' cannot be captured as a CUDA graph: step 3 "
                        "(hb) when = 'min(ge(batch, 2), ge(context, 64))' uses 'context'");
}
