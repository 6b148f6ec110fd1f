// Loading the example configs, defaults, the resolved-YAML round trip and the
// schema/docs agreement.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "config/loader.h"
#include "config/schema.h"
#include "engine/activation.h"
#include "engine/initializer.h"
#include "engine/layer.h"
#include "engine/optimizer.h"
#include "engine/schedule.h"
#include "stages/stage.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;

namespace {

std::string Src(const std::string& rel) { return std::string(PIPELINE_SOURCE_DIR) + "/" + rel; }

std::string WriteTemp(const std::string& name, const std::string& text) {
  const auto path = test::ProcessScratchDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Every field but source_path.
bool SameConfig(const PipelineConfig& a, const PipelineConfig& b) {
  auto init_eq = [](const InitializerConfig& x, const InitializerConfig& y) {
    return x.type == y.type && x.mean == y.mean && x.stddev == y.stddev;
  };
  auto split_eq = [](const SplitConfig& x, const SplitConfig& y) {
    return x.file == y.file && x.start == y.start && x.count == y.count;
  };
  bool eq = a.name == b.name && a.seed == b.seed && a.output_dir == b.output_dir && a.stages == b.stages;
  const auto &da = a.dataset, &db = b.dataset;
  eq = eq && da.name == db.name && da.path == db.path && da.download == db.download && da.mirrors == db.mirrors &&
       da.scale == db.scale && da.num_classes == db.num_classes && split_eq(da.train, db.train) &&
       split_eq(da.validation, db.validation) && split_eq(da.test, db.test);
  eq = eq && a.model.input == b.model.input && a.model.layers.size() == b.model.layers.size();
  for (size_t i = 0; eq && i < a.model.layers.size(); ++i) {
    const auto &x = a.model.layers[i], &y = b.model.layers[i];
    eq = x.type == y.type && x.name == y.name && x.units == y.units && x.activation == y.activation &&
         init_eq(x.kernel_initializer, y.kernel_initializer) && init_eq(x.bias_initializer, y.bias_initializer);
  }
  const auto &oa = a.optimizer, &ob = b.optimizer;
  eq = eq && a.loss.type == b.loss.type && oa.type == ob.type && oa.learning_rate == ob.learning_rate &&
       oa.momentum == ob.momentum && oa.nesterov == ob.nesterov && oa.beta1 == ob.beta1 && oa.beta2 == ob.beta2 &&
       oa.rho == ob.rho && oa.epsilon == ob.epsilon && oa.schedule.type == ob.schedule.type &&
       oa.schedule.decay_rate == ob.schedule.decay_rate && oa.schedule.decay_epochs == ob.schedule.decay_epochs &&
       oa.schedule.min_learning_rate == ob.schedule.min_learning_rate;
  const auto &ta = a.train, &tb = b.train;
  eq = eq && ta.epochs == tb.epochs && ta.batch_size == tb.batch_size && ta.shuffle == tb.shuffle &&
       ta.threads == tb.threads && ta.on_nan == tb.on_nan && ta.checkpoint_every == tb.checkpoint_every;
  eq = eq && a.evaluate.metrics == b.evaluate.metrics && a.evaluate.batch_size == b.evaluate.batch_size;
  const auto &ea = a.export_, &eb = b.export_;
  eq = eq && ea.path == eb.path && ea.version == eb.version && ea.overwrite == eb.overwrite &&
       ea.variables == eb.variables && ea.class_names == eb.class_names && ea.warmup == eb.warmup &&
       ea.signatures.size() == eb.signatures.size();
  for (size_t i = 0; eq && i < ea.signatures.size(); ++i) {
    const auto &x = ea.signatures[i], &y = eb.signatures[i];
    eq = x.name == y.name && x.method == y.method && x.input_key == y.input_key && x.output_key == y.output_key &&
         x.feature == y.feature && x.top_k == y.top_k;
  }
  return eq;
}

void CheckTutorialModel(const PipelineConfig& c) {
  CHECK(c.seed == 1);
  CHECK(c.model.input == 784);
  REQUIRE(c.model.layers.size() == 3);
  const int64_t units[] = {256, 256, 10};
  const char* activations[] = {"relu", "relu", "linear"};
  for (size_t i = 0; i < 3; ++i) {
    const auto& l = c.model.layers[i];
    CHECK(l.type == "dense");
    CHECK(l.name == "dense_" + std::to_string(i));
    CHECK(l.units == units[i]);
    CHECK(l.activation == activations[i]);
    for (const auto* init : {&l.kernel_initializer, &l.bias_initializer}) {
      CHECK(init->type == "random_normal");
      CHECK(init->mean == 0.0);
      CHECK(init->stddev == 1.0);
    }
  }
  CHECK(c.loss.type == "softmax_cross_entropy");
  CHECK(c.optimizer.type == "sgd");
  CHECK(c.optimizer.learning_rate == 0.01);
  CHECK(c.train.epochs == 50);
  CHECK(c.train.batch_size == 100);
  CHECK(c.train.shuffle);
  CHECK(c.evaluate.metrics == std::vector<std::string>{"accuracy", "loss"});
  REQUIRE(c.export_.signatures.size() == 2);
  CHECK(c.export_.signatures[0].name == "predict_images");
  CHECK(c.export_.signatures[0].method == "predict");
  CHECK(c.export_.signatures[0].input_key == "inputs");
  CHECK(c.export_.signatures[0].output_key == "outputs");
  CHECK(c.export_.signatures[1].name == "serving_default");
  CHECK(c.export_.signatures[1].method == "classify");
  CHECK(c.export_.signatures[1].input_key == "inputs");
  CHECK(c.export_.signatures[1].feature == "x");
  CHECK(c.export_.signatures[1].top_k == 0);
}

}  // namespace

TEST_CASE("config: configs/mnist.yaml is the TF Serving tutorial MLP") {
  PipelineConfig c;
  const std::string path = Src("configs/mnist.yaml");
  Status s = LoadConfig(path, {}, &c);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(c.source_path == path);
  CHECK(c.name == "mnist");
  CHECK(c.dataset.name == "mnist");
  CHECK(c.dataset.path == "data/mnist");
  CHECK(c.dataset.download);
  CHECK(!c.dataset.mirrors.empty());
  CHECK(c.export_.path == "exports/mnist");
  CHECK(c.export_.class_names == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  CheckTutorialModel(c);
}

TEST_CASE("config: configs/fashion_mnist.yaml") {
  PipelineConfig c;
  Status s = LoadConfig(Src("configs/fashion_mnist.yaml"), {}, &c);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(c.name == "fashion_mnist");
  CHECK(c.dataset.name == "fashion_mnist");
  CHECK(c.dataset.path == "/usr/share/datasets/fashion-mnist");
  CHECK(!c.dataset.download);
  CHECK(c.export_.path == "exports/fashion_mnist");
  CHECK(c.export_.class_names == std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"});
  CheckTutorialModel(c);
}

TEST_CASE("config: configs/mnist_test_split.yaml uses only t10k") {
  PipelineConfig c;
  Status s = LoadConfig(Src("configs/mnist_test_split.yaml"), {}, &c);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(c.dataset.name == "mnist");
  CHECK(c.dataset.path == "tests/data/mnist");
  CHECK(!c.dataset.download);
  CHECK(c.dataset.train.file == "t10k");
  CHECK(c.dataset.train.start == 0);
  CHECK(c.dataset.train.count == 8000);
  CHECK(c.dataset.validation.file == "t10k");
  CHECK(c.dataset.validation.start == 8000);
  CHECK(c.dataset.validation.count == 0);
  CHECK(c.dataset.test.file == "t10k");
  CHECK(c.dataset.test.start == 8000);
  CHECK(c.dataset.test.count == 2000);
  CheckTutorialModel(c);
}

TEST_CASE("config: every file in configs/ loads") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Src("configs"))) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    PipelineConfig c;
    Status s = LoadConfig(entry.path().string(), {}, &c);
    CHECK_MESSAGE(s.ok(), entry.path().string() << ": " << s.message());
  }
  CHECK(files >= 3);
}

