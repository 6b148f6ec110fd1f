#include "stages/model_spec.h"

namespace pipeline {
namespace {

InitSpec ToInitSpec(const InitializerConfig& c) { return InitSpec{c.type, c.mean, c.stddev}; }

ExportOptions ToExportOptions(const ExportConfig& e) {
  ExportOptions o;
  o.path = e.path;
  o.version = e.version;
  o.overwrite = e.overwrite;
  o.variables = e.variables;
  o.class_names = e.class_names;
  for (const auto& s : e.signatures)
    o.signatures.push_back(ExportSignature{s.name, s.method, s.input_key, s.output_key, s.feature, s.top_k});
  o.warmup = e.warmup;
  return o;
}

}  // namespace

NetworkSpec ToNetworkSpec(const ModelConfig& model) {
  NetworkSpec spec;
  spec.input = model.input;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto& l = model.layers[i];
    spec.layers.push_back(LayerSpec{l.type, l.name.empty() ? "dense_" + std::to_string(i) : l.name, l.units,
                                    l.activation, ToInitSpec(l.kernel_initializer), ToInitSpec(l.bias_initializer)});
  }
  return spec;
}

OptimizerSpec ToOptimizerSpec(const OptimizerConfig& o) {
  return OptimizerSpec{o.type, o.momentum, o.nesterov, o.beta1, o.beta2, o.rho, o.epsilon};
}

ScheduleSpec ToScheduleSpec(const ScheduleConfig& s) {
  return ScheduleSpec{s.type, s.decay_rate, s.decay_epochs, s.min_learning_rate};
}

ExportRequest ToExportRequest(const PipelineConfig& config, Network& net) {
  ExportRequest request;
  request.options = ToExportOptions(config.export_);
  request.input_features = net.input_features();
  request.num_classes = net.classes();
  for (const auto& layer : net.layers()) {
    auto params = layer->params();
    request.layers.push_back(ExportedLayer{layer->spec().name, layer->spec().activation, layer->in_features(),
                                           layer->out_features(), params[0]->value.data(), params[1]->value.data()});
  }
  return request;
}

}  // namespace pipeline
