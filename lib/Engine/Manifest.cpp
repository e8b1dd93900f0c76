//===- Manifest.cpp - the engine manifest: JSON, schema, validation -------===//
//
// manifestToJson / parseManifest map the structs of Engine.h to the JSON of
// docs/engine-format.md and back; validateManifest cross-checks references.
// Every error is one line, "malformed manifest: field '<path>' ...", where
// <path> is the JSON path (kernels[2].grid[0]).
//
// nlohmann reports errors by throwing; this file is built with -fexceptions
// and catches everything before returning, so no exception crosses the API.
//
//===----------------------------------------------------------------------===//

#include "mm01/Engine/Device.h"
#include "mm01/Engine/Engine.h"
#include "mm01/Engine/XXHash.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

using namespace mm01;
using namespace mm01::engine;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

//===----------------------------------------------------------------------===//
// Enum spellings
//===----------------------------------------------------------------------===//

namespace {

template <typename E, size_t N>
Result<E> parseEnum(const std::string &name, const std::pair<const char *, E> (&table)[N],
                    const char *what) {
  std::string known;
  for (const auto &[spelling, value] : table) {
    if (name == spelling)
      return value;
    known += known.empty() ? "" : ", ";
    known += spelling;
  }
  return makeError(std::string("unknown ") + what + " '" + name +
                   "' (expected " + known + ")");
}

template <typename E, size_t N>
const char *enumName(E value, const std::pair<const char *, E> (&table)[N]) {
  for (const auto &[spelling, v] : table)
    if (v == value)
      return spelling;
  return "?";
}

const std::pair<const char *, SectionKind> kSectionKinds[] = {
    {"cubin", SectionKind::Cubin},       {"ptx", SectionKind::Ptx},
    {"fatbin", SectionKind::Fatbin},     {"weights", SectionKind::Weights},
    {"schedule", SectionKind::Schedule}, {"data", SectionKind::Data}};
const std::pair<const char *, Lifetime> kLifetimes[] = {
    {"weights", Lifetime::Weights},
    {"state", Lifetime::State},
    {"kv_cache", Lifetime::KVCache},
    {"activation", Lifetime::Activation},
    {"workspace", Lifetime::Workspace}};
const std::pair<const char *, ParamType> kParamTypes[] = {
    {"ptr", ParamType::Ptr}, {"i32", ParamType::I32}, {"i64", ParamType::I64},
    {"u32", ParamType::U32}, {"u64", ParamType::U64}, {"f32", ParamType::F32}};
const std::pair<const char *, CollectiveOp> kCollectiveOps[] = {
    {"all_reduce", CollectiveOp::AllReduce},
    {"all_gather", CollectiveOp::AllGather},
    {"reduce_scatter", CollectiveOp::ReduceScatter},
    {"all_to_all", CollectiveOp::AllToAll},
    {"broadcast", CollectiveOp::Broadcast}};
const std::pair<const char *, ReduceOp> kReduceOps[] = {
    {"sum", ReduceOp::Sum}, {"max", ReduceOp::Max}, {"min", ReduceOp::Min}};
const std::pair<const char *, WeightStorage> kWeightStorages[] = {
    {"packed", WeightStorage::Packed}, {"checkpoint", WeightStorage::Checkpoint}};

} // namespace

const char *mm01::engine::sectionKindName(SectionKind kind) {
  return enumName(kind, kSectionKinds);
}
Result<SectionKind> mm01::engine::parseSectionKind(const std::string &name) {
  return parseEnum(name, kSectionKinds, "section kind");
}
bool mm01::engine::isKernelImage(SectionKind kind) {
  return kind == SectionKind::Cubin || kind == SectionKind::Ptx ||
         kind == SectionKind::Fatbin;
}
const char *mm01::engine::lifetimeName(Lifetime lifetime) {
  return enumName(lifetime, kLifetimes);
}
Result<Lifetime> mm01::engine::parseLifetime(const std::string &name) {
  return parseEnum(name, kLifetimes, "lifetime");
}
const char *mm01::engine::paramTypeName(ParamType type) {
  return enumName(type, kParamTypes);
}
Result<ParamType> mm01::engine::parseParamType(const std::string &name) {
  return parseEnum(name, kParamTypes, "parameter type");
}
size_t mm01::engine::paramTypeSize(ParamType type) {
  switch (type) {
  case ParamType::I32:
  case ParamType::U32:
  case ParamType::F32:
    return 4;
  case ParamType::Ptr:
  case ParamType::I64:
  case ParamType::U64:
    return 8;
  }
  return 8;
}
const char *mm01::engine::collectiveOpName(CollectiveOp op) {
  return enumName(op, kCollectiveOps);
}
Result<CollectiveOp> mm01::engine::parseCollectiveOp(const std::string &name) {
  return parseEnum(name, kCollectiveOps, "collective");
}
const char *mm01::engine::reduceOpName(ReduceOp op) {
  return enumName(op, kReduceOps);
}
Result<ReduceOp> mm01::engine::parseReduceOp(const std::string &name) {
  return parseEnum(name, kReduceOps, "reduction");
}
const char *mm01::engine::weightStorageName(WeightStorage storage) {
  return enumName(storage, kWeightStorages);
}

const char *mm01::engine::stepKindName(const StepBody &body) {
  static const char *const names[] = {"kernel", "gemm", "collective", "memset",
                                      "copy"};
  return names[body.index()];
}

