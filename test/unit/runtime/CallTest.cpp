//===- CallTest.cpp - packed per-call inputs and call limits ---------------===//
#include "mm01/Runtime/Call.h"

#include "../TestUtil.h"

using namespace mm01;
using namespace mm01::runtime;

namespace {
CallLimits limits(int64_t batch = 4, int64_t context = 16, int64_t tokens = 32) {
  CallLimits l;
  l.maxBatch = batch;
  l.maxContext = context;
  l.tokenCapacity = tokens;
  return l;
}
} // namespace

TEST(PackCall, MixedLengthsArePackedInSequenceOrder) {
  // Sequence 0: 3 new tokens after 2 cached; sequence 1: 1 new, fresh;
  // sequence 2: 2 new after 5 cached.
  auto call = packCall({{10, 11, 12}, {20}, {30, 31}}, {2, 0, 5}, limits());
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call->tokenIds, (std::vector<int32_t>{10, 11, 12, 20, 30, 31}));
  EXPECT_EQ(call->positions, (std::vector<int32_t>{2, 3, 4, 0, 5, 6}));
  EXPECT_EQ(call->tokenSeq, (std::vector<int32_t>{0, 0, 0, 1, 2, 2}));
  EXPECT_EQ(call->cuSeqlens, (std::vector<int32_t>{0, 3, 4, 6}));
  EXPECT_EQ(call->contextLens, (std::vector<int32_t>{5, 1, 7}));
  EXPECT_EQ(call->env.batch, 3);
  EXPECT_EQ(call->env.seq, 3);     // the longest new part
  EXPECT_EQ(call->env.context, 7); // the longest sequence after the call
  EXPECT_EQ(call->env.tokens, 6);  // not batch * seq = 9
}

TEST(PackCall, DecodeStepIsOneTokenPerSequence) {
  auto call = packCall({{7}, {8}}, {4, 9, 0, 0}, limits());
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call->positions, (std::vector<int32_t>{4, 9}));
  EXPECT_EQ(call->cuSeqlens, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(call->env.seq, 1);
  EXPECT_EQ(call->env.tokens, 2);
  EXPECT_EQ(call->env.context, 10);
}

TEST(PackCall, RefusesOverLimitCalls) {
  EXPECT_ERROR_CONTAINS(packCall({{1}, {2}, {3}}, {0, 0, 0}, limits(2)),
                        "batch 3 exceeds the engine's max batch 2");
  // A session keeps one cached length per slot (max batch of them).
  EXPECT_ERROR_CONTAINS(packCall({{1}, {2}, {3}}, {0, 0}, limits(2)),
                        "batch 3 exceeds the engine's max batch 2");
  EXPECT_ERROR_CONTAINS(packCall({{1, 2}, {3}}, {15, 0}, limits()),
                        "sequence 0: context 17 (15 cached + 2 new tokens) exceeds "
                        "the engine's max context 16");
  EXPECT_ERROR_CONTAINS(packCall({std::vector<int32_t>(5, 1), std::vector<int32_t>(4, 1)},
                                 {0, 0}, limits(4, 16, 8)),
                        "tokens 9 exceed the capacity of the engine's token_ids buffer "
                        "(8 tokens)");
  EXPECT_ERROR_CONTAINS(packCall({{1}, {}}, {0, 0}, limits()), "sequence 1 has no new tokens");
  EXPECT_ERROR_CONTAINS(packCall({}, {}, limits()), "at least one sequence");
}

TEST(CheckCall, NamesTheLimit) {
  engine::DimEnv env;
  env.batch = 2;
  env.seq = 4;
  env.context = 20;
  EXPECT_ERROR_CONTAINS(checkCall(env, limits()),
                        "context 20 exceeds the engine's max context 16");
  env.context = 8;
  EXPECT_TRUE(checkCall(env, limits()).ok()); // tokens = batch * seq = 8
  env.tokens = 9;
  EXPECT_ERROR_CONTAINS(checkCall(env, limits()), "tokens 9 must lie between batch 2");
  env.tokens = -1;
  env.seq = 0;
  EXPECT_ERROR_CONTAINS(checkCall(env, limits()), "seq 0");
  env.seq = 4;
  env.batch = 0;
  EXPECT_ERROR_CONTAINS(checkCall(env, limits()), "batch 0 must be at least 1");
  env.batch = 8;
  env.context = 8;
  EXPECT_ERROR_CONTAINS(checkCall(env, limits(8, 16, 16)),
                        "tokens 32 exceed the capacity of the engine's token_ids buffer");
}

TEST(CallLimits, TokenCapacityIsTheTokenIdsBuffer) {
  engine::Manifest m;
  m.options.maxBatch = 3;
  m.options.maxContext = 50;
  EXPECT_EQ(callLimits(m).tokenCapacity, std::numeric_limits<int64_t>::max());
  engine::Buffer ids;
  ids.name = "token_ids";
  ids.bytes = 4 * 40;
  m.buffers.push_back(ids);
  CallLimits l = callLimits(m);
  EXPECT_EQ(l.maxBatch, 3);
  EXPECT_EQ(l.maxContext, 50);
  EXPECT_EQ(l.tokenCapacity, 40);
}
