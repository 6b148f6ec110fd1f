// conv2d: Reshape to NHWC, Conv2D (NHWC, the HWIO kernel as trained: no
// transpose), BiasAdd, the activation, Reshape back to rows -- Keras'
// Conv2D nodes between our flat-row edges.
#include <fmt/format.h>

#include "export/image_graph.h"
#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

std::string CheckConv(const ExportedLayer& l) {
  const ExportedTensor* k = l.Tensor("kernel");
  const ExportedTensor* b = l.Tensor("bias");
  if (k == nullptr || b == nullptr || k->values == nullptr || b->values == nullptr) return "has no weights";
  if (l.in_shape.size() != 3 || l.out_shape.size() != 3 || l.window.size() != 2 || l.strides.size() != 2)
    return "has no image shapes";
  const std::vector<int64_t> want{l.window[0], l.window[1], l.in_shape[2], l.out_shape[2]};
  if (k->dims != want || b->dims != std::vector<int64_t>{l.out_shape[2]})
    return fmt::format("kernel is [{}] and bias [{}], not [{}] and [{}]", fmt::join(k->dims, ", "),
                       fmt::join(b->dims, ", "), fmt::join(want, ", "), l.out_shape[2]);
  return "";
}

std::string AddConv(GraphBuilder& g, WeightSink& weights, const ExportedLayer& l, const std::string& input) {
  const ExportedTensor* kt = l.Tensor("kernel");
  const std::string k = weights.Add(l.name + "/kernel", kt->dims, kt->values);
  const std::string b = weights.Add(l.name + "/bias", {l.out_shape[2]}, l.Tensor("bias")->values);
  const std::string x = AddReshape(g, l.name + "/images", input, l.in_shape);
  tensorflow::NodeDef* conv = g.Add(l.name + "/Conv2D", "Conv2D", {x, k});
  GraphBuilder::SetType(conv, "T", tensorflow::DT_FLOAT);
  GraphBuilder::SetIntList(conv, "strides", {1, l.strides[0], l.strides[1], 1});
  GraphBuilder::SetString(conv, "padding", TfPadding(l.padding));
  // data_format NHWC, dilations 1 and use_cudnn_on_gpu are the defaults,
  // left out as for every op (attrs older TF versions may not know).
  tensorflow::NodeDef* ba = g.Add(l.name + "/BiasAdd", "BiasAdd", {l.name + "/Conv2D", b});
  GraphBuilder::SetType(ba, "T", tensorflow::DT_FLOAT);
  const std::string y = AddActivation(g, l.name, l.activation, l.name + "/BiasAdd");
  return AddReshape(g, l.name + "/rows", y, {l.out});
}

}  // namespace

PIPELINE_REGISTER(LayerGraphRegistry, conv2d, 0, (LayerGraph{&CheckConv, &AddConv}));

}  // namespace pipeline::savedmodel
