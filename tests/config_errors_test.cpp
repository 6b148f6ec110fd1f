// Error reporting: every error in a file, sorted, as FILE:LINE:COL: error: KEY: message.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;

namespace {

std::string Src(const std::string& rel) { return std::string(PIPELINE_SOURCE_DIR) + "/" + rel; }

std::string TempDir() { return test::ProcessScratchDir(); }

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Loads `text` from a file called `name`; returns the error message ("" on success).
std::string Errors(const std::string& name, const std::string& text, const std::vector<std::string>& overrides = {}) {
  PipelineConfig c;
  Status s = LoadConfig(WriteTemp(name, text), overrides, &c);
  if (!s.ok()) CHECK(s.IsInvalidArgument());
  return s.ok() ? "" : s.message();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("config: three mistakes are all reported with line and column") {
  const std::string path = Src("tests/data/configs/three_mistakes.yaml");
  PipelineConfig c;
  c.name = "untouched";
  Status s = LoadConfig(path, {}, &c);
  REQUIRE(!s.ok());
  CHECK(s.IsInvalidArgument());
  CHECK(s.ExitCode() == 2);
  CHECK(c.name == "untouched");  // not filled on error
  const auto lines = Lines(s.message());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == path +
                        ":19:19: error: model.layers.0.activation: unknown activation 'rleu' (did you mean 'relu'? "
                        "allowed: relu, sigmoid, tanh, linear, leaky_relu, elu, gelu, softplus, softmax)");
  CHECK(lines[1] == path + ":41:3: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)");
  CHECK(lines[2] == path + ":42:15: error: train.batch_size: expected an integer, got 'hundred'");
}

TEST_CASE("config: wrong types / bad enums and out-of-range values") {
  const std::string text =
      "seed: -1\n"                  // 1
      "train:\n"                    // 2
      "  epochs: 0\n"               // 3
      "  batch_size: ten\n"         // 4
      "  shuffle: maybe\n"          // 5
      "  threads: 1.5\n"            // 6
      "optimizer:\n"                // 7
      "  learning_rate: .nan\n"     // 8
      "  beta1: 1.0\n"              // 9
      "  type: adamw\n"             // 10
      "  epsilon: 0\n"              // 11
      "model:\n"                    // 12
      "  layers:\n"                 // 13
      "    - units: 10\n"           // 14
      "      activation: Relu\n"    // 15
      "      kernel_initializer: {type: glorot, stddev: -1}\n"  // 16
      "dataset: [mnist]\n"          // 17
      "stages: [load, build, trian]\n";  // 18
  const std::string path = TempDir() + "/types.yaml";
  const auto lines = Lines(Errors("types.yaml", text));
  const std::vector<std::string> expected = {
      path + ":1:7: error: seed: must be >= 0, got -1",
      path + ":3:11: error: train.epochs: must be >= 1, got 0",
      path + ":4:15: error: train.batch_size: expected an integer, got 'ten'",
      path + ":5:12: error: train.shuffle: expected a boolean (true or false), got 'maybe'",
      path + ":6:12: error: train.threads: expected an integer, got '1.5'",
      path + ":8:18: error: optimizer.learning_rate: must be a finite number, got '.nan'",
      path + ":9:10: error: optimizer.beta1: must be in [0, 1), got 1.0",
      path + ":10:9: error: optimizer.type: unknown optimizer 'adamw' (did you mean 'adam'? allowed: sgd, momentum, "
             "adam, rmsprop)",
      path + ":11:12: error: optimizer.epsilon: must be > 0, got 0",
      path + ":15:19: error: model.layers.0.activation: unknown activation 'Relu' (did you mean 'relu'? allowed: "
             "relu, sigmoid, tanh, linear, leaky_relu, elu, gelu, softplus, softmax)",
      path + ":16:34: error: model.layers.0.kernel_initializer.type: unknown initializer 'glorot' (did you mean "
             "'glorot_uniform'? allowed: "
             "random_normal, truncated_normal, glorot_uniform, glorot_normal, he_normal, zeros)",
      path + ":16:50: error: model.layers.0.kernel_initializer.stddev: must be >= 0, got -1",
      path + ":17:10: error: dataset: expected a map, got a list",
      path + ":18:23: error: stages.2: unknown stage 'trian' (did you mean 'train'? allowed: load, build, train, "
             "evaluate, export)",
  };
  CHECK(JoinLines(lines) == JoinLines(expected));
}

TEST_CASE("config: unknown keys list the allowed keys when nothing is close") {
  const std::string path = TempDir() + "/unknown.yaml";
  const auto lines = Lines(Errors("unknown.yaml",
                                  "model:\n"
                                  "  layers:\n"
                                  "    - units: 10\n"
                                  "      dropout: 0.5\n"
                                  "loss: {type: softmax_cross_entropy, weight: 2}\n"
                                  "learning_rate: 0.1\n"));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == path +
                        ":4:7: error: model.layers.0.dropout: unknown key 'dropout' (allowed: type, name, units, "
                        "activation, kernel_initializer, bias_initializer, weight_decay)");
  CHECK(lines[1] == path + ":5:37: error: loss.weight: unknown key 'weight' (allowed: type, label_smoothing, delta)");
  CHECK(lines[2].starts_with(path + ":6:1: error: learning_rate: unknown key 'learning_rate' (allowed: name, seed,"));
}

