//===- ManifestTest.cpp - manifest JSON schema and validation -------------===//

#include "SampleEngine.h"

#include "../TestUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <set>

using namespace mm01;
using namespace mm01::engine;
using namespace mm01::engine::test;
using json = nlohmann::json;

namespace {

EngineWriter sample() {
  Result<EngineWriter> writer = makeSampleEngine();
  EXPECT_TRUE(writer.ok()) << writer.error();
  return std::move(writer).value();
}

json sampleJson() { return json::parse(manifestToJson(sample().manifest())); }

/// "/kernels/0/entry" -> "kernels[0].entry".
std::string dotted(const std::string &pointer) {
  std::string out;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t next = pointer.find('/', pos);
    if (next == std::string::npos)
      next = pointer.size();
    std::string token = pointer.substr(pos, next - pos);
    if (!token.empty() && std::isdigit(static_cast<unsigned char>(token[0])))
      out += "[" + token + "]";
    else
      out += (out.empty() ? "" : ".") + token;
    pos = next + 1;
  }
  return out;
}

Result<Manifest> parseEdited(const std::function<void(json &)> &edit) {
  json j = sampleJson();
  edit(j);
  return parseManifest(j.dump());
}

/// Validates an edited sample manifest against the sample's sections.
Status validateEdited(const std::function<void(Manifest &)> &edit) {
  EngineWriter writer = sample();
  edit(writer.manifest());
  return validateManifest(writer.manifest(), writer.sectionTable());
}

} // namespace

TEST(EngineManifest, JsonRoundTrip) {
  EngineWriter writer = sample();
  std::string text = manifestToJson(writer.manifest());
  Result<Manifest> parsed = parseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(manifestToJson(*parsed), text);
  EXPECT_TRUE(validateManifest(*parsed, writer.sectionTable()).ok());

  // Every kind of step survives, with its fields.
  const EntryPoint *prefill = parsed->findEntryPoint("prefill");
  const EntryPoint *decode = parsed->findEntryPoint("decode");
  ASSERT_TRUE(prefill && decode);
  std::set<std::string> kinds;
  for (const EntryPoint *e : {prefill, decode})
    for (const Step &s : e->steps)
      kinds.insert(stepKindName(s.body));
  EXPECT_EQ(kinds, (std::set<std::string>{"kernel", "gemm", "collective", "memset",
                                          "copy"}));
  const auto *gemm = std::get_if<GemmCall>(&prefill->steps[3].body);
  ASSERT_NE(gemm, nullptr);
  EXPECT_EQ(prefill->steps[3].label, "lm_head");
  EXPECT_EQ(gemm->m.text(), "tokens");
  EXPECT_EQ(gemm->n.constant(), 128);
  EXPECT_TRUE(gemm->transB);
  EXPECT_EQ(gemm->cType, DType::F32);
  EXPECT_FALSE(gemm->lda.has_value());
  const auto *norm = std::get_if<KernelLaunch>(&prefill->steps[2].body);
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->args[3].kind, KernelArg::Kind::Float);
  EXPECT_EQ(norm->args[3].floatValue, 1e-5);
  const Kernel *k = parsed->findKernel("rmsnorm");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->grid[0].text(), "cdiv(tokens, 4)");
  EXPECT_EQ(k->block[1].constant(), 4);
  EXPECT_EQ(k->params[4].type, ParamType::I64);
  EXPECT_EQ(parsed->arenaBytes(Lifetime::Workspace), 1u << 20);
}

TEST(EngineManifest, OptionalFieldsRoundTrip) {
  EngineWriter writer = sample();
  GemmCall g = std::get<GemmCall>(writer.manifest().entryPoints[0].steps[3].body);
  g.lda = DimExpr(64);
  g.ldc = DimExpr::parse("128 + 0").value();
  g.alpha = 0.5;
  g.beta = 1;
  writer.manifest().entryPoints[0].steps[3].body = g;
  CollectiveCall bcast;
  bcast.op = CollectiveOp::Broadcast;
  bcast.send = {"hidden", 0};
  bcast.recv = {"hidden", DimExpr::parse("tokens * 2").value()};
  bcast.count = 8;
  bcast.root = 0;
  bcast.reduce = ReduceOp::Max;
  bcast.group = "tp";
  writer.manifest().entryPoints[0].steps.push_back(Step{"bcast", bcast});
  std::string text = manifestToJson(writer.manifest());
  Result<Manifest> parsed = parseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(manifestToJson(*parsed), text);
  const auto &pg = std::get<GemmCall>(parsed->entryPoints[0].steps[3].body);
  EXPECT_EQ(pg.lda->constant(), 64);
  EXPECT_EQ(pg.ldc->text(), "128 + 0");
  EXPECT_FALSE(pg.ldb.has_value());
  EXPECT_EQ(pg.alpha, 0.5);
  const auto &pb = std::get<CollectiveCall>(parsed->entryPoints[0].steps.back().body);
  EXPECT_EQ(pb.op, CollectiveOp::Broadcast);
  EXPECT_EQ(pb.recv.offset.text(), "tokens * 2");
  EXPECT_EQ(pb.group, "tp");
  EXPECT_EQ(pb.reduce, ReduceOp::Max);
}

