//===- Engine.h - the mm01 engine file: data model, writer, reader -*- C++ -*-===//
//
// An engine is what the compiler produces ahead of time for one target
// (sm_90a) and what the runtime loads: a single little-endian file holding a
// fixed header, a section table, a JSON manifest and 256-byte-aligned binary
// sections (kernel images, packed weights, schedule blobs), every part
// checksummed with XXH64. docs/engine-format.md specifies the bytes; this
// header is the C++ view of it.
//
// Links no LLVM/MLIR and no CUDA: the runtime and mm01-engine-info use it on
// machines without either. Errors are one line and name the file, section or
// manifest field.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_ENGINE_ENGINE_H
#define MM01_ENGINE_ENGINE_H

#include "mm01/Checkpoint/ModelConfig.h"
#include "mm01/Checkpoint/Safetensors.h"
#include "mm01/Engine/DimExpr.h"
#include "mm01/Support/Result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mm01::engine {

//===----------------------------------------------------------------------===//
// Format constants
//===----------------------------------------------------------------------===//

inline constexpr char kMagic[8] = {'M', 'M', '0', '1', 'E', 'N', 'G', 'N'};
/// 2: steps may carry a condition (`when`); a version-1 reader would run
/// both plans of an entry point.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kHeaderSize = 64;
inline constexpr uint32_t kSectionEntrySize = 96;
inline constexpr uint64_t kSectionAlignment = 256;
/// Longest section name in bytes (the table entry holds 64 with a NUL).
inline constexpr size_t kMaxSectionNameLength = 63;
/// The mm01 version recorded in manifests this build writes.
inline constexpr const char *kMM01Version = "0.1.0";

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

enum class SectionKind : uint32_t {
  Cubin = 1,    // an ELF cubin for the engine's arch
  Ptx = 2,      // PTX text (JIT-compiled by the driver)
  Fatbin = 3,   // a fatbinary
  Weights = 4,  // packed weights, addressed by Weight::sectionOffset
  Schedule = 5, // an opaque launch-schedule blob
  Data = 6,     // other constant data (tables, token maps, ...)
};
const char *sectionKindName(SectionKind kind); // "cubin", "ptx", ...
Result<SectionKind> parseSectionKind(const std::string &name);
bool isKernelImage(SectionKind kind); // cubin, ptx or fatbin

/// One row of the section table.
struct SectionInfo {
  std::string name;
  SectionKind kind = SectionKind::Data;
  uint64_t offset = 0;   // from the start of the file, a multiple of 256
  uint64_t size = 0;     // bytes
  uint64_t checksum = 0; // XXH64 (seed 0) of the section's bytes
};

//===----------------------------------------------------------------------===//
// Buffer plan
//===----------------------------------------------------------------------===//

/// Which arena a buffer lives in. The runtime allocates one device arena per
/// class; buffers of the weights, state and kv_cache classes never overlap,
/// activation and workspace buffers may (the planner reuses memory between
/// buffers whose live ranges are disjoint).
enum class Lifetime { Weights, State, KVCache, Activation, Workspace };
inline constexpr int kNumLifetimes = 5;
const char *lifetimeName(Lifetime lifetime); // "weights", "state", "kv_cache", ...
Result<Lifetime> parseLifetime(const std::string &name);

struct Buffer {
  std::string name;
  Lifetime lifetime = Lifetime::Activation;
  uint64_t bytes = 0;       // size at the engine's max batch and context
  uint64_t alignment = 256; // power of two; offset % alignment == 0
  uint64_t offset = 0;      // in the arena of its lifetime class
};

/// A byte address: a buffer plus an offset in bytes (may depend on the call).
struct BufferRef {
  std::string buffer;
  DimExpr offset = 0;
};

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

enum class ParamType { Ptr, I32, I64, U32, U64, F32 };
const char *paramTypeName(ParamType type); // "ptr", "i32", ...
Result<ParamType> parseParamType(const std::string &name);
size_t paramTypeSize(ParamType type);

struct KernelParam {
  std::string name;
  ParamType type = ParamType::Ptr;
};

