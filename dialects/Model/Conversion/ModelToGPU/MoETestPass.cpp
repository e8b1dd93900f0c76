//===- MoETestPass.cpp - mm01-test-moe-kernels ------------------------------===//
//
// Test pass: builds the MoE route kernel and the experts plan for one spec
// into gpu.module @mm01_moe of the module, and records what a launcher needs
// (kernel order, grid expressions, block sizes, parameter names, workspace
// bytes) as the string attribute `mm01.moe_manifest` of the builtin module,
// which survives gpu-module-to-binary. One line per item:
//
//   workspace <expr>
//   route|experts <kernel> grid <g0> <g1> <g2> block <b0> <b1> <b2> smem <n>
//       params <name>,<name>,...
//
// Tiles: tensor-cores=0 selects the SIMT GEMMs for bf16; gate-up-tiles and
// down-tiles set MoEGemmTiles explicitly (unset: chooseMoEExpertsTiles), as
// tileM,tileN,tileK,warpsM,warpsN,stages (tensor cores) or
// tileM,tileN,tileK,threadM,threadN (SIMT).
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/MoEKernels.h"

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

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

struct MoETestPass : PassWrapper<MoETestPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MoETestPass)

  MoETestPass() = default;
  MoETestPass(const MoETestPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final { return "mm01-test-moe-kernels"; }
  StringRef getDescription() const final {
    return "Build the MoE GPU kernels (route + experts plan) of one spec into "
           "gpu.module @mm01_moe (test of the generators)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<mlir::gpu::GPUDialect, arith::ArithDialect, math::MathDialect,
                    memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect,
                    LLVM::LLVMDialect, NVVM::NVVMDialect>();
  }

  Option<int64_t> hidden{*this, "hidden", llvm::cl::desc("hidden size d"),
                         llvm::cl::init(256)};
  Option<int64_t> inter{*this, "inter", llvm::cl::desc("expert FFN size I"),
                        llvm::cl::init(64)};
  Option<int64_t> experts{*this, "experts", llvm::cl::desc("experts E"),
                          llvm::cl::init(8)};
  Option<int64_t> topK{*this, "top-k", llvm::cl::desc("experts per token k"),
                       llvm::cl::init(2)};
  Option<std::string> elt{*this, "elt",
                          llvm::cl::desc("activation/weight type: bf16 or f32 "
                                         "(also the router logits' type)"),
                          llvm::cl::init("bf16")};
  Option<int64_t> maxTokens{*this, "max-tokens", llvm::cl::desc("upper bound of tokens"),
                            llvm::cl::init(4096)};
  Option<bool> tensorCores{*this, "tensor-cores",
                           llvm::cl::desc("bf16 grouped GEMMs on tensor cores "
                                          "(0: the SIMT ones)"),
                           llvm::cl::init(true)};
  ListOption<int64_t> gateUpTiles{
      *this, "gate-up-tiles",
      llvm::cl::desc("tiles of the gate_up GEMM: M,N,K,warpsM,warpsN,stages "
                     "(tensor cores) or M,N,K,threadM,threadN (SIMT); "
                     "default: chosen")};
  ListOption<int64_t> downTiles{
      *this, "down-tiles",
      llvm::cl::desc("tiles of the down GEMM (as gate-up-tiles)")};

  /// The explicit tiles of `values` (empty: all chosen).
  LogicalResult parseTiles(ArrayRef<int64_t> values, bool tc, StringRef what,
                           mm01::gpu::MoEGemmTiles &t) {
    if (values.empty())
      return success();
    size_t want = tc ? 6 : 5;
    if (values.size() != want) {
      getOperation().emitError()
          << "mm01-test-moe-kernels: " << what << " takes " << want << " values ("
          << (tc ? "M,N,K,warpsM,warpsN,stages" : "M,N,K,threadM,threadN")
          << "), got " << values.size();
      return failure();
    }
    t.tileM = values[0];
    t.tileN = values[1];
    t.tileK = values[2];
    if (tc) {
      t.warpsM = values[3];
      t.warpsN = values[4];
      t.stages = values[5];
    } else {
      t.threadM = values[3];
      t.threadN = values[4];
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(module.getContext());
    Location loc = module.getLoc();
    Type type;
    if (elt == "bf16")
      type = b.getBF16Type();
    else if (elt == "f32")
      type = b.getF32Type();
    else {
      module.emitError() << "mm01-test-moe-kernels: elt must be bf16 or f32, not '"
                         << elt << "'";
      return signalPassFailure();
    }
    mlir::gpu::GPUModuleOp gm = mm01::gpu::getOrCreateGPUModule(module, "mm01_moe");

    mm01::gpu::MoERouteSpec rs{experts, topK, type, maxTokens};
    FailureOr<mm01::gpu::GeneratedKernel> route =
        mm01::gpu::buildMoERoute(b, gm, rs, loc);
    mm01::gpu::MoEExpertsSpec es;
    es.hidden = hidden;
    es.inter = inter;
    es.experts = experts;
    es.topK = topK;
    es.elt = type;
    es.maxTokens = maxTokens;
    es.tensorCores = tensorCores;
    if (failed(parseTiles(gateUpTiles, es.usesTensorCores(), "gate-up-tiles",
                          es.gateUpTiles)) ||
        failed(parseTiles(downTiles, es.usesTensorCores(), "down-tiles",
                          es.downTiles)))
      return signalPassFailure();
    FailureOr<mm01::gpu::MoEExpertsPlan> plan =
        mm01::gpu::buildMoEExperts(b, gm, es, loc);
    if (failed(route) || failed(plan))
      return signalPassFailure();

    std::string text;
    llvm::raw_string_ostream os(text);
    os << "workspace " << plan->workspaceBytes << "\n";
    auto line = [&](StringRef tag, const mm01::gpu::GeneratedKernel &k) {
      mlir::gpu::GPUFuncOp fn = k.func;
      os << tag << " " << fn.getName() << " grid " << k.grid[0] << " "
         << k.grid[1] << " " << k.grid[2] << " block " << k.block[0] << " "
         << k.block[1] << " " << k.block[2] << " smem " << k.dynamicSmemBytes
         << " params ";
      for (size_t i = 0; i < k.params.size(); ++i)
        os << (i ? "," : "") << k.params[i].name;
      os << "\n";
    };
    line("route", *route);
    for (const auto &k : plan->kernels)
      line("experts", k);
    module->setAttr("mm01.moe_manifest", b.getStringAttr(os.str()));
  }
};

} // namespace

void mm01::gpu::registerMoETestPass() { PassRegistration<MoETestPass>(); }
