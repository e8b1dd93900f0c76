//===- Resolve.cpp - evaluate an entry point's steps for one call ----------===//
#include "mm01/Runtime/Resolve.h"

#include <cctype>
#include <cstring>
#include <limits>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::runtime;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// Evaluation context of one step; errors are prefixed with where they are.
class StepResolver {
public:
  StepResolver(const Manifest &m, const EntryPoint &entry, const DimEnv &env,
               const ArenaBases &arenas, size_t index)
      : m(m), entry(entry), env(env), arenas(arenas), index(index) {}

  Error fail(const std::string &message) const {
    std::string where = "entry point '" + entry.name + "' step " + str(index);
    const std::string &label = entry.steps[index].label;
    if (!label.empty())
      where += " (" + label + ")";
    return makeError(where + ": " + message);
  }

  Result<int64_t> eval(const std::string &field, const DimExpr &e) const {
    Result<int64_t> v = e.evaluate(env);
    if (!v)
      return fail(field + " = '" + e.text() + "': " + v.error());
    return v;
  }

  Result<int64_t> positive(const std::string &field, const DimExpr &e) const {
    Result<int64_t> v = eval(field, e);
    if (v && *v < 1)
      return fail(field + " = '" + e.text() + "' evaluates to " + str(*v) +
                  ", must be positive");
    return v;
  }

  Result<int64_t> nonNegative(const std::string &field, const DimExpr &e) const {
    Result<int64_t> v = eval(field, e);
    if (v && *v < 0)
      return fail(field + " = '" + e.text() + "' evaluates to " + str(*v) +
                  ", must not be negative");
    return v;
  }

  /// The device address of `ref`, checking that `accessBytes` from it stay
  /// inside the buffer.
  Result<uint64_t> address(const std::string &field, const BufferRef &ref,
                           uint64_t accessBytes) const {
    const Buffer *buffer = m.findBuffer(ref.buffer);
    if (!buffer)
      return fail(field + " names no buffer ('" + ref.buffer + "')");
    Result<int64_t> offset = nonNegative(field + ".offset", ref.offset);
    if (!offset)
      return offset.takeError();
    uint64_t off = static_cast<uint64_t>(*offset);
    if (off > buffer->bytes || accessBytes > buffer->bytes - off)
      return fail(field + ": " + std::to_string(accessBytes) + " bytes at offset " +
                  std::to_string(off) + " exceed buffer '" + buffer->name + "' (" +
                  std::to_string(buffer->bytes) + " bytes)");
    return arenas[static_cast<int>(buffer->lifetime)] + buffer->offset + off;
  }

  Result<ResolvedLaunch> launch(const KernelLaunch &call) const;
  Result<ResolvedGemm> gemm(const GemmCall &call) const;
  Result<ResolvedMemset> memset(const MemsetCall &call) const;
  Result<std::optional<ResolvedCopy>> copy(const CopyCall &call) const;
  Result<std::optional<ResolvedCopy>> collective(const CollectiveCall &call) const;

private:
  const Manifest &m;
  const EntryPoint &entry;
  const DimEnv &env;
  const ArenaBases &arenas;
  size_t index;
};

