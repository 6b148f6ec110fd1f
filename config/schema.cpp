#include "config/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <type_traits>

#include "common/registry.h"
#include "common/strings.h"
#include "common/version_number.h"
#include "config/internal.h"

namespace pipeline {
namespace {

using T = KeyType;

std::string Num(double d) { return fmt::format("{}", d); }

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

KeySpec Flow(KeySpec s) {
  s.flow = true;
  return s;
}

// A default that depends on other keys: documented in words, computed by `finish`.
KeySpec Computed(KeySpec s, std::string documented,
                 std::function<void(const FillContext&, void*, bool)> finish = nullptr) {
  s.default_text = std::move(documented);
  s.documented_default = true;
  if (finish) s.finish = std::move(finish);
  return s;
}

template <class M>
std::string TextOf(const M& m) {
  if constexpr (std::is_same_v<M, std::string>) return m;
  else if constexpr (std::is_same_v<M, bool>) return m ? "true" : "false";
  else if constexpr (std::is_same_v<M, double>) return Num(m);
  else return std::to_string(m);
}

// The rows of one struct S: every row it makes is bound to a member of S, so
// a row cannot fill a member of the wrong struct or of the wrong type.
template <class S>
class Section {
 public:
  Section(std::vector<KeySpec>* rows, std::string prefix) : rows_(rows), prefix_(std::move(prefix)) {}

  void Add(KeySpec s) { rows_->push_back(std::move(s)); }

  KeySpec Int(const std::string& name, int64_t S::*m, std::string doc) { return Scalar(name, m, T::kInt, doc); }
  KeySpec Uint(const std::string& name, uint64_t S::*m, std::string doc) { return Scalar(name, m, T::kUint, doc); }
  KeySpec Float(const std::string& name, double S::*m, std::string doc) { return Scalar(name, m, T::kFloat, doc); }
  KeySpec Bool(const std::string& name, bool S::*m, std::string doc) { return Scalar(name, m, T::kBool, doc); }
  KeySpec String(const std::string& name, std::string S::*m, std::string doc) {
    return Scalar(name, m, T::kString, doc);
  }
  KeySpec Enum(const std::string& name, std::string S::*m, std::vector<std::string> allowed, std::string noun,
               std::string doc) {
    KeySpec s = Scalar(name, m, T::kEnum, doc);
    s.allowed = std::move(allowed);
    s.noun = std::move(noun);
    return s;
  }

  // A nested struct; returns the section for its rows.
  template <class M>
  Section<M> Map(const std::string& name, M S::*m, std::string doc) {
    KeySpec s = Row(name, T::kMap, doc);
    s.member = [m](void* p) -> void* { return &(static_cast<S*>(p)->*m); };
    Add(std::move(s));
    return Section<M>(rows_, Path(name));
  }

  // A list of scalars (strings), with its element row.
  void StringList(KeySpec list, KeySpec element) {
    Add(std::move(list));
    Add(std::move(element));
  }
  KeySpec StrList(const std::string& name, std::vector<std::string> S::*m, std::string doc,
                  std::optional<double> min_items = {}) {
    KeySpec s = Row(name, T::kList, doc);
    s.min = min_items;
    s.member = [m](void* p) -> void* { return &(static_cast<S*>(p)->*m); };
    return s;
  }
  KeySpec Element(const std::string& list, KeyType type, std::string doc) {
    return Row(list + ".*", type, doc);
  }

  // A list of structs E: the list row, then the element row; returns the
  // section for the element's rows.
  template <class E>
  Section<E> MapList(KeySpec list, std::vector<E> S::*m, std::string element_doc) {
    list.member = [m](void* p) -> void* { return &(static_cast<S*>(p)->*m); };
    list.list_size = [](const void* v) { return static_cast<const std::vector<E>*>(v)->size(); };
    list.list_assign = [](void* v, size_t n) { static_cast<std::vector<E>*>(v)->assign(n, E{}); };
    list.list_element = [](void* v, size_t i) -> void* { return &(*static_cast<std::vector<E>*>(v))[i]; };
    list.new_element = [] { return std::static_pointer_cast<void>(std::make_shared<E>()); };
    const std::string name = list.path.substr(prefix_.empty() ? 0 : prefix_.size() + 1);
    Add(std::move(list));
    Add(Row(name + ".*", T::kMap, std::move(element_doc)));
    return Section<E>(rows_, Path(name) + ".*");
  }
  KeySpec List(const std::string& name, std::string doc, std::optional<double> min_items = {}) {
    KeySpec s = Row(name, T::kList, doc);
    s.min = min_items;
    return s;
  }

