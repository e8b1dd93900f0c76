//===- SoftmaxAttentionTestPass.cpp - mm01-test-softmax-attention-kernels -===//
//
// Test pass: builds the softmax-attention kernels of the spec given as
// options into gpu.module @mm01_softmax_attention of the module, and writes
// what a launcher needs to know into the module attribute
// `mm01.softmax_attention.manifest` (a string that survives the GPU
// lowering), ';'-separated lines:
//   spec H Hkv D R theta scale elt qStride kStride vStride outStride
//        maxBatch maxContext maxTokens queryTile keyTile tileWarps tileStages
//   kernel NAME GRIDX GRIDY GRIDZ BX BY BZ SMEM PARAM...
// (the tile fields as chooseSoftmaxAttentionTiles completed them; with
// prefill=1 it chooses as for a prefill entry: the tensor-core kernel).
// test/gpu/softmax_attention_launcher.cpp reads it.
//
//===----------------------------------------------------------------------===//
#include "Model/Conversion/ModelToGPU/SoftmaxAttentionKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace {

struct TestSoftmaxAttentionKernelsPass
    : public PassWrapper<TestSoftmaxAttentionKernelsPass,
                         OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestSoftmaxAttentionKernelsPass)

  TestSoftmaxAttentionKernelsPass() = default;
  TestSoftmaxAttentionKernelsPass(const TestSoftmaxAttentionKernelsPass &o)
      : PassWrapper(o) {}

  StringRef getArgument() const final {
    return "mm01-test-softmax-attention-kernels";
  }
  StringRef getDescription() const final {
    return "Build the softmax-attention GPU kernels of a spec given as "
           "options (test pass)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mlir::gpu::GPUDialect,
                    LLVM::LLVMDialect, NVVM::NVVMDialect,
                    memref::MemRefDialect, scf::SCFDialect,
                    vector::VectorDialect>();
  }

  Option<int64_t> heads{*this, "heads", llvm::cl::init(4)};
  Option<int64_t> kvHeads{*this, "kv-heads", llvm::cl::init(2)};
  Option<int64_t> dim{*this, "dim", llvm::cl::init(64)};
  Option<int64_t> rotaryDim{*this, "rotary-dim", llvm::cl::init(32)};
  Option<double> theta{*this, "theta", llvm::cl::init(10000.0)};
  Option<double> scale{*this, "scale",
                       llvm::cl::desc("softmax scale (0: 1/sqrt(dim))"),
                       llvm::cl::init(0.0)};
  Option<std::string> elt{*this, "elt", llvm::cl::desc("bf16 or f32"),
                          llvm::cl::init("bf16")};
  Option<int64_t> qStride{*this, "q-stride",
                          llvm::cl::desc("0: heads * dim"), llvm::cl::init(0)};
  Option<int64_t> kStride{*this, "k-stride",
                          llvm::cl::desc("0: kv-heads * dim"),
                          llvm::cl::init(0)};
  Option<int64_t> vStride{*this, "v-stride",
                          llvm::cl::desc("0: kv-heads * dim"),
                          llvm::cl::init(0)};
  Option<int64_t> outStride{*this, "out-stride",
                            llvm::cl::desc("0: heads * dim"),
                            llvm::cl::init(0)};
  Option<int64_t> maxBatch{*this, "max-batch", llvm::cl::init(4)};
  Option<int64_t> maxContext{*this, "max-context", llvm::cl::init(1024)};
  Option<int64_t> maxTokens{*this, "max-tokens", llvm::cl::init(1024)};
  Option<int64_t> warps{*this, "warps",
                        llvm::cl::desc("per-token kernel's warps (0: automatic)"),
                        llvm::cl::init(0)};
  Option<bool> prefill{*this, "prefill",
                       llvm::cl::desc("choose the tiles as for a prefill "
                                      "entry (the tensor-core kernel)"),
                       llvm::cl::init(false)};
  Option<int64_t> queryTile{
      *this, "query-tile",
      llvm::cl::desc("0: per-token SIMT kernel; BM: tensor-core kernel with "
                     "BM query rows per block"),
      llvm::cl::init(0)};
  Option<int64_t> keyTile{*this, "key-tile",
                          llvm::cl::desc("key rows per tile (0: automatic)"),
                          llvm::cl::init(0)};
  Option<int64_t> tileWarps{*this, "tile-warps",
                            llvm::cl::desc("tensor-core kernel's warps (0: "
                                           "automatic, query-tile / 16)"),
                            llvm::cl::init(0)};
  Option<int64_t> tileStages{*this, "tile-stages",
                             llvm::cl::desc("cp.async stages of K/V tiles (0: "
                                            "automatic)"),
                             llvm::cl::init(0)};
  Option<int64_t> writeThreads{*this, "write-threads", llvm::cl::init(128)};

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    mm01::gpu::SoftmaxAttentionSpec s;
    s.heads = heads;
    s.kvHeads = kvHeads;
    s.dim = dim;
    s.rotaryDim = rotaryDim;
    s.theta = theta;
    s.scale = scale != 0.0 ? double(scale) : 1.0 / std::sqrt(double(dim));
    if (elt == "bf16")
      s.elt = BFloat16Type::get(ctx);
    else if (elt == "f32")
      s.elt = Float32Type::get(ctx);
    else if (elt == "f16")
      s.elt = Float16Type::get(ctx); // rejected by the generator
    s.qTokenStride = qStride ? int64_t(qStride) : heads * dim;
    s.kTokenStride = kStride ? int64_t(kStride) : kvHeads * dim;
    s.vTokenStride = vStride ? int64_t(vStride) : kvHeads * dim;
    s.outTokenStride = outStride ? int64_t(outStride) : heads * dim;
    s.maxBatch = maxBatch;
    s.maxContext = maxContext;
    s.maxTokens = maxTokens;
    s.warps = warps;
    s.writeThreads = writeThreads;
    s.queryTile = queryTile;
    s.keyTile = keyTile;
    s.tileWarps = tileWarps;
    s.tileStages = tileStages;
    mm01::gpu::chooseSoftmaxAttentionTiles(s, prefill);

    mlir::gpu::GPUModuleOp gm =
        mm01::gpu::getOrCreateGPUModule(module, "mm01_softmax_attention");
    OpBuilder b(ctx);
    FailureOr<std::vector<mm01::gpu::GeneratedKernel>> kernels =
        mm01::gpu::buildSoftmaxAttention(b, gm, s, module.getLoc());
    if (failed(kernels))
      return signalPassFailure();

    std::string text;
    llvm::raw_string_ostream os(text);
    char num[64];
    auto fmt = [&](double x) {
      std::snprintf(num, sizeof(num), "%.17g", x);
      return std::string(num);
    };
    os << "spec " << s.heads << " " << s.kvHeads << " " << s.dim << " "
       << s.rotaryDim << " " << fmt(s.theta) << " " << fmt(s.scale) << " "
       << std::string(elt) << " " << s.qTokenStride << " " << s.kTokenStride
       << " " << s.vTokenStride << " " << s.outTokenStride << " " << s.maxBatch
       << " " << s.maxContext << " " << s.maxTokens << " " << s.queryTile
       << " " << s.keyTile << " " << s.tileWarps << " " << s.tileStages;
    for (mm01::gpu::GeneratedKernel &k : *kernels) {
      os << ";kernel " << k.func.getName();
      for (const std::string &g : k.grid)
        os << " " << g;
      for (int64_t x : k.block)
        os << " " << x;
      os << " " << k.dynamicSmemBytes;
      for (const mm01::gpu::KernelParamDesc &p : k.params)
        os << " " << p.name;
    }
    module->setAttr("mm01.softmax_attention.manifest",
                    StringAttr::get(ctx, os.str()));
  }
};

} // namespace

void mm01::gpu::registerSoftmaxAttentionTestPass() {
  PassRegistration<TestSoftmaxAttentionKernelsPass>();
}
