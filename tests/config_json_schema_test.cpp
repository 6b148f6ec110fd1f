// The editors' JSON Schemas (config/json_schema.h, sweep/json_schema.h): the
// committed files are exactly what `pipeline schema` prints, every example
// config names its schema, and the schema says what the validator's table
// says. tests/tf/json_schema_agrees.py has an independent validator
// (check-jsonschema) check the configs and the error corpus against them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_value.h"
#include "config/json_schema.h"
#include "config/schema.h"
#include "sweep/json_schema.h"

using namespace pipeline;

namespace {

std::string Src(const std::string& rel) { return std::string(PIPELINE_SOURCE_DIR) + "/" + rel; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

JsonValue Parsed(const std::string& text) {
  JsonValue v;
  REQUIRE(ParseJson(text, &v).ok());
  return v;
}

const JsonValue& At(const JsonValue& v, const std::vector<std::string>& keys) {
  const JsonValue* cur = &v;
  for (const auto& k : keys) {
    INFO("key " << k);
    REQUIRE(cur->has(k));
    cur = &(*cur)[k];
  }
  return *cur;
}

std::vector<std::string> StringsOf(const JsonValue& array) {
  std::vector<std::string> out;
  for (const auto& item : array.items()) out.push_back(item.str());
  return out;
}

}  // namespace

TEST_CASE("schema: the committed schemas are what pipeline schema prints") {
  // Regenerate with: build/pipeline schema > schemas/pipeline.schema.json
  //                  build/pipeline schema --sweep > schemas/sweep.schema.json
  CHECK(ReadText(Src("schemas/pipeline.schema.json")) == PipelineJsonSchema());
  CHECK(ReadText(Src("schemas/sweep.schema.json")) == sweep::SweepJsonSchema());
}

TEST_CASE("schema: every example config names the committed schema by relative path") {
  int configs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(Src("configs"))) {
    if (entry.path().extension() != ".yaml") continue;
    ++configs;
    const std::string text = ReadText(entry.path().string());
    const std::string first_line = text.substr(0, text.find('\n'));
    const std::string prefix = "# yaml-language-server: $schema=";
    INFO(entry.path().string() << ": " << first_line);
    REQUIRE(first_line.rfind(prefix, 0) == 0);
    const std::filesystem::path schema = entry.path().parent_path() / first_line.substr(prefix.size());
    const bool is_sweep = entry.path().parent_path().filename() == "sweeps";
    CHECK(std::filesystem::equivalent(schema, Src(is_sweep ? "schemas/sweep.schema.json" : "schemas/pipeline.schema.json")));
  }
  CHECK(configs >= 7);
}

TEST_CASE("schema: types ranges enums and defaults come from the validator's table") {
  const JsonValue s = Parsed(PipelineJsonSchema());
  CHECK(At(s, {"$schema"}).str() == "https://json-schema.org/draft/2020-12/schema");
  const JsonValue& train = At(s, {"properties", "train", "properties"});
  CHECK(At(train, {"epochs", "type"}).str() == "integer");
  CHECK(At(train, {"epochs", "minimum"}).number() == 1);
  CHECK(At(train, {"epochs", "default"}).number() == static_cast<double>(TrainConfig{}.epochs));
  CHECK(At(train, {"epochs", "description"}).str() == FindKeySpec("train.epochs")->doc);
  CHECK(At(s, {"properties", "train", "additionalProperties"}).boolean() == false);
  // YAML 1.1's `yes`, which the validator reads as true, is allowed beside JSON's booleans.
  const std::vector<std::string> words = StringsOf(At(train, {"shuffle", "anyOf"})[1]["enum"]);
  CHECK(std::find(words.begin(), words.end(), "yes") != words.end());
  CHECK(std::find(words.begin(), words.end(), "true") == words.end());

  const JsonValue& opt = At(s, {"properties", "optimizer", "properties"});
  CHECK(StringsOf(At(opt, {"type", "enum"})) == FindKeySpec("optimizer.type")->allowed);
  CHECK(At(opt, {"learning_rate", "exclusiveMinimum"}).number() == 0);
  CHECK(At(opt, {"momentum", "exclusiveMaximum"}).number() == 1);
  CHECK(At(opt, {"momentum", "minimum"}).number() == 0);
  CHECK(At(opt, {"learning_rate", "default"}).number() == OptimizerConfig{}.learning_rate);

  // A default computed from other keys is documented in words, not as a value.
  const JsonValue& path = At(s, {"properties", "dataset", "properties", "path"});
  CHECK(!path.has("default"));
  CHECK(At(path, {"description"}).str().find("Default: data/<dataset.name>.") != std::string::npos);

  // Layers: one branch per registered type, applied when its const `type` matches.
  const JsonValue& layer = At(s, {"properties", "model", "properties", "layers", "items"});
  const std::vector<std::string> types = FindKeySpec("model.layers.*.type")->allowed;
  REQUIRE(At(layer, {"allOf"}).items().size() == types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    CHECK(At(layer, {"allOf"})[i]["if"]["properties"]["type"]["const"].str() == types[i]);
    const JsonValue& branch = At(layer, {"allOf"})[i]["then"];
    CHECK(At(branch, {"properties", "type", "const"}).str() == types[i]);
    CHECK(At(branch, {"additionalProperties"}).boolean() == false);
    for (const auto& key : ChildKeys("model.layers.*")) {
      const bool applies = AppliesTo(*FindKeySpec("model.layers.*." + key), types[i]);
      INFO(types[i] << "." << key);
      CHECK(At(branch, {"properties"}).has(key) == applies);
    }
  }
  for (const auto& when_then : At(layer, {"allOf"}).items()) {
    const JsonValue& branch = when_then["then"];
    // The default type (dense) may leave `type` out; every other type must name itself.
    const std::string type = At(branch, {"title"}).str();
    const std::vector<std::string> required = branch.has("required") ? StringsOf(branch["required"]) : std::vector<std::string>{};
    INFO(type);
    if (type == "dense") {
      CHECK(required == std::vector<std::string>{"units"});
    } else {
      REQUIRE(!required.empty());
      CHECK(required[0] == "type");
    }
  }

  const JsonValue& stages = At(s, {"properties", "stages"});
  CHECK(StringsOf(At(stages, {"items", "enum"})) == kStages);
  CHECK(StringsOf(At(stages, {"default"})) == PipelineConfig{}.stages);
  CHECK(At(stages, {"minItems"}).number() == 1);
}

TEST_CASE("schema: the sweep schema's keys are the sweep reader's") {
  const JsonValue s = Parsed(sweep::SweepJsonSchema());
  CHECK(StringsOf(At(s, {"required"})) == std::vector<std::string>{"base"});
  CHECK(At(s, {"properties", "scheduler", "properties", "reduction_factor", "minimum"}).number() == 2);
  CHECK(At(s, {"properties", "objective", "properties", "metric", "default"}).str() == "validation_accuracy");
  const std::string pattern = At(s, {"properties", "grid", "propertyNames", "pattern"}).str();
  CHECK(pattern == ConfigKeyPathPattern());
  CHECK(pattern.find("model\\.layers\\.(0|[1-9][0-9]*)\\.units") != std::string::npos);
  CHECK(pattern.find("train\\.epochs|") != std::string::npos);
}
