// Rules that involve more than one key: dataset splits, layer names, the logits
// layer, stage order, class names and TensorFlow Serving's signature rules.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/checked_math.h"
#include "common/strings.h"
#include "common/version_number.h"
#include "config/schema.h"
#include "config/validator.h"
#include "export/signature_rules.h"

namespace pipeline::config_internal {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Examples in each file of the built-in datasets (both MNIST and Fashion-MNIST).
int64_t KnownFileSize(const std::string& file) { return file == "train" ? 60000 : 10000; }

void CheckCsv(Validator& v, const PipelineConfig& c) {
  const CsvConfig& csv = c.dataset.csv;
  if (csv.files.empty() && !v.Bad("dataset.csv.files"))
    v.Error(v.Present("dataset.csv.files") ? "dataset.csv.files" : "dataset.name",
            "csv datasets need dataset.csv.files: [all.csv] (split by fractions) or [train.csv, validation.csv, "
            "test.csv]");
  if (csv.files.size() > 3)
    v.Error("dataset.csv.files", fmt::format("lists {} files; at most 3: [train, validation, test]", csv.files.size()));
  for (const char* key : {"validation_fraction", "test_fraction", "split_seed"})
    if (csv.files.size() > 1 && v.Present(std::string("dataset.csv.") + key))
      v.Error(std::string("dataset.csv.") + key, "cuts one file; dataset.csv.files lists one file per split");
  if (!csv.header && csv.names.empty() && !v.Bad("dataset.csv.header"))
    v.Error("dataset.csv.header", "header: false needs dataset.csv.names, the column names in file order");
  if (csv.header && v.Present("dataset.csv.names"))
    v.Error("dataset.csv.names", "the header row names the columns; set header: false to name them here");
  if (csv.files.size() == 1 && csv.validation_fraction + csv.test_fraction >= 1.0 &&
      !v.Bad("dataset.csv.test_fraction") && !v.Bad("dataset.csv.validation_fraction"))
    v.Error("dataset.csv.test_fraction", fmt::format("test_fraction {} + validation_fraction {} must be below 1",
                                                     csv.test_fraction, csv.validation_fraction));
  // A column has one kind, and the label is no feature.
  std::map<std::string, std::string> kind_of;
  for (const auto& [kind, list] : {std::pair{"numeric", &csv.numeric}, {"categorical", &csv.categorical},
                                   {"ignore", &csv.ignore}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string key = fmt::format("dataset.csv.{}.{}", kind, i);
      const std::string& name = (*list)[i];
      if (name == csv.label) {
        v.Error(key, fmt::format("'{}' is dataset.csv.label, not a feature column", name));
        continue;
      }
      const auto [it, inserted] = kind_of.emplace(name, kind);
      if (!inserted)
        v.Error(key, fmt::format("column '{}' is already listed in dataset.csv.{}", name, it->second));
    }
  }
  for (size_t i = 0; i < csv.missing_rules.size(); ++i) {
    const std::string key = fmt::format("dataset.csv.missing_rules.{}", i);
    const std::string& text = csv.missing_rules[i];
    const size_t eq = text.find('=');
    const std::string rule = eq == std::string::npos ? "" : text.substr(eq + 1);
    if (eq == std::string::npos || eq == 0) {
      v.Error(key, fmt::format("expected COLUMN=RULE (e.g. AGE=mean), got '{}'", text));
      continue;
    }
    if (!Contains(kCsvMissingRules, rule) && rule.rfind("constant:", 0) != 0)
      v.Error(key, UnknownValueMessage("missing-value rule", rule, kCsvMissingRules) + " (or constant:VALUE)");
  }
}

// A CSV model's signatures take one tf.Example feature, or one predict input,
// per column, named as the column (export/tabular_graph.h): the keys that
// name the one input of an image model would be ignored, so they are refused.
void CheckCsvExport(Validator& v, const PipelineConfig& c) {
  const std::vector<SignatureConfig>& sigs = c.export_.signatures;
  for (size_t i = 0; v.Present("export.signatures") && i < sigs.size(); ++i) {
    const std::string p = "export.signatures." + std::to_string(i);
    if (v.Present(p + ".feature"))
      v.Error(p + ".feature", "a csv model's tf.Examples carry one feature per column, named as the column; remove "
                              "feature");
    if (v.Present(p + ".input_key") && sigs[i].method == "predict")
      v.Error(p + ".input_key", "a csv model's predict signature takes one input per column, named as the column; "
                                "remove input_key");
  }
  if (!v.Present("export.signatures") && IsRegressionLoss(c.loss.type) && !v.Bad("loss.type"))
    v.Error(v.Present("export") ? "export" : "loss.type",
            fmt::format("loss {} regresses a number, and the default signatures classify; list export.signatures, "
                        "e.g. [{{name: serving_default, method: regress}}, {{name: predict, method: predict}}]",
                        c.loss.type));
}

void CheckDataset(Validator& v, const PipelineConfig& c) {
  const DatasetConfig& d = c.dataset;
  if (d.name == "csv") {
    CheckCsv(v, c);
    if (Contains(c.stages, "export") && !v.Bad("stages")) CheckCsvExport(v, c);
    if (!v.Bad("loss.type") && !v.Bad("evaluate.metrics")) {
      const bool regression = IsRegressionLoss(c.loss.type);
      for (size_t i = 0; i < c.evaluate.metrics.size(); ++i) {
        const std::string& m = c.evaluate.metrics[i];
        const bool for_classes = m == "accuracy" || m == "auc", for_numbers = m == "rmse" || m == "r2";
        if ((regression && for_classes) || (!regression && for_numbers))
          v.Error("evaluate.metrics." + std::to_string(i),
                  fmt::format("{} scores {}, and loss {} {}", m, for_classes ? "classes" : "regressed numbers",
                              c.loss.type, regression ? "regresses a number (use rmse, r2, loss)"
                                                      : "classifies (use accuracy, auc, loss)"));
      }
    }
    return;
  }
  const bool known = d.name != "idx" && !v.Bad("dataset.name");
  struct Range {
    std::string split, file;
    int64_t begin, end;  // end -1: unknown (to the end of the file)
  };
  std::vector<Range> ranges;
  for (const auto& [split, s] : {std::pair{"train", &d.train}, {"validation", &d.validation}, {"test", &d.test}}) {
    const std::string p = std::string("dataset.") + split;
    if (v.Bad(p + ".file") || v.Bad(p + ".start") || v.Bad(p + ".count")) continue;
    if (s->file.find('/') != std::string::npos) {
      v.Error(p + ".file", fmt::format("must be a file name prefix, not a path, got '{}'", s->file));
      continue;
    }
    int64_t end = s->count < 0 ? -1 : s->start + s->count;
    if (known) {
      if (!Contains(kSplitFiles, s->file)) {
        v.Error(p + ".file", UnknownValueMessage(d.name + " file", s->file, kSplitFiles));
        continue;
      }
      const int64_t size = KnownFileSize(s->file);
      if (s->start > size) {
        v.Error(p + ".start", fmt::format("must be <= {} ({} has {} examples), got {}", size, s->file, size, s->start));
        continue;
      }
      if (end > size) {
        v.Error(p + ".count", fmt::format("start {} + count {} = {} is past the end of {} ({} examples)", s->start,
                                          s->count, end, s->file, size));
        continue;
      }
      if (end < 0) end = size;
    }
    if (std::string(split) == "train" && (s->count == 0 || end == s->start) && Contains(c.stages, "train"))
      v.Error(p + ".count", "the training split is empty");
    if (end != s->start) ranges.push_back({split, s->file, s->start, end});
  }
  // Examples used for training must not be validated or tested on.
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      const Range &a = ranges[i], &b = ranges[j];
      if (a.file != b.file) continue;
      const bool a_before_b = a.end >= 0 && a.end <= b.begin;
      const bool b_before_a = b.end >= 0 && b.end <= a.begin;
      if (a_before_b || b_before_a) continue;
      auto text = [](const Range& r) {
        return r.end < 0 ? fmt::format("[{}, end)", r.begin) : fmt::format("[{}, {})", r.begin, r.end);
      };
      v.Error("dataset." + b.split + ".start",
              fmt::format("dataset.{} examples {} of '{}' overlap dataset.{} examples {}", b.split, text(b), b.file,
                          a.split, text(a)));
    }
  }
  if (d.name == "idx" && d.download && d.mirrors.empty() && !v.Bad("dataset.download"))
    v.Error(v.Present("dataset.download") ? "dataset.download" : "dataset.name",
            "idx datasets have no default download source: set download: false, or list dataset.mirrors");
  for (size_t i = 0; i < d.mirrors.size(); ++i)
    if (d.mirrors[i].find("://") == std::string::npos)
      v.Error("dataset.mirrors." + std::to_string(i),
              fmt::format("expected a URL such as https://host/path/, got '{}'", d.mirrors[i]));
  if (known && c.model.input != 28 * 28 && !v.Bad("model.input"))
    v.Error("model.input", fmt::format("must be 784 for {} (28x28 images), got {}", d.name, c.model.input));
}