template <typename T> void append(std::vector<uint8_t> &bytes, T value) {
  size_t at = (bytes.size() + sizeof(T) - 1) / sizeof(T) * sizeof(T);
  bytes.resize(at + sizeof(T));
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

Result<ResolvedLaunch> StepResolver::launch(const KernelLaunch &call) const {
  const Kernel *kernel = m.findKernel(call.kernel);
  if (!kernel)
    return fail("names no kernel ('" + call.kernel + "')");
  ResolvedLaunch out;
  out.kernel = static_cast<size_t>(kernel - m.kernels.data());
  // CUDA's limits: grid x < 2^31, y and z < 2^16; block x, y <= 1024,
  // z <= 64, at most 1024 threads.
  static const int64_t gridMax[3] = {std::numeric_limits<int32_t>::max(), 65535, 65535};
  static const int64_t blockMax[3] = {1024, 1024, 64};
  static const char *const axis[3] = {"x", "y", "z"};
  int64_t threads = 1;
  for (int i = 0; i < 3; ++i) {
    std::string g = "kernel '" + kernel->name + "' grid." + axis[i];
    Result<int64_t> gv = positive(g, kernel->grid[i]);
    if (!gv)
      return gv.takeError();
    if (*gv > gridMax[i])
      return fail(g + " = " + str(*gv) + " exceeds CUDA's limit " + str(gridMax[i]));
    std::string b = "kernel '" + kernel->name + "' block." + axis[i];
    Result<int64_t> bv = positive(b, kernel->block[i]);
    if (!bv)
      return bv.takeError();
    if (*bv > blockMax[i])
      return fail(b + " = " + str(*bv) + " exceeds CUDA's limit " + str(blockMax[i]));
    threads *= *bv;
    out.grid[i] = static_cast<uint32_t>(*gv);
    out.block[i] = static_cast<uint32_t>(*bv);
  }
  if (threads > 1024)
    return fail("kernel '" + kernel->name + "' has " + str(threads) +
                " threads per block, CUDA allows 1024");
  if (kernel->dynamicSmemBytes > std::numeric_limits<uint32_t>::max())
    return fail("kernel '" + kernel->name + "' dynamic_smem is too large");
  out.sharedBytes = static_cast<uint32_t>(kernel->dynamicSmemBytes);
  out.overlapPrevious = call.overlapPrevious;
  if (call.args.size() != kernel->params.size())
    return fail("kernel '" + kernel->name + "' takes " + str(kernel->params.size()) +
                " parameters, the step passes " + str(call.args.size()));

  for (size_t i = 0; i < call.args.size(); ++i) {
    const KernelParam &param = kernel->params[i];
    const KernelArg &arg = call.args[i];
    std::string field = "args[" + str(i) + "] (" + param.name + ")";
    const bool wantBuffer = param.type == ParamType::Ptr;
    const bool wantFloat = param.type == ParamType::F32;
    if ((arg.kind == KernelArg::Kind::Buffer) != wantBuffer ||
        (arg.kind == KernelArg::Kind::Float) != wantFloat)
      return fail(field + ": argument kind does not match parameter type " +
                  paramTypeName(param.type));
    switch (param.type) {
    case ParamType::Ptr: {
      Result<uint64_t> addr = address(field, arg.buffer, 0);
      if (!addr)
        return addr.takeError();
      append<uint64_t>(out.params, *addr);
      break;
    }
    case ParamType::F32:
      append<float>(out.params, static_cast<float>(arg.floatValue));
      break;
    default: {
      Result<int64_t> v = eval(field, arg.value);
      if (!v)
        return v.takeError();
      int64_t lo = 0, hi = std::numeric_limits<int64_t>::max();
      if (param.type == ParamType::I32) {
        lo = std::numeric_limits<int32_t>::min();
        hi = std::numeric_limits<int32_t>::max();
      } else if (param.type == ParamType::U32) {
        hi = std::numeric_limits<uint32_t>::max();
      } else if (param.type == ParamType::I64) {
        lo = std::numeric_limits<int64_t>::min();
      }
      if (*v < lo || *v > hi)
        return fail(field + " = " + str(*v) + " does not fit " +
                    paramTypeName(param.type));
      if (param.type == ParamType::I32)
        append<int32_t>(out.params, static_cast<int32_t>(*v));
      else if (param.type == ParamType::U32)
        append<uint32_t>(out.params, static_cast<uint32_t>(*v));
      else if (param.type == ParamType::I64)
        append<int64_t>(out.params, *v);
      else
        append<uint64_t>(out.params, static_cast<uint64_t>(*v));
      break;
    }
    }
    out.offsets.push_back(out.params.size() - paramTypeSize(param.type));
  }
  return out;
}

/// Bytes spanned by `extent` elements of `dtype`, refusing overflow.
Result<uint64_t> spanBytes(int64_t extent, DType dtype) {
  uint64_t bytes = 0;
  if (extent < 0 ||
      __builtin_mul_overflow(static_cast<uint64_t>(extent), dtypeSize(dtype), &bytes))
    return makeError("overflow");
  return bytes;
}

Result<ResolvedGemm> StepResolver::gemm(const GemmCall &call) const {
  if (Status s = checkGemmTypes(call.aType, call.bType, call.cType); !s)
    return fail(s.error());
  RowMajorGemm g;
  Result<int64_t> mv = positive("m", call.m), nv = positive("n", call.n),
                  kv = positive("k", call.k);
  if (!mv)
    return mv.takeError();
  if (!nv)
    return nv.takeError();
  if (!kv)
    return kv.takeError();
  g.m = *mv;
  g.n = *nv;
  g.k = *kv;
  g.transA = call.transA;
  g.transB = call.transB;
  const std::pair<const char *, const std::optional<DimExpr> *> lds[3] = {
      {"lda", &call.lda}, {"ldb", &call.ldb}, {"ldc", &call.ldc}};
  std::optional<int64_t> *outs[3] = {&g.lda, &g.ldb, &g.ldc};
  for (int i = 0; i < 3; ++i)
    if (*lds[i].second) {
      Result<int64_t> v = positive(lds[i].first, **lds[i].second);
      if (!v)
        return v.takeError();
      *outs[i] = *v;
    }
  Result<LtGemm> lt = toColumnMajor(g);
  if (!lt)
    return fail(lt.error());

  ResolvedGemm out;
  out.lt = *lt;
  out.aType = call.aType;
  out.bType = call.bType;
  out.cType = call.cType;
  out.alpha = static_cast<float>(call.alpha);
  out.beta = static_cast<float>(call.beta);
  // cuBLASLt's first operand is our B, its second our A.
  struct Operand {
    const char *name;
    const BufferRef *ref;
    const LtOperand *lt;
    DType type;
    uint64_t *addr;
  } operands[3] = {{"a", &call.a, &out.lt.b, call.aType, &out.a},
                   {"b", &call.b, &out.lt.a, call.bType, &out.b},
                   {"c", &call.c, &out.lt.c, call.cType, &out.c}};
  for (const Operand &op : operands) {
    int64_t extent = 0;
    if (__builtin_mul_overflow(op.lt->cols - 1, op.lt->ld, &extent) ||
        __builtin_add_overflow(extent, op.lt->rows, &extent))
      return fail(std::string(op.name) + ": matrix extent overflows");
    Result<uint64_t> bytes = spanBytes(extent, op.type);
    if (!bytes)
      return fail(std::string(op.name) + ": matrix extent overflows");
    Result<uint64_t> addr = address(op.name, *op.ref, *bytes);
    if (!addr)
      return addr.takeError();
    *op.addr = *addr;
  }
  return out;
}

Result<ResolvedMemset> StepResolver::memset(const MemsetCall &call) const {
  Result<int64_t> bytes = nonNegative("bytes", call.bytes);
  if (!bytes)
    return bytes.takeError();
  Result<uint64_t> dst = address("dst", call.dst, static_cast<uint64_t>(*bytes));
  if (!dst)
    return dst.takeError();
  return ResolvedMemset{*dst, static_cast<uint64_t>(*bytes), call.value};
}

Result<std::optional<ResolvedCopy>> StepResolver::copy(const CopyCall &call) const {
  Result<int64_t> bytes = nonNegative("bytes", call.bytes);
  if (!bytes)
    return bytes.takeError();
  uint64_t n = static_cast<uint64_t>(*bytes);
  Result<uint64_t> src = address("src", call.src, n), dst = address("dst", call.dst, n);
  if (!src)
    return src.takeError();
  if (!dst)
    return dst.takeError();
  if (n == 0)
    return std::optional<ResolvedCopy>();
  return std::optional<ResolvedCopy>(ResolvedCopy{*src, *dst, n});
}

Result<std::optional<ResolvedCopy>>
StepResolver::collective(const CollectiveCall &call) const {
  if (m.options.worldSize != 1)
    return fail(std::string(collectiveOpName(call.op)) +
                " needs NCCL: multi-rank engines (world_size " +
                str(m.options.worldSize) + ") are not supported by this runtime yet");
  // With one rank every collective leaves each element where a copy from
  // send to receive puts it (NCCL counts elements per rank).
  Result<int64_t> count = nonNegative("count", call.count);
  if (!count)
    return count.takeError();
  Result<uint64_t> bytes = spanBytes(*count, call.dtype);
  if (!bytes)
    return fail("count " + str(*count) + " overflows");
  Result<uint64_t> send = address("send", call.send, *bytes),
                   recv = address("recv", call.recv, *bytes);
  if (!send)
    return send.takeError();
  if (!recv)
    return recv.takeError();
  if (*bytes == 0 || *send == *recv)
    return std::optional<ResolvedCopy>();
  return std::optional<ResolvedCopy>(ResolvedCopy{*send, *recv, *bytes});
}

} // namespace

