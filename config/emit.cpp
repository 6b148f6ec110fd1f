// The resolved configuration as YAML, in schema order, through the schema's
// bindings (config/schema.h): the one loop for every key. Numbers are written
// in their shortest round-trip form so that loading the text gives the same
// doubles.
#include "config/loader.h"
#include "config/schema.h"

namespace pipeline {
namespace {

std::string JoinPath(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

// The `type` of an object whose rows depend on it (a layer), else "".
std::string TypeOf(const std::string& schema_path, const void* obj) {
  const KeySpec* t = FindKeySpec(JoinPath(schema_path, "type"));
  return t && t->type == KeyType::kEnum && t->member ? t->text(t->member(const_cast<void*>(obj))) : "";
}

void EmitObject(YAML::Emitter& out, const std::string& schema_path, const void* obj) {
  for (const auto& name : ChildKeysFor(schema_path, TypeOf(schema_path, obj))) {
    const KeySpec& spec = *FindKeySpec(JoinPath(schema_path, name));
    void* member = spec.member(const_cast<void*>(obj));
    out << YAML::Key << name << YAML::Value;
    if (spec.type == KeyType::kMap) {
      if (spec.flow) out << YAML::Flow;
      out << YAML::BeginMap;
      EmitObject(out, spec.path, member);
      out << YAML::EndMap;
    } else if (spec.type == KeyType::kList && spec.list_size) {
      out << YAML::BeginSeq;
      for (size_t i = 0; i < spec.list_size(member); ++i) {
        out << YAML::BeginMap;
        EmitObject(out, spec.path + ".*", spec.list_element(member, i));
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    } else if (spec.type == KeyType::kList) {
      if (spec.flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& v : *static_cast<const std::vector<std::string>*>(member)) out << v;
      out << YAML::EndSeq;
    } else {
      out << spec.text(member);
    }
  }
}

}  // namespace

std::string EmitResolvedYaml(const PipelineConfig& c) {
  YAML::Emitter out;
  if (!c.source_path.empty()) out << YAML::Comment("Resolved from " + c.source_path) << YAML::Newline;
  out << YAML::BeginMap;
  EmitObject(out, "", &c);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace pipeline
