//===- TileConfig.cpp - reading and writing mm01k.tiles -------------------===//
#include "Model/Conversion/ModelToGPU/TileConfig.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace mm01::gpu {

FailureOr<TileReader> TileReader::of(Operation *op, StringRef family) {
  auto dict = op->getAttrOfType<DictionaryAttr>(kTilesAttrName);
  if (!dict)
    return op->emitOpError() << "GPU target: no tile configuration ('"
                             << kTilesAttrName << "' dictionary) for the "
                             << family << " kernel; run mm01-select-tiles first";
  return TileReader(op, dict, family);
}

TileReader &TileReader::get(StringRef key, int64_t &out) {
  read.insert(key);
  auto v = dict.getAs<IntegerAttr>(key);
  if (!v) {
    if (problem.empty())
      problem = dict.get(key) ? "'" + key.str() + "' is not an integer"
                              : "'" + key.str() + "' is missing";
    return *this;
  }
  out = v.getInt();
  return *this;
}

TileReader &TileReader::get(StringRef key, bool &out) {
  int64_t v = out;
  get(key, v);
  if (v != 0 && v != 1 && problem.empty())
    problem = "'" + key.str() + "' must be 0 or 1";
  out = v != 0;
  return *this;
}

LogicalResult TileReader::finish() {
  if (problem.empty())
    for (NamedAttribute a : dict)
      if (!read.contains(a.getName().getValue())) {
        problem = "unknown key '" + a.getName().getValue().str() + "'";
        break;
      }
  if (problem.empty())
    return success();
  return op->emitOpError() << "GPU target: " << kTilesAttrName << " of the "
                           << family << " kernel: " << problem;
}

DictionaryAttr makeTiles(MLIRContext *ctx,
                         ArrayRef<std::pair<StringRef, int64_t>> entries) {
  Builder b(ctx);
  SmallVector<NamedAttribute> attrs;
  for (auto [k, v] : entries)
    attrs.push_back(b.getNamedAttr(k, b.getI64IntegerAttr(v)));
  return b.getDictionaryAttr(attrs);
}

} // namespace mm01::gpu
