#include "export/image_graph.h"

namespace pipeline::savedmodel {

std::string AddReshape(GraphBuilder& g, const std::string& node, const std::string& input,
                       const std::vector<int64_t>& dims) {
  std::vector<int64_t> shape{-1};
  shape.insert(shape.end(), dims.begin(), dims.end());
  g.ConstInt64s(node + "/shape", shape);
  tensorflow::NodeDef* r = g.Add(node, "Reshape", {input, node + "/shape"});
  GraphBuilder::SetType(r, "T", tensorflow::DT_FLOAT);
  GraphBuilder::SetType(r, "Tshape", tensorflow::DT_INT64);
  return node;
}

std::string TfPadding(const std::string& padding) { return padding == "same" ? "SAME" : "VALID"; }

}  // namespace pipeline::savedmodel
