#include "tests/support/export_verify.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <optional>

#include "common/files.h"
#include "tfformat/bundle_reader.h"

namespace pipeline::savedmodel {
namespace fs = std::filesystem;

using tensorflow::AttrValue;
using tensorflow::DataType;
using tensorflow::NodeDef;
using tensorflow::OpDef;

Status ReadSavedModelProto(const std::string& version_dir, tensorflow::SavedModel* sm) {
  std::string pb;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile((fs::path(version_dir) / "saved_model.pb").string(), input::kSavedModelProto, &pb));
  if (!sm->ParseFromString(pb)) return Status::Corruption(version_dir + "/saved_model.pb does not parse");
  return Status::Ok();
}

Status VerifyVersionDir(const std::string& dir, BundleTensors* tensors) {
  tensorflow::SavedModel sm;
  PIPELINE_RETURN_IF_ERROR(ReadSavedModelProto(dir, &sm));
  if (sm.saved_model_schema_version() != 1) return Status::Corruption(dir + ": schema version is not 1");
  if (sm.meta_graphs_size() != 1) return Status::Corruption(dir + ": expected one meta graph");
  const auto& mg = sm.meta_graphs(0);
  if (mg.meta_info_def().tags_size() != 1 || mg.meta_info_def().tags(0) != "serve")
    return Status::Corruption(dir + ": meta graph is not tagged exactly 'serve'");
  std::map<std::string, std::vector<int64_t>> vars;
  for (const auto& n : mg.graph_def().node()) {
    if (n.op() != "VariableV2") continue;
    std::vector<int64_t> shape;
    auto it = n.attr().find("shape");
    if (it != n.attr().end())
      for (const auto& d : it->second.shape().dim()) shape.push_back(d.size());
    vars[n.name()] = shape;
  }
  if (!mg.has_saver_def()) {
    if (!vars.empty()) return Status::Corruption(dir + ": variables but no SaverDef");
    if (fs::exists(fs::path(dir) / "variables" / "variables.index"))
      return Status::Corruption(dir + ": frozen export has a variables.index");
    return Status::Ok();
  }
  BundleTensors local;
  BundleTensors* t = tensors ? tensors : &local;
  PIPELINE_RETURN_IF_ERROR(ReadBundle((fs::path(dir) / "variables" / "variables").string(), t));
  if (t->size() != vars.size())
    return Status::Corruption(fmt::format("{}: {} checkpoint tensors for {} variables", dir, t->size(), vars.size()));
  for (const auto& [name, shape] : vars) {
    auto it = t->find(name);
    if (it == t->end()) return Status::Corruption(dir + ": no checkpoint tensor for variable " + name);
    if (it->second.shape != shape || it->second.dtype != tensorflow::DT_FLOAT)
      return Status::Corruption(dir + ": checkpoint tensor " + name + " does not match its variable");
  }
  return Status::Ok();
}

namespace {

constexpr int kRef = 100;

bool IsDefault(const AttrValue& v, const OpDef::AttrDef& def) {
  return def.has_default_value() && v.SerializeAsString() == def.default_value().SerializeAsString();
}

// Checks the value kind of `v` against the AttrDef type string.
bool KindMatches(const AttrValue& v, const std::string& type) {
  using K = AttrValue::ValueCase;
  if (type.rfind("list(", 0) == 0) {
    if (v.value_case() != K::kList) return false;
    const auto& l = v.list();
    const std::string inner = type.substr(5, type.size() - 6);
    auto only = [&](int count) {
      int total = l.s_size() + l.i_size() + l.f_size() + l.b_size() + l.type_size() + l.shape_size() + l.tensor_size() +
                  l.func_size();
      return total == count;
    };
    if (inner == "type") return only(l.type_size());
    if (inner == "shape") return only(l.shape_size());
    if (inner == "int") return only(l.i_size());
    if (inner == "string") return only(l.s_size());
    if (inner == "float") return only(l.f_size());
    if (inner == "bool") return only(l.b_size());
    if (inner == "tensor") return only(l.tensor_size());
    return true;
  }
  if (type == "type") return v.value_case() == K::kType;
  if (type == "shape") return v.value_case() == K::kShape;
  if (type == "int") return v.value_case() == K::kI;
  if (type == "string") return v.value_case() == K::kS;
  if (type == "float") return v.value_case() == K::kF;
  if (type == "bool") return v.value_case() == K::kB;
  if (type == "tensor") return v.value_case() == K::kTensor;
  if (type == "func") return v.value_case() == K::kFunc;
  return false;
}

int ListLength(const AttrValue& v) {
  const auto& l = v.list();
  return l.s_size() + l.i_size() + l.f_size() + l.b_size() + l.type_size() + l.shape_size() + l.tensor_size() +
         l.func_size();
}

// Attr value with the OpDef default filled in.
const AttrValue* Attr(const NodeDef& n, const OpDef& op, const std::string& name) {
  auto it = n.attr().find(name);
  if (it != n.attr().end()) return &it->second;
  for (const auto& a : op.attr())
    if (a.name() == name && a.has_default_value()) return &a.default_value();
  return nullptr;
}

// Expands arg defs into one dtype per tensor; nullopt if attrs are missing.
std::optional<std::vector<int>> ArgTypes(const NodeDef& n, const OpDef& op,
                                         const google::protobuf::RepeatedPtrField<OpDef::ArgDef>& args) {
  std::vector<int> out;
  for (const auto& a : args) {
    const int ref = a.is_ref() ? kRef : 0;
    if (!a.type_list_attr().empty()) {
      const AttrValue* v = Attr(n, op, a.type_list_attr());
      if (!v) return std::nullopt;
      for (int t : v->list().type()) out.push_back(t + ref);
      continue;
    }
    int count = 1;
    if (!a.number_attr().empty()) {
      const AttrValue* v = Attr(n, op, a.number_attr());
      if (!v) return std::nullopt;
      count = static_cast<int>(v->i());
    }
    int type = a.type();
    if (!a.type_attr().empty()) {
      const AttrValue* v = Attr(n, op, a.type_attr());
      if (!v) return std::nullopt;
      type = v->type();
    }
    for (int i = 0; i < count; ++i) out.push_back(type + ref);
  }
  return out;
}

}  // namespace

