// A small NodeDef builder for TF1 GraphDefs: named nodes, typed attrs and
// Const tensors, data inputs kept before control inputs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "proto/graph.pb.h"
#include "proto/tensor.pb.h"
#include "proto/tensor_shape.pb.h"

namespace pipeline::savedmodel {

// dims: -1 = unknown size. An empty vector is a scalar.
tensorflow::TensorShapeProto MakeShape(const std::vector<int64_t>& dims);
tensorflow::TensorShapeProto UnknownRankShape();

class GraphBuilder {
 public:
  // Adds node `name` running `op`. `inputs` are data inputs ("node" or
  // "node:k"); control inputs go through Control() so they stay last.
  tensorflow::NodeDef* Add(const std::string& name, const std::string& op,
                           const std::vector<std::string>& inputs = {});
  // Appends control inputs ("^dep") after the data inputs of `node`.
  static void Control(tensorflow::NodeDef* node, const std::vector<std::string>& deps);

  static void SetType(tensorflow::NodeDef* n, const std::string& key, tensorflow::DataType t);
  static void SetTypeList(tensorflow::NodeDef* n, const std::string& key, const std::vector<tensorflow::DataType>& t);
  static void SetShape(tensorflow::NodeDef* n, const std::string& key, const tensorflow::TensorShapeProto& s);
  static void SetShapeList(tensorflow::NodeDef* n, const std::string& key,
                           const std::vector<tensorflow::TensorShapeProto>& s);
  static void SetInt(tensorflow::NodeDef* n, const std::string& key, int64_t v);
  static void SetIntList(tensorflow::NodeDef* n, const std::string& key, const std::vector<int64_t>& v);
  static void SetBool(tensorflow::NodeDef* n, const std::string& key, bool v);
  static void SetString(tensorflow::NodeDef* n, const std::string& key, const std::string& v);

  // Const nodes (attrs dtype + value).
  tensorflow::NodeDef* ConstFloats(const std::string& name, const std::vector<int64_t>& shape, const float* values);
  // One float_val: TensorFlow fills the whole shape with it.
  tensorflow::NodeDef* ConstFloatFill(const std::string& name, const std::vector<int64_t>& shape, float value);
  tensorflow::NodeDef* ConstStrings(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<std::string>& values);
  tensorflow::NodeDef* ConstInt32(const std::string& name, int32_t value);
  tensorflow::NodeDef* ConstInt64(const std::string& name, int64_t value);  // a scalar
  tensorflow::NodeDef* ConstInt64s(const std::string& name, const std::vector<int64_t>& values);

  bool Has(const std::string& name) const { return names_.count(name) > 0; }
  std::set<std::string> UsedOps() const;
  tensorflow::GraphDef& graph() { return graph_; }
  const tensorflow::GraphDef& graph() const { return graph_; }

 private:
  tensorflow::GraphDef graph_;
  std::set<std::string> names_;
};

}  // namespace pipeline::savedmodel