  std::string Path(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "." + name; }

 private:
  KeySpec Row(const std::string& name, KeyType type, std::string doc) const {
    KeySpec s;
    s.path = Path(name);
    s.type = type;
    s.doc = std::move(doc);
    return s;
  }
  template <class M>
  KeySpec Scalar(const std::string& name, M S::*m, KeyType type, std::string doc) const {
    KeySpec s = Row(name, type, std::move(doc));
    s.member = [m](void* p) -> void* { return &(static_cast<S*>(p)->*m); };
    s.text = [](const void* v) { return TextOf(*static_cast<const M*>(v)); };
    return s;
  }

  std::vector<KeySpec>* rows_;
  std::string prefix_;
};

void AddSplit(Section<DatasetConfig>& d, const std::string& split, SplitConfig DatasetConfig::*m,
              const std::string& what) {
  Section<SplitConfig> s = d.Map(split, m, "The " + what + " split: `count` examples from `start` in one IDX file pair.");
  s.Add(s.String("file", &SplitConfig::file,
                 "IDX file prefix: `<file>-images-idx3-ubyte(.gz)` / `<file>-labels-idx1-ubyte(.gz)`; "
                 "`train` or `t10k` for mnist and fashion_mnist."));
  s.Add(Ranged(s.Int("start", &SplitConfig::start, "Index of the first example."), 0, false));
  s.Add(Ranged(s.Int("count", &SplitConfig::count, "Number of examples; -1: to the end of the file; 0: none."), -1,
               false));
}

void AddCsv(Section<DatasetConfig>& d) {
  Section<CsvConfig> c = d.Map("csv", &DatasetConfig::csv,
                               "dataset.name: csv: comma-separated files with one example per row.");
  c.StringList(Flow(c.StrList("files", &CsvConfig::files,
                              "One file, cut by validation_fraction, test_fraction and split_seed; or one per split: "
                              "[train, validation, test] or [train, test].")),
               c.Element("files", T::kString, "A CSV file path."));
  c.Add(Ranged(c.Int("skip_lines", &CsvConfig::skip_lines, "Lines before the header (or the first row) to skip."), 0,
               false));
  c.Add(c.Bool("header", &CsvConfig::header, "The first line (after skip_lines) names the columns."));
  c.StringList(Flow(c.StrList("names", &CsvConfig::names, "header: false: the column names, in file order.")),
               c.Element("names", T::kString, "A column name."));
  c.Add(c.String("label", &CsvConfig::label, "The target column: a class, or a number for a regression loss."));
  c.StringList(Flow(c.StrList("numeric", &CsvConfig::numeric,
                              "Columns declared numeric; an undeclared column is numeric if its first training value "
                              "is a number.")),
               c.Element("numeric", T::kString, "A column name."));
  c.StringList(Flow(c.StrList("categorical", &CsvConfig::categorical,
                              "Columns declared categorical: one-hot over the training vocabulary plus one unseen "
                              "slot.")),
               c.Element("categorical", T::kString, "A column name."));
  c.StringList(Flow(c.StrList("ignore", &CsvConfig::ignore, "Columns that are not features.")),
               c.Element("ignore", T::kString, "A column name."));
  c.Add(c.Enum("missing", &CsvConfig::missing, kCsvMissingRules, "missing-value rule",
               "What a missing value becomes: an error, the training mean (numeric), the most frequent training "
               "value, or fill_value."));
  c.StringList(Flow(c.StrList("missing_rules", &CsvConfig::missing_rules,
                              "Per-column rules `COLUMN=RULE` (RULE: error, mean, most_frequent, constant or "
                              "constant:VALUE).")),
               c.Element("missing_rules", T::kString, "A COLUMN=RULE rule."));
  c.Add(c.String("fill_value", &CsvConfig::fill_value, "missing: constant: the value."));
  c.StringList(Flow(c.StrList("missing_values", &CsvConfig::missing_values,
                              "Fields (after trimming spaces) that mean a value is missing; an empty field always "
                              "does.")),
               c.Element("missing_values", T::kString, "A missing-value marker."));
  c.Add(Ranged(c.Float("validation_fraction", &CsvConfig::validation_fraction, "One file: the validation share."), 0,
               false, 1, true));
  c.Add(Ranged(c.Float("test_fraction", &CsvConfig::test_fraction, "One file: the test share."), 0, false, 1, true));
  c.Add(c.Uint("split_seed", &CsvConfig::split_seed, "One file: seed of the row shuffle that cuts the splits."));
}

void AddInitializer(Section<LayerConfig>& l, const std::string& name, InitializerConfig LayerConfig::*m,
                    const std::string& what) {
  Section<InitializerConfig> s = l.Map(name, m, "How the layer's " + what + " are initialized.");
  s.Add(s.Enum("type", &InitializerConfig::type, NameRegistry::Names("initializer"), "initializer", "Initializer."));
  s.Add(s.Float("mean", &InitializerConfig::mean, "Mean (random_normal, truncated_normal)."));
  s.Add(Ranged(s.Float("stddev", &InitializerConfig::stddev, "Standard deviation (random_normal, truncated_normal)."),
               0, false));
}

// The flow style of the resolved YAML: splits and initializers as {a: 1}.
void SetFlow(std::vector<KeySpec>& v, const std::string& path) {
  for (auto& s : v)
    if (s.path == path) s.flow = true;
}

std::vector<KeySpec> BuildSchema() {
  std::vector<KeySpec> v;
  KeySpec root;
  root.type = T::kMap;
  root.doc = "The whole configuration.";
  v.push_back(root);
  Section<PipelineConfig> c(&v, "");
  c.Add(c.String("name", &PipelineConfig::name, "Run name; run files go to `<output_dir>/<name>`."));
  c.Add(Ranged(c.Uint("seed", &PipelineConfig::seed, "Seed for initialization and shuffling (0 .. 2^64-1)."), 0,
               false));
  c.Add(c.String("output_dir", &PipelineConfig::output_dir, "Root directory of run directories."));

  {
    Section<DatasetConfig> d = c.Map("dataset", &PipelineConfig::dataset, "Where the examples come from.");
    d.Add(d.Enum("name", &DatasetConfig::name, kDatasets, "dataset",
                 "Dataset; `idx` is any IDX file pair without a download source."));
    d.Add(Computed(d.String("path", &DatasetConfig::path, "Directory holding the IDX files."), "data/<dataset.name>",
                   [](const FillContext& ctx, void* m, bool given) {
                     if (!given) *static_cast<std::string*>(m) = "data/" + ctx.root->dataset.name;
                   }));
    d.Add(d.Bool("download", &DatasetConfig::download, "Download missing files from `dataset.mirrors`."));
    d.StringList(Computed(d.StrList("mirrors", &DatasetConfig::mirrors,
                                    "Base URLs tried in order; a file URL is `<mirror><file name>`."),
                          "the dataset's public mirrors",
                          [](const FillContext& ctx, void* m, bool given) {
                            if (!given)
                              *static_cast<std::vector<std::string>*>(m) =
                                  config_internal::DefaultMirrors(ctx.root->dataset.name);
                          }),
                 d.Element("mirrors", T::kString, "A base URL."));
    d.Add(Ranged(d.Float("scale", &DatasetConfig::scale, "Pixel to float multiplier (1/255)."), 0, true));
    d.Add(Ranged(d.Int("num_classes", &DatasetConfig::num_classes, "Number of classes; labels are 0 .. num_classes-1."),
                 2, false));
    AddSplit(d, "train", &DatasetConfig::train, "training");
    AddSplit(d, "validation", &DatasetConfig::validation, "validation");
    AddSplit(d, "test", &DatasetConfig::test, "test");
    AddCsv(d);
  }

  {
    Section<ModelConfig> m = c.Map("model", &PipelineConfig::model, "The network: a stack of layers.");
    m.Add(Ranged(m.Int("input", &ModelConfig::input, "Features per example (28*28 for MNIST)."), 1, false));
    m.StringList(Flow(m.StrList("input_shape", &ModelConfig::input_shape,
                                "One example's shape [height, width, channels] for image layers; its product is "
                                "model.input. Empty: flat rows of model.input features.")),
                 Ranged(m.Element("input_shape", T::kInt, "A dimension."), 1, false));
    Section<LayerConfig> l = m.MapList(
        Required(m.List("layers", "Layers, input to output; the last one produces the logits.", 1)),
        &ModelConfig::layers, "One layer.");
    l.Add(l.Enum("type", &LayerConfig::type, NameRegistry::Names("layer"), "layer type", "Layer type."));
    l.Add(Computed(l.String("name", &LayerConfig::name,
                            "Unique layer name (index is 0-based), used for variable names in the export."),
                   "<type>_<index>", [](const FillContext& ctx, void* m, bool given) {
                     const auto* layer = static_cast<const LayerConfig*>(ctx.parent);
                     if (!given) *static_cast<std::string*>(m) = layer->type + "_" + std::to_string(ctx.index);
                   }));
    l.Add(Required(Ranged(l.Int("units", &LayerConfig::units, "Output features (dense)."), 1, false)));
    l.Add(l.Enum("activation", &LayerConfig::activation, NameRegistry::Names("activation"), "activation",
                 "Activation function (dense, conv2d). leaky_relu's slope below 0 is 0.2 (tf.nn.leaky_relu's "
                 "default); elu's alpha is 1; gelu is the exact (erf) form, Keras' default; softmax is over a dense "
                 "layer's units or a conv2d's channels, and not on the logits of softmax_cross_entropy."));
    AddInitializer(l, "kernel_initializer", &LayerConfig::kernel_initializer, "weights");
    AddInitializer(l, "bias_initializer", &LayerConfig::bias_initializer, "biases");
    l.Add(Required(Ranged(l.Int("filters", &LayerConfig::filters, "Output channels (conv2d)."), 1, false)));
    auto sizes = [&](const char* name, std::vector<std::string> LayerConfig::*m, const char* doc) {
      l.StringList(Flow(l.StrList(name, m, doc)), Ranged(l.Element(name, T::kInt, "A size."), 1, false));
    };
    sizes("kernel_size", &LayerConfig::kernel_size, "Window [height, width] (conv2d).");
    sizes("pool_size", &LayerConfig::pool_size, "Window [height, width] (max_pool2d, avg_pool2d).");
    sizes("strides", &LayerConfig::strides,
          "Steps [down, across] (conv2d: default [1, 1]; pools: default pool_size).");
    l.Add(l.Enum("padding", &LayerConfig::padding, kPaddings, "padding",
                 "TensorFlow's valid (no padding) or same (output = ceil(input / stride)) (conv2d, pools)."));
    l.Add(Ranged(l.Float("rate", &LayerConfig::rate, "Fraction of values dropped in training (dropout)."), 0, false,
                 1.0, true));
    l.Add(Ranged(l.Float("momentum", &LayerConfig::momentum,
                         "Moving statistics = momentum * moving + (1 - momentum) * batch (batch_norm)."),
                 0, false, 1.0, true));
    l.Add(Ranged(l.Float("epsilon", &LayerConfig::epsilon, "Added to the variance (batch_norm)."), 0, true));
    l.Add(Computed(Ranged(l.Float("weight_decay", &LayerConfig::weight_decay,
                                  "L2 on this layer's kernel, in place of optimizer.weight_decay (dense, conv2d)."),
                          0, false),
                   "<optimizer.weight_decay>"));
  }

  {
    Section<LossConfig> l = c.Map("loss", &PipelineConfig::loss, "The training objective.");
    l.Add(l.Enum("type", &LossConfig::type, NameRegistry::Names("loss"), "loss",
                 "Loss; softmax_cross_entropy applies softmax to the last layer's logits, sigmoid_cross_entropy a "
                 "sigmoid to each; mean_squared_error and huber regress a number (dataset.name: csv)."));
    l.Add(Ranged(l.Float("label_smoothing", &LossConfig::label_smoothing,
                         "softmax_cross_entropy: targets become onehot * (1 - s) + s / classes."),
                 0, false, 1, true));
    l.Add(Ranged(l.Float("delta", &LossConfig::delta, "huber: where the loss turns from quadratic to linear."), 0,
                 true));
  }

  {
    using O = OptimizerConfig;
    Section<O> o = c.Map("optimizer", &PipelineConfig::optimizer, "How weights are updated.");
    o.Add(o.Enum("type", &O::type, NameRegistry::Names("optimizer"), "optimizer", "Optimizer."));
    o.Add(Ranged(o.Float("learning_rate", &O::learning_rate, "Initial learning rate."), 0, true));
    o.Add(Ranged(o.Float("momentum", &O::momentum, "Momentum (momentum)."), 0, false, 1, true));
    o.Add(o.Bool("nesterov", &O::nesterov, "Nesterov momentum (momentum)."));
    o.Add(Ranged(o.Float("beta1", &O::beta1, "First-moment decay (adam)."), 0, false, 1, true));
    o.Add(Ranged(o.Float("beta2", &O::beta2, "Second-moment decay (adam)."), 0, false, 1, true));
    o.Add(Ranged(o.Float("rho", &O::rho, "Squared-gradient decay (rmsprop, whose mean square starts at 1 as in TF1's RMSPropOptimizer)."), 0, false, 1, true));
    o.Add(Ranged(o.Float("epsilon", &O::epsilon, "Denominator fuzz (adam, rmsprop)."), 0, true));
    o.Add(Ranged(o.Float("clip_global_norm", &O::clip_global_norm,
                         "Scale the gradients so that their global L2 norm is at most this (Keras' global_clipnorm), "
                         "before weight decay; 0: off."),
                 0, false));
    o.Add(Ranged(o.Float("weight_decay", &O::weight_decay,
                         "L2 on every dense and conv2d kernel (not biases): gradient += weight_decay * w, the "
                         "gradient of loss + weight_decay/2 * sum(w^2) (Keras' l2(l) is weight_decay = 2l)."),
                 0, false));
    using C = ScheduleConfig;
    Section<C> s = o.Map("schedule", &O::schedule, "Learning rate per epoch.");
    s.Add(s.Enum("type", &C::type, NameRegistry::Names("schedule"), "schedule", "Schedule."));
    s.Add(Ranged(s.Float("decay_rate", &C::decay_rate, "Decay factor (step, exponential)."), 0, true, 1, false));
    s.Add(Ranged(s.Int("decay_epochs", &C::decay_epochs,
                       "step: multiply by decay_rate every N epochs; exponential: rate^(epoch/N)."),
                 1, false));
    s.Add(Ranged(s.Float("min_learning_rate", &C::min_learning_rate,
                         "cosine: floor reached at the last epoch; at most optimizer.learning_rate."),
                 0, false));
    s.Add(Ranged(s.Int("epochs", &C::epochs,
                       "cosine: the horizon in epochs, fixed when the run starts; 0: train.epochs. At least "
                       "train.epochs; set it to extend a run later with --resume."),
                 0, false));
  }

  {
    using R = TrainConfig;
    Section<R> t = c.Map("train", &PipelineConfig::train, "The training loop.");
    t.Add(Ranged(t.Int("epochs", &R::epochs, "Passes over the training split."), 1, false));
    t.Add(Ranged(t.Int("batch_size", &R::batch_size, "Examples per step."), 1, false));
    t.Add(t.Bool("shuffle", &R::shuffle, "Shuffle the training split every epoch."));
    t.Add(Ranged(t.Int("threads", &R::threads, "CPU threads; 0: OMP_NUM_THREADS, else all cores."), 0, false));
    t.Add(t.Enum("on_nan", &R::on_nan, kOnNan, "on_nan policy", "On a NaN/inf loss: stop the run, or skip the batch."));
    t.Add(Ranged(t.Int("checkpoint_every", &R::checkpoint_every, "Checkpoint every N epochs; 0: never."), 0, false));
    using S = EarlyStoppingConfig;
    Section<S> s = t.Map("early_stopping", &R::early_stopping,
                         "Stop when the validation split's `monitor` stops improving (Keras' EarlyStopping).");
    s.Add(Ranged(s.Int("patience", &S::patience,
                       "Epochs without improvement after which training stops; 0: off (train.epochs all run)."),
                 0, false));
    s.Add(s.Enum("monitor", &S::monitor, kMonitors, "monitor",
                 "The per-epoch validation score that must improve: a loss or RMSE lower; accuracy, AUC or R^2 "
                 "higher. Also what train.keep: best ranks epochs by."));
    s.Add(Ranged(s.Float("min_delta", &S::min_delta,
                         "An epoch improves when it beats the best so far by more than this."),
                 0, false));
    t.Add(t.Enum("keep", &R::keep, kKeep, "keep policy",
                 "Whose weights evaluate and export see: the last epoch's, or the best epoch's by "
                 "train.early_stopping.monitor."));
  }

  {
    Section<EvaluateConfig> e = c.Map("evaluate", &PipelineConfig::evaluate, "Evaluation on the test split.");
    KeySpec metric = e.Element("metrics", T::kEnum, "A metric.");
    metric.allowed = kMetrics;
    metric.noun = "metric";
    e.StringList(Flow(e.StrList("metrics", &EvaluateConfig::metrics, "Metrics to report, no duplicates.", 1)), metric);
    e.Add(Ranged(e.Int("batch_size", &EvaluateConfig::batch_size, "Examples per evaluation batch."), 1, false));
  }

  {
    using E = ExportConfig;
    Section<E> e = c.Map("export", &PipelineConfig::export_, "The TensorFlow SavedModel export.");
    e.Add(Computed(e.String("path", &E::path,
                            "Model base path; each version is an integer subdirectory (TF Serving layout)."),
                   "exports/<name>", [](const FillContext& ctx, void* m, bool given) {
                     if (!given) *static_cast<std::string*>(m) = "exports/" + ctx.root->name;
                   }));
    KeySpec version = e.String("version", &E::version,
                               "`auto` (one more than the largest existing version, or 1) or a positive integer.");
    version.finish = [](const FillContext&, void* m, bool) {
      auto* text = static_cast<std::string*>(m);
      int64_t number;
      if (ParseExportVersion(*text, &number) && number > 0) *text = std::to_string(number);  // "007" -> "7"
    };
    e.Add(version);
    e.Add(e.Bool("overwrite", &E::overwrite, "Replace an existing version directory."));
    e.Add(e.Enum("variables", &E::variables, kExportVariables, "variables mode",
                 "`checkpoint`: variables/ bundle; `frozen`: weights as graph constants."));
    e.StringList(Flow(Computed(e.StrList("class_names", &E::class_names,
                                         "Labels returned by classify signatures; exactly dataset.num_classes unique "
                                         "names."),
                               "\"0\" .. \"<num_classes-1>\"",
                               [](const FillContext& ctx, void* m, bool given) {
                                 if (!given)
                                   *static_cast<std::vector<std::string>*>(m) =
                                       config_internal::DefaultClassNames(ctx.root->dataset.num_classes);
                               })),
                 e.Element("class_names", T::kString, "A class label."));
    Section<SignatureConfig> s = e.MapList(
        Computed(e.List("signatures", "SignatureDefs; see \"Signatures\" below.", 1), "predict_images + serving_default",
                 [](const FillContext&, void* m, bool given) {
                   if (!given) *static_cast<std::vector<SignatureConfig>*>(m) = config_internal::DefaultSignatures();
                 }),
        &E::signatures, "One SignatureDef.");
    s.Add(Required(s.String("name", &SignatureConfig::name, "signature_def map key; unique.")));
    s.Add(Required(s.Enum("method", &SignatureConfig::method, kSignatureMethods, "signature method",
                          "TF Serving method: predict, classify or regress.")));
    s.Add(s.String("input_key", &SignatureConfig::input_key,
                   "Input TensorInfo key; must be `inputs` for classify and regress."));
    s.Add(s.String("output_key", &SignatureConfig::output_key,
                   "Output key (predict, regress; must be `outputs` for regress)."));
    s.Add(s.String("feature", &SignatureConfig::feature,
                   "classify/regress: the tf.Example float feature holding the pixels."));
    s.Add(Ranged(s.Int("top_k", &SignatureConfig::top_k,
                       "classify: classes returned per example, 0 .. num_classes; 0: all."),
                 0, false));
    e.Add(e.Bool("warmup", &E::warmup, "Write assets.extra/tf_serving_warmup_requests for TF Serving."));
  }

  KeySpec stage = c.Element("stages", T::kEnum, "A stage.");
  stage.allowed = kStages;
  stage.noun = "stage";
  c.StringList(Flow(c.StrList("stages", &PipelineConfig::stages, "Stages to run, in pipeline order, no duplicates.", 1)),
               stage);
  for (const auto* split : {"dataset.train", "dataset.validation", "dataset.test"}) SetFlow(v, split);
  for (const auto* init : {"model.layers.*.kernel_initializer", "model.layers.*.bias_initializer"})
    SetFlow(v, init);
  // Each layer type's own keys; a layer type without units or weights has none of them.
  const std::map<std::string, std::vector<std::string>> own{
      {"units", {"dense"}},
      {"activation", {"conv2d", "dense"}},
      {"kernel_initializer", {"conv2d", "dense"}},
      {"bias_initializer", {"conv2d", "dense"}},
      {"filters", {"conv2d"}},
      {"kernel_size", {"conv2d"}},
      {"pool_size", {"avg_pool2d", "max_pool2d"}},
      {"strides", {"avg_pool2d", "conv2d", "max_pool2d"}},
      {"padding", {"avg_pool2d", "conv2d", "max_pool2d"}},
      {"rate", {"dropout"}},
      {"momentum", {"batch_norm"}},
      {"epsilon", {"batch_norm"}},
      {"weight_decay", {"conv2d", "dense"}},
  };
  for (auto& row : v)
    for (const auto& [key, types] : own)
      if (row.path == "model.layers.*." + key) row.only_for = types;
  return v;
}

// The documented default of every row that has one, read from a
// default-constructed PipelineConfig (and default list elements) through the
// rows' bindings: config.h is the one place a default is written.
void DeriveDefaults(std::vector<KeySpec>& rows) {
  static const PipelineConfig defaults;
  static std::vector<std::shared_ptr<void>> elements;  // default list elements, kept alive
  std::map<std::string, void*> objects{{"", const_cast<PipelineConfig*>(&defaults)}};
  for (KeySpec& s : rows) {
    if (s.path.empty()) continue;
    const size_t dot = s.path.rfind('.');
    const std::string parent = dot == std::string::npos ? "" : s.path.substr(0, dot);
    if (s.IsElement()) {
      auto it = rows.begin();
      for (; it != rows.end() && it->path != parent; ++it) {}
      if (it != rows.end() && it->new_element) {
        elements.push_back(it->new_element());
        objects[s.path] = elements.back().get();
      }
      continue;
    }
    auto obj = objects.find(parent);
    if (obj == objects.end() || !s.member) continue;
    void* member = s.member(obj->second);
    if (s.type == T::kMap) objects[s.path] = member;
    if (s.documented_default || s.required) continue;
    if (s.IsScalar()) {
      s.default_text = s.text(member);
    } else if (s.type == T::kList && !s.list_size) {
      s.default_text = "[" + Join(*static_cast<const std::vector<std::string>*>(member), ", ") + "]";
    }
  }
}

}  // namespace

const std::vector<KeySpec>& ConfigSchema() {
  static const std::vector<KeySpec> schema = [] {
    std::vector<KeySpec> rows = BuildSchema();
    DeriveDefaults(rows);
    return rows;
  }();
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

bool AppliesTo(const KeySpec& spec, const std::string& type) {
  return spec.only_for.empty() || type.empty() ||
         std::find(spec.only_for.begin(), spec.only_for.end(), type) != spec.only_for.end();
}

std::vector<std::string> ChildKeysFor(const std::string& schema_path, const std::string& type) {
  std::vector<std::string> out;
  for (const auto& name : ChildKeys(schema_path))
    if (AppliesTo(*FindKeySpec(schema_path.empty() ? name : schema_path + "." + name), type)) out.push_back(name);
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
