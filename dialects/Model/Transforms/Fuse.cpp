//===- Fuse.cpp - group producer/consumer chains into mm01.fusion ---------===//
//
// Decides which model ops one generated kernel computes together and makes
// the decision explicit as `mm01.fusion` groups, so that the kernel lowering
// only follows it and the decision can be read and tested on its own:
//
//   deepnorm_rms_norm  the residual feeding a norm: one row kernel reads
//                      both addends, rounds the sum as the unfused model
//                      does, and normalises it (the sum never hits memory)
//   gated_rms_norm     rms_norm(x) * sigmoid(g): the norm kernel applies the
//                      gate at the store
//   silu_lightning     SiLU of the QKV projection and its q/k/v split: the
//                      lightning kernel loads q, k, v in place from the
//                      interleaved projection and applies SiLU on load
//   rope_attention     RoPE of q and k: applied by the attention kernels (k
//                      when written to the KV cache, q when loaded)
//
// A chain is grouped only when every intermediate value has its consumer
// in the chain as its only use (otherwise it must be materialized anyway).
// A norm feeding a gated multiply joins the gate group, not a residual
// group: the residual then runs as its own elementwise kernel.
//
//===----------------------------------------------------------------------===//
#include "Model/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01FUSE
#include "Model/Transforms/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;

namespace {

/// The op defining `v` if it is an OpTy whose only use is `user`.
template <typename OpTy> OpTy soleProducer(Value v, Operation *user) {
  auto op = v.getDefiningOp<OpTy>();
  if (!op || !v.hasOneUse() || *v.getUsers().begin() != user)
    return nullptr;
  if (op->getBlock() != user->getBlock())
    return nullptr;
  return op;
}

struct Group {
  FusionKind kind;
  Operation *root;
  SmallVector<Operation *> producers;
};

std::optional<Group> gatedNorm(arith::MulFOp mul) {
  for (int i = 0; i < 2; ++i) {
    auto norm = soleProducer<RMSNormOp>(mul.getOperand(i), mul);
    auto gate = soleProducer<SigmoidOp>(mul.getOperand(1 - i), mul);
    if (norm && gate && norm.getType() == gate.getType())
      return Group{FusionKind::gated_rms_norm, mul, {norm, gate}};
  }
  return std::nullopt;
}

std::optional<Group> residualNorm(RMSNormOp norm) {
  if (auto dn = soleProducer<DeepNormResidualOp>(norm.getInput(), norm))
    return Group{FusionKind::deepnorm_rms_norm, norm, {dn}};
  return std::nullopt;
}

std::optional<Group> siluLightning(Operation *la) {
  auto split = la->getOperand(0).getDefiningOp<SplitQKVOp>();
  if (!split || split->getBlock() != la->getBlock())
    return std::nullopt;
  for (int i = 0; i < 3; ++i)
    if (la->getOperand(i) != split->getResult(i) ||
        !split->getResult(i).hasOneUse())
      return std::nullopt;
  auto silu = soleProducer<SiLUOp>(split.getQkv(), split);
  if (!silu)
    return std::nullopt;
  return Group{FusionKind::silu_lightning, la, {silu, split}};
}

std::optional<Group> ropeAttention(SoftmaxAttentionOp sa) {
  auto q = soleProducer<RoPEOp>(sa.getQuery(), sa);
  auto k = soleProducer<RoPEOp>(sa.getKey(), sa);
  if (!q || !k)
    return std::nullopt;
  return Group{FusionKind::rope_attention, sa, {q, k}};
}

/// Replaces `g.root` by an mm01.fusion holding the producers (in program
/// order) and the root.
void formGroup(Group &g) {
  Operation *root = g.root;
  OpBuilder b(root);
  auto fusion = FusionOp::create(b, root->getLoc(), root->getResultTypes(),
                                 FusionKindAttr::get(b.getContext(), g.kind));
  root->replaceAllUsesWith(fusion.getResults());
  Block *body = b.createBlock(&fusion.getBody());
  llvm::sort(g.producers,
             [](Operation *a, Operation *c) { return a->isBeforeInBlock(c); });
  for (Operation *p : g.producers)
    p->moveBefore(body, body->end());
  root->moveBefore(body, body->end());
  b.setInsertionPointToEnd(body);
  YieldOp::create(b, root->getLoc(), root->getResults());
}

struct FusePass : mm01::model::impl::MM01FuseBase<FusePass> {
  void runOnOperation() override {
    SmallVector<Group> groups;
    llvm::DenseSet<Operation *> taken;
    auto take = [&](std::optional<Group> g) {
      if (!g)
        return;
      for (Operation *p : g->producers)
        if (taken.contains(p))
          return;
      taken.insert(g->root);
      taken.insert(g->producers.begin(), g->producers.end());
      groups.push_back(*g);
    };
    // Gates first: a norm that feeds a gate is the gate group's.
    getOperation().walk([&](arith::MulFOp mul) {
      if (!mul->getParentOfType<FusionOp>())
        take(gatedNorm(mul));
    });
    getOperation().walk([&](Operation *op) {
      if (op->getParentOfType<FusionOp>() || taken.contains(op))
        return;
      if (auto norm = dyn_cast<RMSNormOp>(op))
        take(residualNorm(norm));
      else if (isa<LightningAttentionOp, LightningDecodeOp>(op))
        take(siluLightning(op));
      else if (auto sa = dyn_cast<SoftmaxAttentionOp>(op))
        take(ropeAttention(sa));
    });
    for (Group &g : groups)
      formGroup(g);
  }
};

} // namespace