TEST_CASE("config: absent keys get their defaults") {
  PipelineConfig c;
  const std::string path = WriteTemp("minimal.yaml", "model:\n  layers:\n    - units: 10\n");
  Status s = LoadConfig(path, {}, &c);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const PipelineConfig d;  // config.h's defaults
  CHECK(c.name == "pipeline");
  CHECK(c.seed == 0);
  CHECK(c.output_dir == "runs");
  CHECK(c.dataset.name == "mnist");
  CHECK(c.dataset.path == "data/mnist");
  CHECK(c.dataset.download);
  CHECK(c.dataset.mirrors.size() == 2);
  CHECK(c.dataset.scale == d.dataset.scale);
  CHECK(c.dataset.num_classes == 10);
  CHECK(c.dataset.train.file == "train");
  CHECK(c.dataset.train.count == 55000);
  CHECK(c.dataset.validation.start == 55000);
  CHECK(c.dataset.test.count == -1);
  CHECK(c.model.input == 784);
  REQUIRE(c.model.layers.size() == 1);
  CHECK(c.model.layers[0].name == "dense_0");
  CHECK(c.model.layers[0].activation == "linear");
  CHECK(c.model.layers[0].kernel_initializer.type == "random_normal");
  CHECK(c.optimizer.type == "sgd");
  CHECK(c.optimizer.epsilon == 1e-7);
  CHECK(c.optimizer.schedule.type == "constant");
  CHECK(c.train.epochs == 50);
  CHECK(c.train.on_nan == "stop");
  CHECK(c.evaluate.batch_size == 1000);
  CHECK(c.export_.path == "exports/pipeline");
  CHECK(c.export_.version == "auto");
  CHECK(c.export_.variables == "checkpoint");
  CHECK(c.export_.class_names.size() == 10);
  CHECK(c.export_.class_names[9] == "9");
  REQUIRE(c.export_.signatures.size() == 2);
  CHECK(c.export_.signatures[0].name == "predict_images");
  CHECK(c.export_.signatures[1].name == "serving_default");
  CHECK(c.export_.signatures[1].method == "classify");
  CHECK(c.export_.signatures[1].top_k == 0);
  CHECK(c.stages == d.stages);
}