/// One launchable kernel configuration. Several kernels may share an entry
/// symbol in the same image (different launch shapes); `name` is unique.
struct Kernel {
  std::string name;
  std::string section; // a cubin, ptx or fatbin section
  std::string entry;   // the symbol to look up (cuModuleGetFunction)
  std::array<DimExpr, 3> grid = {1, 1, 1};
  std::array<DimExpr, 3> block = {1, 1, 1};
  uint64_t dynamicSmemBytes = 0;
  std::vector<KernelParam> params;
};

//===----------------------------------------------------------------------===//
// Launch schedule
//===----------------------------------------------------------------------===//

/// An argument of a kernel launch, matched to the kernel's parameter list:
/// a buffer address for a ptr parameter, an integer expression for i32/i64/
/// u32/u64, a float for f32.
struct KernelArg {
  enum class Kind { Buffer, Int, Float };
  Kind kind = Kind::Int;
  BufferRef buffer;    // Kind::Buffer
  DimExpr value = 0;   // Kind::Int
  double floatValue = 0; // Kind::Float

  static KernelArg bufferArg(std::string name, DimExpr offset = 0);
  static KernelArg intArg(DimExpr value);
  static KernelArg floatArg(double value);
};

struct KernelLaunch {
  std::string kernel;
  std::vector<KernelArg> args;
  /// Programmatic dependent launch: the kernel may start before the
  /// previous step (a kernel launch) finishes. The kernel reads what that
  /// step wrote only after `griddepcontrol.wait`; all else it reads was
  /// written before that step started (docs/engine-format.md).
  bool overlapPrevious = false;
};

/// A cuBLASLt matmul, row-major: C[M, N] = alpha · op(A) · op(B) + beta · C,
/// op(A) [M, K], op(B) [K, N]. With trans_b, B is stored [N, K] (the
/// `y = x · Wᵀ` of every linear). Leading dimensions default to dense rows.
struct GemmCall {
  DimExpr m = 0, n = 0, k = 0;
  BufferRef a, b, c;
  DType aType = DType::BF16, bType = DType::BF16, cType = DType::BF16;
  bool transA = false, transB = false;
  double alpha = 1, beta = 0;
  std::optional<DimExpr> lda, ldb, ldc; // elements; absent: dense
};

enum class CollectiveOp { AllReduce, AllGather, ReduceScatter, AllToAll, Broadcast };
const char *collectiveOpName(CollectiveOp op); // "all_reduce", ...
Result<CollectiveOp> parseCollectiveOp(const std::string &name);
enum class ReduceOp { Sum, Max, Min };
const char *reduceOpName(ReduceOp op);
Result<ReduceOp> parseReduceOp(const std::string &name);

/// An NCCL collective over a named group of ranks ("world" for now).
struct CollectiveCall {
  CollectiveOp op = CollectiveOp::AllReduce;
  BufferRef send, recv;
  DimExpr count = 0; // elements per rank, as NCCL counts them
  DType dtype = DType::BF16;
  ReduceOp reduce = ReduceOp::Sum; // all_reduce, reduce_scatter
  int64_t root = 0;                // broadcast
  std::string group = "world";
};

struct MemsetCall {
  BufferRef dst;
  DimExpr bytes = 0;
  uint8_t value = 0;
};

struct CopyCall {
  BufferRef src, dst;
  DimExpr bytes = 0;
};

using StepBody =
    std::variant<KernelLaunch, GemmCall, CollectiveCall, MemsetCall, CopyCall>;

struct Step {
  std::string label; // free text for traces ("layer3.moe.down"), may be empty
  StepBody body;
  /// The step runs only for calls where this evaluates to nonzero (absent:
  /// always). Entry points hold alternative plans this way, chosen per call
  /// by its size, e.g. "ge(tokens, 16384)" and "lt(tokens, 16384)".
  std::optional<DimExpr> when;
};
/// "kernel", "gemm", "collective", "memset" or "copy".
const char *stepKindName(const StepBody &body);

/// An ordered list of steps run on one stream for one call ("prefill",
/// "decode"). Inputs and outputs name the buffers the caller fills/reads.
struct EntryPoint {
  std::string name;
  std::vector<std::string> inputs, outputs;
  std::vector<Step> steps;
};

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

