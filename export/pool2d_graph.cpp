// max_pool2d / avg_pool2d: Reshape to NHWC, MaxPool or AvgPool (ksize and
// strides [1, h, w, 1], TF's padding), Reshape back to rows.
#include "export/image_graph.h"
#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

std::string CheckPool(const ExportedLayer& l) {
  if (l.in_shape.size() != 3 || l.out_shape.size() != 3 || l.window.size() != 2 || l.strides.size() != 2)
    return "has no image shapes";
  return "";
}

std::string AddPool(GraphBuilder& g, const ExportedLayer& l, const std::string& input, const std::string& op) {
  const std::string x = AddReshape(g, l.name + "/images", input, l.in_shape);
  tensorflow::NodeDef* p = g.Add(l.name + "/" + op, op, {x});
  GraphBuilder::SetType(p, "T", tensorflow::DT_FLOAT);
  GraphBuilder::SetIntList(p, "ksize", {1, l.window[0], l.window[1], 1});
  GraphBuilder::SetIntList(p, "strides", {1, l.strides[0], l.strides[1], 1});
  GraphBuilder::SetString(p, "padding", TfPadding(l.padding));
  return AddReshape(g, l.name + "/rows", l.name + "/" + op, {l.out});
}
std::string AddMax(GraphBuilder& g, WeightSink&, const ExportedLayer& l, const std::string& input) {
  return AddPool(g, l, input, "MaxPool");
}
std::string AddAvg(GraphBuilder& g, WeightSink&, const ExportedLayer& l, const std::string& input) {
  return AddPool(g, l, input, "AvgPool");
}

}  // namespace

PIPELINE_REGISTER(LayerGraphRegistry, max_pool2d, 0, (LayerGraph{&CheckPool, &AddMax}));
PIPELINE_REGISTER(LayerGraphRegistry, avg_pool2d, 0, (LayerGraph{&CheckPool, &AddAvg}));

}  // namespace pipeline::savedmodel