TEST_CASE("config: EmitResolvedYaml round-trips to an equal config") {
  for (std::string file : {"configs/mnist.yaml", "configs/fashion_mnist.yaml", "configs/mnist_test_split.yaml"}) {
    CAPTURE(file);
    PipelineConfig a, b;
    REQUIRE(LoadConfig(Src(file), {}, &a).ok());
    // Unusual values, to exercise quoting and number formatting.
    const std::vector<std::string> overrides = {
        "seed=18446744073709551615", "dataset.scale=0.1", "optimizer.type=adam", "optimizer.epsilon=1e-8",
        "optimizer.learning_rate=0.001", "export.version=7", "name=run 1", "optimizer.schedule.type=cosine",
        "output_dir='a: b'", "export.class_names=['yes', '~', 'null', '1.5', '#x', b, c, d, e, 'f g']"};
    Status loaded = LoadConfig(Src(file), overrides, &a);
    REQUIRE_MESSAGE(loaded.ok(), loaded.message());
    const std::string text = EmitResolvedYaml(a);
    const std::string path = WriteTemp("resolved.yaml", text);
    Status s = LoadConfig(path, {}, &b);
    REQUIRE_MESSAGE(s.ok(), s.message() << "\n" << text);
    CHECK(SameConfig(a, b));
    CHECK(b.seed == 18446744073709551615ull);
    CHECK(b.output_dir == "a: b");
    CHECK(EmitResolvedYaml(b).substr(EmitResolvedYaml(b).find('\n')) == text.substr(text.find('\n')));
  }
}

// A model with a layer of every type, so that every layer key has an element
// whose type has it.
static const char* kEveryLayerType =
    "model:\n"
    "  input_shape: [28, 28, 1]\n"
    "  layers:\n"
    "    - {type: conv2d, filters: 2, kernel_size: [3, 3]}\n"
    "    - {type: max_pool2d}\n"
    "    - {type: avg_pool2d}\n"
    "    - {type: batch_norm}\n"
    "    - {type: dropout}\n"
    "    - {type: flatten}\n"
    "    - {type: dense, units: 10}\n";

// Resolves "model.layers.*.units" through the first element whose type has
// the key (element 0 for keys of every type).
static YAML::Node Resolve(YAML::Node node, const KeySpec& spec) {
  std::string rest = spec.path;
  while (!rest.empty() && node.IsDefined()) {
    const size_t dot = rest.find('.');
    const std::string part = rest.substr(0, dot);
    rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
    if (part == "*") {
      size_t i = 0;
      while (i + 1 < node.size() && node[i]["type"].IsDefined() &&
             !AppliesTo(spec, node[i]["type"].Scalar()))
        ++i;
      node.reset(node[i]);
    } else {
      node.reset(node[part]);
    }
  }
  return node;
}