enum class WeightStorage { Packed, Checkpoint };
const char *weightStorageName(WeightStorage storage); // "packed", "checkpoint"

/// A device weight, loaded into the buffer of the same name (lifetime
/// weights). Packed: its bytes are in an engine section (possibly
/// re-laid-out from several checkpoint tensors, listed in `sources`).
/// Checkpoint: it is exactly the one checkpoint tensor `sources[0]`, with
/// this dtype and shape, read from the memory-mapped checkpoint.
struct Weight {
  std::string buffer;
  std::vector<std::string> sources; // checkpoint tensor names
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
  WeightStorage storage = WeightStorage::Packed;
  std::string section;        // packed only: a weights section
  uint64_t sectionOffset = 0; // packed only: bytes from the section start

  /// dtype size × product(shape); 0 on overflow or a negative dimension.
  uint64_t byteSize() const;
};

/// One checkpoint file the engine reads, as it was at compile time.
struct CheckpointFile {
  std::string file;        // relative to the checkpoint directory
  uint64_t size = 0;       // bytes
  uint64_t headerHash = 0; // XXH64 of the 8-byte length + JSON header
};

/// The checkpoint the "checkpoint" weights come from. A relative `path` is
/// resolved against the engine file's directory.
struct CheckpointRef {
  std::string path;
  std::vector<CheckpointFile> files;
};

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

struct CompileOptions {
  int64_t maxBatch = 1;
  int64_t maxContext = 1;
  DType dtype = DType::BF16; // activation dtype
  int64_t worldSize = 1;     // ranks the engine set was compiled for
  int64_t rank = 0;          // the rank this engine runs as
};

struct Manifest {
  uint32_t formatVersion = kFormatVersion;
  std::string mm01Version = kMM01Version;
  std::string arch = "sm_90a";
  ModelConfig model;
  CompileOptions options;
  std::optional<CheckpointRef> checkpoint; // required by "checkpoint" weights
  std::vector<Buffer> buffers;
  std::vector<Weight> weights;
  std::vector<Kernel> kernels;
  std::vector<EntryPoint> entryPoints;

  const Buffer *findBuffer(const std::string &name) const;
  const Kernel *findKernel(const std::string &name) const;
  const EntryPoint *findEntryPoint(const std::string &name) const;
  /// Size of the arena of a lifetime class: max(offset + bytes) over its
  /// buffers (0 without buffers).
  uint64_t arenaBytes(Lifetime lifetime) const;
};

/// The manifest as JSON text (pretty-printed, fields in a fixed order).
std::string manifestToJson(const Manifest &manifest);

/// Parses manifest JSON: types, required fields, enum spellings,
/// expressions, the embedded model config. Errors read "malformed manifest:
/// field 'kernels[2].entry' is missing". Does not cross-check references
/// (validateManifest does).
Result<Manifest> parseManifest(const std::string &jsonText);

/// Cross-checks a manifest against itself and the section table: unique
/// names, every referenced buffer/kernel/section exists with the right
/// kind, argument lists match parameter lists, buffers fit their alignment,
/// persistent buffers do not overlap, packed weights lie inside their
/// section and fit their buffer, the arch parses, the model config is
/// valid. Errors read "malformed manifest: field '...': ...".
Status validateManifest(const Manifest &manifest,
                        const std::vector<SectionInfo> &sections);

//===----------------------------------------------------------------------===//
// The file
//===----------------------------------------------------------------------===//

/// The fixed 64-byte header (docs/engine-format.md lists the offsets).
struct Header {
  uint32_t formatVersion = kFormatVersion;
  uint32_t headerSize = kHeaderSize;
  uint64_t fileSize = 0;
  uint64_t sectionTableOffset = 0;
  uint32_t sectionCount = 0;
  uint32_t sectionEntrySize = kSectionEntrySize;
  uint64_t manifestOffset = 0;
  uint64_t manifestSize = 0;
  /// XXH64 of header bytes [0, 56), the section table and the manifest.
  uint64_t checksum = 0;
};

/// Builds an engine in memory and writes it.
class EngineWriter {
public:
  explicit EngineWriter(Manifest manifest = Manifest());

