// batch_norm at inference is y = x * scale + offset per channel, with
// scale = gamma / sqrt(moving_variance + epsilon) and
// offset = beta - moving_mean * scale. Folded here into two variables
// (<name>/scale, <name>/offset) and two ops, Mul and AddV2, broadcasting over
// the channels (the last axis of the NHWC rows, reshaped to [-1, c]).
// Chosen over FusedBatchNormV3 (is_training=false): the same numbers, ops the
// reader already runs, and no 4-D reshape for a batch_norm over flat rows.
#include <cmath>

#include <fmt/format.h>

#include "export/image_graph.h"
#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

std::string CheckBatchNorm(const ExportedLayer& l) {
  const int64_t c = l.in_shape.empty() ? l.in : l.in_shape.back();
  for (const char* t : {"gamma", "beta", "moving_mean", "moving_variance"}) {
    const ExportedTensor* p = l.Tensor(t);
    if (p == nullptr || p->values == nullptr) return fmt::format("has no {}", t);
    if (p->dims != std::vector<int64_t>{c}) return fmt::format("{} is [{}], not [{}]", t, fmt::join(p->dims, ", "), c);
  }
  if (!(l.epsilon > 0)) return "has no epsilon";
  return "";
}

std::string AddBatchNorm(GraphBuilder& g, WeightSink& weights, const ExportedLayer& l, const std::string& input) {
  const int64_t c = l.in_shape.empty() ? l.in : l.in_shape.back();
  std::vector<float> scale(c), offset(c);
  const float* gamma = l.Tensor("gamma")->values;
  const float* beta = l.Tensor("beta")->values;
  const float* mean = l.Tensor("moving_mean")->values;
  const float* var = l.Tensor("moving_variance")->values;
  for (int64_t i = 0; i < c; ++i) {
    scale[i] = static_cast<float>(gamma[i] / std::sqrt(static_cast<double>(var[i]) + l.epsilon));
    offset[i] = beta[i] - mean[i] * scale[i];
  }
  const std::string s = weights.Add(l.name + "/scale", {c}, scale.data());
  const std::string o = weights.Add(l.name + "/offset", {c}, offset.data());
  const std::string x = AddReshape(g, l.name + "/channels", input, {c});
  tensorflow::NodeDef* mul = g.Add(l.name + "/Mul", "Mul", {x, s});
  GraphBuilder::SetType(mul, "T", tensorflow::DT_FLOAT);
  tensorflow::NodeDef* add = g.Add(l.name + "/AddV2", "AddV2", {l.name + "/Mul", o});
  GraphBuilder::SetType(add, "T", tensorflow::DT_FLOAT);
  return AddReshape(g, l.name + "/rows", l.name + "/AddV2", {l.out});
}

}  // namespace

PIPELINE_REGISTER(LayerGraphRegistry, batch_norm, 0, (LayerGraph{&CheckBatchNorm, &AddBatchNorm}));

}  // namespace pipeline::savedmodel
