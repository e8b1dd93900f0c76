//===- SelectTiles.cpp - choose each kernel's tile configuration ----------===//
//
// mm01-select-tiles: for every op (or mm01.fusion group) that
// mm01-model-to-kernels turns into a tunable generated kernel, choose the
// tile configuration from the shapes and the target and record it as
// `mm01k.tiles` (TileConfig.h). The choices are the generators' choosers
// (chooseLightningPrefillTiles, chooseSoftmaxAttentionTiles,
// chooseMoEExpertsTiles) and the specs' measured defaults; a configuration
// already present (written by hand, or by an autotuner) is kept, as IREE
// keeps user lowering configs.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/Passes.h"

#include "Model/Conversion/ModelToGPU/EntryShape.h"
#include "Model/Conversion/ModelToGPU/LightningDecodeKernel.h"
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"
#include "Model/Conversion/ModelToGPU/MoEKernels.h"
#include "Model/Conversion/ModelToGPU/RowKernels.h"
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"
#include "Model/Conversion/ModelToGPU/TileConfig.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mm01::model {
#define GEN_PASS_DEF_MM01SELECTTILES
#include "Model/Conversion/ModelToGPU/Passes.h.inc"
} // namespace mm01::model

using namespace mlir;
using namespace mm01::model;
namespace mg = mm01::gpu;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

struct TileSelector {
  MLIRContext *ctx;
  int64_t smCount;
  int64_t maxTokens; // the generated kernels' extents (all entries)
  int64_t maxBatch = 0;
  int64_t entryTokens = 0; // the largest call of the entry being tiled
  int64_t maxContext = 0;
  bool prefill = false;
  // Lightning prefill state update: hilo-tail (hi + lo where it reaches
  // the returned state), hilo (throughout) or bf16.
  std::string stateUpdate = "hilo-tail";

  DictionaryAttr rowNorm() {
    mg::RowNormSpec spec; // 128 threads: 4 warps per row
    return mg::makeTiles(ctx, {{"threads", spec.threads}});
  }

  DictionaryAttr lightningPrefill(Operation *la) {
    auto qt = typeOf(la->getOperand(0));
    mg::LightningPrefillSpec spec;
    spec.heads = qt.getDimSize(2);
    spec.dim = qt.getDimSize(3);
    spec.maxBatch = maxBatch;
    spec.maxTokens = entryTokens; // the split serves this entry's calls
    if (!prefill)
      spec.segments = 1; // one token per sequence: nothing to split
    spec.stateHiLo = stateUpdate != "bf16";
    mg::chooseLightningPrefillTiles(spec, smCount);
    if (stateUpdate == "hilo")
      spec.stateHiLoTailLog2 = 0;
    return mg::makeTiles(ctx, {{"chunk", spec.chunk},
                               {"warps", spec.warps},
                               {"segments", spec.segments},
                               {"min_segment_tokens", spec.minSegmentTokens},
                               {"shortest_segment_tokens", spec.shortestSegmentTokens},
                               {"one_wave_segment_tokens", spec.oneWaveSegmentTokens},
                               {"local_states_drop_log2", spec.localStatesDropLog2},
                               {"local_states_outputs_drop_log2",
                                spec.localStatesOutputsDropLog2},
                               {"local_states_split_chunks", spec.localStatesSplitChunks},
                               {"local_states_parts", spec.localStatesParts},
                               {"wgmma", spec.wgmma},
                               {"stages", spec.stages},
                               {"state_stages", spec.stateStages},
                               {"value_slices", spec.valueSlices},
                               {"state_hilo", spec.stateHiLo},
                               {"state_hilo_tail_log2", spec.stateHiLoTailLog2},
                               {"early_first_segment", spec.earlyFirstSegment},
                               {"segment_lead_tokens", spec.segmentLeadTokens},
                               {"long_call_tokens", spec.longCallTokens},
                               {"long_call_segments", spec.longCallSegments},
                               {"long_call_value_slices", spec.longCallValueSlices},
                               {"long_call_local_states_parts",
                                spec.longCallLocalStatesParts},
                               {"long_call_early_first_segment",
                                spec.longCallEarlyFirstSegment},
                               {"long_call_segment_lead_tokens",
                                spec.longCallSegmentLeadTokens},
                               {"scan_in_outputs", spec.scanInOutputs},
                               {"long_call_scan_in_outputs", spec.longCallScanInOutputs}});
  }

  DictionaryAttr lightningDecode(Operation *ld) {
    auto qt = typeOf(ld->getOperand(0));
    mg::LightningDecodeSpec spec;
    spec.heads = qt.getDimSize(2);
    spec.dim = qt.getDimSize(3);
    spec.maxBatch = maxBatch;
    mg::chooseLightningDecodeTiles(spec, smCount);
    return mg::makeTiles(ctx, {{"cols", spec.cols},
                               {"threads", spec.threads},
                               {"small_batch_max", spec.smallBatchMax},
                               {"small_cols", spec.smallCols},
                               {"small_threads", spec.smallThreads}});
  }