// Every layer's parameter count, and the model's, in checked arithmetic: a
// product that wraps is trusted by everything after it (model.input 2^62 with
// 4 units validated as "# parameters: 54").
void CheckParameterCounts(Validator& v, const PipelineConfig& c) {
  if (v.Bad("model.input") || c.model.input < 1) return;
  int64_t in = c.model.input, total = 0;
  for (size_t i = 0; i < c.model.layers.size(); ++i) {
    const LayerConfig& l = c.model.layers[i];
    const std::string p = "model.layers." + std::to_string(i);
    // Image models are small by construction of their sizes; the count here
    // guards the dense products, which only flat rows reach.
    if (l.type != "dense") return;
    if (v.Bad(p + ".units") || l.units < 1) return;
    const std::string name = l.name.empty() ? l.type + "_" + std::to_string(i) : l.name;
    int64_t kernel = 0, params = 0;
    if (!CheckedMul(in, l.units, &kernel) || !CheckedAdd(kernel, l.units, &params)) {
      v.Error(p + ".units", fmt::format("layer '{}' has {} inputs x {} units: its parameter count overflows a "
                                        "64-bit integer (more than 9223372036854775807)",
                                        name, in, l.units));
      return;
    }
    if (!CheckedAdd(total, params, &total)) {
      v.Error(p + ".units", fmt::format("layer '{}' ({} inputs x {} units) brings the model's parameter count past "
                                        "what a 64-bit integer holds (9223372036854775807)",
                                        name, in, l.units));
      return;
    }
    in = l.units;
  }
}