Status mm01::runtime::checkGemmTypes(DType a, DType b, DType c) {
  bool ok = a == b && ((a == DType::BF16 && (c == DType::BF16 || c == DType::F32)) ||
                       (a == DType::F16 && (c == DType::F16 || c == DType::F32)) ||
                       (a == DType::F32 && c == DType::F32));
  if (ok)
    return Status::success();
  return makeError(std::string("gemm types ") + dtypeName(a) + " x " + dtypeName(b) +
                   " -> " + dtypeName(c) +
                   " are not supported (with f32 compute: BF16 -> BF16|F32, "
                   "F16 -> F16|F32, F32 -> F32, A and B alike)");
}

Result<std::vector<ResolvedStep>>
mm01::runtime::resolveEntryPoint(const Manifest &manifest, const EntryPoint &entry,
                                 const DimEnv &env, const ArenaBases &arenas) {
  std::vector<ResolvedStep> steps;
  steps.reserve(entry.steps.size());
  bool previousSkipped = false;
  for (size_t i = 0; i < entry.steps.size(); ++i) {
    StepResolver r(manifest, entry, env, arenas, i);
    const StepBody &body = entry.steps[i].body;
    bool skipped = false;
    if (const std::optional<DimExpr> &when = entry.steps[i].when) {
      Result<int64_t> runs = r.eval("when", *when);
      if (!runs)
        return runs.takeError();
      skipped = *runs == 0;
    }
    bool afterSkipped = previousSkipped;
    previousSkipped = skipped;
    if (skipped)
      continue;
    if (auto *k = std::get_if<KernelLaunch>(&body)) {
      // validateManifest gives an overlapped launch the condition of the
      // launch before it; a manifest built in memory may not have been
      // validated, and the launch would then overlap an unrelated step.
      if (k->overlapPrevious && afterSkipped)
        return r.fail("overlap_previous is set, but the previous step does not run "
                      "for this call (its 'when' is 0)");
      Result<ResolvedLaunch> v = r.launch(*k);
      if (!v)
        return v.takeError();
      steps.push_back({i, std::move(*v)});
    } else if (auto *g = std::get_if<GemmCall>(&body)) {
      Result<ResolvedGemm> v = r.gemm(*g);
      if (!v)
        return v.takeError();
      steps.push_back({i, *v});
    } else if (auto *s = std::get_if<MemsetCall>(&body)) {
      Result<ResolvedMemset> v = r.memset(*s);
      if (!v)
        return v.takeError();
      if (v->bytes > 0)
        steps.push_back({i, *v});
    } else {
      Result<std::optional<ResolvedCopy>> v =
          std::holds_alternative<CopyCall>(body)
              ? r.copy(std::get<CopyCall>(body))
              : r.collective(std::get<CollectiveCall>(body));
      if (!v)
        return v.takeError();
      if (*v)
        steps.push_back({i, **v});
    }
  }
  return steps;
}

