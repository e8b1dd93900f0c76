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
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/MoEKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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
                    memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect>();
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
  Option<int64_t> tileM{*this, "tile-m", llvm::cl::init(32)};
  Option<int64_t> tileN{*this, "tile-n", llvm::cl::init(64)};
  Option<int64_t> tileK{*this, "tile-k", llvm::cl::init(32)};
  Option<int64_t> threadM{*this, "thread-m", llvm::cl::init(2)};
  Option<int64_t> threadN{*this, "thread-n", llvm::cl::init(4)};

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
    es.tileM = tileM;
    es.tileN = tileN;
    es.tileK = tileK;
    es.threadM = threadM;
    es.threadN = threadN;
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
