#include "config/schema.h"

#include <fmt/format.h>

namespace pipeline {
namespace {

using T = KeyType;

KeySpec Make(std::string path, KeyType type, std::string def, std::string doc) {
  KeySpec s;
  s.path = std::move(path);
  s.type = type;
  s.default_text = std::move(def);
  s.doc = std::move(doc);
  return s;
}

KeySpec Map(std::string path, std::string doc) { return Make(std::move(path), T::kMap, "", std::move(doc)); }

KeySpec List(std::string path, std::string def, std::string doc, std::optional<double> min_items = {}) {
  KeySpec s = Make(std::move(path), T::kList, std::move(def), std::move(doc));
  s.min = min_items;
  return s;
}

KeySpec Scalar(std::string path, KeyType type, std::string def, std::string doc) {
  return Make(std::move(path), type, std::move(def), std::move(doc));
}

KeySpec Enum(std::string path, std::string def, const std::vector<std::string>& allowed, std::string noun,
             std::string doc) {
  KeySpec s = Make(std::move(path), T::kEnum, std::move(def), std::move(doc));
  s.allowed = allowed;
  s.noun = std::move(noun);
  return s;
}

KeySpec Ranged(KeySpec s, std::optional<double> min, bool min_open, std::optional<double> max = {},
               bool max_open = false) {
  s.min = min;
  s.min_open = min_open;
  s.max = max;
  s.max_open = max_open;
  return s;
}

KeySpec Required(KeySpec s) {
  s.required = true;
  return s;
}

void AddSplit(std::vector<KeySpec>& v, const std::string& split, const std::string& file, const std::string& start,
              const std::string& count, const std::string& what) {
  const std::string p = "dataset." + split;
  v.push_back(Map(p, "The " + what + " split: `count` examples from `start` in one IDX file pair."));
  v.push_back(Scalar(p + ".file", T::kString, file,
                     "IDX file prefix: `<file>-images-idx3-ubyte(.gz)` / `<file>-labels-idx1-ubyte(.gz)`; "
                     "`train` or `t10k` for mnist and fashion_mnist."));
  v.push_back(Ranged(Scalar(p + ".start", T::kInt, start, "Index of the first example."), 0, false));
  v.push_back(Ranged(Scalar(p + ".count", T::kInt, count, "Number of examples; -1: to the end of the file; 0: none."),
                     -1, false));
}

void AddInitializer(std::vector<KeySpec>& v, const std::string& p, const std::string& what) {
  v.push_back(Map(p, "How the layer's " + what + " are initialized."));
  v.push_back(Enum(p + ".type", "random_normal", kInitializers, "initializer", "Initializer."));
  v.push_back(Scalar(p + ".mean", T::kFloat, "0", "Mean (random_normal, truncated_normal)."));
  v.push_back(Ranged(Scalar(p + ".stddev", T::kFloat, "1", "Standard deviation (random_normal, truncated_normal)."),
                     0, false));
}

std::vector<KeySpec> BuildSchema() {
  std::vector<KeySpec> v;
  v.push_back(Map("", "The whole configuration."));
  v.push_back(Scalar("name", T::kString, "pipeline", "Run name; run files go to `<output_dir>/<name>`."));
  v.push_back(Ranged(Scalar("seed", T::kUint, "0", "Seed for initialization and shuffling (0 .. 2^64-1)."), 0, false));
  v.push_back(Scalar("output_dir", T::kString, "runs", "Root directory of run directories."));

  v.push_back(Map("dataset", "Where the examples come from."));
  v.push_back(Enum("dataset.name", "mnist", kDatasets, "dataset",
                   "Dataset; `idx` is any IDX file pair without a download source."));
  v.push_back(Scalar("dataset.path", T::kString, "data/<dataset.name>", "Directory holding the IDX files."));
  v.push_back(Scalar("dataset.download", T::kBool, "true", "Download missing files from `dataset.mirrors`."));
  v.push_back(List("dataset.mirrors", "the dataset's public mirrors",
                   "Base URLs tried in order; a file URL is `<mirror><file name>`."));
  v.push_back(Scalar("dataset.mirrors.*", T::kString, "", "A base URL."));
  v.push_back(Ranged(Scalar("dataset.scale", T::kFloat, "0.00392156862745098", "Pixel to float multiplier (1/255)."),
                     0, true));
  v.push_back(Ranged(Scalar("dataset.num_classes", T::kInt, "10", "Number of classes; labels are 0 .. num_classes-1."),
                     2, false));
  AddSplit(v, "train", "train", "0", "55000", "training");
  AddSplit(v, "validation", "train", "55000", "5000", "validation");
  AddSplit(v, "test", "t10k", "0", "-1", "test");

  v.push_back(Map("model", "The network: a stack of layers."));
  v.push_back(Ranged(Scalar("model.input", T::kInt, "784", "Features per example (28*28 for MNIST)."), 1, false));
  v.push_back(Required(List("model.layers", "", "Layers, input to output; the last one produces the logits.", 1)));
  v.push_back(Map("model.layers.*", "One layer."));
  v.push_back(Enum("model.layers.*.type", "dense", kLayerTypes, "layer type", "Layer type."));
  v.push_back(Scalar("model.layers.*.name", T::kString, "<type>_<index>",
                     "Unique layer name (index is 0-based), used for variable names in the export."));
  v.push_back(Required(Ranged(Scalar("model.layers.*.units", T::kInt, "", "Output features."), 1, false)));
  v.push_back(Enum("model.layers.*.activation", "linear", kActivations, "activation", "Activation function."));
  AddInitializer(v, "model.layers.*.kernel_initializer", "weights");
  AddInitializer(v, "model.layers.*.bias_initializer", "biases");

  v.push_back(Map("loss", "The training objective."));
  v.push_back(Enum("loss.type", "softmax_cross_entropy", kLosses, "loss",
                   "Loss; softmax_cross_entropy applies softmax to the last layer's logits."));

  v.push_back(Map("optimizer", "How weights are updated."));
  v.push_back(Enum("optimizer.type", "sgd", kOptimizers, "optimizer", "Optimizer."));
  v.push_back(Ranged(Scalar("optimizer.learning_rate", T::kFloat, "0.01", "Initial learning rate."), 0, true));
  v.push_back(Ranged(Scalar("optimizer.momentum", T::kFloat, "0.9", "Momentum (momentum)."), 0, false, 1, true));
  v.push_back(Scalar("optimizer.nesterov", T::kBool, "false", "Nesterov momentum (momentum)."));
  v.push_back(Ranged(Scalar("optimizer.beta1", T::kFloat, "0.9", "First-moment decay (adam)."), 0, false, 1, true));
  v.push_back(Ranged(Scalar("optimizer.beta2", T::kFloat, "0.999", "Second-moment decay (adam)."), 0, false, 1, true));
  v.push_back(Ranged(Scalar("optimizer.rho", T::kFloat, "0.9", "Squared-gradient decay (rmsprop)."), 0, false, 1, true));
  v.push_back(Ranged(Scalar("optimizer.epsilon", T::kFloat, "1e-07", "Denominator fuzz (adam, rmsprop)."), 0, true));
  v.push_back(Map("optimizer.schedule", "Learning rate per epoch."));
  v.push_back(Enum("optimizer.schedule.type", "constant", kSchedules, "schedule", "Schedule."));
  v.push_back(Ranged(Scalar("optimizer.schedule.decay_rate", T::kFloat, "0.1", "Decay factor (step, exponential)."),
                     0, true, 1, false));
  v.push_back(Ranged(Scalar("optimizer.schedule.decay_epochs", T::kInt, "10",
                            "step: multiply by decay_rate every N epochs; exponential: rate^(epoch/N)."),
                     1, false));
  v.push_back(Ranged(Scalar("optimizer.schedule.min_learning_rate", T::kFloat, "0",
                            "cosine: floor reached at the last epoch; at most optimizer.learning_rate."),
                     0, false));
  v.push_back(Ranged(Scalar("optimizer.schedule.epochs", T::kInt, "0",
                            "cosine: the horizon in epochs, fixed when the run starts; 0: train.epochs. At least "
                            "train.epochs; set it to extend a run later with --resume."),
                     0, false));

  v.push_back(Map("train", "The training loop."));
  v.push_back(Ranged(Scalar("train.epochs", T::kInt, "50", "Passes over the training split."), 1, false));
  v.push_back(Ranged(Scalar("train.batch_size", T::kInt, "100", "Examples per step."), 1, false));
  v.push_back(Scalar("train.shuffle", T::kBool, "true", "Shuffle the training split every epoch."));
  v.push_back(Ranged(Scalar("train.threads", T::kInt, "0", "CPU threads; 0: OMP_NUM_THREADS, else all cores."), 0,
                     false));
  v.push_back(Enum("train.on_nan", "stop", kOnNan, "on_nan policy",
                   "On a NaN/inf loss: stop the run, or skip the batch."));
  v.push_back(Ranged(Scalar("train.checkpoint_every", T::kInt, "0", "Checkpoint every N epochs; 0: never."), 0,
                     false));

  v.push_back(Map("evaluate", "Evaluation on the test split."));
  v.push_back(List("evaluate.metrics", "[accuracy, loss]", "Metrics to report, no duplicates.", 1));
  v.push_back(Enum("evaluate.metrics.*", "", kMetrics, "metric", "A metric."));
  v.push_back(Ranged(Scalar("evaluate.batch_size", T::kInt, "1000", "Examples per evaluation batch."), 1, false));

  v.push_back(Map("export", "The TensorFlow SavedModel export."));
  v.push_back(Scalar("export.path", T::kString, "exports/<name>",
                     "Model base path; each version is an integer subdirectory (TF Serving layout)."));
  v.push_back(Scalar("export.version", T::kString, "auto",
                     "`auto` (one more than the largest existing version, or 1) or a positive integer."));
  v.push_back(Scalar("export.overwrite", T::kBool, "false", "Replace an existing version directory."));
  v.push_back(Enum("export.variables", "checkpoint", kExportVariables, "variables mode",
                   "`checkpoint`: variables/ bundle; `frozen`: weights as graph constants."));
  v.push_back(List("export.class_names", "\"0\" .. \"<num_classes-1>\"",
                   "Labels returned by classify signatures; exactly dataset.num_classes unique names."));
  v.push_back(Scalar("export.class_names.*", T::kString, "", "A class label."));
  v.push_back(List("export.signatures", "predict_images + serving_default",
                   "SignatureDefs; see \"Signatures\" below.", 1));
  v.push_back(Map("export.signatures.*", "One SignatureDef."));
  v.push_back(Required(Scalar("export.signatures.*.name", T::kString, "", "signature_def map key; unique.")));
  v.push_back(Required(Enum("export.signatures.*.method", "", kSignatureMethods, "signature method",
                            "TF Serving method: predict, classify or regress.")));
  v.push_back(Scalar("export.signatures.*.input_key", T::kString, "inputs",
                     "Input TensorInfo key; must be `inputs` for classify and regress."));
  v.push_back(Scalar("export.signatures.*.output_key", T::kString, "outputs",
                     "Output key (predict, regress; must be `outputs` for regress)."));
  v.push_back(Scalar("export.signatures.*.feature", T::kString, "x",
                     "classify/regress: the tf.Example float feature holding the pixels."));
  v.push_back(Ranged(Scalar("export.signatures.*.top_k", T::kInt, "0",
                            "classify: classes returned per example, 0 .. num_classes; 0: all."),
                     0, false));
  v.push_back(Scalar("export.warmup", T::kBool, "false",
                     "Write assets.extra/tf_serving_warmup_requests for TF Serving."));

  v.push_back(List("stages", "[load, build, train, evaluate, export]",
                   "Stages to run, in pipeline order, no duplicates.", 1));
  v.push_back(Enum("stages.*", "", kStages, "stage", "A stage."));
  return v;
}

}  // namespace

const std::vector<KeySpec>& ConfigSchema() {
  static const std::vector<KeySpec> schema = BuildSchema();
  return schema;
}

const KeySpec* FindKeySpec(const std::string& schema_path) {
  for (const auto& s : ConfigSchema())
    if (s.path == schema_path) return &s;
  return nullptr;
}

std::vector<std::string> ChildKeys(const std::string& schema_path) {
  std::vector<std::string> out;
  const std::string prefix = schema_path.empty() ? "" : schema_path + ".";
  for (const auto& s : ConfigSchema()) {
    if (s.path.empty() || s.path.size() <= prefix.size() || s.path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = s.path.substr(prefix.size());
    if (rest.find('.') == std::string::npos && rest != "*") out.push_back(rest);
  }
  return out;
}

std::string KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kMap: return "a map";
    case KeyType::kList: return "a list";
    case KeyType::kInt: return "an integer";
    case KeyType::kUint: return "a non-negative integer";
    case KeyType::kFloat: return "a number";
    case KeyType::kBool: return "a boolean (true or false)";
    case KeyType::kString: return "a string";
    case KeyType::kEnum: return "a string";
  }
  return "a value";
}

std::string RangeText(const KeySpec& s) {
  auto num = [](double d) { return fmt::format("{}", d); };
  if (s.min && s.max)
    return fmt::format("in {}{}, {}{}", s.min_open ? "(" : "[", num(*s.min), num(*s.max), s.max_open ? ")" : "]");
  if (s.min) return fmt::format("{} {}", s.min_open ? ">" : ">=", num(*s.min));
  if (s.max) return fmt::format("{} {}", s.max_open ? "<" : "<=", num(*s.max));
  return "";
}

}  // namespace pipeline