  Manifest &manifest() { return manifest_; }
  const Manifest &manifest() const { return manifest_; }

  /// Adds a section; the name must be new, at most 63 bytes, printable.
  Status addSection(const std::string &name, SectionKind kind,
                    std::vector<uint8_t> bytes);
  /// Appends bytes to a section (created with `kind` when absent), padding
  /// with zeros to `alignment` first; returns the offset in the section.
  Result<uint64_t> appendToSection(const std::string &name, SectionKind kind,
                                   const void *data, size_t size,
                                   uint64_t alignment = kSectionAlignment);
  /// Appends `data` to the weights section `weight.section` ("weights" when
  /// empty), fills in the offset and adds the weight to the manifest as
  /// packed. `size` must equal weight.byteSize().
  Status addPackedWeight(Weight weight, const void *data, size_t size);

  /// The section table the written file will have.
  std::vector<SectionInfo> sectionTable() const;
  /// Validates the manifest against the sections and lays out the file.
  Result<std::vector<uint8_t>> serialize() const;
  /// serialize() to `path` (through a temporary file renamed into place).
  Status write(const std::string &path) const;

private:
  struct PendingSection {
    std::string name;
    SectionKind kind;
    std::vector<uint8_t> bytes;
  };
  PendingSection *findSection(const std::string &name);
  Manifest manifest_;
  std::vector<PendingSection> sections_;
};

struct OpenOptions {
  /// Checksum every section on open (reads every byte). Without it only the
  /// header, section table and manifest are checked; verifySection() checks
  /// a section later.
  bool verifySections = true;
};

/// An open, validated engine file, memory-mapped read-only.
class EngineReader {
public:
  /// Checks, in order: magic, format version, header size, file size
  /// (truncation), table and manifest bounds, the metadata checksum, the
  /// section table (names, kinds, alignment, bounds, overlaps), the manifest
  /// (parse + validate) and, with verifySections, every section checksum.
  static Result<std::unique_ptr<EngineReader>>
  open(const std::string &path, const OpenOptions &options = OpenOptions());
  ~EngineReader();
  EngineReader(const EngineReader &) = delete;
  EngineReader &operator=(const EngineReader &) = delete;

  const std::string &path() const { return path_; }
  const Header &header() const { return header_; }
  const Manifest &manifest() const { return manifest_; }
  const std::string &manifestText() const { return manifestText_; }
  const std::vector<SectionInfo> &sections() const { return sections_; }
  const SectionInfo *findSection(const std::string &name) const;
  /// The section's bytes in the mapping (256-byte aligned).
  const uint8_t *sectionData(const SectionInfo &section) const;
  /// Recomputes a section's checksum; the error names the section.
  Status verifySection(const SectionInfo &section) const;
  Status verifyAllSections() const;

private:
  EngineReader() = default;
  std::string path_;
  Header header_;
  Manifest manifest_;
  std::string manifestText_;
  std::vector<SectionInfo> sections_;
  const uint8_t *mapping_ = nullptr;
  uint64_t mappingSize_ = 0;
};

//===----------------------------------------------------------------------===//
// Checkpoint fingerprints
//===----------------------------------------------------------------------===//

/// Size and header hash of one safetensors file `dir/file`.
Result<CheckpointFile> fingerprintFile(const std::string &dir,
                                       const std::string &file);
/// The fingerprint of every file of the checkpoint in `dir` that holds one
/// of `tensors` (all files when `tensors` is empty). `recordedPath` is what
/// the manifest stores as the checkpoint path.
Result<CheckpointRef> fingerprintCheckpoint(const std::string &dir,
                                            const std::vector<std::string> &tensors,
                                            const std::string &recordedPath);
/// The checkpoint directory: `ref.path` if absolute, else relative to the
/// directory holding `enginePath`.
std::string resolveCheckpointDir(const CheckpointRef &ref,
                                 const std::string &enginePath);
/// Refuses a checkpoint whose files differ from the fingerprint: "checkpoint
/// file 'model.safetensors' changed since the engine was built (...)".
Status checkCheckpoint(const CheckpointRef &ref, const std::string &dir);

} // namespace mm01::engine

#endif // MM01_ENGINE_ENGINE_H