TEST(EngineManifest, OverlapPreviousRoundTrip) {
  EngineWriter writer = sample();
  std::get<KernelLaunch>(writer.manifest().entryPoints[0].steps[2].body).overlapPrevious =
      true;
  std::string text = manifestToJson(writer.manifest());
  json j = json::parse(text);
  EXPECT_EQ(j["entry_points"][0]["steps"][2]["overlap_previous"], true);
  EXPECT_FALSE(j["entry_points"][0]["steps"][1].contains("overlap_previous"));
  Result<Manifest> parsed = parseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(manifestToJson(*parsed), text);
  EXPECT_TRUE(std::get<KernelLaunch>(parsed->entryPoints[0].steps[2].body).overlapPrevious);
  EXPECT_FALSE(std::get<KernelLaunch>(parsed->entryPoints[0].steps[1].body).overlapPrevious);
  // Not a boolean.
  Result<Manifest> bad = parseEdited(
      [](json &m) { m["entry_points"][0]["steps"][2]["overlap_previous"] = 1; });
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("entry_points[0].steps[2].overlap_previous"), std::string::npos)
      << bad.error();
}

TEST(EngineManifest, WhenRoundTrip) {
  EngineWriter writer = sample();
  std::vector<Step> &steps = writer.manifest().entryPoints[0].steps;
  steps[1].when = DimExpr::parse("min(lt(batch, 2), ge(tokens, 16384))").value();
  steps[3].when = DimExpr::parse("1 - min(lt(batch, 2), ge(tokens, 16384))").value();
  steps[4].when = DimExpr(0);
  std::string text = manifestToJson(writer.manifest());
  json j = json::parse(text);
  const json &js = j["entry_points"][0]["steps"];
  EXPECT_EQ(js[1]["when"], "min(lt(batch, 2), ge(tokens, 16384))");
  EXPECT_EQ(js[3]["when"], "1 - min(lt(batch, 2), ge(tokens, 16384))");
  EXPECT_EQ(js[4]["when"], 0); // a literal, as every expression
  EXPECT_FALSE(js[0].contains("when"));
  EXPECT_FALSE(js[2].contains("when"));
  // Written after the label, before the step's own fields.
  nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto &item : ordered["entry_points"][0]["steps"][3].items())
    keys.push_back(item.key());
  ASSERT_GE(keys.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 4),
            (std::vector<std::string>{"op", "label", "when", "m"}));

  Result<Manifest> parsed = parseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(manifestToJson(*parsed), text);
  const std::vector<Step> &ps = parsed->entryPoints[0].steps;
  EXPECT_FALSE(ps[0].when.has_value());
  ASSERT_TRUE(ps[1].when.has_value());
  EXPECT_EQ(ps[1].when->text(), "min(lt(batch, 2), ge(tokens, 16384))");
  EXPECT_EQ(ps[1].when->evaluate(DimEnv{1, 16384, 16384}).value(), 1);
  EXPECT_EQ(ps[3].when->evaluate(DimEnv{1, 16384, 16384}).value(), 0);
  EXPECT_EQ(ps[4].when->constant(), 0);
  EXPECT_TRUE(validateManifest(*parsed, writer.sectionTable()).ok());
}