KernelArg KernelArg::bufferArg(std::string name, DimExpr offset) {
  KernelArg arg;
  arg.kind = Kind::Buffer;
  arg.buffer = BufferRef{std::move(name), std::move(offset)};
  return arg;
}
KernelArg KernelArg::intArg(DimExpr value) {
  KernelArg arg;
  arg.kind = Kind::Int;
  arg.value = std::move(value);
  return arg;
}
KernelArg KernelArg::floatArg(double value) {
  KernelArg arg;
  arg.kind = Kind::Float;
  arg.floatValue = value;
  return arg;
}

uint64_t Weight::byteSize() const {
  uint64_t n = dtypeSize(dtype);
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      return 0;
  }
  return n;
}

//===----------------------------------------------------------------------===//
// Manifest lookups
//===----------------------------------------------------------------------===//

namespace {
template <typename T>
const T *findByName(const std::vector<T> &items, const std::string &name) {
  for (const T &item : items)
    if (item.name == name)
      return &item;
  return nullptr;
}
} // namespace

const Buffer *Manifest::findBuffer(const std::string &name) const {
  return findByName(buffers, name);
}
const Kernel *Manifest::findKernel(const std::string &name) const {
  return findByName(kernels, name);
}
const EntryPoint *Manifest::findEntryPoint(const std::string &name) const {
  return findByName(entryPoints, name);
}
uint64_t Manifest::arenaBytes(Lifetime lifetime) const {
  uint64_t end = 0;
  for (const Buffer &b : buffers)
    if (b.lifetime == lifetime)
      end = std::max(end, b.offset + b.bytes);
  return end;
}

//===----------------------------------------------------------------------===//
// To JSON
//===----------------------------------------------------------------------===//

namespace {

ojson dimToJson(const DimExpr &e) {
  if (e.isLiteral())
    return *e.constant();
  return e.text();
}

ojson dimsToJson(const std::array<DimExpr, 3> &dims) {
  ojson a = ojson::array();
  for (const DimExpr &e : dims)
    a.push_back(dimToJson(e));
  return a;
}

ojson refToJson(const BufferRef &ref) {
  ojson j;
  j["buffer"] = ref.buffer;
  if (!(ref.offset.isLiteral() && ref.offset.constant() == 0))
    j["offset"] = dimToJson(ref.offset);
  return j;
}

ojson stepToJson(const Step &step) {
  ojson j;
  j["op"] = stepKindName(step.body);
  if (!step.label.empty())
    j["label"] = step.label;
  if (step.when)
    j["when"] = dimToJson(*step.when);
  if (const auto *launch = std::get_if<KernelLaunch>(&step.body)) {
    j["kernel"] = launch->kernel;
    ojson args = ojson::array();
    for (const KernelArg &arg : launch->args) {
      switch (arg.kind) {
      case KernelArg::Kind::Buffer:
        args.push_back(refToJson(arg.buffer));
        break;
      case KernelArg::Kind::Int:
        args.push_back({{"int", dimToJson(arg.value)}});
        break;
      case KernelArg::Kind::Float:
        args.push_back({{"float", arg.floatValue}});
        break;
      }
    }
    j["args"] = std::move(args);
    if (launch->overlapPrevious)
      j["overlap_previous"] = true;
  } else if (const auto *gemm = std::get_if<GemmCall>(&step.body)) {
    j["m"] = dimToJson(gemm->m);
    j["n"] = dimToJson(gemm->n);
    j["k"] = dimToJson(gemm->k);
    j["a"] = refToJson(gemm->a);
    j["b"] = refToJson(gemm->b);
    j["c"] = refToJson(gemm->c);
    j["a_dtype"] = dtypeName(gemm->aType);
    j["b_dtype"] = dtypeName(gemm->bType);
    j["c_dtype"] = dtypeName(gemm->cType);
    j["trans_a"] = gemm->transA;
    j["trans_b"] = gemm->transB;
    j["alpha"] = gemm->alpha;
    j["beta"] = gemm->beta;
    if (gemm->lda)
      j["lda"] = dimToJson(*gemm->lda);
    if (gemm->ldb)
      j["ldb"] = dimToJson(*gemm->ldb);
    if (gemm->ldc)
      j["ldc"] = dimToJson(*gemm->ldc);
  } else if (const auto *coll = std::get_if<CollectiveCall>(&step.body)) {
    j["collective"] = collectiveOpName(coll->op);
    j["send"] = refToJson(coll->send);
    j["recv"] = refToJson(coll->recv);
    j["count"] = dimToJson(coll->count);
    j["dtype"] = dtypeName(coll->dtype);
    j["reduce"] = reduceOpName(coll->reduce);
    j["root"] = coll->root;
    j["group"] = coll->group;
  } else if (const auto *memset = std::get_if<MemsetCall>(&step.body)) {
    j["dst"] = refToJson(memset->dst);
    j["bytes"] = dimToJson(memset->bytes);
    j["value"] = memset->value;
  } else if (const auto *copy = std::get_if<CopyCall>(&step.body)) {
    j["src"] = refToJson(copy->src);
    j["dst"] = refToJson(copy->dst);
    j["bytes"] = dimToJson(copy->bytes);
  }
  return j;
}

ojson buildJson(const Manifest &m) {
  ojson j;
  j["format_version"] = m.formatVersion;
  j["mm01_version"] = m.mm01Version;
  j["arch"] = m.arch;
  j["model"] = ojson::parse(modelConfigToJson(m.model));
  j["options"] = {{"max_batch", m.options.maxBatch},
                  {"max_context", m.options.maxContext},
                  {"dtype", dtypeName(m.options.dtype)},
                  {"world_size", m.options.worldSize},
                  {"rank", m.options.rank}};
  if (m.checkpoint) {
    ojson files = ojson::array();
    for (const CheckpointFile &f : m.checkpoint->files)
      files.push_back({{"file", f.file},
                       {"size", f.size},
                       {"header_xxh64", hex64(f.headerHash)}});
    j["checkpoint"] = {{"path", m.checkpoint->path}, {"files", std::move(files)}};
  }
  ojson buffers = ojson::array();
  for (const Buffer &b : m.buffers)
    buffers.push_back({{"name", b.name},
                       {"lifetime", lifetimeName(b.lifetime)},
                       {"bytes", b.bytes},
                       {"alignment", b.alignment},
                       {"offset", b.offset}});
  j["buffers"] = std::move(buffers);
  ojson weights = ojson::array();
  for (const Weight &w : m.weights) {
    ojson wj;
    wj["buffer"] = w.buffer;
    wj["sources"] = w.sources;
    wj["dtype"] = dtypeName(w.dtype);
    wj["shape"] = w.shape;
    wj["storage"] = weightStorageName(w.storage);
    if (w.storage == WeightStorage::Packed) {
      wj["section"] = w.section;
      wj["offset"] = w.sectionOffset;
    }
    weights.push_back(std::move(wj));
  }
  j["weights"] = std::move(weights);
  ojson kernels = ojson::array();
  for (const Kernel &k : m.kernels) {
    ojson params = ojson::array();
    for (const KernelParam &p : k.params)
      params.push_back({{"name", p.name}, {"type", paramTypeName(p.type)}});
    ojson kj;
    kj["name"] = k.name;
    kj["section"] = k.section;
    kj["entry"] = k.entry;
    kj["grid"] = dimsToJson(k.grid);
    kj["block"] = dimsToJson(k.block);
    kj["dynamic_smem"] = k.dynamicSmemBytes;
    kj["params"] = std::move(params);
    kernels.push_back(std::move(kj));
  }
  j["kernels"] = std::move(kernels);
  ojson entries = ojson::array();
  for (const EntryPoint &e : m.entryPoints) {
    ojson steps = ojson::array();
    for (const Step &s : e.steps)
      steps.push_back(stepToJson(s));
    ojson ej;
    ej["name"] = e.name;
    ej["inputs"] = e.inputs;
    ej["outputs"] = e.outputs;
    ej["steps"] = std::move(steps);
    entries.push_back(std::move(ej));
  }
  j["entry_points"] = std::move(entries);
  return j;
}

} // namespace

