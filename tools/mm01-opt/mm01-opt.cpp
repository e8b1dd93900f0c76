//===- mm01-opt.cpp - mlir-opt for the mm01 dialects and passes -----------===//
#include "Model/IR/ModelDialect.h"
#include "Model/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mm01::model::registerMM01ModelPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mm01::model::MM01Dialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mm01 optimizer driver\n", registry));
}