TEST(EngineManifest, MissingRequiredFields) {
  const char *pointers[] = {
      "/format_version", "/mm01_version", "/arch", "/model", "/options",
      "/options/max_batch", "/options/max_context", "/options/dtype",
      "/options/world_size", "/options/rank", "/buffers", "/buffers/0/name",
      "/buffers/0/lifetime", "/buffers/0/bytes", "/buffers/0/alignment",
      "/buffers/0/offset", "/weights", "/weights/0/buffer", "/weights/0/sources",
      "/weights/0/dtype", "/weights/0/shape", "/weights/0/storage",
      "/weights/0/section", "/weights/0/offset", "/kernels", "/kernels/0/name",
      "/kernels/0/section", "/kernels/0/entry", "/kernels/0/grid",
      "/kernels/0/block", "/kernels/0/dynamic_smem", "/kernels/0/params",
      "/kernels/0/params/0/name", "/kernels/0/params/0/type", "/entry_points",
      "/entry_points/0/name", "/entry_points/0/inputs", "/entry_points/0/outputs",
      "/entry_points/0/steps", "/entry_points/0/steps/0/op",
      "/entry_points/0/steps/0/dst", "/entry_points/0/steps/0/bytes",
      "/entry_points/0/steps/1/kernel", "/entry_points/0/steps/1/args",
      "/entry_points/0/steps/1/args/0/buffer", "/entry_points/0/steps/3/m",
      "/entry_points/0/steps/3/a", "/entry_points/0/steps/3/c_dtype",
      "/entry_points/0/steps/4/collective", "/entry_points/0/steps/4/count",
      "/entry_points/1/steps/2/src"};
  for (const char *pointer : pointers) {
    SCOPED_TRACE(pointer);
    json::json_pointer ptr(pointer);
    Result<Manifest> parsed = parseEdited([&](json &j) {
      j.at(ptr.parent_pointer()).erase(ptr.back());
    });
    if (std::string(pointer) == "/entry_points/0/steps/1/args/0/buffer") {
      // An argument without its 'buffer' has no kind left.
      EXPECT_ERROR_CONTAINS(parsed, "field 'entry_points[0].steps[1].args[0]' must "
                                    "have one of 'buffer', 'int' or 'float'");
      continue;
    }
    EXPECT_ERROR_CONTAINS(parsed, "malformed manifest: field '" + dotted(pointer) +
                                      "' is missing");
  }
}

TEST(EngineManifest, CheckpointFieldsAreRequiredWhenPresent) {
  auto withCheckpoint = [](json &j) {
    j["checkpoint"] = {{"path", "ckpt"},
                       {"files", {{{"file", "model.safetensors"},
                                   {"size", 100},
                                   {"header_xxh64", "0x00000000000000ff"}}}}};
  };
  Result<Manifest> ok = parseEdited(withCheckpoint);
  ASSERT_TRUE(ok.ok()) << ok.error();
  ASSERT_TRUE(ok->checkpoint.has_value());
  EXPECT_EQ(ok->checkpoint->files[0].headerHash, 0xffu);
  for (const char *pointer : {"/checkpoint/path", "/checkpoint/files",
                              "/checkpoint/files/0/file", "/checkpoint/files/0/size",
                              "/checkpoint/files/0/header_xxh64"}) {
    json::json_pointer ptr(pointer);
    EXPECT_ERROR_CONTAINS(parseEdited([&](json &j) {
                            withCheckpoint(j);
                            j.at(ptr.parent_pointer()).erase(ptr.back());
                          }),
                          "field '" + dotted(pointer) + "' is missing");
  }
  EXPECT_ERROR_CONTAINS(parseEdited([&](json &j) {
                          withCheckpoint(j);
                          j["checkpoint"]["files"][0]["header_xxh64"] = "0xabc";
                        }),
                        "field 'checkpoint.files[0].header_xxh64' must be \"0x\" "
                        "and 16 hex digits, found '0xabc'");
}

