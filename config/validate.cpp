// The table-driven part of validation: walks the YAML tree alongside the schema.
#include <fmt/format.h>

#include <algorithm>

#include "config/loader.h"
#include "config/validator.h"
#include "config/yaml_text.h"

namespace pipeline {
namespace config_internal {

std::string JoinPath(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

namespace {

// The `type` of a map whose rows depend on it (a layer): its valid value, the
// row's default when absent, "" when there is no such row or the value is bad
// (then every row applies, so a bad type is one error, not a cascade).
std::string TypeOfMap(const YAML::Node& node, const KeySpec& spec) {
  const KeySpec* t = FindKeySpec(JoinPath(spec.path, "type"));
  if (!t || t->type != KeyType::kEnum) return "";
  const YAML::Node& cnode = node;
  if (cnode.IsMap()) {
    const YAML::Node value = cnode["type"];
    if (value.IsDefined()) {
      if (!value.IsScalar()) return "";
      return std::find(t->allowed.begin(), t->allowed.end(), value.Scalar()) == t->allowed.end() ? "" : value.Scalar();
    }
  }
  return t->default_text;
}

}  // namespace

void Validator::Walk(const YAML::Node& root) {
  root_loc_ = LocOf(root, Loc{false, "", 1, 1});
  const KeySpec* spec = FindKeySpec("");
  if (!root.IsMap()) {
    ErrorAt(root_loc_, "", "expected a map of keys at the top level, got " + DescribeYaml(root));
    return;
  }
  Record("", root, root_loc_, true);
  WalkMap(root, *spec, "", root_loc_);
}

void Validator::WalkNode(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& inherited) {
  const Loc loc = LocOf(node, inherited);
  Record(path, node, loc, false);
  if (const std::string problem = TagProblem(node); !problem.empty()) {
    ErrorAt(loc, path, problem);
    return;
  }
  const auto type_error = [&] {
    ErrorAt(loc, path, "expected " + KeyTypeName(spec.type) + ", got " + DescribeYaml(node));
  };
  bool ok = false;
  if (spec.type == KeyType::kMap) {
    if (node.IsNull()) {  // "evaluate:" with everything below commented out
      ok = true;
      for (const auto& child : ChildKeysFor(spec.path, TypeOfMap(node, spec)))
        CheckAbsent(*FindKeySpec(JoinPath(spec.path, child)), JoinPath(path, child), loc);
    } else if (!node.IsMap()) {
      type_error();
    } else {
      ok = true;
      WalkMap(node, spec, path, loc);
    }
  } else if (spec.type == KeyType::kList) {
    if (!node.IsSequence()) {
      type_error();
    } else {
      ok = true;
      const KeySpec* element = FindKeySpec(spec.path + ".*");
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string child = path + "." + std::to_string(i);
        WalkNode(node[i], *element, child, loc);
        if (element->IsScalar() && !entries_[child].ok) ok = false;
      }
      if (spec.min && static_cast<double>(node.size()) < *spec.min) {
        ErrorAt(loc, path, "must not be empty");
        ok = false;
      }
    }
  } else {
    ok = CheckScalar(node, spec, path, loc);
  }
  entries_[path].ok = ok;
}

void Validator::WalkMap(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& loc) {
  std::map<std::string, Loc> seen;
  const std::string type = TypeOfMap(node, spec);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first, value = it->second;
    const Loc value_loc = LocOf(value, loc);
    const Loc key_loc = value_loc.from_override ? value_loc : LocOf(key, loc);
    if (!key.IsScalar()) {
      ErrorAt(key_loc, path, "keys must be plain strings, got " + DescribeYaml(key));
      continue;
    }
    const std::string name = key.Scalar();
    const std::string child_path = JoinPath(path, name);
    if (name.empty() || name.find('.') != std::string::npos) {
      // A dotted key would alias a nested path ("train.epochs" vs train: {epochs}),
      // an empty one the map itself.
      ErrorAt(key_loc, child_path,
              name.empty() ? "empty key"
                           : fmt::format("unknown key '{}': a key is a single name; nest maps instead "
                                         "(dotted paths are for command-line overrides)",
                                         name));
      continue;
    }
    if (const std::string problem = TagProblem(key); !problem.empty()) {
      ErrorAt(key_loc, child_path, problem);
      continue;
    }
    if (name == "<<") {  // yaml-cpp 0.7 does not merge: it would be a plain key
      ErrorAt(key_loc, child_path, kMergeKeyMessage);
      continue;
    }
    if (auto dup = seen.find(name); dup != seen.end()) {
      ErrorAt(key_loc, child_path,
              DuplicateKeyMessage(name, dup->second.line));
      continue;
    }
    seen[name] = key_loc;
    const KeySpec* child = name == "*" ? nullptr : FindKeySpec(JoinPath(spec.path, name));
    if (child && !AppliesTo(*child, type)) child = nullptr;  // another layer type's key
    if (!child) {
      ErrorAt(key_loc, child_path, UnknownKeyMessage(name, ChildKeysFor(spec.path, type)));
      continue;
    }
    WalkNode(value, *child, child_path, key_loc);
  }
  for (const auto& name : ChildKeysFor(spec.path, type)) {
    const KeySpec& row = *FindKeySpec(JoinPath(spec.path, name));
    // With a bad `type`, no type's own required key is demanded: one error, not a cascade.
    if (type.empty() && !row.only_for.empty()) continue;
    if (!seen.count(name)) CheckAbsent(row, JoinPath(path, name), loc);
  }
}

void Validator::CheckAbsent(const KeySpec& spec, const std::string& path, const Loc& loc) {
  const std::string name = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
  if (spec.required) {
    ErrorAt(loc, path, "missing required key '" + name + "'");
  } else if (spec.type == KeyType::kMap) {
    for (const auto& child : ChildKeys(spec.path)) CheckAbsent(*FindKeySpec(JoinPath(spec.path, child)), JoinPath(path, child), loc);
  }
}

bool Validator::CheckScalar(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& loc) {
  const std::string expected = "expected " + KeyTypeName(spec.type) + ", got " + DescribeYaml(node);
  if (!node.IsScalar()) {
    ErrorAt(loc, path, expected);
    return false;
  }
  const std::string& text = node.Scalar();
  if (IsStrTag(SourceTag(node)) && spec.type != KeyType::kString && spec.type != KeyType::kEnum) {
    ErrorAt(loc, path, fmt::format("expected {}, got the string '{}' (tagged !!str)", KeyTypeName(spec.type), text));
    return false;
  }
  if (IsQuotedScalar(node) && spec.type != KeyType::kString && spec.type != KeyType::kEnum) {
    ErrorAt(loc, path, fmt::format("expected {}, got the string '{}' (quoted; write it without quotes)",
                                   KeyTypeName(spec.type), text));
    return false;
  }
  double value = 0;
  auto& parsed = entries_[path].value;
  switch (spec.type) {
    case KeyType::kString:
      if (text.empty()) {
        ErrorAt(loc, path, "must not be empty");
        return false;
      }
      return true;
    case KeyType::kEnum:
      if (std::find(spec.allowed.begin(), spec.allowed.end(), text) == spec.allowed.end()) {
        ErrorAt(loc, path, UnknownValueMessage(spec.noun, text, spec.allowed));
        return false;
      }
      return true;
    case KeyType::kBool: {
      bool b;
      if (!ParseBool(text, &b)) {
        ErrorAt(loc, path, expected);
        return false;
      }
      parsed = b;
      return true;
    }
    case KeyType::kInt:
    case KeyType::kUint: {
      int64_t i = 0;
      uint64_t u = 0;
      ParseResult r = ParseInt(text, &i);
      if (r == ParseResult::kOutOfRange && spec.type == KeyType::kUint && text[0] != '-') r = ParseUint(text, &u);
      else u = static_cast<uint64_t>(i);
      if (r == ParseResult::kBad) {
        ErrorAt(loc, path, "expected an integer, got " + DescribeYaml(node));
        return false;
      }
      if (r == ParseResult::kOutOfRange) {
        ErrorAt(loc, path, IntegerOutOfRangeMessage(text));
        return false;
      }
      value = (text[0] == '-') ? static_cast<double>(i) : static_cast<double>(u);
      if (spec.type == KeyType::kInt) parsed = i;
      else parsed = u;
      break;
    }
    case KeyType::kFloat: {
      ParseResult r = ParseFloat(text, &value);
      if (r == ParseResult::kBad) {
        ErrorAt(loc, path, expected);
        return false;
      }
      if (r == ParseResult::kNotFinite) {
        ErrorAt(loc, path, NotFiniteMessage(text));
        return false;
      }
      parsed = value;
      break;
    }
    default:
      return false;
  }
  const bool low = spec.min && (spec.min_open ? value <= *spec.min : value < *spec.min);
  const bool high = spec.max && (spec.max_open ? value >= *spec.max : value > *spec.max);
  if (low || high) {
    ErrorAt(loc, path, fmt::format("must be {}, got {}", RangeText(spec), text));
    return false;
  }
  return true;
}

void Validator::Record(const std::string& path, const YAML::Node& node, const Loc& loc, bool ok) {
  Entry& e = entries_[path];
  e.node.reset(node);
  e.loc = loc;
  e.ok = ok;
}

const Validator::Entry* Validator::Find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

bool Validator::Bad(const std::string& path) const {
  const Entry* e = Find(path);
  return e && !e->ok;
}

size_t Validator::ListSize(const std::string& path) const {
  const Entry* e = Find(path);
  return e && e->node.IsSequence() ? e->node.size() : 0;
}

Loc Validator::Where(const std::string& path) const {
  std::string p = path;
  while (true) {
    if (const Entry* e = Find(p)) return e->loc;
    if (p.empty()) return root_loc_;
    const size_t dot = p.rfind('.');
    p = dot == std::string::npos ? "" : p.substr(0, dot);
  }
}

std::map<std::string, std::string> Validator::Origins(const std::string& file) const {
  std::map<std::string, std::string> out;
  for (const auto& [path, entry] : entries_) out.emplace(path, FormatLoc(entry.loc, file));
  return out;
}

bool Validator::Get(const std::string& path, std::string* out) const {
  const Entry* e = Find(path);
  if (!e || !e->ok) return false;
  *out = e->node.Scalar();
  return true;
}

namespace {

template <class V>
bool GetParsed(const Validator::Entry* e, V* out) {
  if (!e || !e->ok) return false;
  const V* v = std::get_if<V>(&e->value);
  if (v) *out = *v;
  return v != nullptr;
}

}  // namespace

bool Validator::Get(const std::string& path, int64_t* out) const { return GetParsed(Find(path), out); }
bool Validator::Get(const std::string& path, uint64_t* out) const { return GetParsed(Find(path), out); }
bool Validator::Get(const std::string& path, double* out) const { return GetParsed(Find(path), out); }
bool Validator::Get(const std::string& path, bool* out) const { return GetParsed(Find(path), out); }

bool Validator::Get(const std::string& path, std::vector<std::string>* out) const {
  const Entry* e = Find(path);
  if (!e || !e->ok) return false;
  out->clear();
  for (size_t i = 0; i < e->node.size(); ++i) out->push_back(e->node[i].Scalar());
  return true;
}

}  // namespace config_internal

Status ValidateConfig(const YAML::Node& root, const std::string& path, PipelineConfig* out) {
  return config_internal::ValidateWithDiags(root, path, {}, out);
}

Status config_internal::ValidateWithDiags(const YAML::Node& root, const std::string& path,
                                          std::vector<config_internal::Diag> diags, PipelineConfig* out) {
  config_internal::Validator v(&diags);
  v.Walk(root);
  PipelineConfig config;
  config_internal::FillConfig(v, &config);
  config_internal::CheckRules(v, config);
  if (!diags.empty()) return config_internal::DiagsToStatus(diags, path);
  config.source_path = path;
  config.origins = v.Origins(path);
  *out = std::move(config);
  return Status::Ok();
}

}  // namespace pipeline
