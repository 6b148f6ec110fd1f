#include "config/json_schema.h"

#include <algorithm>
#include <vector>

#include "common/json.h"
#include "common/strings.h"
#include "config/schema.h"
#include "config/yaml_values.h"

namespace pipeline {
namespace {

using T = KeyType;

std::string Description(const KeySpec& s) {
  std::string d = s.doc;
  // A default that depends on other keys has no JSON value: say it in words.
  if (s.documented_default) d += " Default: " + s.default_text + ".";
  return d;
}

// The row's default as a JSON value, "" when it has none (required rows, maps,
// defaults computed from other keys).
std::string DefaultJson(const KeySpec& s) {
  if (s.documented_default || s.required) return "";
  switch (s.type) {
    case T::kInt:
    case T::kUint:
    case T::kFloat:
    case T::kBool:
      return s.default_text;  // "10", "0.01", "true": already JSON
    case T::kString:
    case T::kEnum:
      return json::Quote(s.default_text);
    case T::kList: {
      // A list of scalars documents its default as "[a, b]".
      if (s.list_size || s.default_text.size() < 2) return "";
      const std::string inner = s.default_text.substr(1, s.default_text.size() - 2);
      std::vector<std::string> items;
      for (size_t start = 0; !inner.empty() && start <= inner.size();) {
        const size_t comma = std::min(inner.find(", ", start), inner.size());
        items.push_back(inner.substr(start, comma - start));
        start = comma + 2;
      }
      return json::StringArray(items);
    }
    case T::kMap:
      return "";
  }
  return "";
}

void AddRange(json::Object& o, const KeySpec& s) {
  if (s.min) o.Num(s.min_open ? "exclusiveMinimum" : "minimum", *s.min);
  if (s.max) o.Num(s.max_open ? "exclusiveMaximum" : "maximum", *s.max);
}

// The JSON types a scalar row accepts, as the YAML reader does
// (config/yaml_values.h). An editor reads YAML 1.2, where `yes` is a string;
// the validator reads YAML 1.1's spellings as booleans, so they are allowed.
void AddScalarType(json::Object& o, const KeySpec& s) {
  switch (s.type) {
    case T::kInt:
      o.Str("type", "integer");
      break;
    case T::kUint:
      o.Str("type", "integer");
      if (!s.min) o.Num("minimum", 0);
      break;
    case T::kFloat:
      o.Str("type", "number");
      break;
    case T::kBool: {
      // The YAML 1.1 booleans that YAML 1.2 (the editor's) reads as strings.
      static const std::vector<std::string> kYaml12 = {"true", "True", "TRUE", "false", "False", "FALSE"};
      std::vector<std::string> words;
      for (const bool value : {true, false})
        for (const auto& w : YamlBoolSpellings(value))
          if (std::find(kYaml12.begin(), kYaml12.end(), w) == kYaml12.end()) words.push_back(w);
      o.Raw("anyOf",
            json::Array({json::Object().Str("type", "boolean").str(), json::Object().Raw("enum", json::StringArray(words)).str()}));
      break;
    }
    case T::kString:
      // Any scalar is its text: `version: 3` and `name: 2024` are strings.
      o.Raw("type", json::StringArray({"string", "number", "boolean"}));
      break;
    case T::kEnum:
      o.Str("type", "string");
      o.Raw("enum", json::StringArray(s.allowed));
      break;
    case T::kMap:
    case T::kList:
      break;
  }
}

std::string Child(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

std::string KeySchema(const KeySpec& s);

// The properties and required keys of the rows under `path` that apply to a
// map of type `type` ("": every row). In a branch of a discriminated map
// (`type_const`), `type` must equal the branch's type, and must be given
// (`type_required`) unless the type is its default.
void AddMembers(json::Object& o, const std::string& path, const std::string& type, bool type_const,
                bool type_required = false) {
  json::Object properties;
  std::vector<std::string> required;
  if (type_required) required.push_back("type");
  for (const auto& name : ChildKeysFor(path, type)) {
    const KeySpec& row = *FindKeySpec(Child(path, name));
    if (type_const && name == "type") {
      properties.Raw(name, json::Object().Str("const", type).str());
    } else {
      properties.Raw(name, KeySchema(row));
    }
    if (row.required) required.push_back(name);
  }
  o.Raw("properties", properties.str());
  if (!required.empty()) o.Raw("required", json::StringArray(required));
  o.Raw("additionalProperties", "false");
}

// A map whose rows are limited to one `type` (a layer): one branch per type,
// each applied when `type` names it (if/then; the default type also when
// `type` is left out). Not a oneOf: with a oneOf of closed branches a bad key
// fails every branch, and validators then report the branch they guess, often
// at `type` ("'conv2d' was expected"); if/then reports the error at its key,
// as the validator does (tests/tf/json_schema_agrees.py).
std::string DiscriminatedMap(const KeySpec& s) {
  const KeySpec& type_row = *FindKeySpec(Child(s.path, "type"));
  json::Object o;
  o.Str("type", "object");
  o.Str("description", Description(s));
  // Outside the branches too, so that an unknown type is reported at `type`
  // with its allowed values.
  o.Raw("properties", json::Object().Raw("type", KeySchema(type_row)).str());
  std::vector<std::string> branches;
  for (const auto& type : type_row.allowed) {
    const bool is_default = type == type_row.default_text;
    json::Object when;
    when.Raw("properties", json::Object().Raw("type", json::Object().Str("const", type).str()).str());
    if (!is_default) when.Raw("required", json::StringArray({"type"}));
    json::Object then;
    then.Str("title", type);
    AddMembers(then, s.path, type, /*type_const=*/true, /*type_required=*/!is_default);
    branches.push_back(json::Object().Raw("if", when.str()).Raw("then", then.str()).str());
  }
  o.Raw("allOf", json::Array(branches));
  return o.str();
}

bool HasTypedRows(const std::string& path) {
  for (const auto& name : ChildKeys(path))
    if (!FindKeySpec(Child(path, name))->only_for.empty()) return true;
  return false;
}

std::string KeySchema(const KeySpec& s) {
  if (s.type == T::kMap && HasTypedRows(s.path)) return DiscriminatedMap(s);
  json::Object o;
  if (s.type == T::kMap) {
    o.Str("type", "object");
    o.Str("description", Description(s));
    AddMembers(o, s.path, "", false);
    return o.str();
  }
  if (s.type == T::kList) {
    o.Str("type", "array");
    o.Str("description", Description(s));
    if (const KeySpec* element = FindKeySpec(s.path + ".*")) o.Raw("items", KeySchema(*element));
    if (s.min) o.Num("minItems", *s.min);
  } else {
    AddScalarType(o, s);
    o.Str("description", Description(s));
    AddRange(o, s);
  }
  const std::string def = DefaultJson(s);
  if (!def.empty()) o.Raw("default", def);
  return o.str();
}

std::string RegexEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string PipelineJsonSchema() {
  const KeySpec& root = *FindKeySpec("");
  json::Object o;
  o.Str("$schema", "https://json-schema.org/draft/2020-12/schema");
  o.Str("title", "pipeline config");
  o.Str("description", root.doc + " Generated by `pipeline schema` from the validator's own table; see docs/config.md.");
  o.Str("type", "object");
  AddMembers(o, "", "", false);
  return json::Indented(o.str());
}

std::string ConfigKeyPathPattern() {
  std::vector<std::string> paths;
  for (const auto& s : ConfigSchema()) {
    if (s.path.empty()) continue;
    std::string p = RegexEscaped(s.path);
    // A list element is named by its index: model.layers.0.units.
    for (size_t at; (at = p.find("\\.\\*")) != std::string::npos;) p.replace(at, 4, "\\.(0|[1-9][0-9]*)");
    paths.push_back(p);
  }
  return "^(" + Join(paths, "|") + ")$";
}

}  // namespace pipeline