// A list of sizes as integers (its elements are validated integers >= 1).
std::vector<int64_t> Sizes(const std::vector<std::string>& text) {
  std::vector<int64_t> out;
  for (const auto& t : text) out.push_back(std::stoll(t));
  return out;
}

std::string ShapeText(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// The output size of a window (TensorFlow's VALID and SAME), or -1 when it does not fit.
int64_t WindowOut(int64_t in, int64_t window, int64_t stride, bool same) {
  if (same) return (in + stride - 1) / stride;
  return in < window ? -1 : (in - window) / stride + 1;
}

// Walks the layers' shapes from model.input(_shape), as the engine builds them
// (engine/*.cpp, which config may not include): a layer that cannot follow its
// input is an error at its key naming the layer index and both shapes. Fills
// `out` with the final shape when every layer fits.
bool CheckShapes(Validator& v, const PipelineConfig& c, std::vector<int64_t>* out) {
  const ModelConfig& m = c.model;
  if (v.Bad("model.input") || v.Bad("model.input_shape")) return false;
  std::vector<int64_t> shape = m.input_shape.empty() ? std::vector<int64_t>{m.input} : Sizes(m.input_shape);
  if (!m.input_shape.empty()) {
    int64_t product = 1;
    for (int64_t d : shape)
      if (!CheckedMul(product, d, &product)) product = -1;
    if (shape.size() != 3 && shape.size() != 1) {
      v.Error("model.input_shape", fmt::format("must be [height, width, channels] or [features], got {}", ShapeText(shape)));
      return false;
    }
    if (product != m.input) {
      v.Error("model.input_shape", fmt::format("{} holds {} values, but model.input is {}: they must agree",
                                               ShapeText(shape), product, m.input));
      return false;
    }
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const LayerConfig& l = m.layers[i];
    const std::string p = "model.layers." + std::to_string(i);
    if (v.Bad(p + ".type") || v.Bad(p + ".kernel_size") || v.Bad(p + ".pool_size") || v.Bad(p + ".strides") ||
        v.Bad(p + ".units") || v.Bad(p + ".filters"))
      return false;
    auto cannot = [&](const std::string& why) {
      v.Error(p + ".type", fmt::format("layer {} ({}) cannot follow its input of shape {}: {}", i, l.type,
                                       ShapeText(shape), why));
      return false;
    };
    const bool image = l.type == "conv2d" || l.type == "max_pool2d" || l.type == "avg_pool2d";
    if (image) {
      if (shape.size() != 3) return cannot("it needs [height, width, channels] (set model.input_shape)");
      const bool conv = l.type == "conv2d";
      const std::string window_key = conv ? "kernel_size" : "pool_size";
      const std::vector<int64_t> window = Sizes(conv ? l.kernel_size : l.pool_size);
      if (window.size() != 2) {
        v.Error(p + "." + window_key, fmt::format("must be [height, width] for {}, got {}", l.type, ShapeText(window)));
        return false;
      }
      std::vector<int64_t> strides = l.strides.empty() ? (conv ? std::vector<int64_t>{1, 1} : window) : Sizes(l.strides);
      if (strides.size() != 2) {
        v.Error(p + ".strides", fmt::format("must be [down, across], got {}", ShapeText(strides)));
        return false;
      }
      const bool same = l.padding == "same";
      std::vector<int64_t> next(3);
      for (int d = 0; d < 2; ++d) {
        next[d] = WindowOut(shape[d], window[d], strides[d], same);
        if (next[d] < 1)
          return cannot(fmt::format("its {} {} with padding valid does not fit (the output would be {})", window_key,
                                    ShapeText(window), ShapeText({WindowOut(shape[0], window[0], strides[0], same),
                                                                  WindowOut(shape[1], window[1], strides[1], same)})));
      }
      next[2] = conv ? l.filters : shape[2];
      shape = next;
    } else if (l.type == "dense") {
      if (shape.size() != 1) return cannot("dense needs flat rows; add a flatten layer before it");
      shape = {l.units};
    } else if (l.type == "flatten") {
      int64_t product = 1;
      for (int64_t d : shape) product *= d;
      shape = {product};
    }  // dropout and batch_norm keep their input's shape
  }
  *out = shape;
  return true;
}

void CheckModel(Validator& v, const PipelineConfig& c) {
  const auto& layers = c.model.layers;
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    if (v.Bad(p + ".name") || v.Bad(p + ".type")) continue;
    auto [it, inserted] = names.emplace(layers[i].name, i);
    if (!inserted)
      v.Error(p + ".name", fmt::format("duplicate layer name '{}' (model.layers.{} has it{})", layers[i].name,
                                       it->second, v.Present(p + ".name") ? "" : "; this is the default name"));
  }
  CheckParameterCounts(v, c);
  std::vector<int64_t> out;
  if (!CheckShapes(v, c, &out) || layers.empty() || v.Bad("dataset.num_classes") || v.Bad("loss.type")) return;
  if (layers.back().type != "dense") {
    v.Error("model.layers." + std::to_string(layers.size() - 1) + ".type",
            fmt::format("the last layer outputs the logits for {} and must be a dense layer with dataset.num_classes "
                        "({}) units, got {} (output shape {})",
                        c.loss.type, c.dataset.num_classes, layers.back().type, ShapeText(out)));
    return;
  }
  // softmax_cross_entropy takes logits and applies softmax itself: a softmax
  // activation on them would apply it twice (and the exported probabilities
  // too), training a model whose outputs saturate near 1 / classes.
  const std::string last_activation = "model.layers." + std::to_string(layers.size() - 1) + ".activation";
  if (c.loss.type == "softmax_cross_entropy" && layers.back().activation == "softmax" && !v.Bad(last_activation))
    v.Error(last_activation,
            fmt::format("layer {} outputs the logits of loss softmax_cross_entropy, which applies softmax itself: "
                        "softmax here would apply it twice; use activation: linear (the export's classify and "
                        "predict signatures still return softmax probabilities)",
                        layers.back().name));
  const std::string last = "model.layers." + std::to_string(layers.size() - 1) + ".units";
  if (v.Bad(last) || !v.Present(last)) return;
  const int64_t units = layers.back().units;
  if (IsRegressionLoss(c.loss.type)) {
    if (units != 1)
      v.Error(last, fmt::format("the last layer outputs the one number {} regresses and must have 1 unit, got {}",
                                c.loss.type, units));
    if (c.dataset.name != "csv" && !v.Bad("dataset.name"))
      v.Error("loss.type", fmt::format("{} needs numeric targets: dataset.name: csv (IDX labels are classes)",
                                       c.loss.type));
    return;
  }
  // Binary sigmoid cross-entropy may use one logit (the positive class's).
  const bool binary_sigmoid = c.loss.type == "sigmoid_cross_entropy" && c.dataset.num_classes == 2 && units == 1;
  if (units != c.dataset.num_classes && !binary_sigmoid)
    v.Error(last, fmt::format("the last layer outputs the logits for {} and must have dataset.num_classes ({}) units{}, "
                              "got {}",
                              c.loss.type, c.dataset.num_classes,
                              c.loss.type == "sigmoid_cross_entropy" && c.dataset.num_classes == 2 ? " (or 1)" : "",
                              units));
}