std::string mm01::engine::manifestToJson(const Manifest &manifest) {
  try {
    return buildJson(manifest).dump(1) + "\n";
  } catch (...) {
    // Invalid UTF-8 in a name or allocation failure: an empty manifest
    // fails any later parse, and the writer validates names first.
    return std::string();
  }
}

//===----------------------------------------------------------------------===//
// From JSON
//===----------------------------------------------------------------------===//

namespace {

/// Thrown inside this file only; the API functions turn it into an Error.
struct ManifestError {
  std::string message;
};

/// Messages are one line: replace any newline a JSON dump could contain.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}

/// "field '<field>' <what>", or "field '<field>': <error>" when `what`
/// starts with ':' (a nested error message).
[[noreturn]] void fail(const std::string &field, const std::string &what) {
  bool nested = !what.empty() && what[0] == ':';
  throw ManifestError{"field '" + field + "'" + (nested ? "" : " ") + what};
}

std::string describe(const json &v) {
  std::string text = oneLine(v.dump());
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

std::string member(const std::string &path, const char *key) {
  return path.empty() ? std::string(key) : path + "." + key;
}
std::string element(const std::string &path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json &require(const json &obj, const char *key, const std::string &path) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail(member(path, key), "is missing");
  return *it;
}
const json *optional(const json &obj, const char *key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

void expectObject(const json &v, const std::string &path) {
  if (!v.is_object())
    fail(path, "must be an object, found " + describe(v));
}
const json &requireArray(const json &obj, const char *key, const std::string &path) {
  const json &v = require(obj, key, path);
  if (!v.is_array())
    fail(member(path, key), "must be an array, found " + describe(v));
  return v;
}

int64_t asInt(const json &v, const std::string &path) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      fail(path, "is " + std::to_string(u) + ", too large");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer())
    return v.get<int64_t>();
  fail(path, "must be an integer, found " + describe(v));
}
uint64_t asUInt(const json &v, const std::string &path) {
  if (v.is_number_unsigned())
    return v.get<uint64_t>();
  if (v.is_number_integer())
    fail(path, "must be non-negative, found " + std::to_string(v.get<int64_t>()));
  fail(path, "must be a non-negative integer, found " + describe(v));
}
double asDouble(const json &v, const std::string &path) {
  if (!v.is_number())
    fail(path, "must be a number, found " + describe(v));
  return v.get<double>();
}
bool asBool(const json &v, const std::string &path) {
  if (!v.is_boolean())
    fail(path, "must be a boolean, found " + describe(v));
  return v.get<bool>();
}
std::string asString(const json &v, const std::string &path) {
  if (!v.is_string())
    fail(path, "must be a string, found " + describe(v));
  return v.get<std::string>();
}
std::string asName(const json &v, const std::string &path) {
  std::string s = asString(v, path);
  if (s.empty())
    fail(path, "must not be empty");
  return s;
}

int64_t reqInt(const json &o, const char *k, const std::string &p) {
  return asInt(require(o, k, p), member(p, k));
}
uint64_t reqUInt(const json &o, const char *k, const std::string &p) {
  return asUInt(require(o, k, p), member(p, k));
}
std::string reqString(const json &o, const char *k, const std::string &p) {
  return asString(require(o, k, p), member(p, k));
}
std::string reqName(const json &o, const char *k, const std::string &p) {
  return asName(require(o, k, p), member(p, k));
}

template <typename T>
T unwrap(Result<T> r, const std::string &path) {
  if (!r)
    fail(path, ": " + r.error());
  return std::move(r).value();
}

DType reqDType(const json &o, const char *k, const std::string &p) {
  return unwrap(parseDType(reqString(o, k, p)), member(p, k));
}

DimExpr asDim(const json &v, const std::string &path) {
  if (v.is_number_integer() || v.is_number_unsigned())
    return DimExpr(asInt(v, path));
  if (v.is_string())
    return unwrap(DimExpr::parse(v.get<std::string>()), path);
  fail(path, "must be an integer or an expression string, found " + describe(v));
}
DimExpr reqDim(const json &o, const char *k, const std::string &p) {
  return asDim(require(o, k, p), member(p, k));
}

std::array<DimExpr, 3> reqDims(const json &o, const char *k, const std::string &p) {
  const json &a = requireArray(o, k, p);
  std::string path = member(p, k);
  if (a.size() != 3)
    fail(path, "must have 3 entries (x, y, z), found " + std::to_string(a.size()));
  return {asDim(a[0], element(path, 0)), asDim(a[1], element(path, 1)),
          asDim(a[2], element(path, 2))};
}

std::vector<std::string> reqStrings(const json &o, const char *k,
                                    const std::string &p) {
  const json &a = requireArray(o, k, p);
  std::vector<std::string> out;
  for (size_t i = 0; i < a.size(); ++i)
    out.push_back(asName(a[i], element(member(p, k), i)));
  return out;
}

BufferRef asRef(const json &v, const std::string &path) {
  expectObject(v, path);
  BufferRef ref;
  ref.buffer = reqName(v, "buffer", path);
  if (const json *off = optional(v, "offset"))
    ref.offset = asDim(*off, member(path, "offset"));
  return ref;
}
BufferRef reqRef(const json &o, const char *k, const std::string &p) {
  return asRef(require(o, k, p), member(p, k));
}

Step parseStep(const json &v, const std::string &path) {
  expectObject(v, path);
  Step step;
  if (const json *label = optional(v, "label"))
    step.label = asString(*label, member(path, "label"));
  if (const json *when = optional(v, "when"))
    step.when = asDim(*when, member(path, "when"));
  std::string op = reqString(v, "op", path);
  if (op == "kernel") {
    KernelLaunch launch;
    launch.kernel = reqName(v, "kernel", path);
    const json &args = requireArray(v, "args", path);
    for (size_t i = 0; i < args.size(); ++i) {
      std::string argPath = element(member(path, "args"), i);
      const json &a = args[i];
      expectObject(a, argPath);
      if (optional(a, "buffer")) {
        launch.args.push_back(KernelArg::bufferArg("", 0));
        launch.args.back().buffer = asRef(a, argPath);
      } else if (const json *iv = optional(a, "int")) {
        launch.args.push_back(KernelArg::intArg(asDim(*iv, member(argPath, "int"))));
      } else if (const json *fv = optional(a, "float")) {
        launch.args.push_back(
            KernelArg::floatArg(asDouble(*fv, member(argPath, "float"))));
      } else {
        fail(argPath, "must have one of 'buffer', 'int' or 'float', found " +
                          describe(a));
      }
    }
    if (const json *o = optional(v, "overlap_previous"))
      launch.overlapPrevious = asBool(*o, member(path, "overlap_previous"));
    step.body = std::move(launch);
  } else if (op == "gemm") {
    GemmCall g;
    g.m = reqDim(v, "m", path);
    g.n = reqDim(v, "n", path);
    g.k = reqDim(v, "k", path);
    g.a = reqRef(v, "a", path);
    g.b = reqRef(v, "b", path);
    g.c = reqRef(v, "c", path);
    g.aType = reqDType(v, "a_dtype", path);
    g.bType = reqDType(v, "b_dtype", path);
    g.cType = reqDType(v, "c_dtype", path);
    if (const json *t = optional(v, "trans_a"))
      g.transA = asBool(*t, member(path, "trans_a"));
    if (const json *t = optional(v, "trans_b"))
      g.transB = asBool(*t, member(path, "trans_b"));
    if (const json *x = optional(v, "alpha"))
      g.alpha = asDouble(*x, member(path, "alpha"));
    if (const json *x = optional(v, "beta"))
      g.beta = asDouble(*x, member(path, "beta"));
    if (const json *x = optional(v, "lda"))
      g.lda = asDim(*x, member(path, "lda"));
    if (const json *x = optional(v, "ldb"))
      g.ldb = asDim(*x, member(path, "ldb"));
    if (const json *x = optional(v, "ldc"))
      g.ldc = asDim(*x, member(path, "ldc"));
    step.body = std::move(g);
  } else if (op == "collective") {
    CollectiveCall c;
    c.op = unwrap(parseCollectiveOp(reqString(v, "collective", path)),
                  member(path, "collective"));
    c.send = reqRef(v, "send", path);
    c.recv = reqRef(v, "recv", path);
    c.count = reqDim(v, "count", path);
    c.dtype = reqDType(v, "dtype", path);
    if (const json *x = optional(v, "reduce"))
      c.reduce = unwrap(parseReduceOp(asString(*x, member(path, "reduce"))),
                        member(path, "reduce"));
    if (const json *x = optional(v, "root"))
      c.root = asInt(*x, member(path, "root"));
    if (const json *x = optional(v, "group"))
      c.group = asName(*x, member(path, "group"));
    step.body = std::move(c);
  } else if (op == "memset") {
    MemsetCall m;
    m.dst = reqRef(v, "dst", path);
    m.bytes = reqDim(v, "bytes", path);
    if (const json *x = optional(v, "value")) {
      uint64_t value = asUInt(*x, member(path, "value"));
      if (value > 255)
        fail(member(path, "value"), "must be a byte (0..255), found " +
                                        std::to_string(value));
      m.value = static_cast<uint8_t>(value);
    }
    step.body = std::move(m);
  } else if (op == "copy") {
    CopyCall c;
    c.src = reqRef(v, "src", path);
    c.dst = reqRef(v, "dst", path);
    c.bytes = reqDim(v, "bytes", path);
    step.body = std::move(c);
  } else {
    fail(member(path, "op"), "is '" + oneLine(op) +
                                 "', expected kernel, gemm, collective, "
                                 "memset or copy");
  }
  return step;
}

Manifest parseRoot(const json &root) {
  if (!root.is_object())
    throw ManifestError{"expected a JSON object at the top level, found " +
                        describe(root)};
  Manifest m;
  int64_t version = reqInt(root, "format_version", "");
  if (version != kFormatVersion)
    fail("format_version", "is " + std::to_string(version) + ", expected " +
                               std::to_string(kFormatVersion));
  m.formatVersion = static_cast<uint32_t>(version);
  m.mm01Version = reqName(root, "mm01_version", "");
  m.arch = reqName(root, "arch", "");

  const json &model = require(root, "model", "");
  expectObject(model, "model");
  Result<ModelConfig> config = parseModelConfig(model.dump(), "field 'model'");
  if (!config)
    throw ManifestError{config.error()};
  m.model = std::move(config).value();

  const json &options = require(root, "options", "");
  expectObject(options, "options");
  m.options.maxBatch = reqInt(options, "max_batch", "options");
  m.options.maxContext = reqInt(options, "max_context", "options");
  m.options.dtype = reqDType(options, "dtype", "options");
  m.options.worldSize = reqInt(options, "world_size", "options");
  m.options.rank = reqInt(options, "rank", "options");

  if (const json *ckpt = optional(root, "checkpoint")) {
    expectObject(*ckpt, "checkpoint");
    CheckpointRef ref;
    ref.path = reqName(*ckpt, "path", "checkpoint");
    const json &files = requireArray(*ckpt, "files", "checkpoint");
    for (size_t i = 0; i < files.size(); ++i) {
      std::string path = element("checkpoint.files", i);
      expectObject(files[i], path);
      CheckpointFile f;
      f.file = reqName(files[i], "file", path);
      f.size = reqUInt(files[i], "size", path);
      std::string hash = reqString(files[i], "header_xxh64", path);
      char *end = nullptr;
      if (hash.size() != 18 || hash.compare(0, 2, "0x") != 0 ||
          (f.headerHash = std::strtoull(hash.c_str() + 2, &end, 16),
           end != hash.c_str() + hash.size()))
        fail(member(path, "header_xxh64"),
             "must be \"0x\" and 16 hex digits, found '" + oneLine(hash) + "'");
      ref.files.push_back(std::move(f));
    }
    m.checkpoint = std::move(ref);
  }

  const json &buffers = requireArray(root, "buffers", "");
  for (size_t i = 0; i < buffers.size(); ++i) {
    std::string path = element("buffers", i);
    expectObject(buffers[i], path);
    Buffer b;
    b.name = reqName(buffers[i], "name", path);
    b.lifetime = unwrap(parseLifetime(reqString(buffers[i], "lifetime", path)),
                        member(path, "lifetime"));
    b.bytes = reqUInt(buffers[i], "bytes", path);
    b.alignment = reqUInt(buffers[i], "alignment", path);
    b.offset = reqUInt(buffers[i], "offset", path);
    m.buffers.push_back(std::move(b));
  }

  const json &weights = requireArray(root, "weights", "");
  for (size_t i = 0; i < weights.size(); ++i) {
    std::string path = element("weights", i);
    const json &wj = weights[i];
    expectObject(wj, path);
    Weight w;
    w.buffer = reqName(wj, "buffer", path);
    w.sources = reqStrings(wj, "sources", path);
    w.dtype = reqDType(wj, "dtype", path);
    const json &shape = requireArray(wj, "shape", path);
    for (size_t d = 0; d < shape.size(); ++d)
      w.shape.push_back(asInt(shape[d], element(member(path, "shape"), d)));
    std::string storage = reqString(wj, "storage", path);
    if (storage == "packed") {
      w.storage = WeightStorage::Packed;
      w.section = reqName(wj, "section", path);
      w.sectionOffset = reqUInt(wj, "offset", path);
    } else if (storage == "checkpoint") {
      w.storage = WeightStorage::Checkpoint;
    } else {
      fail(member(path, "storage"),
           "is '" + oneLine(storage) + "', expected packed or checkpoint");
    }
    m.weights.push_back(std::move(w));
  }

  const json &kernels = requireArray(root, "kernels", "");
  for (size_t i = 0; i < kernels.size(); ++i) {
    std::string path = element("kernels", i);
    const json &kj = kernels[i];
    expectObject(kj, path);
    Kernel k;
    k.name = reqName(kj, "name", path);
    k.section = reqName(kj, "section", path);
    k.entry = reqName(kj, "entry", path);
    k.grid = reqDims(kj, "grid", path);
    k.block = reqDims(kj, "block", path);
    k.dynamicSmemBytes = reqUInt(kj, "dynamic_smem", path);
    const json &params = requireArray(kj, "params", path);
    for (size_t p = 0; p < params.size(); ++p) {
      std::string ppath = element(member(path, "params"), p);
      expectObject(params[p], ppath);
      KernelParam param;
      param.name = reqName(params[p], "name", ppath);
      param.type = unwrap(parseParamType(reqString(params[p], "type", ppath)),
                          member(ppath, "type"));
      k.params.push_back(std::move(param));
    }
    m.kernels.push_back(std::move(k));
  }

  const json &entries = requireArray(root, "entry_points", "");
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string path = element("entry_points", i);
    const json &ej = entries[i];
    expectObject(ej, path);
    EntryPoint e;
    e.name = reqName(ej, "name", path);
    e.inputs = reqStrings(ej, "inputs", path);
    e.outputs = reqStrings(ej, "outputs", path);
    const json &steps = requireArray(ej, "steps", path);
    for (size_t s = 0; s < steps.size(); ++s)
      e.steps.push_back(parseStep(steps[s], element(member(path, "steps"), s)));
    m.entryPoints.push_back(std::move(e));
  }
  return m;
}

} // namespace