// A dotted key ("train.epochs") would name the same path as the nested one,
// and an empty key (a bare "!" tag) the map itself. Both once made the
// validator assign one YAML::Node over another, which yaml-cpp writes through
// to the document being walked (found by fuzz_config; the inputs are in
// fuzz/regressions/config/).
TEST_CASE("config: dotted and empty keys are errors and leave the document intact") {
  const std::string model = "model: {layers: [{units: 10}]}\n";
  const auto dotted = Lines(Errors("dotted.yaml", model + "train: {epochs: 2}\ntrain.epochs: 3\n"));
  REQUIRE(dotted.size() == 1);
  CHECK(dotted[0] == TempDir() +
                         "/dotted.yaml:3:1: error: train.epochs: unknown key 'train.epochs': a key is a single name; "
                         "nest maps instead (dotted paths are for command-line overrides)");
  // A bare "!" at the end of the file is an empty key.
  const auto empty = Lines(Errors("empty.yaml", model + "seed: 3\n!"));
  REQUIRE(empty.size() == 1);
  CHECK(empty[0] == TempDir() + "/empty.yaml:3:1: error: empty key");
  // Without the bad key the same document loads, with the nested value.
  PipelineConfig c;
  REQUIRE(LoadConfig(WriteTemp("nested.yaml", model + "train: {epochs: 2}\n"), {}, &c).ok());
  CHECK(c.train.epochs == 2);
}

TEST_CASE("config: missing and empty required values") {
  const std::string path = TempDir() + "/missing.yaml";
  CHECK(Errors("missing.yaml", "name: x\n") == path + ":1:1: error: model.layers: missing required key 'layers'");
  CHECK(Errors("missing.yaml", "model:\n  layers: []\n") == path + ":2:11: error: model.layers: must not be empty");
  CHECK(Errors("missing.yaml", "model:\n  layers:\n    - activation: relu\n") ==
        path + ":3:7: error: model.layers.0.units: missing required key 'units'");
  CHECK(Errors("missing.yaml", "name: ''\nmodel:\n  layers:\n    - units: 10\n") ==
        path + ":1:7: error: name: must not be empty");
  CHECK(Errors("missing.yaml", "name:\nmodel:\n  layers:\n    - units: 10\n") ==
        path + ":1:1: error: name: expected a string, got an empty value");
}

TEST_CASE("config: duplicate keys / layer names and list entries") {
  const std::string path = TempDir() + "/dups.yaml";
  const auto lines = Lines(Errors("dups.yaml",
                                  "train:\n"
                                  "  epochs: 5\n"
                                  "  epochs: 6\n"
                                  "model:\n"
                                  "  layers:\n"
                                  "    - {units: 256}\n"
                                  "    - {units: 10, name: dense_0}\n"
                                  "evaluate: {metrics: [loss, loss]}\n"
                                  "stages: [load, train, build]\n"));
  const std::vector<std::string> expected = {
      path + ":3:3: error: train.epochs: duplicate key 'epochs' (first given at line 2)",
      path + ":7:25: error: model.layers.1.name: duplicate layer name 'dense_0' (model.layers.0 has it)",
      path + ":8:28: error: evaluate.metrics.1: duplicate 'loss' (also evaluate.metrics.0)",
      path + ":9:23: error: stages.2: 'build' is listed after 'train'; stages run in the order load, build, train, "
             "evaluate, export",
  };
  CHECK(JoinLines(lines) == JoinLines(expected));
}

