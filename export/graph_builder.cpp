#include "export/graph_builder.h"

#include <cstring>
#include <stdexcept>

namespace pipeline::savedmodel {

using tensorflow::AttrValue;
using tensorflow::DataType;
using tensorflow::NodeDef;
using tensorflow::TensorShapeProto;

TensorShapeProto MakeShape(const std::vector<int64_t>& dims) {
  TensorShapeProto s;
  for (int64_t d : dims) s.add_dim()->set_size(d);
  return s;
}

TensorShapeProto UnknownRankShape() {
  TensorShapeProto s;
  s.set_unknown_rank(true);
  return s;
}

NodeDef* GraphBuilder::Add(const std::string& name, const std::string& op, const std::vector<std::string>& inputs) {
  // Duplicate names are a programming error of the exporter, never user input
  // (CheckExport validates the user-chosen parts of names).
  if (!names_.insert(name).second) throw std::logic_error("duplicate graph node name: " + name);
  NodeDef* n = graph_.add_node();
  n->set_name(name);
  n->set_op(op);
  for (const auto& in : inputs) n->add_input(in);
  return n;
}

void GraphBuilder::Control(NodeDef* node, const std::vector<std::string>& deps) {
  for (const auto& d : deps) node->add_input("^" + d);
}

void GraphBuilder::SetType(NodeDef* n, const std::string& key, DataType t) { (*n->mutable_attr())[key].set_type(t); }

void GraphBuilder::SetTypeList(NodeDef* n, const std::string& key, const std::vector<DataType>& t) {
  AttrValue::ListValue* list = (*n->mutable_attr())[key].mutable_list();
  for (DataType d : t) list->add_type(d);
}

void GraphBuilder::SetShape(NodeDef* n, const std::string& key, const TensorShapeProto& s) {
  *(*n->mutable_attr())[key].mutable_shape() = s;
}

void GraphBuilder::SetShapeList(NodeDef* n, const std::string& key, const std::vector<TensorShapeProto>& s) {
  AttrValue::ListValue* list = (*n->mutable_attr())[key].mutable_list();
  for (const auto& shape : s) *list->add_shape() = shape;
}

void GraphBuilder::SetInt(NodeDef* n, const std::string& key, int64_t v) { (*n->mutable_attr())[key].set_i(v); }
void GraphBuilder::SetBool(NodeDef* n, const std::string& key, bool v) { (*n->mutable_attr())[key].set_b(v); }
void GraphBuilder::SetIntList(NodeDef* n, const std::string& key, const std::vector<int64_t>& v) {
  auto* list = (*n->mutable_attr())[key].mutable_list();
  for (int64_t x : v) list->add_i(x);
}

void GraphBuilder::SetString(NodeDef* n, const std::string& key, const std::string& v) {
  (*n->mutable_attr())[key].set_s(v);
}

namespace {
NodeDef* ConstNode(GraphBuilder* b, const std::string& name, DataType dtype, const std::vector<int64_t>& shape,
                   tensorflow::TensorProto** tensor) {
  NodeDef* n = b->Add(name, "Const");
  GraphBuilder::SetType(n, "dtype", dtype);
  *tensor = (*n->mutable_attr())["value"].mutable_tensor();
  (*tensor)->set_dtype(dtype);
  *(*tensor)->mutable_tensor_shape() = MakeShape(shape);
  return n;
}
int64_t Elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
}  // namespace

NodeDef* GraphBuilder::ConstFloats(const std::string& name, const std::vector<int64_t>& shape, const float* values) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_FLOAT, shape, &t);
  const int64_t count = Elements(shape);
  std::string bytes(static_cast<size_t>(count) * sizeof(float), '\0');  // little-endian host (x86/arm64)
  if (count > 0) std::memcpy(bytes.data(), values, bytes.size());
  t->set_tensor_content(std::move(bytes));
  return n;
}

NodeDef* GraphBuilder::ConstFloatFill(const std::string& name, const std::vector<int64_t>& shape, float value) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_FLOAT, shape, &t);
  t->add_float_val(value);
  return n;
}

NodeDef* GraphBuilder::ConstStrings(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<std::string>& values) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_STRING, shape, &t);
  for (const auto& v : values) t->add_string_val(v);
  return n;
}

NodeDef* GraphBuilder::ConstInt32(const std::string& name, int32_t value) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_INT32, {}, &t);
  t->add_int_val(value);
  return n;
}

NodeDef* GraphBuilder::ConstInt64(const std::string& name, int64_t value) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_INT64, {}, &t);
  t->add_int64_val(value);
  return n;
}

NodeDef* GraphBuilder::ConstInt64s(const std::string& name, const std::vector<int64_t>& values) {
  tensorflow::TensorProto* t;
  NodeDef* n = ConstNode(this, name, tensorflow::DT_INT64, {static_cast<int64_t>(values.size())}, &t);
  for (int64_t v : values) t->add_int64_val(v);
  return n;
}

std::set<std::string> GraphBuilder::UsedOps() const {
  std::set<std::string> ops;
  for (const auto& n : graph_.node()) ops.insert(n.op());
  return ops;
}

}  // namespace pipeline::savedmodel