void CheckGraphAgainstRegistry(const tensorflow::GraphDef& graph, const tensorflow::OpList& registry,
                               std::vector<std::string>* problems) {
  std::map<std::string, const OpDef*> ops;
  for (const auto& op : registry.op()) ops[op.name()] = &op;
  std::map<std::string, const NodeDef*> nodes;
  for (const auto& n : graph.node())
    if (!nodes.emplace(n.name(), &n).second) problems->push_back("duplicate node " + n.name());
  const int producer = graph.versions().producer();

  std::map<std::string, std::vector<int>> outputs;  // node -> output dtypes
  for (const auto& n : graph.node()) {
    auto it = ops.find(n.op());
    if (it == ops.end()) continue;
    auto types = ArgTypes(n, *it->second, it->second->output_arg());
    if (types) outputs[n.name()] = *types;
  }

  for (const auto& n : graph.node()) {
    const std::string where = "node '" + n.name() + "' (" + n.op() + "): ";
    auto it = ops.find(n.op());
    if (it == ops.end()) {
      problems->push_back(where + "op not in the registry");
      continue;
    }
    const OpDef& op = *it->second;
    if (op.has_deprecation() && producer >= op.deprecation().version())
      problems->push_back(where + fmt::format("op deprecated at GraphDef version {}", op.deprecation().version()));
    std::map<std::string, const OpDef::AttrDef*> defs;
    for (const auto& a : op.attr()) defs[a.name()] = &a;
    for (const auto& [name, value] : n.attr()) {
      auto d = defs.find(name);
      if (d == defs.end()) {
        problems->push_back(where + "attr '" + name + "' unknown to the OpDef");
        continue;
      }
      const OpDef::AttrDef& def = *d->second;
      if (IsDefault(value, def)) problems->push_back(where + "attr '" + name + "' equals its default (leave it out)");
      if (!KindMatches(value, def.type()))
        problems->push_back(where + "attr '" + name + "' is not of type " + def.type());
      if (def.has_allowed_values() && def.type() == "type") {
        bool allowed = false;
        for (int t : def.allowed_values().list().type()) allowed |= t == value.type();
        if (!allowed) problems->push_back(where + "attr '" + name + "' type not allowed");
      }
      if (def.has_allowed_values() && def.type() == "string") {
        bool allowed = false;
        for (const auto& s : def.allowed_values().list().s()) allowed |= s == value.s();
        if (!allowed) problems->push_back(where + "attr '" + name + "' value not allowed");
      }
      if (def.has_minimum()) {
        const int64_t got = def.type().rfind("list(", 0) == 0 ? ListLength(value) : value.i();
        if (got < def.minimum()) problems->push_back(where + "attr '" + name + "' below its minimum");
      }
    }
    for (const auto& a : op.attr())
      if (!a.has_default_value() && !n.attr().count(a.name()))
        problems->push_back(where + "required attr '" + a.name() + "' missing");

    // Inputs: data first, then control; all resolvable.
    std::vector<std::string> data;
    bool seen_control = false;
    for (const auto& in : n.input()) {
      if (!in.empty() && in[0] == '^') {
        seen_control = true;
        if (!nodes.count(in.substr(1))) problems->push_back(where + "control input to unknown node " + in);
        continue;
      }
      if (seen_control) problems->push_back(where + "data input '" + in + "' after a control input");
      data.push_back(in);
    }
    auto expected = ArgTypes(n, op, op.input_arg());
    if (!expected) continue;  // missing attrs already reported
    if (expected->size() != data.size()) {
      problems->push_back(where + fmt::format("{} data inputs, OpDef wants {}", data.size(), expected->size()));
      continue;
    }
    for (size_t i = 0; i < data.size(); ++i) {
      std::string src = data[i];
      int index = 0;
      const size_t colon = src.rfind(':');
      if (colon != std::string::npos) {
        index = std::stoi(src.substr(colon + 1));
        src = src.substr(0, colon);
      }
      auto o = outputs.find(src);
      if (!nodes.count(src)) {
        problems->push_back(where + "input from unknown node " + data[i]);
        continue;
      }
      if (o == outputs.end() || index >= static_cast<int>(o->second.size())) {
        problems->push_back(where + "input " + data[i] + " names a missing output");
        continue;
      }
      const int got = o->second[index], want = (*expected)[i];
      const bool ok = want >= kRef ? got == want : (got == want || got == want + kRef);
      if (!ok)
        problems->push_back(where + fmt::format("input {} has dtype {}, OpDef wants {}", i, got, want));
    }
  }
}

}  // namespace pipeline::savedmodel