  DictionaryAttr softmaxAttention(SoftmaxAttentionOp op) {
    auto qt = typeOf(op.getQuery());
    auto kt = typeOf(op.getKey());
    mg::SoftmaxAttentionSpec spec;
    spec.heads = qt.getDimSize(2);
    spec.kvHeads = kt.getDimSize(2);
    spec.dim = qt.getDimSize(3);
    spec.elt = qt.getElementType();
    spec.maxBatch = maxBatch;
    spec.maxContext = typeOf(op.getKeyCache()).getDimSize(1);
    spec.maxTokens = maxTokens;
    mg::chooseSoftmaxAttentionTiles(spec, prefill);
    return mg::makeTiles(ctx, {{"query_tile", spec.queryTile},
                               {"key_tile", spec.keyTile},
                               {"tile_warps", spec.tileWarps},
                               {"tile_stages", spec.tileStages},
                               {"warps", spec.warps}});
  }

  DictionaryAttr moeExperts(MoEExpertsOp op) {
    auto w1 = typeOf(op.getW1());
    mg::MoEExpertsSpec spec;
    spec.experts = w1.getDimSize(0);
    spec.inter = w1.getDimSize(1);
    spec.hidden = w1.getDimSize(2);
    spec.topK = typeOf(op.getWeights()).getShape().back();
    spec.elt = typeOf(op.getResult()).getElementType();
    // Row tiles follow this entry's rows per expert (decode: a few).
    spec.maxTokens = entryTokens;
    mg::chooseMoEExpertsTiles(spec);
    Builder b(ctx);
    SmallVector<NamedAttribute> e = {
        b.getNamedAttr("tensor_cores", b.getI64IntegerAttr(spec.usesTensorCores()))};
    auto add = [&](StringRef gemm, const mg::MoEGemmTiles &t) {
      for (auto [k, v] : {std::pair<StringRef, int64_t>{"tile_m", t.tileM},
                          {"tile_n", t.tileN}, {"tile_k", t.tileK},
                          {"warps_m", t.warpsM}, {"warps_n", t.warpsN},
                          {"stages", t.stages}, {"thread_m", t.threadM},
                          {"thread_n", t.threadN}})
        e.push_back(b.getNamedAttr((gemm + "_" + k).str(), b.getI64IntegerAttr(v)));
    };
    add("gate_up", spec.gateUpTiles);
    add("down", spec.downTiles);
    return b.getDictionaryAttr(e);
  }

  /// The configuration of `op` (a top-level op of an entry), or null if its
  /// kernel has nothing to tune.
  DictionaryAttr select(Operation *op) {
    Operation *root = op;
    if (auto f = dyn_cast<FusionOp>(op))
      root = f.getRoot();
    if (isa<RMSNormOp>(root) || (isa<arith::MulFOp>(root) && isa<FusionOp>(op)))
      return rowNorm();
    if (isa<LightningAttentionOp>(root))
      return lightningPrefill(root);
    if (isa<LightningDecodeOp>(root))
      return lightningDecode(root);
    if (auto sa = dyn_cast<SoftmaxAttentionOp>(root))
      return softmaxAttention(sa);
    if (auto moe = dyn_cast<MoEExpertsOp>(root))
      return moeExperts(moe);
    return {};
  }
};

struct SelectTilesPass
    : mm01::model::impl::MM01SelectTilesBase<SelectTilesPass> {
  using MM01SelectTilesBase::MM01SelectTilesBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (smCount < 1) {
      module.emitError() << "mm01-select-tiles: sm-count must be positive";
      return signalPassFailure();
    }
    if (lightningStateUpdate != "hilo-tail" && lightningStateUpdate != "hilo" &&
        lightningStateUpdate != "bf16") {
      module.emitError() << "mm01-select-tiles: lightning-state-update must be "
                            "'hilo-tail', 'hilo' or 'bf16', got '"
                         << lightningStateUpdate << "'";
      return signalPassFailure();
    }
    TileSelector sel{&getContext(), smCount, mg::kernelMaxTokens(module)};
    sel.stateUpdate = lightningStateUpdate;
    for (auto fn : module.getOps<func::FuncOp>()) {
      auto entry = fn->getAttrOfType<StringAttr>("mm01.entry");
      if (!entry || fn.isExternal())
        continue;
      sel.prefill = entry.getValue() != "decode";
      std::tie(sel.maxBatch, sel.entryTokens) = mg::entryTokenShape(fn);
      for (Operation &op : fn.getBody().front()) {
        if (op.hasAttr(mg::kTilesAttrName))
          continue;
        if (DictionaryAttr tiles = sel.select(&op))
          op.setAttr(mg::kTilesAttrName, tiles);
      }
    }
  }
};

} // namespace