TEST(EngineManifest, WrongTypesAndValues) {
  struct Case {
    const char *pointer;
    json value;
    const char *message;
  };
  const Case cases[] = {
      {"/format_version", 1, "field 'format_version' is 1, expected 2"},
      {"/format_version", 3, "field 'format_version' is 3, expected 2"},
      {"/format_version", "1", "field 'format_version' must be an integer, found string"},
      {"/arch", "", "field 'arch' must not be empty"},
      {"/options/max_batch", "8", "field 'options.max_batch' must be an integer"},
      {"/options/dtype", "FP8", "field 'options.dtype': unknown dtype 'FP8'"},
      {"/buffers/0/bytes", -1, "field 'buffers[0].bytes' must be non-negative, found -1"},
      {"/buffers/0/lifetime", "forever",
       "field 'buffers[0].lifetime': unknown lifetime 'forever' (expected weights, "
       "state, kv_cache, activation, workspace)"},
      {"/buffers", json::object(), "field 'buffers' must be an array, found object"},
      {"/weights/0/storage", "disk",
       "field 'weights[0].storage' is 'disk', expected packed or checkpoint"},
      {"/weights/0/shape/0", 1.5, "field 'weights[0].shape[0]' must be an integer"},
      {"/weights/0/sources/0", "", "field 'weights[0].sources[0]' must not be empty"},
      {"/kernels/0/grid", json::array({1, 1}),
       "field 'kernels[0].grid' must have 3 entries (x, y, z), found 2"},
      {"/kernels/0/grid/0", json::object(),
       "field 'kernels[0].grid[0]' must be an integer or an expression string"},
      {"/kernels/0/grid/0", "tokens +",
       "field 'kernels[0].grid[0]': invalid expression 'tokens +'"},
      {"/kernels/0/block/0", "heads",
       "field 'kernels[0].block[0]': invalid expression 'heads': unknown symbol"},
      {"/kernels/0/params/0/type", "f16",
       "field 'kernels[0].params[0].type': unknown parameter type 'f16'"},
      {"/entry_points/0/steps/0/op", "launch",
       "field 'entry_points[0].steps[0].op' is 'launch', expected kernel, gemm, "
       "collective, memset or copy"},
      {"/entry_points/0/steps/0/value", 300,
       "field 'entry_points[0].steps[0].value' must be a byte (0..255), found 300"},
      {"/entry_points/0/steps/3/trans_b", 1,
       "field 'entry_points[0].steps[3].trans_b' must be a boolean, found number 1"},
      {"/entry_points/0/steps/4/collective", "all_sum",
       "field 'entry_points[0].steps[4].collective': unknown collective 'all_sum'"},
      {"/entry_points/0/steps/4/reduce", "prod",
       "field 'entry_points[0].steps[4].reduce': unknown reduction 'prod'"},
      {"/entry_points/0/steps/1/when", "ge(tokens)",
       "field 'entry_points[0].steps[1].when': invalid expression 'ge(tokens)': 'ge' "
       "takes 2 arguments (ge(a, b)), found 1"},
      {"/entry_points/0/steps/3/when", "heads > 2",
       "field 'entry_points[0].steps[3].when': invalid expression 'heads > 2': "
       "unknown symbol 'heads'"},
      {"/entry_points/1/steps/0/when", true,
       "field 'entry_points[1].steps[0].when' must be an integer or an expression "
       "string, found boolean true"},
      {"/entry_points/0/steps/1/args/3", json::array(),
       "field 'entry_points[0].steps[1].args[3]' must be an object, found array"},
      {"/model/hidden_size", json(nullptr),
       "field 'model': field 'hidden_size' is missing"},
      {"/model", json::array(), "field 'model' must be an object, found array"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.pointer);
    Result<Manifest> parsed = parseEdited(
        [&](json &j) { j[json::json_pointer(c.pointer)] = c.value; });
    EXPECT_ERROR_CONTAINS(parsed, std::string("malformed manifest: ") + c.message);
  }
}

TEST(EngineManifest, UnknownFieldsAreIgnored) {
  Result<Manifest> parsed = parseEdited([](json &j) {
    j["future_field"] = {1, 2, 3};
    j["kernels"][0]["cluster"] = {2, 1, 1};
  });
  EXPECT_TRUE(parsed.ok()) << parsed.error();
}

