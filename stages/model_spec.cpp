#include "stages/model_spec.h"

#include "config/schema.h"

namespace pipeline {
namespace {

InitSpec ToInitSpec(const InitializerConfig& c) {
  InitSpec spec;
  spec.type = c.type;
  spec.mean = c.mean;
  spec.stddev = c.stddev;
  return spec;
}

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

ExportHead ToExportHead(const std::string& loss_type) {
  if (loss_type == "sigmoid_cross_entropy") return ExportHead::kSigmoid;
  if (IsRegressionLoss(loss_type)) return ExportHead::kLinear;
  return ExportHead::kSoftmax;
}

std::vector<ExportedColumn> ToExportedColumns(const TabularSchema& schema, const CsvConfig& csv) {
  std::vector<ExportedColumn> columns;
  for (const TabularColumn& c : schema.columns) {
    ExportedColumn e;
    e.name = c.name;
    e.categorical = c.categorical;
    e.mean = c.mean;
    e.stddev = c.stddev;
    e.vocabulary = c.vocabulary;
    e.fill = c.fill;
    if (c.categorical) {
      e.missing_tokens = {""};  // an empty field is always missing (data/csv_dataset.cpp)
      for (const auto& token : csv.missing_values) e.missing_tokens.push_back(token);
    }
    columns.push_back(std::move(e));
  }
  return columns;
}

}  // namespace

NetworkSpec ToNetworkSpec(const ModelConfig& model) {
  NetworkSpec spec;
  spec.input = model.input;
  auto sizes = [](const std::vector<std::string>& text) {
    std::vector<int64_t> out;
    for (const auto& t : text) out.push_back(std::stoll(t));
    return out;
  };
  spec.input_shape = sizes(model.input_shape);
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto& l = model.layers[i];
    LayerSpec layer;
    layer.type = l.type;
    layer.name = l.name.empty() ? l.type + "_" + std::to_string(i) : l.name;
    layer.units = l.units;
    layer.activation = l.activation;
    layer.kernel_init = ToInitSpec(l.kernel_initializer);
    layer.bias_init = ToInitSpec(l.bias_initializer);
    layer.filters = l.filters;
    layer.kernel = sizes(l.kernel_size);
    layer.pool = sizes(l.pool_size);
    layer.strides = sizes(l.strides);
    layer.padding = l.padding;
    layer.rate = l.rate;
    layer.momentum = l.momentum;
    layer.epsilon = l.epsilon;
    layer.weight_decay = l.weight_decay;
    spec.layers.push_back(std::move(layer));
  }
  return spec;
}

LossSpec ToLossSpec(const LossConfig& loss) {
  LossSpec spec;
  spec.type = loss.type;
  spec.label_smoothing = static_cast<float>(loss.label_smoothing);
  spec.delta = static_cast<float>(loss.delta);
  return spec;
}

ExportRequest ToExportRequest(const PipelineConfig& config, Network& net, const Dataset* data) {
  ExportRequest request;
  request.options = ToExportOptions(config.export_);
  request.input_features = net.input_features();
  request.num_classes = net.classes();
  request.head = ToExportHead(config.loss.type);
  if (data != nullptr && data->tabular) {
    request.columns = ToExportedColumns(*data->tabular, config.dataset.csv);
    // The label values name the classes, unless export.class_names does.
    if (request.options.class_names.empty() && !data->tabular->regression)
      request.options.class_names = data->tabular->classes;
  }
  for (const auto& layer : net.layers()) {
    ExportedLayer exported;
    exported.type = layer->spec().type;
    exported.name = layer->spec().name;
    exported.activation = layer->spec().activation;
    exported.in = layer->in_features();
    exported.out = layer->out_features();
    const LayerSpec& ls = layer->spec();
    exported.in_shape = layer->in_shape();
    exported.out_shape = layer->out_shape();
    exported.window = ls.type == "conv2d" ? ls.kernel : ls.pool;
    // The engine's defaults (engine/conv2d.cpp, engine/pool2d.cpp).
    exported.strides = !ls.strides.empty() ? ls.strides : ls.type == "conv2d" ? std::vector<int64_t>{1, 1} : ls.pool;
    exported.padding = ls.padding;
    exported.epsilon = ls.epsilon;
    const std::string prefix = exported.name + "/";  // Param names are "<layer>/kernel"
    std::vector<Param*> tensors = layer->params();
    for (Param* p : layer->state()) tensors.push_back(p);  // batch_norm's moving statistics
    for (Param* p : tensors)
      exported.tensors.push_back(
          {p->name.rfind(prefix, 0) == 0 ? p->name.substr(prefix.size()) : p->name, p->dims, p->value.data()});
    request.layers.push_back(exported);
  }
  return request;
}

}  // namespace pipeline