Result<Manifest> mm01::engine::parseManifest(const std::string &jsonText) {
  try {
    json root;
    try {
      root = json::parse(jsonText);
    } catch (const json::exception &e) {
      return makeError("malformed manifest: invalid JSON: " + oneLine(e.what()));
    }
    return parseRoot(root);
  } catch (const ManifestError &e) {
    return makeError("malformed manifest: " + e.message);
  } catch (const std::exception &e) {
    return makeError("malformed manifest: " + oneLine(e.what()));
  } catch (...) {
    return makeError("malformed manifest: unexpected error while parsing");
  }
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {

bool isPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

class Validator {
public:
  Validator(const Manifest &m, const std::vector<SectionInfo> &sections)
      : m_(m) {
    for (const SectionInfo &s : sections)
      sections_[s.name] = &s;
  }

  void run() {
    Result<ArchTarget> arch = parseArch(m_.arch);
    if (!arch)
      fail("arch", ": " + arch.error());
    if (m_.formatVersion != kFormatVersion)
      fail("format_version", "is " + std::to_string(m_.formatVersion) +
                                 ", expected " + std::to_string(kFormatVersion));
    Status model = m_.model.validate();
    if (!model)
      fail("model", ": " + model.error());
    checkOptions();
    checkBuffers();
    checkWeights();
    checkKernels();
    for (size_t i = 0; i < m_.entryPoints.size(); ++i)
      checkEntryPoint(m_.entryPoints[i], element("entry_points", i));
    std::set<std::string> names;
    for (size_t i = 0; i < m_.entryPoints.size(); ++i)
      if (!names.insert(m_.entryPoints[i].name).second)
        fail(element("entry_points", i) + ".name",
             "repeats the entry point '" + m_.entryPoints[i].name + "'");
  }

private:
  const Manifest &m_;
  std::map<std::string, const SectionInfo *> sections_;

  void checkOptions() {
    const CompileOptions &o = m_.options;
    if (o.maxBatch < 1)
      fail("options.max_batch", "must be positive, found " + std::to_string(o.maxBatch));
    if (o.maxContext < 1)
      fail("options.max_context",
           "must be positive, found " + std::to_string(o.maxContext));
    if (o.worldSize < 1)
      fail("options.world_size",
           "must be positive, found " + std::to_string(o.worldSize));
    if (o.rank < 0 || o.rank >= o.worldSize)
      fail("options.rank", "is " + std::to_string(o.rank) + ", expected 0.." +
                               std::to_string(o.worldSize - 1));
  }

  void checkName(const std::string &name, const std::string &path) {
    if (name.empty())
      fail(path, "must not be empty");
  }

  void checkBuffers() {
    std::set<std::string> names;
    for (size_t i = 0; i < m_.buffers.size(); ++i) {
      const Buffer &b = m_.buffers[i];
      std::string path = element("buffers", i);
      checkName(b.name, path + ".name");
      if (!names.insert(b.name).second)
        fail(path + ".name", "repeats the buffer '" + b.name + "'");
      if (!isPowerOfTwo(b.alignment))
        fail(path + ".alignment", "is " + std::to_string(b.alignment) +
                                      ", not a power of two");
      if (b.offset % b.alignment != 0)
        fail(path + ".offset", "is " + std::to_string(b.offset) +
                                   ", not a multiple of the alignment " +
                                   std::to_string(b.alignment));
      uint64_t end;
      if (__builtin_add_overflow(b.offset, b.bytes, &end))
        fail(path + ".bytes", "plus the offset overflows");
    }
    // Persistent classes hold data across calls: no two buffers may share
    // bytes. (Activation and workspace buffers may, by design.)
    for (Lifetime lifetime : {Lifetime::Weights, Lifetime::State, Lifetime::KVCache}) {
      std::vector<size_t> order;
      for (size_t i = 0; i < m_.buffers.size(); ++i)
        if (m_.buffers[i].lifetime == lifetime && m_.buffers[i].bytes > 0)
          order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return m_.buffers[a].offset < m_.buffers[b].offset;
      });
      for (size_t j = 1; j < order.size(); ++j) {
        const Buffer &prev = m_.buffers[order[j - 1]];
        const Buffer &cur = m_.buffers[order[j]];
        if (cur.offset < prev.offset + prev.bytes)
          fail(element("buffers", order[j]) + ".offset",
               "places " + std::string(lifetimeName(lifetime)) + " buffer '" +
                   cur.name + "' inside '" + prev.name + "' (bytes " +
                   std::to_string(prev.offset) + ".." +
                   std::to_string(prev.offset + prev.bytes) + ")");
      }
    }
  }

  const SectionInfo *section(const std::string &name) const {
    auto it = sections_.find(name);
    return it == sections_.end() ? nullptr : it->second;
  }

  void checkWeights() {
    std::set<std::string> buffers;
    bool needsCheckpoint = false;
    for (size_t i = 0; i < m_.weights.size(); ++i) {
      const Weight &w = m_.weights[i];
      std::string path = element("weights", i);
      const Buffer *b = m_.findBuffer(w.buffer);
      if (!b)
        fail(path + ".buffer", "names no buffer ('" + w.buffer + "')");
      if (b->lifetime != Lifetime::Weights)
        fail(path + ".buffer", "names buffer '" + w.buffer + "' of lifetime " +
                                   lifetimeName(b->lifetime) +
                                   ", expected weights");
      if (!buffers.insert(w.buffer).second)
        fail(path + ".buffer", "loads buffer '" + w.buffer + "' a second time");
      if (w.sources.empty())
        fail(path + ".sources", "must name at least one checkpoint tensor");
      for (size_t d = 0; d < w.shape.size(); ++d)
        if (w.shape[d] < 0)
          fail(element(path + ".shape", d),
               "is " + std::to_string(w.shape[d]) + ", negative");
      uint64_t bytes = w.byteSize();
      if (bytes == 0 && !w.shape.empty() &&
          std::find(w.shape.begin(), w.shape.end(), 0) == w.shape.end())
        fail(path + ".shape", "is too large (" + shapeToString(w.shape) + ")");
      if (bytes > b->bytes)
        fail(path, "is " + std::to_string(bytes) + " bytes (" +
                       dtypeName(w.dtype) + " " + shapeToString(w.shape) +
                       ") but buffer '" + b->name + "' holds " +
                       std::to_string(b->bytes));
      if (w.storage == WeightStorage::Packed) {
        const SectionInfo *s = section(w.section);
        if (!s)
          fail(path + ".section", "names no section ('" + w.section + "')");
        if (s->kind != SectionKind::Weights)
          fail(path + ".section", "names section '" + w.section + "' of kind " +
                                      sectionKindName(s->kind) +
                                      ", expected weights");
        uint64_t end;
        if (__builtin_add_overflow(w.sectionOffset, bytes, &end) || end > s->size)
          fail(path + ".offset",
               "places " + std::to_string(bytes) + " bytes at " +
                   std::to_string(w.sectionOffset) + ", past the end of section '" +
                   s->name + "' (" + std::to_string(s->size) + " bytes)");
      } else {
        needsCheckpoint = true;
        if (w.sources.size() != 1)
          fail(path + ".sources", "must name exactly one tensor for storage "
                                  "checkpoint, found " +
                                      std::to_string(w.sources.size()));
      }
    }
    if (needsCheckpoint && !m_.checkpoint)
      fail("checkpoint", "is missing (weights with storage checkpoint need it)");
    if (m_.checkpoint) {
      if (m_.checkpoint->path.empty())
        fail("checkpoint.path", "must not be empty");
      std::set<std::string> files;
      for (size_t i = 0; i < m_.checkpoint->files.size(); ++i) {
        const std::string &f = m_.checkpoint->files[i].file;
        std::string path = element("checkpoint.files", i) + ".file";
        checkName(f, path);
        if (!files.insert(f).second)
          fail(path, "repeats the file '" + f + "'");
      }
    }
  }

  void checkKernels() {
    std::set<std::string> names;
    for (size_t i = 0; i < m_.kernels.size(); ++i) {
      const Kernel &k = m_.kernels[i];
      std::string path = element("kernels", i);
      checkName(k.name, path + ".name");
      checkName(k.entry, path + ".entry");
      if (!names.insert(k.name).second)
        fail(path + ".name", "repeats the kernel '" + k.name + "'");
      const SectionInfo *s = section(k.section);
      if (!s)
        fail(path + ".section", "names no section ('" + k.section + "')");
      if (!isKernelImage(s->kind))
        fail(path + ".section", "names section '" + k.section + "' of kind " +
                                    sectionKindName(s->kind) +
                                    ", expected cubin, ptx or fatbin");
      int64_t threads = 1;
      bool constantBlock = true;
      for (int d = 0; d < 3; ++d) {
        for (const auto &[dims, name] :
             {std::make_pair(&k.grid, "grid"), std::make_pair(&k.block, "block")}) {
          std::optional<int64_t> v = (*dims)[d].constant();
          if (v && *v < 1)
            fail(element(path + "." + name, d),
                 "is " + std::to_string(*v) + ", must be at least 1");
        }
        std::optional<int64_t> b = k.block[d].constant();
        if (b) // each factor is >= 1 here; clamp so the product cannot overflow
          threads = std::min<int64_t>(threads, 1 << 20) * std::min<int64_t>(*b, 1 << 20);
        else
          constantBlock = false;
      }
      if (constantBlock && threads > 1024)
        fail(path + ".block", "has " + std::to_string(threads) +
                                  " threads, more than 1024");
      std::set<std::string> params;
      for (size_t p = 0; p < k.params.size(); ++p) {
        std::string ppath = element(path + ".params", p) + ".name";
        checkName(k.params[p].name, ppath);
        if (!params.insert(k.params[p].name).second)
          fail(ppath, "repeats the parameter '" + k.params[p].name + "'");
      }
    }
  }

  void checkRef(const BufferRef &ref, const std::string &path) {
    const Buffer *b = m_.findBuffer(ref.buffer);
    if (!b)
      fail(path + ".buffer", "names no buffer ('" + ref.buffer + "')");
    std::optional<int64_t> offset = ref.offset.constant();
    if (offset && (*offset < 0 || static_cast<uint64_t>(*offset) > b->bytes))
      fail(path + ".offset", "is " + std::to_string(*offset) +
                                 ", outside buffer '" + b->name + "' (" +
                                 std::to_string(b->bytes) + " bytes)");
  }

  void checkEntryPoint(const EntryPoint &e, const std::string &path) {
    checkName(e.name, path + ".name");
    for (const auto &[list, key] :
         {std::make_pair(&e.inputs, "inputs"), std::make_pair(&e.outputs, "outputs")})
      for (size_t i = 0; i < list->size(); ++i)
        if (!m_.findBuffer((*list)[i]))
          fail(element(path + "." + key, i), "names no buffer ('" + (*list)[i] + "')");
    for (size_t s = 0; s < e.steps.size(); ++s) {
      checkStep(e.steps[s].body, element(path + ".steps", s));
      // An overlapping launch waits for its predecessor's grid with
      // griddepcontrol.wait, which only a kernel's grid satisfies.
      const auto *launch = std::get_if<KernelLaunch>(&e.steps[s].body);
      if (!launch || !launch->overlapPrevious)
        continue;
      if (s == 0 || !std::holds_alternative<KernelLaunch>(e.steps[s - 1].body))
        fail(element(path + ".steps", s) + ".overlap_previous",
             s == 0 ? "is set on the first step (there is no previous kernel to "
                      "overlap)"
                    : "is set, but the previous step is a " +
                          std::string(stepKindName(e.steps[s - 1].body)) +
                          ", not a kernel launch");
      // ... and it must run exactly when that launch runs: after a skipped
      // step it would overlap whatever ran before.
      const std::optional<DimExpr> &when = e.steps[s].when;
      const std::optional<DimExpr> &prevWhen = e.steps[s - 1].when;
      if (when != prevWhen)
        fail(element(path + ".steps", s) + ".overlap_previous",
             "is set, but the step runs " + describeWhen(when) +
                 " and the previous step " + describeWhen(prevWhen) +
                 " (an overlapped launch needs the same 'when' as the launch "
                 "before it)");
    }
  }

  static std::string describeWhen(const std::optional<DimExpr> &when) {
    return when ? "when '" + when->text() + "'" : "always";
  }

  void checkStep(const StepBody &body, const std::string &path) {
    if (const auto *launch = std::get_if<KernelLaunch>(&body)) {
      const Kernel *k = m_.findKernel(launch->kernel);
      if (!k)
        fail(path + ".kernel", "names no kernel ('" + launch->kernel + "')");
      if (launch->args.size() != k->params.size())
        fail(path + ".args", "has " + std::to_string(launch->args.size()) +
                                 " arguments, kernel '" + k->name + "' takes " +
                                 std::to_string(k->params.size()));
      for (size_t i = 0; i < launch->args.size(); ++i) {
        const KernelArg &arg = launch->args[i];
        const KernelParam &param = k->params[i];
        std::string apath = element(path + ".args", i);
        KernelArg::Kind expected = param.type == ParamType::Ptr ? KernelArg::Kind::Buffer
                                   : param.type == ParamType::F32
                                       ? KernelArg::Kind::Float
                                       : KernelArg::Kind::Int;
        if (arg.kind != expected) {
          static const char *const kindNames[] = {"a buffer", "an int", "a float"};
          fail(apath, std::string("is ") + kindNames[static_cast<int>(arg.kind)] +
                          ", parameter '" + param.name + "' (" +
                          paramTypeName(param.type) + ") of kernel '" + k->name +
                          "' takes " + kindNames[static_cast<int>(expected)]);
        }
        if (arg.kind == KernelArg::Kind::Buffer)
          checkRef(arg.buffer, apath);
        if (arg.kind == KernelArg::Kind::Float && !std::isfinite(arg.floatValue))
          fail(apath + ".float", "must be finite");
      }
    } else if (const auto *g = std::get_if<GemmCall>(&body)) {
      checkRef(g->a, path + ".a");
      checkRef(g->b, path + ".b");
      checkRef(g->c, path + ".c");
      if (!std::isfinite(g->alpha))
        fail(path + ".alpha", "must be finite");
      if (!std::isfinite(g->beta))
        fail(path + ".beta", "must be finite");
      for (const auto &[dim, key] : {std::make_pair(&g->m, "m"),
                                      std::make_pair(&g->n, "n"),
                                      std::make_pair(&g->k, "k")}) {
        std::optional<int64_t> v = dim->constant();
        if (v && *v < 0)
          fail(path + "." + key, "is " + std::to_string(*v) + ", negative");
      }
    } else if (const auto *c = std::get_if<CollectiveCall>(&body)) {
      checkRef(c->send, path + ".send");
      checkRef(c->recv, path + ".recv");
      if (c->op == CollectiveOp::Broadcast &&
          (c->root < 0 || c->root >= m_.options.worldSize))
        fail(path + ".root", "is " + std::to_string(c->root) + ", expected 0.." +
                                 std::to_string(m_.options.worldSize - 1));
    } else if (const auto *ms = std::get_if<MemsetCall>(&body)) {
      checkRef(ms->dst, path + ".dst");
    } else if (const auto *cp = std::get_if<CopyCall>(&body)) {
      checkRef(cp->src, path + ".src");
      checkRef(cp->dst, path + ".dst");
    }
  }
};

} // namespace

Status mm01::engine::validateManifest(const Manifest &manifest,
                                      const std::vector<SectionInfo> &sections) {
  try {
    Validator(manifest, sections).run();
    return Status::success();
  } catch (const ManifestError &e) {
    return makeError("malformed manifest: " + e.message);
  } catch (const std::exception &e) {
    return makeError("malformed manifest: " + oneLine(e.what()));
  } catch (...) {
    return makeError("malformed manifest: unexpected error while validating");
  }
}
