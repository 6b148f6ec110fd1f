// Hydra-style overrides: "dotted.key=value". The key is checked against the
// schema as it is walked (so "train.epoch" gets a suggestion and "layers.0"
// is known to be a list index); the value is parsed as a YAML node and tagged
// so that validation errors about it name the override.
#include <fmt/format.h>

#include "config/internal.h"
#include "config/loader.h"
#include "config/schema.h"
#include "config/yaml_text.h"

namespace pipeline {
namespace config_internal {
namespace {

std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

YAML::Node NewContainer(KeyType type, const std::string& tag) {
  YAML::Node n(type == KeyType::kList ? YAML::NodeType::Sequence : YAML::NodeType::Map);
  n.SetTag(tag);
  return n;
}

std::string JoinPathParts(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

}  // namespace

void ApplyOverrideDiags(YAML::Node& root, const std::string& text, std::vector<Diag>* diags) {
  const Loc loc = OverrideLoc(text);
  auto fail = [&](const std::string& key, const std::string& msg) { diags->push_back({loc, key, msg}); };
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return fail("", "expected KEY=VALUE, e.g. train.epochs=10");
  const std::string key = Trim(text.substr(0, eq));
  const std::string value = text.substr(eq + 1);
  const std::vector<std::string> parts = SplitDots(key);
  for (const auto& p : parts)
    if (p.empty()) return fail(key, "empty part in key path '" + key + "'");

  // The value is YAML text like a file's, with the same rules (config/yaml_text.h).
  YAML::Node parsed;
  if (std::string why; !ParseYamlValue(value, &parsed, &why))
    return fail(key, fmt::format("cannot parse value '{}' as YAML: {}", value, why));
  // The override's tag replaces the value's own, so check that one now.
  const std::string value_tag = SourceTag(parsed);
  if (const std::string problem = TagProblem(parsed); !problem.empty()) return fail(key, problem);
  const std::string tag = kOverrideTag + text;
  parsed.SetTag(tag);

  if (!root.IsMap()) {
    if (root.IsDefined() && !root.IsNull()) return fail("", "the configuration is not a map");
    root = NewContainer(KeyType::kMap, tag);
  }
  // Pass 1: check every part against the schema (and list sizes) without changing anything.
  std::vector<const KeySpec*> specs;  // specs[i]: the row for parts[0..i]
  {
    YAML::Node cur = root;  // const lookups only
    const YAML::Node& ccur = cur;
    std::string schema_path, concrete;
    for (size_t i = 0; i < parts.size(); ++i) {
      const KeySpec* spec = FindKeySpec(schema_path);
      const std::string& part = parts[i];
      const std::string here = concrete.empty() ? part : concrete + "." + part;
      std::string child_schema;
      YAML::Node next;
      if (spec->type == KeyType::kMap) {
        child_schema = JoinPathParts(schema_path, part);
        if (part == "*" || !FindKeySpec(child_schema)) return fail(here, UnknownKeyMessage(part, ChildKeys(schema_path)));
        if (ccur.IsMap()) {
          const YAML::Node found = ccur[part];
          if (found.IsDefined()) next.reset(found);
        }
      } else if (spec->type == KeyType::kList) {
        child_schema = schema_path + ".*";
        int64_t index;
        if (ParseInt(part, &index) != ParseResult::kOk || part[0] == '-' || part[0] == '+')
          return fail(here, fmt::format("expected a list index (0, 1, ...) after '{}', got '{}'", concrete, part));
        const size_t size = ccur.IsSequence() ? ccur.size() : 0;
        if (static_cast<uint64_t>(index) > size)
          return fail(here, fmt::format("index {} is out of range: '{}' has {} element{} (use {} to append)", index,
                                        concrete, size, size == 1 ? "" : "s", size));
        if (static_cast<size_t>(index) < size) next.reset(ccur[static_cast<size_t>(index)]);
      } else {
        return fail(here, fmt::format("'{}' is {}, it has no key '{}'", concrete, KeyTypeName(spec->type), part));
      }
      specs.push_back(FindKeySpec(child_schema));
      cur.reset(next);
      schema_path = child_schema;
      concrete = here;
    }
  }
  const KeySpec* target = specs.back();
  if (IsStrTag(value_tag) && parsed.IsScalar() && target->IsScalar() && target->type != KeyType::kString &&
      target->type != KeyType::kEnum) {
    return fail(key, fmt::format("expected {}, got the string '{}' (tagged !!str)", KeyTypeName(target->type),
                                 parsed.Scalar()));
  }

  // Pass 2: create what is missing and set the value.
  YAML::Node cur = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    const KeySpec* child = specs[i];
    auto fits = [&](const YAML::Node& n) {
      return n.IsDefined() && (child->type == KeyType::kList ? n.IsSequence() : n.IsMap());
    };
    // The previous step made sure `cur` has the type the schema gives it.
    if (cur.IsSequence()) {
      const size_t index = std::stoul(part);
      const YAML::Node& ccur = cur;
      if (last || index == cur.size() || !fits(ccur[index])) {
        YAML::Node value = last ? parsed : NewContainer(child->type, tag);
        if (index == cur.size())
          cur.push_back(value);
        else
          cur[index] = value;
      }
      cur.reset(cur[index]);
    } else {
      const YAML::Node& ccur = cur;
      if (last)
        cur[part] = parsed;
      else if (!fits(ccur[part]))
        cur[part] = NewContainer(child->type, tag);  // absent (or not a container): the override creates it
      cur.reset(cur[part]);
    }
  }
}

}  // namespace config_internal

Status ApplyOverride(YAML::Node& root, const std::string& override_text) {
  std::vector<config_internal::Diag> diags;
  config_internal::ApplyOverrideDiags(root, override_text, &diags);
  return config_internal::DiagsToStatus(diags, "");
}

}  // namespace pipeline
