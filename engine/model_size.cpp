#include "engine/model_size.h"

#include <fmt/format.h>

#include <initializer_list>

#include "common/checked_math.h"
#include "engine/activation.h"

namespace pipeline {
namespace {

constexpr int64_t kFloat = sizeof(float);

// a1*b1 + a2*b2 + ... in checked arithmetic.
bool SumOfProducts(std::initializer_list<std::pair<int64_t, int64_t>> terms, int64_t* out) {
  int64_t sum = 0;
  for (const auto& [a, b] : terms) {
    int64_t p;
    if (!CheckedMul(a, b, &p) || !CheckedAdd(sum, p, &sum)) return false;
  }
  *out = sum;
  return true;
}

// A training batch's rows of pre-activations the layer keeps (gelu, softplus:
// engine/activation.h), 0 for the others.
int64_t KeptPreActivationRows(const LayerSpec& layer, int64_t batch) {
  Activation act;
  return (layer.type == "dense" || layer.type == "conv2d") && LookupActivation(layer.activation, &act) &&
                 KeepsPreActivation(act)
             ? batch
             : 0;
}

}  // namespace

OptimizerFootprint FootprintOf(const std::string& type) {
  if (type == "momentum") return {1, 0};  // the accumulator (Nesterov reuses the gradient)
  if (type == "adam") return {2, 1};      // m, v, and the update direction
  if (type == "rmsprop") return {1, 1};   // the mean square, and the update direction
  return {0, 0};                          // sgd updates from the gradient alone
}

Status SizeModel(const NetworkSpec& spec, const std::string& optimizer_type, int64_t batch, int64_t eval_batch,
                 ModelSize* out, size_t* failed_layer) {
  const OptimizerFootprint opt = FootprintOf(optimizer_type);
  const int64_t per_param = 2 + opt.state + opt.scratch;   // value, gradient, optimizer buffers
  const int64_t per_snapshot = 2 * (1 + opt.state);        // captured tensors + serialized bytes
  ModelSize m;
  int64_t in = spec.input, train_rows = 0;  // a training batch holds outputs and their gradients
  if (!CheckedMul(batch, 2, &train_rows)) {
    *failed_layer = 0;
    return Status::InvalidArgument(fmt::format("the batch size {} overflows a 64-bit size", batch));
  }
  bool image = !spec.input_shape.empty();
  for (const auto& ls : spec.layers) image = image || ls.type != "dense";
  if (image) {
    // A model with image layers: the layers themselves know their shapes,
    // parameters and FLOPs (config validation bounded their sizes, and their
    // tensors are small next to a dense kernel's, so building them is cheap).
    Shape shape = spec.input_shape.empty() ? Shape{spec.input} : spec.input_shape;
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      *failed_layer = i;
      std::unique_ptr<Layer> layer;
      PIPELINE_RETURN_IF_ERROR(CreateLayer(spec.layers[i], shape, &layer));
      LayerSize l;
      l.name = spec.layers[i].name;
      l.in = layer->in_features();
      l.out = layer->out_features();
      int64_t tensors = 0;
      for (Param* p : layer->params()) l.params += p->size();
      for (Param* p : layer->state()) tensors += p->size();
      l.forward_flops = layer->ForwardFlops();
      m.params += l.params;
      m.inference_flops += l.forward_flops;
      m.training_flops += l.forward_flops + layer->WeightGradFlops() + (i > 0 ? layer->InputGradFlops() : 0);
      l.param_bytes = (l.params * per_param + tensors) * kFloat;
      l.snapshot_bytes = (l.params * per_snapshot + 2 * tensors) * kFloat;
      const int64_t outputs = (train_rows + eval_batch) * l.out * (i + 1 < spec.layers.size() ? 1 : 2) +
                              KeptPreActivationRows(spec.layers[i], batch) * l.out;
      const int64_t inputs = i == 0 ? (train_rows + eval_batch) * l.in : 0;
      l.activation_bytes = (outputs + inputs) * kFloat;
      m.bytes += l.param_bytes + l.snapshot_bytes + l.activation_bytes;
      shape = layer->out_shape();
      m.layers.push_back(std::move(l));
    }
    *out = std::move(m);
    return Status::Ok();
  }
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    *failed_layer = i;
    LayerSize l;
    l.name = spec.layers[i].name;
    l.in = in;
    l.out = spec.layers[i].units;
    int64_t kernel = 0, floats = 0, input_floats = 0, output_floats = 0, kept_floats = 0, flops = 0;
    bool ok = CheckedMul(l.in, l.out, &kernel) && CheckedAdd(kernel, l.out, &l.params) &&
              CheckedAdd(m.params, l.params, &m.params) && CheckedMul(kernel, 2, &l.forward_flops) &&
              CheckedAdd(m.inference_flops, l.forward_flops, &m.inference_flops) &&
              // forward + weight gradient, and the input gradient but for the first layer
              CheckedMul(l.forward_flops, i == 0 ? 2 : 3, &flops) && CheckedAdd(m.training_flops, flops, &m.training_flops) &&
              CheckedMul(l.params, per_param, &floats) && CheckedMul(floats, kFloat, &l.param_bytes) &&
              CheckedMul(l.params, per_snapshot, &floats) && CheckedMul(floats, kFloat, &l.snapshot_bytes) &&
              // output and its gradient (training), output (evaluation); the last layer's
              // log-probabilities and one-hot labels are as wide
              SumOfProducts({{train_rows, l.out}, {eval_batch, l.out}}, &output_floats) &&
              (i + 1 < spec.layers.size() || CheckedMul(output_floats, 2, &output_floats)) &&
              // and a training batch's pre-activations, where the activation keeps them
              SumOfProducts({{KeptPreActivationRows(spec.layers[i], batch), l.out}}, &kept_floats) &&
              CheckedAdd(output_floats, kept_floats, &output_floats) &&
              (i > 0 || SumOfProducts({{train_rows, l.in}, {eval_batch, l.in}}, &input_floats)) &&
              CheckedAdd(output_floats, input_floats, &floats) && CheckedMul(floats, kFloat, &l.activation_bytes) &&
              CheckedAdd(m.bytes, l.param_bytes, &m.bytes) && CheckedAdd(m.bytes, l.snapshot_bytes, &m.bytes) &&
              CheckedAdd(m.bytes, l.activation_bytes, &m.bytes);
    if (!ok) {
      return Status::InvalidArgument(fmt::format(
          "layer '{}' ({} inputs x {} units): its size to train (parameters, FLOPs or bytes) overflows a 64-bit "
          "integer",
          l.name, l.in, l.out));
    }
    in = l.out;
    m.layers.push_back(std::move(l));
  }
  *out = std::move(m);
  return Status::Ok();
}

std::string FormatBytes(int64_t bytes) {
  static const char* kUnits[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 999.5 && u < 6) {  // 999.7 kB prints as 1 MB, not 1e+03 kB
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.3g} {}", v, kUnits[u]);
}

}  // namespace pipeline
