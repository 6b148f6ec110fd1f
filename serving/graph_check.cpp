#include "serving/graph_check.h"

#include <algorithm>
#include <vector>

#include "common/strings.h"
#include "tfformat/opdefs.h"
#include "tfformat/tensor_value.h"

namespace pipeline::savedmodel {

using tensorflow::AttrValue;

namespace {

// The AttrValue kind an OpDef attr type ("int", "list(type)", ...) needs.
AttrValue::ValueCase KindOf(const std::string& type) {
  if (type.rfind("list(", 0) == 0) return AttrValue::kList;
  if (type == "string") return AttrValue::kS;
  if (type == "int") return AttrValue::kI;
  if (type == "float") return AttrValue::kF;
  if (type == "bool") return AttrValue::kB;
  if (type == "type") return AttrValue::kType;
  if (type == "shape") return AttrValue::kShape;
  if (type == "tensor") return AttrValue::kTensor;
  if (type == "func") return AttrValue::kFunc;
  return AttrValue::VALUE_NOT_SET;
}

std::string KindName(AttrValue::ValueCase k) {
  switch (k) {
    case AttrValue::kList: return "list";
    case AttrValue::kS: return "string";
    case AttrValue::kI: return "int";
    case AttrValue::kF: return "float";
    case AttrValue::kB: return "bool";
    case AttrValue::kType: return "type";
    case AttrValue::kShape: return "shape";
    case AttrValue::kTensor: return "tensor";
    case AttrValue::kFunc: return "func";
    case AttrValue::kPlaceholder: return "placeholder";
    default: return "no value";
  }
}

std::string TypeList(const AttrValue& allowed) {
  std::vector<std::string> names;
  for (int t : allowed.list().type()) names.push_back(DataTypeName(static_cast<tensorflow::DataType>(t)));
  return Join(names, ", ");
}

bool TypeAllowed(const tensorflow::OpDef::AttrDef& a, int type) {
  if (!a.has_allowed_values()) return true;
  const auto& list = a.allowed_values().list().type();
  return std::find(list.begin(), list.end(), type) != list.end();
}

Status CheckValue(const tensorflow::OpDef::AttrDef& a, const AttrValue& v) {
  const AttrValue::ValueCase want = KindOf(a.type());
  // An empty list(...) may be written with no value at all (TensorFlow's
  // AttrValueHasType accepts it too).
  const bool empty_list = want == AttrValue::kList && v.value_case() == AttrValue::VALUE_NOT_SET;
  if (want != AttrValue::VALUE_NOT_SET && v.value_case() != want && !empty_list) {
    return Status::Corruption("attr '" + a.name() + "' holds a " + KindName(v.value_case()) + " value, the op needs " +
                              a.type());
  }
  const std::string& name = a.name();
  if (a.type() == "type" && !TypeAllowed(a, v.type())) {
    return Status::Corruption("Value for attr '" + name + "' of " +
                              DataTypeName(static_cast<tensorflow::DataType>(v.type())) +
                              " is not in the list of allowed values: " + TypeList(a.allowed_values()));
  }
  if (a.type() == "list(type)") {
    for (int t : v.list().type()) {
      if (!TypeAllowed(a, t)) {
        return Status::Corruption("Value for attr '" + name + "' of " +
                                  DataTypeName(static_cast<tensorflow::DataType>(t)) +
                                  " is not in the list of allowed values: " + TypeList(a.allowed_values()));
      }
    }
  }
  if (a.type() == "string" && a.has_allowed_values() && a.allowed_values().list().s_size() > 0) {
    const auto& list = a.allowed_values().list().s();
    if (std::find(list.begin(), list.end(), v.s()) == list.end()) {
      return Status::Corruption("Value for attr '" + name + "' of \"" + v.s() +
                                "\" is not in the list of allowed values: \"" +
                                Join(std::vector<std::string>(list.begin(), list.end()), "\", \"") + "\"");
    }
  }
  if (a.has_minimum()) {
    if (a.type() == "int" && v.i() < a.minimum()) {
      return Status::Corruption("Value for attr '" + name + "' of " + std::to_string(v.i()) +
                                " must be at least minimum " + std::to_string(a.minimum()));
    }
    if (want == AttrValue::kList) {
      const auto& l = v.list();
      const int64_t size = std::max({l.s_size(), l.i_size(), l.f_size(), l.b_size(), l.type_size(), l.shape_size(),
                                     l.tensor_size(), l.func_size()});
      if (size < a.minimum()) {
        return Status::Corruption("Length for attr '" + name + "' of " + std::to_string(size) +
                                  " must be at least minimum " + std::to_string(a.minimum()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

const tensorflow::OpDef* OpDefFor(const std::string& op, const tensorflow::OpList& model_ops) {
  if (const tensorflow::OpDef* def = FindExporterOpDef(op)) return def;
  for (const auto& def : model_ops.op())
    if (def.name() == op) return &def;
  return nullptr;
}

const tensorflow::OpDef::AttrDef* FindAttrDef(const tensorflow::OpDef& def, const std::string& name) {
  for (const auto& d : def.attr())
    if (d.name() == name) return &d;
  return nullptr;
}

namespace {

const AttrValue* AttrOrDefault(const tensorflow::NodeDef& n, const tensorflow::OpDef& def, const std::string& name) {
  auto it = n.attr().find(name);
  if (it != n.attr().end()) return &it->second;
  const tensorflow::OpDef::AttrDef* a = FindAttrDef(def, name);
  return a != nullptr && a->has_default_value() ? &a->default_value() : nullptr;
}

}  // namespace

bool OutputArgDtypes(const tensorflow::NodeDef& n, const tensorflow::OpDef& def,
                     std::vector<std::vector<tensorflow::DataType>>* per_arg) {
  using tensorflow::DataType;
  per_arg->clear();
  for (const auto& arg : def.output_arg()) {
    std::vector<DataType> types;
    if (!arg.type_list_attr().empty()) {
      const AttrValue* a = AttrOrDefault(n, def, arg.type_list_attr());
      if (a == nullptr) return false;
      for (int t : a->list().type()) types.push_back(static_cast<DataType>(t));
    } else {
      DataType t = arg.type();
      if (t == tensorflow::DT_INVALID) {
        const AttrValue* a = AttrOrDefault(n, def, arg.type_attr());
        if (a == nullptr) return false;
        t = a->type();
      }
      int64_t count = 1;
      if (!arg.number_attr().empty()) {
        const AttrValue* a = AttrOrDefault(n, def, arg.number_attr());
        if (a == nullptr) return false;
        count = a->i();
      }
      types.assign(static_cast<size_t>(std::clamp<int64_t>(count, 0, 1 << 20)), t);
    }
    if (arg.is_ref())
      for (DataType& t : types) t = static_cast<DataType>(t + 100);
    per_arg->push_back(std::move(types));
  }
  return true;
}

bool OutputDtypes(const tensorflow::NodeDef& n, const tensorflow::OpDef& def, std::vector<tensorflow::DataType>* out) {
  std::vector<std::vector<tensorflow::DataType>> per_arg;
  if (!OutputArgDtypes(n, def, &per_arg)) return false;
  out->clear();
  for (const auto& types : per_arg) out->insert(out->end(), types.begin(), types.end());
  return true;
}

Status CheckNodeAttrs(const tensorflow::NodeDef& node, const tensorflow::OpDef& def) {
  for (const auto& [name, value] : node.attr()) {
    if (!name.empty() && name[0] == '_') continue;  // _output_shapes, _class, ...: TensorFlow-internal
    const tensorflow::OpDef::AttrDef* a = FindAttrDef(def, name);
    if (a == nullptr) {
      std::vector<std::string> known;
      for (const auto& d : def.attr()) known.push_back(d.name());
      return Status::Corruption("NodeDef mentions attr '" + name + "' not in Op<name=" + def.name() +
                                "> (its attrs: " + (known.empty() ? "none" : Join(known, ", ")) + ")");
    }
    PIPELINE_RETURN_IF_ERROR(CheckValue(*a, value));
  }
  for (const auto& a : def.attr()) {
    if (!node.attr().count(a.name()) && !a.has_default_value()) {
      return Status::Corruption("NodeDef missing attr '" + a.name() + "' from Op<name=" + def.name() + ">");
    }
  }
  return Status::Ok();
}

Status CheckGraph(const tensorflow::GraphDef& graph, const tensorflow::OpList& model_ops, const std::string& where) {
  for (const auto& node : graph.node()) {
    const std::string what = where + ": node '" + node.name() + "' (op " + node.op() + "): ";
    if (const tensorflow::OpDef* def = OpDefFor(node.op(), model_ops)) {
      Status st = CheckNodeAttrs(node, *def);
      if (!st.ok()) return Status::Corruption(what + st.message());
    }
    if (node.op() == "Const") {
      auto it = node.attr().find("value");
      if (it != node.attr().end() && it->second.has_tensor()) {
        TensorShape shape;
        Status st = CheckTensorProto(it->second.tensor(), &shape);
        // A dtype the interpreter cannot hold is reported if the node ever
        // runs; only a value that contradicts itself is refused here.
        if (st.IsCorruption()) return Status::Corruption(what + "attr 'value' " + st.message());
      }
    }
  }
  return Status::Ok();
}

}  // namespace pipeline::savedmodel
