//===- PlanBuffers.cpp - the engine's buffer plan for an mm01k schedule ---===//
//
// Every tensor of the schedule becomes a device buffer (docs/engine-format.md
// "Buffer plan"). Values that are the same memory — a launch/gemm result and
// its `outs` operand — form one alias class; a class is rooted at a weight,
// a named function argument or a tensor.empty.
//
// Activation arena layout: first the per-call input buffers and `logits`
// (shared by all entry points, fixed offsets), then each entry's planned
// temporaries from a common base: entry points never run concurrently, so
// prefill's and decode's temporaries may overlap. Inside an entry,
// temporaries whose live ranges (schedule positions from definition to
// last use) are disjoint share memory: greedy placement, largest first, at
// the lowest offset that overlaps no live-conflicting buffer.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01PLANBUFFERS
#include "Model/Conversion/ModelToGPU/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
namespace mk = mm01::kernel;

namespace {

constexpr int64_t kAlign = 256;

int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

int64_t byteSize(Type type) {
  auto t = cast<RankedTensorType>(type);
  int64_t bits = t.getElementType().getIntOrFloatBitWidth();
  return t.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

struct PlannedBuffer {
  std::string name, lifetime;
  int64_t bytes = 0, offset = 0;
};

/// The name of the buffer a named function argument lives in, and its
/// lifetime class.
std::pair<std::string, std::string> argBuffer(StringRef name) {
  if (name == "ids")
    return {"token_ids", "activation"};
  if (name.ends_with("lightning_state"))
    return {name.str(), "state"};
  if (name.ends_with("key_cache") || name.ends_with("value_cache"))
    return {name.str(), "kv_cache"};
  return {name.str(), "activation"};
}

/// Bytes of a per-call input buffer: integer arguments (token ids and
/// positions, i64 in the model IR; the call metadata) are int32 on the
/// device; others are as typed.
int64_t inputBytes(BlockArgument arg) {
  auto t = cast<RankedTensorType>(arg.getType());
  if (isa<IntegerType>(t.getElementType()))
    return t.getNumElements() * 4;
  return byteSize(t);
}

struct Planner {
  ModuleOp module;
  llvm::MapVector<StringRef, PlannedBuffer> fixed; // weights, states, inputs
  std::vector<PlannedBuffer> temporaries;

  LogicalResult addFixed(const std::string &name, const std::string &lifetime,
                         int64_t bytes, Location loc) {
    auto key = StringAttr::get(module.getContext(), name).getValue();
    auto it = fixed.find(key);
    if (it != fixed.end()) {
      if (it->second.lifetime != lifetime)
        return emitError(loc) << "buffer '" << name << "' used as "
                              << lifetime << " and " << it->second.lifetime;
      it->second.bytes = std::max(it->second.bytes, bytes);
      return success();
    }
    fixed[key] = PlannedBuffer{name, lifetime, bytes, 0};
    return success();
  }

  LogicalResult planEntry(func::FuncOp fn);
};

LogicalResult Planner::planEntry(func::FuncOp fn) {
  StringRef entry = fn->getAttrOfType<StringAttr>("mm01.entry").getValue();
  Block &body = fn.getBody().front();
  Builder b(fn.getContext());

  // Alias classes.
  llvm::EquivalenceClasses<Value> alias;
  llvm::DenseMap<Operation *, int64_t> position;
  int64_t pos = 0;
  for (Operation &op : body) {
    position[&op] = pos++;
    if (auto l = dyn_cast<mk::LaunchOp>(op))
      for (auto [r, o] : llvm::zip(l.getResults(), l.getOuts()))
        alias.unionSets(r, o);
    if (auto g = dyn_cast<mk::GemmOp>(op))
      alias.unionSets(g.getResult(), g.getC());
  }
  auto rootOf = [&](Value v) -> Value {
    // The class member that is not a launch/gemm result.
    for (auto it = alias.findLeader(alias.insert(v)); it != alias.member_end();
         ++it) {
      Value m = *it;
      if (isa<BlockArgument>(m) ||
          !isa<mk::LaunchOp, mk::GemmOp>(m.getDefiningOp()))
        return m;
    }
    return v;
  };

  // Named arguments.
  for (BlockArgument arg : body.getArguments()) {
    auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mm01.name");
    if (!name)
      return fn.emitOpError() << "argument " << arg.getArgNumber()
                              << " has no mm01.name";
    auto [buf, lifetime] = argBuffer(name.getValue());
    int64_t bytes = lifetime == "activation" ? inputBytes(arg)
                                             : byteSize(arg.getType());
    if (failed(addFixed(buf, lifetime, bytes, fn.getLoc())))
      return failure();
    fn.setArgAttr(arg.getArgNumber(), "mm01k.buffer", b.getStringAttr(buf));
  }

  // Returned values: states and caches must be updated in place; a value
  // written by a kernel (logits; any named result of a single-op test
  // module, test/gpu/ops) gets a fixed activation buffer named after the
  // result.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  llvm::DenseSet<Operation *> resultEmpties;
  for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
    auto name = fn.getResultAttrOfType<StringAttr>(i, "mm01.name");
    if (!name)
      return fn.emitOpError() << "result " << i << " has no mm01.name";
    Value root = rootOf(ret.getOperand(i));
    bool namesArgument = llvm::any_of(body.getArguments(), [&](BlockArgument a) {
      return fn.getArgAttrOfType<StringAttr>(a.getArgNumber(), "mm01.name") == name;
    });
    auto empty = root.getDefiningOp<tensor::EmptyOp>();
    if (name.getValue() == "logits" && !empty)
      return fn.emitOpError() << "logits must be written by a kernel";
    if (empty && !namesArgument) {
      if (resultEmpties.contains(empty))
        return fn.emitOpError() << "result '" << name.getValue()
                                << "' is the buffer of another result";
      if (failed(addFixed(name.str(), "activation", byteSize(root.getType()),
                          fn.getLoc())))
        return failure();
      empty->setAttr("mm01k.buffer", b.getStringAttr(name.getValue()));
      resultEmpties.insert(empty);
      continue;
    }
    auto arg = dyn_cast<BlockArgument>(root);
    auto argName =
        arg ? fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mm01.name")
            : StringAttr();
    if (!argName || argName != name)
      return fn.emitOpError() << "result '" << name.getValue()
                              << "' is not updated in place in its argument";
  }

  // Weights.
  for (Operation &op : body) {
    std::string name;
    if (auto w = dyn_cast<WeightOp>(op))
      name = w.getName().str();
    else if (auto w = dyn_cast<ExpertWeightsOp>(op))
      name = w.getNameFormat().str();
    else
      continue;
    if (failed(addFixed(name, "weights", byteSize(op.getResult(0).getType()),
                        op.getLoc())))
      return failure();
    op.setAttr("mm01k.buffer", b.getStringAttr(name));
  }

  // Temporaries: live range of each tensor.empty's class.
  struct Temp {
    tensor::EmptyOp op;
    int64_t bytes, first, last, offset = -1;
  };
  std::vector<Temp> temps;
  llvm::DenseMap<Value, size_t> tempOfRoot;
  for (Operation &op : body)
    if (auto e = dyn_cast<tensor::EmptyOp>(op); e && !resultEmpties.contains(&op)) {
      tempOfRoot[e.getResult()] = temps.size();
      temps.push_back({e, alignUp(byteSize(e.getType()), kAlign),
                       position[&op], position[&op]});
    }
  for (Operation &op : body)
    for (Value operand : op.getOperands()) {
      auto it = tempOfRoot.find(rootOf(operand));
      if (it != tempOfRoot.end())
        temps[it->second].last =
            std::max(temps[it->second].last, position[&op]);
    }
  std::vector<size_t> order(temps.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return temps[a].bytes > temps[b].bytes;
  });
  std::vector<size_t> placed;
  for (size_t i : order) {
    Temp &t = temps[i];
    // Conflicting placed buffers, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const Temp &o = temps[j];
      if (o.first <= t.last && t.first <= o.last)
        busy.push_back({o.offset, o.offset + o.bytes});
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + t.bytes <= lo)
        break;
      offset = std::max(offset, hi);
    }
    t.offset = offset;
    placed.push_back(i);
  }
  for (size_t i = 0; i < temps.size(); ++i) {
    std::string name = (entry + ".t" + Twine(i)).str();
    temps[i].op->setAttr("mm01k.buffer", b.getStringAttr(name));
    temporaries.push_back({name, "activation", temps[i].bytes, temps[i].offset});
  }
  return success();
}

