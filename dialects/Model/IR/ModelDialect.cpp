//===- ModelDialect.cpp - mm01 model-level dialect ------------------------===//
#include "Model/IR/ModelDialect.h"
#include "Model/IR/ModelOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mm01::model;

#include "Model/IR/ModelDialect.cpp.inc"
#include "Model/IR/ModelEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "Model/IR/ModelAttrs.cpp.inc"

void MM01Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Model/IR/ModelOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Model/IR/ModelAttrs.cpp.inc"
      >();
}