void CheckOptimizer(Validator& v, const PipelineConfig& c) {
  const auto& o = c.optimizer;
  if (o.schedule.type == "cosine" && o.schedule.min_learning_rate > o.learning_rate &&
      !v.Bad("optimizer.learning_rate") && !v.Bad("optimizer.schedule.min_learning_rate"))
    v.Error("optimizer.schedule.min_learning_rate",
            fmt::format("must be <= optimizer.learning_rate ({}), got {}", o.learning_rate,
                        o.schedule.min_learning_rate));
  // Past its horizon a cosine would climb back up: a schedule nobody asked for.
  if (o.schedule.type == "cosine" && o.schedule.epochs > 0 && o.schedule.epochs < c.train.epochs &&
      !v.Bad("optimizer.schedule.epochs") && !v.Bad("train.epochs"))
    v.Error("optimizer.schedule.epochs",
            fmt::format("the cosine schedule's horizon must be at least train.epochs ({}) or 0 (train.epochs), got {}",
                        c.train.epochs, o.schedule.epochs));
}

// Why the validation split is empty and how to give it examples, when the
// config alone says so (empty when it has examples or only the data can tell).
struct EmptySplit {
  std::string why, fix;
};
EmptySplit EmptyValidationSplit(const PipelineConfig& c) {
  const DatasetConfig& d = c.dataset;
  if (d.name == "csv") {
    if (d.csv.files.size() == 2)
      return {"dataset.csv.files lists [train, test] files and no validation file",
              "list [train, validation, test] files"};
    if (d.csv.files.size() == 1 && d.csv.validation_fraction == 0)
      return {"dataset.csv.validation_fraction is 0", "e.g. dataset.csv.validation_fraction: 0.1"};
    return {};
  }
  const SplitConfig& v = d.validation;
  const bool known = d.name != "idx";
  if (v.count == 0 || (known && v.count < 0 && v.start >= KnownFileSize(v.file)))
    return {fmt::format("dataset.validation selects no examples ({{file: {}, start: {}, count: {}}})", v.file, v.start,
                        v.count),
            "e.g. dataset.validation: {file: train, start: 55000, count: 5000}, with dataset.train ending before it"};
  return {};
}