TEST(EngineManifest, Validation) {
  EXPECT_TRUE(validateEdited([](Manifest &) {}).ok());
  struct Case {
    const char *what;
    std::function<void(Manifest &)> edit;
    const char *message;
  };
  const Case cases[] = {
      {"bad arch", [](Manifest &m) { m.arch = "sm90"; },
       "field 'arch': arch 'sm90' is not of the form sm_<major><minor>[a|f]"},
      {"invalid model", [](Manifest &m) { m.model.topK = 9; },
       "field 'model': field 'num_experts_per_tok' (9) exceeds 'num_local_experts' (4)"},
      {"max batch", [](Manifest &m) { m.options.maxBatch = 0; },
       "field 'options.max_batch' must be positive, found 0"},
      {"rank", [](Manifest &m) { m.options.rank = 1; },
       "field 'options.rank' is 1, expected 0..0"},
      {"duplicate buffer", [](Manifest &m) { m.buffers[1].name = m.buffers[0].name; },
       "field 'buffers[1].name' repeats the buffer 'model.embed_tokens.weight'"},
      {"alignment", [](Manifest &m) { m.buffers[0].alignment = 48; },
       "field 'buffers[0].alignment' is 48, not a power of two"},
      {"misaligned", [](Manifest &m) { m.buffers[1].offset += 16; },
       "field 'buffers[1].offset' is 16400, not a multiple of the alignment 256"},
      {"overlap", [](Manifest &m) { m.buffers[1].offset = 0; },
       "field 'buffers[1].offset' places weights buffer 'model.norm.weight' inside "
       "'model.embed_tokens.weight' (bytes 0..16384)"},
      {"activations may overlap",
       [](Manifest &m) {
         for (Buffer &b : m.buffers)
           if (b.lifetime == Lifetime::Activation)
             b.offset = 0;
       },
       nullptr},
      {"weight in an activation buffer",
       [](Manifest &m) { m.weights[0].buffer = "hidden"; },
       "field 'weights[0].buffer' names buffer 'hidden' of lifetime activation, "
       "expected weights"},
      {"weight buffer missing", [](Manifest &m) { m.weights[0].buffer = "nope"; },
       "field 'weights[0].buffer' names no buffer ('nope')"},
      {"weight too big", [](Manifest &m) { m.weights[1].shape = {65}; },
       "field 'weights[1]' is 130 bytes (BF16 [65]) but buffer 'model.norm.weight' "
       "holds 128"},
      {"packed weight past the section",
       [](Manifest &m) { m.weights[2].sectionOffset += 1 << 20; },
       "field 'weights[2].offset' places 16384 bytes at 1065216, past the end of "
       "section 'weights' (33024 bytes)"},
      {"packed weight in a cubin", [](Manifest &m) { m.weights[0].section = "kernels"; },
       "field 'weights[0].section' names section 'kernels' of kind cubin, expected "
       "weights"},
      {"checkpoint weight without checkpoint",
       [](Manifest &m) { m.weights[1].storage = WeightStorage::Checkpoint; },
       "field 'checkpoint' is missing (weights with storage checkpoint need it)"},
      {"kernel in a weights section", [](Manifest &m) { m.kernels[0].section = "weights"; },
       "field 'kernels[0].section' names section 'weights' of kind weights, expected "
       "cubin, ptx or fatbin"},
      {"duplicate kernel", [](Manifest &m) { m.kernels[1].name = "embed"; },
       "field 'kernels[1].name' repeats the kernel 'embed'"},
      {"block too big", [](Manifest &m) { m.kernels[0].block = {64, 32, 1}; },
       "field 'kernels[0].block' has 2048 threads, more than 1024"},
      {"grid zero", [](Manifest &m) { m.kernels[2].grid[1] = 0; },
       "field 'kernels[2].grid[1]' is 0, must be at least 1"},
      {"duplicate param", [](Manifest &m) { m.kernels[0].params[1].name = "ids"; },
       "field 'kernels[0].params[1].name' repeats the parameter 'ids'"},
      {"unknown kernel",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[1].body).kernel = "nope";
       },
       "field 'entry_points[0].steps[1].kernel' names no kernel ('nope')"},
      {"argument count",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[1].body).args.pop_back();
       },
       "field 'entry_points[0].steps[1].args' has 3 arguments, kernel 'embed' takes 4"},
      {"argument kind",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[1].body).args[3] =
             KernelArg::floatArg(1);
       },
       "field 'entry_points[0].steps[1].args[3]' is a float, parameter 'tokens' (i32) "
       "of kernel 'embed' takes an int"},
      {"argument buffer",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[1].body).args[0].buffer.buffer =
             "nope";
       },
       "field 'entry_points[0].steps[1].args[0].buffer' names no buffer ('nope')"},
      {"offset outside the buffer",
       [](Manifest &m) {
         std::get<MemsetCall>(m.entryPoints[0].steps[0].body).dst.offset = 1 << 30;
       },
       "field 'entry_points[0].steps[0].dst.offset' is 1073741824, outside buffer "
       "'lightning_state'"},
      {"gemm buffer",
       [](Manifest &m) { std::get<GemmCall>(m.entryPoints[0].steps[3].body).b.buffer = "w"; },
       "field 'entry_points[0].steps[3].b.buffer' names no buffer ('w')"},
      {"infinite float",
       [](Manifest &m) {
         std::get<GemmCall>(m.entryPoints[0].steps[3].body).alpha = INFINITY;
       },
       "field 'entry_points[0].steps[3].alpha' must be finite"},
      {"gemm size",
       [](Manifest &m) { std::get<GemmCall>(m.entryPoints[0].steps[3].body).k = -1; },
       "field 'entry_points[0].steps[3].k' is -1, negative"},
      {"broadcast root",
       [](Manifest &m) {
         auto &c = std::get<CollectiveCall>(m.entryPoints[0].steps[4].body);
         c.op = CollectiveOp::Broadcast;
         c.root = 3;
       },
       "field 'entry_points[0].steps[4].root' is 3, expected 0..0"},
      {"copy source", [](Manifest &m) {
         std::get<CopyCall>(m.entryPoints[1].steps[2].body).src.buffer = "x";
       },
       "field 'entry_points[1].steps[2].src.buffer' names no buffer ('x')"},
      {"entry input", [](Manifest &m) { m.entryPoints[1].inputs = {"ids", "tokens"}; },
       "field 'entry_points[1].inputs[1]' names no buffer ('tokens')"},
      {"duplicate entry point", [](Manifest &m) { m.entryPoints[1].name = "prefill"; },
       "field 'entry_points[1].name' repeats the entry point 'prefill'"},
      {"overlapping a kernel",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[2].body).overlapPrevious = true;
       },
       nullptr},
      {"overlapping a memset",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[0].steps[1].body).overlapPrevious = true;
       },
       "field 'entry_points[0].steps[1].overlap_previous' is set, but the previous step "
       "is a memset, not a kernel launch"},
      {"overlapping a launch with the same condition",
       [](Manifest &m) {
         std::vector<Step> &steps = m.entryPoints[0].steps;
         std::get<KernelLaunch>(steps[2].body).overlapPrevious = true;
         steps[1].when = DimExpr::parse("ge(tokens, 16384)").value();
         steps[2].when = DimExpr::parse("ge(tokens, 16384)").value();
       },
       nullptr},
      {"overlapping a launch with another condition",
       [](Manifest &m) {
         std::vector<Step> &steps = m.entryPoints[0].steps;
         std::get<KernelLaunch>(steps[2].body).overlapPrevious = true;
         steps[1].when = DimExpr::parse("ge(tokens, 16384)").value();
         steps[2].when = DimExpr::parse("lt(tokens, 16384)").value();
       },
       "field 'entry_points[0].steps[2].overlap_previous' is set, but the step runs "
       "when 'lt(tokens, 16384)' and the previous step when 'ge(tokens, 16384)' (an "
       "overlapped launch needs the same 'when' as the launch before it)"},
      {"overlapping a conditional launch",
       [](Manifest &m) {
         std::vector<Step> &steps = m.entryPoints[0].steps;
         std::get<KernelLaunch>(steps[2].body).overlapPrevious = true;
         steps[1].when = DimExpr::parse("ge(tokens, 16384)").value();
       },
       "field 'entry_points[0].steps[2].overlap_previous' is set, but the step runs "
       "always and the previous step when 'ge(tokens, 16384)'"},
      {"a conditional launch overlapping",
       [](Manifest &m) {
         std::vector<Step> &steps = m.entryPoints[0].steps;
         std::get<KernelLaunch>(steps[2].body).overlapPrevious = true;
         steps[2].when = DimExpr::parse("ge(tokens, 16384)").value();
       },
       "field 'entry_points[0].steps[2].overlap_previous' is set, but the step runs "
       "when 'ge(tokens, 16384)' and the previous step always"},
      {"conditions without overlap",
       [](Manifest &m) {
         m.entryPoints[0].steps[1].when = DimExpr::parse("ge(tokens, 16384)").value();
         m.entryPoints[0].steps[2].when = DimExpr::parse("lt(tokens, 16384)").value();
       },
       nullptr},
      {"overlapping nothing",
       [](Manifest &m) {
         std::get<KernelLaunch>(m.entryPoints[1].steps[0].body).overlapPrevious = true;
       },
       "field 'entry_points[1].steps[0].overlap_previous' is set on the first step "
       "(there is no previous kernel to overlap)"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    Status status = validateEdited(c.edit);
    if (!c.message) {
      EXPECT_TRUE(status.ok()) << status.error();
      continue;
    }
    EXPECT_ERROR_CONTAINS(status, std::string("malformed manifest: ") + c.message);
  }
}
