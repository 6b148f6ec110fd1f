// dense: y = activation(x · kernel + bias), as Keras' Dense exports it:
// <name>/MatMul, <name>/BiasAdd, then the activation's op.
#include <fmt/format.h>

#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

std::string CheckDense(const ExportedLayer& l) {
  const ExportedTensor* k = l.Tensor("kernel");
  const ExportedTensor* b = l.Tensor("bias");
  if (k == nullptr || b == nullptr || k->values == nullptr || b->values == nullptr) return "has no weights";
  if (k->dims != std::vector<int64_t>{l.in, l.out} || b->dims != std::vector<int64_t>{l.out})
    return fmt::format("kernel is [{}] and bias [{}], not [{}, {}] and [{}]", fmt::join(k->dims, ", "),
                       fmt::join(b->dims, ", "), l.in, l.out, l.out);
  return "";
}

std::string AddDense(GraphBuilder& g, WeightSink& weights, const ExportedLayer& l, const std::string& input) {
  const std::string k = weights.Add(l.name + "/kernel", {l.in, l.out}, l.Tensor("kernel")->values);
  const std::string b = weights.Add(l.name + "/bias", {l.out}, l.Tensor("bias")->values);
  tensorflow::NodeDef* mm = g.Add(l.name + "/MatMul", "MatMul", {input, k});
  GraphBuilder::SetType(mm, "T", tensorflow::DT_FLOAT);
  tensorflow::NodeDef* ba = g.Add(l.name + "/BiasAdd", "BiasAdd", {l.name + "/MatMul", b});
  GraphBuilder::SetType(ba, "T", tensorflow::DT_FLOAT);
  return AddActivation(g, l.name, l.activation, l.name + "/BiasAdd");
}

}  // namespace

PIPELINE_REGISTER(LayerGraphRegistry, dense, 0, (LayerGraph{&CheckDense, &AddDense}));

}  // namespace pipeline::savedmodel