TEST_CASE("config: dataset split rules") {
  const std::string path = TempDir() + "/splits.yaml";
  const std::string model = "model:\n  layers:\n    - units: 10\n";
  CHECK(Errors("splits.yaml", "dataset:\n  test: {file: t10k, start: 0, count: 20000}\n" + model) ==
        path + ":2:39: error: dataset.test.count: start 0 + count 20000 = 20000 is past the end of t10k (10000 "
               "examples)");
  CHECK(Errors("splits.yaml", "dataset:\n  test: {file: tst}\n" + model) ==
        path + ":2:16: error: dataset.test.file: unknown mnist file 'tst' (allowed: train, t10k)");
  CHECK(Errors("splits.yaml",
               "dataset:\n  train: {file: t10k, start: 0, count: 8000}\n  test: {file: t10k, start: 5000}\n" +
                   model) ==
        path + ":3:29: error: dataset.test.start: dataset.test examples [5000, 10000) of 't10k' overlap "
               "dataset.train examples [0, 8000)");
  CHECK(Errors("splits.yaml", "dataset:\n  train: {count: 0}\n  start: 3\n" + model) ==
        path + ":2:18: error: dataset.train.count: the training split is empty\n" + path +
            ":3:3: error: dataset.start: unknown key 'start' (allowed: name, path, download, mirrors, scale, "
            "num_classes, train, validation, test, csv)");
  CHECK(Errors("splits.yaml", "dataset: {name: idx, path: /data}\nmodel:\n  input: 100\n  layers:\n    - units: 10\n") ==
        path + ":1:17: error: dataset.name: idx datasets have no default download source: set download: false, or "
               "list dataset.mirrors");
  CHECK(Errors("splits.yaml", "dataset: {name: idx, path: /data, download: false}\nmodel:\n  input: 100\n  layers:\n    - units: 10\n") == "");
  CHECK(Errors("splits.yaml", "model:\n  input: 100\n  layers:\n    - units: 10\n") ==
        path + ":2:10: error: model.input: must be 784 for mnist (28x28 images), got 100");
  CHECK(Errors("splits.yaml", "model:\n  layers:\n    - units: 5\n") ==
        path + ":3:14: error: model.layers.0.units: the last layer outputs the logits for softmax_cross_entropy and "
               "must have dataset.num_classes (10) units, got 5");
}

TEST_CASE("config: a softmax activation on the logits of softmax_cross_entropy is an error naming the layer") {
  const std::string path = TempDir() + "/softmax.yaml";
  const std::string hidden = "model:\n  layers:\n    - {units: 32, activation: softmax}\n";
  CHECK(Errors("softmax.yaml", hidden + "    - {name: logits, units: 10, activation: softmax}\n") ==
        path + ":4:45: error: model.layers.1.activation: layer logits outputs the logits of loss "
               "softmax_cross_entropy, which applies softmax itself: softmax here would apply it twice; use "
               "activation: linear (the export's classify and predict signatures still return softmax probabilities)");
  // A hidden softmax is a layer like any other; the logits may take any other activation.
  CHECK(Errors("softmax.yaml", hidden + "    - {units: 10}\n") == "");
  CHECK(Errors("softmax.yaml", hidden + "    - {units: 10, activation: gelu}\n") == "");
  CHECK(Errors("softmax.yaml", hidden + "    - {units: 10, activation: softmax}\nloss: {type: sigmoid_cross_entropy}\n") == "");
}

TEST_CASE("config: export keys") {
  const std::string path = TempDir() + "/export.yaml";
  const std::string model = "model:\n  layers:\n    - units: 10\n";
  CHECK(Errors("export.yaml", model + "export: {version: 0}\n") ==
        path + ":4:19: error: export.version: must be 'auto' or a positive integer, got '0'");
  CHECK(Errors("export.yaml", model + "export: {variables: frozn}\n") ==
        path + ":4:21: error: export.variables: unknown variables mode 'frozn' (did you mean 'frozen'? allowed: "
               "checkpoint, frozen)");
  CHECK(Errors("export.yaml", model + "export: {class_names: [a, b, c]}\n") ==
        path + ":4:23: error: export.class_names: must have dataset.num_classes (10) names, got 3");
  CHECK(Errors("export.yaml", "dataset: {num_classes: 3}\nmodel:\n  layers:\n    - units: 3\n"
                              "export: {class_names: [a, b, a]}\n") ==
        path + ":5:30: error: export.class_names.2: duplicate 'a' (also export.class_names.0)");
  PipelineConfig c;
  REQUIRE(LoadConfig(WriteTemp("export_ok.yaml", model + "export: {version: 007}\n"), {}, &c).ok());
  CHECK(c.export_.version == "7");
}

