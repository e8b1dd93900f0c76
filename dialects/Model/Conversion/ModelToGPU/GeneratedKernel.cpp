//===- GeneratedKernel.cpp - helpers shared by the kernel generators -------===//
#include "Model/Conversion/ModelToGPU/GeneratedKernel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace mm01::gpu {

mlir::gpu::GPUFuncOp createKernelFunc(OpBuilder &builder,
                                      mlir::gpu::GPUModuleOp module,
                                      StringRef name,
                                      ArrayRef<Type> paramTypes,
                                      std::array<int64_t, 3> block,
                                      Location loc,
                                      ArrayRef<Type> workgroupBuffers) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto fnType = builder.getFunctionType(paramTypes, {});
  auto kernel = mlir::gpu::GPUFuncOp::create(builder, loc, name, fnType,
                                             TypeRange(workgroupBuffers));
  kernel->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {int32_t(block[0]), int32_t(block[1]), int32_t(block[2])}));
  return kernel;
}

mlir::gpu::GPUModuleOp getOrCreateGPUModule(ModuleOp module, StringRef name) {
  if (auto existing = module.lookupSymbol<mlir::gpu::GPUModuleOp>(name))
    return existing;
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  auto gm = mlir::gpu::GPUModuleOp::create(b, module.getLoc(), name);
  if (!module->hasAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName()))
    module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
  return gm;
}

} // namespace mm01::gpu
