//===- LightningPrefillTestPass.cpp - mm01-test-lightning-prefill-kernel ---===//
//
// Builds, into the module, `gpu.module @mm01_lightning_prefill` holding the
// kernels of one LightningPrefillSpec, and records the plan as the module
// attribute `mm01.lightning_prefill` (a string the MLIR-free GPU test parses
// after gpu-module-to-binary):
//
//   "H=8 D=128 NS=32 silu=1 hilo=1 tail_log2=64 outputs_tail_log2=32 split_chunks=16 parts=2
//    max_batch=.. max_tokens=.. q=TS,HS k=TS,HS v=TS,HS
//    out=TS,HS workspace=EXPR [hilo_tail=N early_first=1 segment_lead=N
//    long_call_tokens=N] decay=λ0,λ1,..;kernel NAME grid=X,Y,Z block=N
//    smem=BYTES params=a,b,..[ overlap=1];kernel ..."  (overlap=1: launched to
//    overlap the kernel before it, see GeneratedKernel::overlapsPrevious)
//
// With a long-call plan (option long-call-tokens, or chosen with
// segments = 0: LightningPrefillSpec::longCallTokens) the module holds its
// kernels too, the first string says `long_call_tokens=N`, and the
// long-call plan's string is `mm01.lightning_prefill_long` (same form): a
// call of one sequence with at least N tokens runs it instead.
//
// Layout option: `interleaved` (the checkpoint's: q, k, v at element offsets
// 0, D, 2D of one [T, H, 3D] buffer, token stride 3·H·D, head stride 3·D),
// `blocked` (one [T, 3, H, D] buffer: the projection's rows grouped
// q | k | v; token stride 3·H·D, head stride D) or `separate` (q, k, v each
// [T, H, D]). The output is [T, H, D] in all three.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/LightningPrefillKernel.h"

#include <algorithm>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace {

