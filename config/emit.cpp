// The resolved configuration as YAML, in schema order. Numbers are written in
// their shortest round-trip form so that loading the text gives the same doubles.
#include <fmt/format.h>

#include "config/loader.h"

namespace pipeline {
namespace {

std::string Num(double d) { return fmt::format("{}", d); }

void Kv(YAML::Emitter& out, const char* key, const std::string& value) { out << YAML::Key << key << YAML::Value << value; }
void Kv(YAML::Emitter& out, const char* key, int64_t value) { Kv(out, key, std::to_string(value)); }
void Kv(YAML::Emitter& out, const char* key, double value) { Kv(out, key, Num(value)); }
void Kv(YAML::Emitter& out, const char* key, bool value) { Kv(out, key, std::string(value ? "true" : "false")); }

void StrList(YAML::Emitter& out, const char* key, const std::vector<std::string>& values) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& v : values) out << v;
  out << YAML::EndSeq;
}

void Split(YAML::Emitter& out, const char* key, const SplitConfig& s) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
  Kv(out, "file", s.file);
  Kv(out, "start", s.start);
  Kv(out, "count", s.count);
  out << YAML::EndMap;
}

void Initializer(YAML::Emitter& out, const char* key, const InitializerConfig& init) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
  Kv(out, "type", init.type);
  Kv(out, "mean", init.mean);
  Kv(out, "stddev", init.stddev);
  out << YAML::EndMap;
}

}  // namespace

std::string EmitResolvedYaml(const PipelineConfig& c) {
  YAML::Emitter out;
  if (!c.source_path.empty()) out << YAML::Comment("Resolved from " + c.source_path) << YAML::Newline;
  out << YAML::BeginMap;
  Kv(out, "name", c.name);
  Kv(out, "seed", std::to_string(c.seed));
  Kv(out, "output_dir", c.output_dir);

  const DatasetConfig& d = c.dataset;
  out << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap;
  Kv(out, "name", d.name);
  Kv(out, "path", d.path);
  Kv(out, "download", d.download);
  out << YAML::Key << "mirrors" << YAML::Value << YAML::BeginSeq;
  for (const auto& m : d.mirrors) out << m;
  out << YAML::EndSeq;
  Kv(out, "scale", d.scale);
  Kv(out, "num_classes", d.num_classes);
  Split(out, "train", d.train);
  Split(out, "validation", d.validation);
  Split(out, "test", d.test);
  out << YAML::EndMap;

  out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  Kv(out, "input", c.model.input);
  out << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (const auto& l : c.model.layers) {
    out << YAML::BeginMap;
    Kv(out, "type", l.type);
    Kv(out, "name", l.name);
    Kv(out, "units", l.units);
    Kv(out, "activation", l.activation);
    Initializer(out, "kernel_initializer", l.kernel_initializer);
    Initializer(out, "bias_initializer", l.bias_initializer);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;

  out << YAML::Key << "loss" << YAML::Value << YAML::BeginMap;
  Kv(out, "type", c.loss.type);
  out << YAML::EndMap;

  const OptimizerConfig& o = c.optimizer;
  out << YAML::Key << "optimizer" << YAML::Value << YAML::BeginMap;
  Kv(out, "type", o.type);
  Kv(out, "learning_rate", o.learning_rate);
  Kv(out, "momentum", o.momentum);
  Kv(out, "nesterov", o.nesterov);
  Kv(out, "beta1", o.beta1);
  Kv(out, "beta2", o.beta2);
  Kv(out, "rho", o.rho);
  Kv(out, "epsilon", o.epsilon);
  out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  Kv(out, "type", o.schedule.type);
  Kv(out, "decay_rate", o.schedule.decay_rate);
  Kv(out, "decay_epochs", o.schedule.decay_epochs);
  Kv(out, "min_learning_rate", o.schedule.min_learning_rate);
  Kv(out, "epochs", o.schedule.epochs);
  out << YAML::EndMap << YAML::EndMap;

  const TrainConfig& t = c.train;
  out << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  Kv(out, "epochs", t.epochs);
  Kv(out, "batch_size", t.batch_size);
  Kv(out, "shuffle", t.shuffle);
  Kv(out, "threads", t.threads);
  Kv(out, "on_nan", t.on_nan);
  Kv(out, "checkpoint_every", t.checkpoint_every);
  out << YAML::EndMap;

  out << YAML::Key << "evaluate" << YAML::Value << YAML::BeginMap;
  StrList(out, "metrics", c.evaluate.metrics);
  Kv(out, "batch_size", c.evaluate.batch_size);
  out << YAML::EndMap;

  const ExportConfig& e = c.export_;
  out << YAML::Key << "export" << YAML::Value << YAML::BeginMap;
  Kv(out, "path", e.path);
  Kv(out, "version", e.version);
  Kv(out, "overwrite", e.overwrite);
  Kv(out, "variables", e.variables);
  StrList(out, "class_names", e.class_names);
  out << YAML::Key << "signatures" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : e.signatures) {
    out << YAML::BeginMap;
    Kv(out, "name", s.name);
    Kv(out, "method", s.method);
    Kv(out, "input_key", s.input_key);
    Kv(out, "output_key", s.output_key);
    Kv(out, "feature", s.feature);
    Kv(out, "top_k", s.top_k);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  Kv(out, "warmup", e.warmup);
  out << YAML::EndMap;

  StrList(out, "stages", c.stages);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace pipeline