TEST_CASE("config: file problems name the file") {
  PipelineConfig c;
  const std::string dir = TempDir();
  Status s = LoadConfig(dir + "/does_not_exist.yaml", {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + "/does_not_exist.yaml: error: no such config file");
  s = LoadConfig(dir, {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + ": error: is a directory, not a config file");
  s = LoadConfig(WriteTemp("empty.yaml", ""), {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + "/empty.yaml: error: config file is empty");
  s = LoadConfig(WriteTemp("comments.yaml", "# nothing here\n\n"), {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + "/comments.yaml: error: config file has no YAML content (only blank lines or comments)");
  s = LoadConfig(WriteTemp("scalar.yaml", "hello\n"), {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + "/scalar.yaml:1:1: error: expected a map of keys at the top level, got 'hello'");
}

TEST_CASE("config: YAML syntax errors point at the parser's position") {
  PipelineConfig c;
  const std::string path = WriteTemp("syntax.yaml", "train:\n  epochs: [1, 2\n  batch_size: 3\n");
  Status s = LoadConfig(path, {}, &c);
  CHECK(s.IsInvalidArgument());
  // yaml-cpp notices the unclosed '[' where the next key's ':' appears.
  CHECK(s.message() == path + ":3:13: error: invalid YAML: end of sequence flow not found");
  const std::string path2 = WriteTemp("syntax2.yaml", "train:\n  epochs: 1\n bad: 2\n");
  s = LoadConfig(path2, {}, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().starts_with(path2 + ":3:"));
}

TEST_CASE("config: a layer that cannot follow its input names the index and both shapes") {
  const std::string head =
      "dataset: {name: fashion_mnist, download: false, path: /nonexistent}\n"
      "model:\n"
      "  input_shape: [28, 28, 1]\n"
      "  layers:\n";
  // dense straight after an image: no flatten.
  std::string e = Errors("no_flatten.yaml", head +
                                                "    - {type: conv2d, filters: 4, kernel_size: [3, 3]}\n"
                                                "    - {type: dense, units: 10}\n");
  CHECK(e.find("no_flatten.yaml:6:14: error: model.layers.1.type: layer 1 (dense) cannot follow its input of shape "
               "[26, 26, 4]: dense needs flat rows; add a flatten layer before it") != std::string::npos);
  // A window larger than its (pooled) input with valid padding.
  e = Errors("too_small.yaml", head +
                                   "    - {type: max_pool2d, pool_size: [16, 16]}\n"
                                   "    - {type: conv2d, filters: 2, kernel_size: [3, 3]}\n"
                                   "    - {type: flatten}\n"
                                   "    - {type: dense, units: 10}\n");
  CHECK(e.find("too_small.yaml:6:14: error: model.layers.1.type: layer 1 (conv2d) cannot follow its input of shape "
               "[1, 1, 1]: its kernel_size [3, 3] with padding valid does not fit") != std::string::npos);
  // conv2d on flat rows; input_shape that disagrees with input.
  e = Errors("flat.yaml",
             "model:\n  input: 784\n  layers:\n    - {type: conv2d, filters: 4, kernel_size: [3, 3]}\n"
             "    - {type: flatten}\n    - {type: dense, units: 10}\n");
  CHECK(e.find("flat.yaml:4:14: error: model.layers.0.type: layer 0 (conv2d) cannot follow its input of shape [784]: "
               "it needs [height, width, channels]") != std::string::npos);
  e = Errors("product.yaml", "model:\n  input_shape: [28, 28, 3]\n  layers:\n    - {type: dense, units: 10}\n");
  CHECK(e.find("product.yaml:2:16: error: model.input_shape: [28, 28, 3] holds 2352 values, but model.input is 784")
        != std::string::npos);
  // The last layer must be the dense logits; a conv's kernel must be 2-D.
  e = Errors("last.yaml", head + "    - {type: flatten}\n");
  CHECK(e.find("last.yaml:5:14: error: model.layers.0.type: the last layer outputs the logits") != std::string::npos);
  e = Errors("kernel.yaml", head + "    - {type: conv2d, filters: 4, kernel_size: [3]}\n");
  CHECK(e.find("model.layers.0.kernel_size: must be [height, width] for conv2d, got [3]") != std::string::npos);
  // A key of another layer type.
  e = Errors("other.yaml", head + "    - {type: max_pool2d, filters: 3}\n    - {type: flatten}\n"
                                  "    - {type: dense, units: 10}\n");
  CHECK(e.find("model.layers.0.filters") != std::string::npos);
  // And the valid CNN passes.
  CHECK(Errors("fine.yaml", head + "    - {type: conv2d, filters: 4, kernel_size: [3, 3], padding: same}\n"
                                   "    - {type: max_pool2d}\n    - {type: batch_norm}\n    - {type: flatten}\n"
                                   "    - {type: dropout, rate: 0.2}\n    - {type: dense, units: 10}\n") == "");
}