struct TestLightningPrefillKernelPass
    : public PassWrapper<TestLightningPrefillKernelPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestLightningPrefillKernelPass)

  TestLightningPrefillKernelPass() = default;
  TestLightningPrefillKernelPass(const TestLightningPrefillKernelPass &other)
      : PassWrapper(other) {}

  StringRef getArgument() const final {
    return "mm01-test-lightning-prefill-kernel";
  }
  StringRef getDescription() const final {
    return "Build the lightning-attention prefill kernels of one spec into "
           "gpu.module @mm01_lightning_prefill (test pass)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mlir::gpu::GPUDialect,
                    LLVM::LLVMDialect, NVVM::NVVMDialect, math::MathDialect,
                    memref::MemRefDialect, scf::SCFDialect,
                    vector::VectorDialect>();
  }

  Option<int64_t> heads{*this, "heads", llvm::cl::desc("H"), llvm::cl::init(8)};
  Option<int64_t> dim{*this, "dim", llvm::cl::desc("D"), llvm::cl::init(128)};
  Option<std::string> eltName{*this, "elt",
                              llvm::cl::desc("activation type (bf16)"),
                              llvm::cl::init("bf16")};
  Option<bool> silu{*this, "silu", llvm::cl::desc("SiLU on q, k, v"),
                    llvm::cl::init(false)};
  Option<std::string> layout{*this, "layout",
                             llvm::cl::desc("interleaved | blocked | separate"),
                             llvm::cl::init("interleaved")};
  Option<int64_t> segments{*this, "segments",
                           llvm::cl::desc("sequence split (0: automatic, 1: none)"),
                           llvm::cl::init(0)};
  Option<int64_t> minSegment{*this, "min-segment-tokens",
                             llvm::cl::desc("shortest segment"),
                             llvm::cl::init(1024)};
  Option<int64_t> shortestSegment{
      *this, "shortest-segment-tokens",
      llvm::cl::desc("shortest segment of a call too short to fill all "
                     "segments (tokens, a multiple of 64, <= min-segment-tokens; "
                     "0: min(512, min-segment-tokens))"),
      llvm::cl::init(0)};
  Option<int64_t> oneWaveSegment{
      *this, "one-wave-segment-tokens",
      llvm::cl::desc("longest segment of a single-sequence call run in one "
                     "wave of the outputs kernel (tokens, a multiple of 64; 0: never)"),
      llvm::cl::init(2048)};
  Option<int64_t> localStatesDrop{
      *this, "local-states-drop-log2",
      llvm::cl::desc("local states start where the earlier tokens' decay "
                     "weights sum to at most 2^-n (0: every token, exact)"),
      llvm::cl::init(64)};
  Option<int64_t> localStatesOutputsDrop{
      *this, "local-states-outputs-drop-log2",
      llvm::cl::desc("local states that only feed outputs (the final state weighs "
                     "their dropped tokens below 2^-local-states-drop-log2 anyway) "
                     "read the tail of 2^-n (0: off)"),
      llvm::cl::init(32)};
  Option<int64_t> localStatesSplit{
      *this, "local-states-split-chunks",
      llvm::cl::desc("local states in parts where a segment's local state "
                     "reads at least this many chunks (0: one block)"),
      llvm::cl::init(16)};
  Option<int64_t> localStatesParts{
      *this, "local-states-parts",
      llvm::cl::desc("the parts of a split local state"), llvm::cl::init(2)};
  Option<int64_t> chunk{*this, "chunk", llvm::cl::desc("chunk tokens"),
                        llvm::cl::init(64)};
  Option<int64_t> maxBatch{*this, "max-batch", llvm::cl::desc("max batch"),
                           llvm::cl::init(16)};
  Option<int64_t> maxTokens{*this, "max-tokens", llvm::cl::desc("max tokens"),
                            llvm::cl::init(1 << 20)};
  Option<bool> stateHiLo{*this, "state-hilo",
                         llvm::cl::desc("state update with K̃ as bf16 hi + lo"),
                         llvm::cl::init(true)};
  Option<int64_t> stateHiLoTail{
      *this, "state-hilo-tail-log2",
      llvm::cl::desc("n > 0: the state update in bf16 but over the final "
                     "state's 2^-n window (hi + lo there); 0: hi + lo throughout "
                     "(unset: as chosen where segments = 0, else 0)"),
      llvm::cl::init(0)};
  Option<bool> wgmma{*this, "wgmma",
                     llvm::cl::desc("chunk kernels on sm_90a wgmma"),
                     llvm::cl::init(false)};
  Option<int64_t> stages{*this, "stages",
                         llvm::cl::desc("outputs kernel pipeline depth (0: automatic)"),
                         llvm::cl::init(0)};
  Option<int64_t> stateStages{
      *this, "state-stages",
      llvm::cl::desc("local-states kernel pipeline depth (0: automatic)"),
      llvm::cl::init(0)};
  Option<int64_t> valueSlices{
      *this, "value-slices",
      llvm::cl::desc("thread blocks splitting the value dimension (wgmma)"),
      llvm::cl::init(1)};
  Option<int64_t> longCallTokens{
      *this, "long-call-tokens",
      llvm::cl::desc("a second plan for calls of one sequence of at least this "
                     "many tokens (0: none; unset: as chosen where segments = 0, "
                     "else none)"),
      llvm::cl::init(0)};
  Option<int64_t> longCallSegments{*this, "long-call-segments",
                                   llvm::cl::desc("the long-call plan's segments"),
                                   llvm::cl::init(2)};
  Option<int64_t> longCallValueSlices{
      *this, "long-call-value-slices",
      llvm::cl::desc("the long-call plan's value slices"), llvm::cl::init(1)};
  Option<int64_t> longCallParts{
      *this, "long-call-local-states-parts",
      llvm::cl::desc("the long-call plan's local-states parts"), llvm::cl::init(8)};
  Option<bool> earlyFirst{
      *this, "early-first-segment",
      llvm::cl::desc("the first segment's outputs blocks do not wait for the scan"),
      llvm::cl::init(false)};
  Option<int64_t> segmentLead{
      *this, "segment-lead-tokens",
      llvm::cl::desc("segments but the last sized for this many more tokens "
                     "(where segments = 0: the chooser's)"),
      llvm::cl::init(0)};
  Option<bool> scanInOutputs{
      *this, "scan-in-outputs",
      llvm::cl::desc("no scan kernel: the outputs kernel's blocks share out the scan"),
      llvm::cl::init(false)};
  Option<bool> longCallEarlyFirst{
      *this, "long-call-early-first-segment",
      llvm::cl::desc("the long-call plan's early-first-segment"), llvm::cl::init(false)};
  Option<bool> longCallScanInOutputs{
      *this, "long-call-scan-in-outputs",
      llvm::cl::desc("the long-call plan's scan-in-outputs"), llvm::cl::init(false)};
  Option<int64_t> longCallLead{
      *this, "long-call-segment-lead-tokens",
      llvm::cl::desc("the long-call plan's segment-lead-tokens"), llvm::cl::init(0)};
  Option<bool> probeTimeline{
      *this, "probe-timeline",
      llvm::cl::desc("instrumentation: per-block %globaltimer records after the workspace "
                     "(split wgmma plans; test/benchmarks/timeline_probe.py)"),
      llvm::cl::init(false)};
  ListOption<double> decays{*this, "decay",
                            llvm::cl::desc("λ per head (default 2^(-8(h+1)/H))")};

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    mm01::gpu::LightningPrefillSpec spec;
    spec.heads = heads;
    spec.dim = dim;
    spec.elt = eltName == "bf16"  ? Type(BFloat16Type::get(ctx))
               : eltName == "f32" ? Type(Float32Type::get(ctx))
                                  : Type();
    if (!spec.elt) {
      module.emitError() << "elt = " << eltName << ": expected bf16 or f32";
      return signalPassFailure();
    }
    if (!decays.empty())
      spec.decay.assign(decays.begin(), decays.end());
    else
      for (int64_t h = 0; h < heads; ++h)
        spec.decay.push_back(std::pow(2.0, -8.0 * (h + 1) / double(heads)));
    spec.siluInputs = silu;
    int64_t H = heads, D = dim;
    if (layout == "interleaved") {
      spec.qTokenStride = spec.kTokenStride = spec.vTokenStride = 3 * H * D;
      spec.qHeadStride = spec.kHeadStride = spec.vHeadStride = 3 * D;
    } else if (layout == "blocked") {
      spec.qTokenStride = spec.kTokenStride = spec.vTokenStride = 3 * H * D;
      spec.qHeadStride = spec.kHeadStride = spec.vHeadStride = D;
    } else if (layout == "separate") {
      spec.qTokenStride = spec.kTokenStride = spec.vTokenStride = H * D;
      spec.qHeadStride = spec.kHeadStride = spec.vHeadStride = D;
    } else {
      module.emitError() << "layout = " << layout
                         << ": expected interleaved, blocked or separate";
      return signalPassFailure();
    }
    spec.outTokenStride = H * D;
    spec.outHeadStride = D;
    spec.maxBatch = maxBatch;
    spec.maxTokens = maxTokens;
    spec.segments = segments;
    spec.minSegmentTokens = minSegment;
    spec.shortestSegmentTokens =
        shortestSegment ? int64_t(shortestSegment)
                        : std::min<int64_t>(512, minSegment);
    spec.oneWaveSegmentTokens = oneWaveSegment;
    spec.localStatesDropLog2 = localStatesDrop;
    spec.localStatesOutputsDropLog2 = localStatesOutputsDrop;
    spec.localStatesSplitChunks = localStatesSplit;
    spec.localStatesParts = localStatesParts;
    spec.chunk = chunk;
    spec.stateHiLo = stateHiLo;
    spec.stateHiLoTailLog2 = stateHiLoTail;
    spec.wgmma = wgmma;
    spec.stages = stages;
    spec.stateStages = stateStages;
    spec.valueSlices = valueSlices;
    spec.earlyFirstSegment = earlyFirst;
    spec.segmentLeadTokens = segmentLead;
    spec.scanInOutputs = scanInOutputs;
    spec.probeTimeline = probeTimeline;

    // Where the split is automatic, the chooser's long-call plan (unless
    // long-call-tokens is given; the long-call-* options given override its
    // fields), state-update window and segment lead (unless given).
    mm01::gpu::LightningPrefillSpec chosen = spec;
    if (segments == 0)
      mm01::gpu::chooseLightningPrefillTiles(chosen, /*smCount=*/132);
    if (segments == 0 && !longCallTokens.hasValue()) {
      spec.longCallTokens = chosen.longCallTokens;
      spec.longCallSegments = chosen.longCallSegments;
      spec.longCallValueSlices = chosen.longCallValueSlices;
      spec.longCallLocalStatesParts = chosen.longCallLocalStatesParts;
      spec.longCallEarlyFirstSegment = chosen.longCallEarlyFirstSegment;
      spec.longCallSegmentLeadTokens = chosen.longCallSegmentLeadTokens;
      spec.longCallScanInOutputs = chosen.longCallScanInOutputs;
    } else {
      spec.longCallTokens = longCallTokens;
    }
    if (segments == 0 && !stateHiLoTail.hasValue())
      spec.stateHiLoTailLog2 = chosen.stateHiLoTailLog2;
    if (segments == 0 && !segmentLead.hasValue())
      spec.segmentLeadTokens = chosen.segmentLeadTokens;
    if (longCallSegments.hasValue())
      spec.longCallSegments = longCallSegments;
    if (longCallValueSlices.hasValue())
      spec.longCallValueSlices = longCallValueSlices;
    if (longCallParts.hasValue())
      spec.longCallLocalStatesParts = longCallParts;
    if (longCallEarlyFirst.hasValue())
      spec.longCallEarlyFirstSegment = longCallEarlyFirst;
    if (longCallLead.hasValue())
      spec.longCallSegmentLeadTokens = longCallLead;
    if (longCallScanInOutputs.hasValue())
      spec.longCallScanInOutputs = longCallScanInOutputs;

    auto gm = mm01::gpu::getOrCreateGPUModule(module, "mm01_lightning_prefill");
    OpBuilder b(ctx);
    // Builds one plan's kernels and records its string as `attr`.
    auto build = [&](const mm01::gpu::LightningPrefillSpec &s, StringRef attr) {
      FailureOr<mm01::gpu::LightningPrefillPlan> plan =
          mm01::gpu::buildLightningPrefill(b, gm, s, module.getLoc());
      if (succeeded(plan))
        module->setAttr(attr, StringAttr::get(ctx, planString(s, *plan)));
      return succeeded(plan);
    };
    if (!build(spec, "mm01.lightning_prefill") ||
        (spec.longCallTokens > 0 &&
         !build(mm01::gpu::longCallSpec(spec), "mm01.lightning_prefill_long")))
      return signalPassFailure();
  }

  static std::string planString(const mm01::gpu::LightningPrefillSpec &spec,
                                const mm01::gpu::LightningPrefillPlan &plan) {
    std::string text;
    llvm::raw_string_ostream os(text);
    int64_t H = spec.heads, D = spec.dim;
    os << "H=" << H << " D=" << D << " NS=" << plan.segments
       << " VS=" << plan.valueSlices << " silu=" << int(spec.siluInputs)
       << " hilo=" << int(spec.stateHiLo)
       << " tail_log2=" << spec.localStatesDropLog2
       << " outputs_tail_log2=" << spec.localStatesOutputsDropLog2
       << " split_chunks=" << spec.localStatesSplitChunks
       << " parts=" << spec.localStatesParts
       << " max_batch=" << spec.maxBatch << " max_tokens=" << spec.maxTokens
       << " q=" << spec.qTokenStride << "," << spec.qHeadStride
       << " k=" << spec.kTokenStride << "," << spec.kHeadStride
       << " v=" << spec.vTokenStride << "," << spec.vHeadStride
       << " out=" << spec.outTokenStride << "," << spec.outHeadStride
       << " workspace=" << plan.workspaceBytes;
    if (spec.stateHiLoTailLog2 > 0)
      os << " hilo_tail=" << spec.stateHiLoTailLog2;
    if (spec.earlyFirstSegment && plan.segments > 1)
      os << " early_first=1";
    if (spec.segmentLeadTokens > 0 && plan.segments > 1)
      os << " segment_lead=" << spec.segmentLeadTokens;
    if (spec.scanInOutputs && plan.segments > 1 && !spec.earlyFirstSegment)
      os << " scan_in_out=1";
    if (spec.longCallTokens > 0)
      os << " long_call_tokens=" << spec.longCallTokens;
    if (spec.probeTimeline && plan.segments > 1)
      os << " timeline=1";
    os << " decay=";
    for (auto [i, d] : llvm::enumerate(spec.decay))
      os << (i ? "," : "") << llvm::format("%.17g", d);
    for (const auto &k : plan.kernels) {
      os << ";kernel " << mlir::gpu::GPUFuncOp(k.func).getName() << " grid=" << k.grid[0] << ","
         << k.grid[1] << "," << k.grid[2] << " block=" << k.block[0]
         << " smem=" << k.dynamicSmemBytes << " params=";
      for (auto [i, p] : llvm::enumerate(k.params))
        os << (i ? "," : "") << p.name;
      if (k.overlapsPrevious)
        os << " overlap=1";
    }
    return os.str();
  }
};

} // namespace

void mm01::gpu::registerTestLightningPrefillKernelPass() {
  PassRegistration<TestLightningPrefillKernelPass>();
}