std::vector<std::string> mm01::runtime::symbolsOf(const DimExpr &expr) {
  // The grammar's identifiers are the symbols and the functions (followed
  // by '('); DimExpr keeps its program private, so read the source text.
  std::vector<std::string> symbols;
  const std::string &t = expr.text();
  for (size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (!std::isalpha(c) && c != '_') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < t.size() &&
           (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_'))
      ++j;
    std::string word = t.substr(i, j - i);
    size_t k = j;
    while (k < t.size() && std::isspace(static_cast<unsigned char>(t[k])))
      ++k;
    bool isCall = k < t.size() && t[k] == '(';
    if (!isCall) {
      bool seen = false;
      for (const std::string &s : symbols)
        seen = seen || s == word;
      if (!seen)
        symbols.push_back(word);
    }
    i = j;
  }
  return symbols;
}

Status mm01::runtime::checkDependsOnBatchOnly(const Manifest &manifest,
                                              const EntryPoint &entry) {
  for (size_t i = 0; i < entry.steps.size(); ++i) {
    std::vector<std::pair<std::string, const DimExpr *>> exprs;
    auto ref = [&](const std::string &field, const BufferRef &r) {
      exprs.push_back({field + ".offset", &r.offset});
    };
    const StepBody &body = entry.steps[i].body;
    // A graph replays the steps captured for the first call of its batch
    // size: which steps run must follow from the batch too.
    if (entry.steps[i].when)
      exprs.push_back({"when", &*entry.steps[i].when});
    if (auto *k = std::get_if<KernelLaunch>(&body)) {
      if (const Kernel *kernel = manifest.findKernel(k->kernel))
        for (int d = 0; d < 3; ++d) {
          exprs.push_back({"kernel '" + kernel->name + "' grid", &kernel->grid[d]});
          exprs.push_back({"kernel '" + kernel->name + "' block", &kernel->block[d]});
        }
      for (size_t a = 0; a < k->args.size(); ++a) {
        std::string field = "args[" + str(a) + "]";
        if (k->args[a].kind == KernelArg::Kind::Buffer)
          ref(field, k->args[a].buffer);
        else if (k->args[a].kind == KernelArg::Kind::Int)
          exprs.push_back({field, &k->args[a].value});
      }
    } else if (auto *g = std::get_if<GemmCall>(&body)) {
      exprs.push_back({"m", &g->m});
      exprs.push_back({"n", &g->n});
      exprs.push_back({"k", &g->k});
      ref("a", g->a);
      ref("b", g->b);
      ref("c", g->c);
      if (g->lda) exprs.push_back({"lda", &*g->lda});
      if (g->ldb) exprs.push_back({"ldb", &*g->ldb});
      if (g->ldc) exprs.push_back({"ldc", &*g->ldc});
    } else if (auto *c = std::get_if<CollectiveCall>(&body)) {
      exprs.push_back({"count", &c->count});
      ref("send", c->send);
      ref("recv", c->recv);
    } else if (auto *s = std::get_if<MemsetCall>(&body)) {
      exprs.push_back({"bytes", &s->bytes});
      ref("dst", s->dst);
    } else if (auto *c = std::get_if<CopyCall>(&body)) {
      exprs.push_back({"bytes", &c->bytes});
      ref("src", c->src);
      ref("dst", c->dst);
    }
    for (const auto &[field, e] : exprs)
      for (const std::string &symbol : symbolsOf(*e))
        if (symbol != "batch") {
          std::string where = "step " + str(i);
          if (!entry.steps[i].label.empty())
            where += " (" + entry.steps[i].label + ")";
          return makeError("entry point '" + entry.name +
                           "' cannot be captured as a CUDA graph: " + where + " " +
                           field + " = '" + e->text() + "' uses '" + symbol +
                           "' (a graph is captured once per batch size, so its "
                           "steps may depend on 'batch' only)");
        }
  }
  return Status::success();
}