TEST_CASE("config: the resolved YAML names every schema key") {
  PipelineConfig c;
  REQUIRE(LoadConfig(Src("configs/fashion_mnist.yaml"), {}, &c).ok());
  PipelineConfig every;
  REQUIRE(LoadConfig(WriteTemp("every_layer.yaml", kEveryLayerType), {}, &every).ok());
  YAML::Node root = YAML::Load(EmitResolvedYaml(c));
  YAML::Node layers = YAML::Load(EmitResolvedYaml(every));
  size_t rows = 0, looked_up = 0;
  for (const auto& spec : ConfigSchema()) {
    if (spec.path.empty() || spec.IsElement()) continue;
    ++rows;
    YAML::Node node = Resolve(spec.only_for.empty() ? root : layers, spec);
    CHECK_MESSAGE(node.IsDefined(), spec.path);
    looked_up += node.IsDefined();
  }
  // Every key row was looked up and found; the schema has at least the keys of today.
  CHECK(looked_up == rows);
  CHECK(rows >= 70);
}

namespace {

// The key tables of docs/config.md: key -> its cells (type, default, allowed),
// backticks kept. A row naming several keys ("`dataset`, `model`") gives each.
std::map<std::string, std::vector<std::string>> DocsKeyRows(const std::string& docs) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(docs);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    size_t start = 1;
    for (size_t bar; (bar = line.find(" |", start)) != std::string::npos; start = bar + 2) {
      std::string cell = line.substr(start, bar - start);
      const size_t b = cell.find_first_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b));
    }
    if (cells.size() < 4) continue;
    for (size_t pos = 0; (pos = cells[0].find('`', pos)) != std::string::npos;) {
      const size_t close = cells[0].find('`', pos + 1);
      rows[cells[0].substr(pos + 1, close - pos - 1)] = {cells[1], cells[2], cells[3]};
      pos = close + 1;
    }
  }
  return rows;
}

std::string StripBackticks(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  const std::string below = " (below)";
  if (s.size() > below.size() && s.compare(s.size() - below.size(), below.size(), below) == 0)
    s.resize(s.size() - below.size());
  return s;
}

std::string DocsType(const KeySpec& spec) {
  switch (spec.type) {
    case KeyType::kMap: return "map";
    case KeyType::kInt:
    case KeyType::kUint: return "integer";
    case KeyType::kFloat: return "number";
    case KeyType::kBool: return "boolean";
    case KeyType::kString: return "string";
    case KeyType::kEnum: return "enum";
    case KeyType::kList: {
      const KeySpec* element = FindKeySpec(spec.path + ".*");
      return "list of " + (element ? DocsType(*element) : std::string("?")) + "s";
    }
  }
  return "?";
}

}  // namespace

TEST_CASE("config: docs/config.md documents every schema key") {
  std::ifstream in(Src("docs/config.md"));
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const auto docs = DocsKeyRows(ss.str());
  size_t compared = 0, keys = 0;
  for (const auto& spec : ConfigSchema()) {
    if (spec.path.empty() || spec.IsElement()) continue;
    ++keys;
    CAPTURE(spec.path);
    auto it = docs.find(spec.path);
    CHECK_MESSAGE(it != docs.end(), spec.path << " has no row in docs/config.md");
    if (it == docs.end()) continue;
    // Plain references, not a structured binding: clang 14 (the sanitizer
    // build) cannot capture bindings in doctest's assertion lambdas.
    const std::string& type = it->second[0];
    const std::string& def = it->second[1];
    const std::string& allowed = it->second[2];
    CHECK(type == DocsType(spec));
    if (spec.type != KeyType::kMap || !def.empty()) {  // the combined top-level row has no default cell
      if (spec.required)
        CHECK(def == "**required**");
      else
        CHECK(StripBackticks(def) == spec.default_text);
    }
    // Enum values, in the schema's (the registry's) order, start the allowed cell.
    const KeySpec* values = spec.type == KeyType::kList ? FindKeySpec(spec.path + ".*") : &spec;
    if (values && values->type == KeyType::kEnum) {
      const std::string list = Join(values->allowed, ", ");
      CHECK(!values->allowed.empty());
      CHECK(allowed.substr(0, list.size()) == list);
      CHECK((allowed.size() == list.size() || allowed.compare(list.size(), 2, "; ") == 0));
    }
    if (spec.IsScalar() && !RangeText(spec).empty())
      CHECK_MESSAGE(allowed.find(RangeText(spec)) != std::string::npos, allowed);
    if (spec.type == KeyType::kString) CHECK((allowed == "non-empty" || spec.path == "export.version"));
    ++compared;
  }
  // Every documented dotted key is a schema key (the other direction).
  for (const auto& entry : docs)
    if (const std::string& key = entry.first; key.find('.') != std::string::npos) CHECK_MESSAGE(FindKeySpec(key) != nullptr, key << " is documented but not in the schema");
  CHECK(compared == keys);
  CHECK(compared >= 70);
}

