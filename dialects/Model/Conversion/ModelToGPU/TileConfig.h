//===- TileConfig.h - tile configurations chosen by mm01-select-tiles -*- C++ -*-===//
//
// A kernel's tile configuration (thread-block shape, tile sizes, pipeline
// depth, sequence split) is chosen by the pass mm01-select-tiles and carried
// in the IR, as IREE carries a lowering configuration: the dictionary
// attribute `mm01k.tiles` on the op whose kernel it configures (the
// mm01.fusion group when the op is fused). mm01-model-to-kernels reads it
// and hands it to the kernel generator, which honours any valid
// configuration and refuses an invalid one with a message naming it. The
// keys of each kernel family are listed in docs/gpu-target.md.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_MODEL_CONVERSION_MODELTOGPU_TILECONFIG_H
#define MM01_MODEL_CONVERSION_MODELTOGPU_TILECONFIG_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringSet.h"

namespace mm01::gpu {

/// The name of the attribute holding an op's tile configuration.
inline constexpr llvm::StringLiteral kTilesAttrName = "mm01k.tiles";

/// Reads the integer entries of an op's `mm01k.tiles`, checking that each
/// key the family needs is present and that no unknown key is left over.
class TileReader {
public:
  /// Fails with an error on `op` if it carries no `mm01k.tiles` dictionary.
  static mlir::FailureOr<TileReader> of(mlir::Operation *op,
                                        llvm::StringRef family);

  /// Reads `key` into `out` (an integer; booleans are 0 or 1). Records an
  /// error (reported by finish) if it is missing or not an integer.
  TileReader &get(llvm::StringRef key, int64_t &out);
  TileReader &get(llvm::StringRef key, bool &out);
  /// Succeeds when every read key was present and no other key exists;
  /// otherwise emits one error on the op naming the problem.
  mlir::LogicalResult finish();

private:
  TileReader(mlir::Operation *op, mlir::DictionaryAttr dict,
             llvm::StringRef family)
      : op(op), dict(dict), family(family.str()) {}
  mlir::Operation *op;
  mlir::DictionaryAttr dict;
  std::string family;
  llvm::StringSet<> read;
  std::string problem;
};

/// Builds an `mm01k.tiles` dictionary from (key, value) pairs.
mlir::DictionaryAttr
makeTiles(mlir::MLIRContext *ctx,
          llvm::ArrayRef<std::pair<llvm::StringRef, int64_t>> entries);

} // namespace mm01::gpu

#endif // MM01_MODEL_CONVERSION_MODELTOGPU_TILECONFIG_H