struct PlanBuffersPass
    : mm01::model::impl::MM01PlanBuffersBase<PlanBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Planner planner{module};
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (!fn->hasAttr("mm01.entry"))
        continue;
      if (failed(planner.planEntry(fn)))
        return signalPassFailure();
    }
    // Fixed buffers: one arena per lifetime, in first-seen order.
    llvm::StringMap<int64_t> arenaEnd;
    for (auto &[key, buf] : planner.fixed) {
      int64_t &end = arenaEnd[buf.lifetime];
      buf.offset = end;
      end = alignUp(end + buf.bytes, kAlign);
    }
    int64_t tempBase = arenaEnd["activation"];
    Builder b(module.getContext());
    SmallVector<Attribute> plan;
    auto add = [&](const PlannedBuffer &p) {
      plan.push_back(b.getDictionaryAttr({
          b.getNamedAttr("name", b.getStringAttr(p.name)),
          b.getNamedAttr("lifetime", b.getStringAttr(p.lifetime)),
          b.getNamedAttr("bytes", b.getI64IntegerAttr(p.bytes)),
          b.getNamedAttr("offset", b.getI64IntegerAttr(p.offset)),
          b.getNamedAttr("alignment", b.getI64IntegerAttr(kAlign)),
      }));
    };
    for (auto &[key, buf] : planner.fixed)
      add(buf);
    for (PlannedBuffer t : planner.temporaries) {
      t.offset += tempBase;
      add(t);
    }
    module->setAttr("mm01k.buffers", b.getArrayAttr(plan));
  }
};

} // namespace