// Early stopping and train.keep: best rank epochs by a validation score, so
// they need a validation split and a score the loss produces.
void CheckTrain(Validator& v, const PipelineConfig& c) {
  const TrainConfig& t = c.train;
  const EarlyStoppingConfig& es = t.early_stopping;
  const bool stopping = es.patience > 0 && !v.Bad("train.early_stopping.patience");
  const bool best = t.keep == "best" && !v.Bad("train.keep");
  if ((!stopping && !best) || !Contains(c.stages, "train")) return;
  const std::string key = stopping ? "train.early_stopping.patience" : "train.keep";
  const std::string what = stopping ? fmt::format("early stopping (patience {})", es.patience) : "keep: best";
  if (!v.Bad("dataset") && !v.Bad("dataset.validation") && !v.Bad("dataset.csv.files")) {
    if (const EmptySplit empty = EmptyValidationSplit(c); !empty.why.empty())
      v.Error(key, fmt::format("{} ranks epochs by {} on the validation split, but {}; give the validation split "
                               "examples ({}), or {}",
                               what, es.monitor, empty.why, empty.fix,
                               stopping ? "set train.early_stopping.patience: 0 (off)" : "set train.keep: last"));
  }
  // The scores the per-epoch validation produces for this loss (stages/evaluation.h).
  if (v.Bad("loss.type") || v.Bad("train.early_stopping.monitor") || v.Bad("dataset.num_classes")) return;
  const std::string& m = es.monitor;
  const bool regression = IsRegressionLoss(c.loss.type);
  const bool for_classes = m == "validation_accuracy" || m == "validation_auc";
  const bool for_numbers = m == "validation_rmse" || m == "validation_r2";
  if (regression && for_classes)
    v.Error("train.early_stopping.monitor",
            fmt::format("{} scores classes, and loss {} regresses a number; monitor validation_loss, validation_rmse "
                        "or validation_r2",
                        m, c.loss.type));
  else if (!regression && for_numbers)
    v.Error("train.early_stopping.monitor",
            fmt::format("{} scores regressed numbers, and loss {} classifies; monitor validation_loss, "
                        "validation_accuracy{}",
                        m, c.loss.type, c.dataset.num_classes == 2 ? " or validation_auc" : ""));
  else if (m == "validation_auc" && c.dataset.num_classes != 2)
    v.Error("train.early_stopping.monitor",
            fmt::format("validation_auc scores two classes, and dataset.num_classes is {}; monitor validation_loss or "
                        "validation_accuracy",
                        c.dataset.num_classes));
}

