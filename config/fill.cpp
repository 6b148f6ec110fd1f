// Copies validated values into PipelineConfig; absent keys keep config.h's
// defaults or get the context-dependent defaults below.
#include "common/version_number.h"
#include "config/validator.h"

namespace pipeline::config_internal {
namespace {

void FillSplit(const Validator& v, const std::string& p, SplitConfig* s) {
  v.Get(p + ".file", &s->file);
  v.Get(p + ".start", &s->start);
  v.Get(p + ".count", &s->count);
}

void FillInitializer(const Validator& v, const std::string& p, InitializerConfig* init) {
  v.Get(p + ".type", &init->type);
  v.Get(p + ".mean", &init->mean);
  v.Get(p + ".stddev", &init->stddev);
}

}  // namespace

std::vector<std::string> DefaultMirrors(const std::string& dataset_name) {
  if (dataset_name == "mnist")
    return {"https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"};
  if (dataset_name == "fashion_mnist")
    return {"https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"};
  return {};
}

std::vector<std::string> DefaultClassNames(int64_t num_classes) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
  return names;
}

std::vector<SignatureConfig> DefaultSignatures() {
  SignatureConfig predict;
  predict.name = "predict_images";
  predict.method = "predict";
  SignatureConfig classify;
  classify.name = "serving_default";
  classify.method = "classify";
  return {predict, classify};
}

void FillConfig(const Validator& v, PipelineConfig* c) {
  v.Get("name", &c->name);
  v.Get("seed", &c->seed);
  v.Get("output_dir", &c->output_dir);

  DatasetConfig& d = c->dataset;
  v.Get("dataset.name", &d.name);
  if (!v.Get("dataset.path", &d.path)) d.path = "data/" + d.name;
  v.Get("dataset.download", &d.download);
  if (!v.Get("dataset.mirrors", &d.mirrors)) d.mirrors = DefaultMirrors(d.name);
  v.Get("dataset.scale", &d.scale);
  v.Get("dataset.num_classes", &d.num_classes);
  FillSplit(v, "dataset.train", &d.train);
  FillSplit(v, "dataset.validation", &d.validation);
  FillSplit(v, "dataset.test", &d.test);

  v.Get("model.input", &c->model.input);
  for (size_t i = 0; i < v.ListSize("model.layers"); ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    LayerConfig layer;
    v.Get(p + ".type", &layer.type);
    if (!v.Get(p + ".name", &layer.name)) layer.name = layer.type + "_" + std::to_string(i);
    v.Get(p + ".units", &layer.units);
    v.Get(p + ".activation", &layer.activation);
    FillInitializer(v, p + ".kernel_initializer", &layer.kernel_initializer);
    FillInitializer(v, p + ".bias_initializer", &layer.bias_initializer);
    c->model.layers.push_back(layer);
  }

  v.Get("loss.type", &c->loss.type);

  OptimizerConfig& o = c->optimizer;
  v.Get("optimizer.type", &o.type);
  v.Get("optimizer.learning_rate", &o.learning_rate);
  v.Get("optimizer.momentum", &o.momentum);
  v.Get("optimizer.nesterov", &o.nesterov);
  v.Get("optimizer.beta1", &o.beta1);
  v.Get("optimizer.beta2", &o.beta2);
  v.Get("optimizer.rho", &o.rho);
  v.Get("optimizer.epsilon", &o.epsilon);
  v.Get("optimizer.schedule.type", &o.schedule.type);
  v.Get("optimizer.schedule.decay_rate", &o.schedule.decay_rate);
  v.Get("optimizer.schedule.decay_epochs", &o.schedule.decay_epochs);
  v.Get("optimizer.schedule.min_learning_rate", &o.schedule.min_learning_rate);
  v.Get("optimizer.schedule.epochs", &o.schedule.epochs);

  TrainConfig& t = c->train;
  v.Get("train.epochs", &t.epochs);
  v.Get("train.batch_size", &t.batch_size);
  v.Get("train.shuffle", &t.shuffle);
  v.Get("train.threads", &t.threads);
  v.Get("train.on_nan", &t.on_nan);
  v.Get("train.checkpoint_every", &t.checkpoint_every);

  v.Get("evaluate.metrics", &c->evaluate.metrics);
  v.Get("evaluate.batch_size", &c->evaluate.batch_size);

  ExportConfig& e = c->export_;
  if (!v.Get("export.path", &e.path)) e.path = "exports/" + c->name;
  v.Get("export.version", &e.version);
  int64_t version;
  if (ParseExportVersion(e.version, &version) && version > 0) e.version = std::to_string(version);  // "007" -> "7"
  v.Get("export.overwrite", &e.overwrite);
  v.Get("export.variables", &e.variables);
  if (!v.Get("export.class_names", &e.class_names)) e.class_names = DefaultClassNames(d.num_classes);
  if (v.Find("export.signatures") && v.Find("export.signatures")->node.IsSequence()) {
    for (size_t i = 0; i < v.ListSize("export.signatures"); ++i) {
      const std::string p = "export.signatures." + std::to_string(i);
      SignatureConfig s;
      v.Get(p + ".name", &s.name);
      v.Get(p + ".method", &s.method);
      v.Get(p + ".input_key", &s.input_key);
      v.Get(p + ".output_key", &s.output_key);
      v.Get(p + ".feature", &s.feature);
      v.Get(p + ".top_k", &s.top_k);
      e.signatures.push_back(s);
    }
  } else {
    e.signatures = DefaultSignatures();
  }
  v.Get("export.warmup", &e.warmup);

  v.Get("stages", &c->stages);
}

}  // namespace pipeline::config_internal