TEST_CASE("config: the enum lists are the registries' names") {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> registries = {
      {"optimizer.type", OptimizerTypes()},
      {"model.layers.*.type", LayerTypes()},
      {"model.layers.*.kernel_initializer.type", InitializerNames()},
      {"model.layers.*.bias_initializer.type", InitializerNames()},
      {"model.layers.*.activation", ActivationNames()},
      {"optimizer.schedule.type", ScheduleTypes()},
      {"stages.*", StageNames()},
  };
  size_t compared = 0;
  for (const auto& registry : registries) {
    const std::string& path = registry.first;
    const std::vector<std::string>& names = registry.second;
    CAPTURE(path);
    const KeySpec* spec = FindKeySpec(path);
    REQUIRE(spec != nullptr);
    CHECK(!names.empty());
    CHECK(sorted(spec->allowed) == sorted(names));
    ++compared;
  }
  CHECK(compared == 7);
  // Stages run in the schema's order, which is the stage registry's own.
  CHECK(kStages == StageNames());
}

TEST_CASE("config: schema defaults agree with config.h") {
  // Emit the defaults and compare them with the documented default of each scalar key.
  PipelineConfig c;
  REQUIRE(LoadConfig(WriteTemp("defaults.yaml", "model:\n  layers:\n    - units: 10\n"), {}, &c).ok());
  PipelineConfig every;
  REQUIRE(LoadConfig(WriteTemp("every_layer_defaults.yaml", kEveryLayerType), {}, &every).ok());
  YAML::Node root = YAML::Load(EmitResolvedYaml(c));
  YAML::Node layers = YAML::Load(EmitResolvedYaml(every));
  size_t compared = 0;
  for (const auto& spec : ConfigSchema()) {
    if (!spec.IsScalar() || spec.IsElement() || spec.default_text.empty() || spec.default_text.find('<') != std::string::npos)
      continue;
    ++compared;
    YAML::Node node = Resolve(spec.only_for.empty() ? root : layers, spec);
    CHECK_MESSAGE(node.Scalar() == spec.default_text, spec.path);
  }
  // The scalar keys with a plain default, of today's schema: 52 (more as keys are added).
  CHECK(compared >= 52);
}

TEST_CASE("config: a layer's keys are its type's: units belongs to dense") {
  const std::vector<std::string> dense = ChildKeysFor("model.layers.*", "dense");
  const std::vector<std::string> other = ChildKeysFor("model.layers.*", "not_dense");
  CHECK(dense == std::vector<std::string>{"type", "name", "units", "activation", "kernel_initializer",
                                          "bias_initializer", "weight_decay"});
  CHECK(other == std::vector<std::string>{"type", "name"});
  CHECK(ChildKeysFor("model.layers.*", "conv2d") ==
        std::vector<std::string>{"type", "name", "activation", "kernel_initializer", "bias_initializer", "filters",
                                 "kernel_size", "strides", "padding", "weight_decay"});
  CHECK(ChildKeysFor("model.layers.*", "max_pool2d") ==
        std::vector<std::string>{"type", "name", "pool_size", "strides", "padding"});
  CHECK(ChildKeysFor("model.layers.*", "batch_norm") == std::vector<std::string>{"type", "name", "momentum", "epsilon"});
  // An unknown type is its own error: every key applies, so nothing cascades.
  CHECK(ChildKeysFor("model.layers.*", "") == ChildKeys("model.layers.*"));
}