void CheckNoDuplicates(Validator& v, const std::string& path, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (values[i] == values[j]) {
        v.Error(path + "." + std::to_string(i), fmt::format("duplicate '{}' (also {}.{})", values[i], path, j));
        break;
      }
}

void CheckStages(Validator& v, const PipelineConfig& c) {
  CheckNoDuplicates(v, "evaluate.metrics", c.evaluate.metrics);
  CheckNoDuplicates(v, "stages", c.stages);
  for (size_t i = 1; i < c.stages.size(); ++i) {
    auto pos = [](const std::string& s) { return std::find(kStages.begin(), kStages.end(), s) - kStages.begin(); };
    if (pos(c.stages[i]) < pos(c.stages[i - 1])) {
      v.Error("stages." + std::to_string(i),
              fmt::format("'{}' is listed after '{}'; stages run in the order {}", c.stages[i], c.stages[i - 1],
                          Join(kStages, ", ")));
      break;
    }
  }
}

void CheckExport(Validator& v, const PipelineConfig& c) {
  const ExportConfig& e = c.export_;
  int64_t version = 0;
  if (!v.Bad("export.version") && !ParseExportVersion(e.version, &version)) {
    v.Error("export.version", VersionNumberTooLarge(e.version)
                                  ? fmt::format("must be at most 9223372036854775807 (an int64, as TF Serving reads "
                                                "version directories), got '{}'",
                                                e.version)
                                  : fmt::format("must be 'auto' or a positive integer, got '{}'", e.version));
  }

  const int64_t n = c.dataset.num_classes;
  if (v.Present("export.class_names") && !v.Bad("export.class_names") && !v.Bad("dataset.num_classes")) {
    if (static_cast<int64_t>(e.class_names.size()) != n)
      v.Error("export.class_names",
              fmt::format("must have dataset.num_classes ({}) names, got {}", n, e.class_names.size()));
    CheckNoDuplicates(v, "export.class_names", e.class_names);
  }

  std::map<std::string, size_t> names;
  const int64_t last_units = c.model.layers.empty() ? -1 : c.model.layers.back().units;
  const std::string last_name = c.model.layers.empty() ? "" : c.model.layers.back().name;
  const bool given = v.Present("export.signatures");
  for (size_t i = 0; given && i < e.signatures.size(); ++i) {  // the defaults are valid
    const SignatureConfig& s = e.signatures[i];
    const std::string p = "export.signatures." + std::to_string(i);
    if (!v.Bad(p + ".name") && v.Present(p + ".name")) {
      if (const std::string why = SignatureNameError(s.name); !why.empty()) v.Error(p + ".name", why);
      auto [it, inserted] = names.emplace(s.name, i);
      if (!inserted) v.Error(p + ".name", DuplicateSignatureNameError(s.name, it->second));
    }
    if (v.Bad(p + ".method") || s.method.empty()) continue;
    const std::optional<int64_t> units =
        last_units >= 0 && !v.Bad("model.layers") ? std::optional<int64_t>(last_units) : std::nullopt;
    const std::optional<int64_t> classes = !v.Bad("dataset.num_classes") ? std::optional<int64_t>(n) : std::nullopt;
    for (const auto& err :
         SignatureMethodErrors(s.method, s.input_key, s.output_key, s.top_k, units, last_name, classes))
      if (!v.Bad(p + "." + err.field)) v.Error(p + "." + err.field, err.message);
  }
}

}  // namespace

void CheckRules(Validator& v, const PipelineConfig& c) {
  if (c.name.find('/') != std::string::npos || c.name == "." || c.name == "..")
    v.Error("name", fmt::format("must be a plain name (it names the run directory), got '{}'", c.name));
  CheckDataset(v, c);
  CheckModel(v, c);
  CheckOptimizer(v, c);
  CheckTrain(v, c);
  CheckStages(v, c);
  CheckExport(v, c);
}

}  // namespace pipeline::config_internal
