// Hydra-style overrides: dotted.key=value, the value parsed as YAML.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"

using namespace pipeline;

namespace {

std::string Src(const std::string& rel) { return std::string(PIPELINE_SOURCE_DIR) + "/" + rel; }

std::string Mnist() { return Src("configs/mnist.yaml"); }

std::string Load(const std::vector<std::string>& overrides, PipelineConfig* c) {
  Status s = LoadConfig(Mnist(), overrides, c);
  if (!s.ok()) CHECK(s.IsInvalidArgument());
  return s.ok() ? "" : s.message();
}

}  // namespace

TEST_CASE("config: overrides set scalars / lists and list elements") {
  PipelineConfig c;
  REQUIRE(Load({"train.epochs=5", "optimizer.learning_rate=0.1", "model.layers.0.units=128",
                "model.layers.1.activation=tanh", "evaluate.metrics=[accuracy]", "stages=[load, build, train]",
                "name=quick", "train.shuffle=false"},
               &c) == "");
  CHECK(c.train.epochs == 5);
  CHECK(c.optimizer.learning_rate == 0.1);
  CHECK(c.model.layers[0].units == 128);
  CHECK(c.model.layers[1].activation == "tanh");
  CHECK(c.model.layers[2].units == 10);
  CHECK(c.evaluate.metrics == std::vector<std::string>{"accuracy"});
  CHECK(c.stages == std::vector<std::string>{"load", "build", "train"});
  CHECK(c.name == "quick");
  CHECK(!c.train.shuffle);
  CHECK(c.source_path == Mnist());
}

TEST_CASE("config: overrides may add keys the file omitted") {
  PipelineConfig c;
  REQUIRE(Load({"optimizer.schedule.type=cosine", "optimizer.schedule.min_learning_rate=0.001", "train.threads=2",
                "model.layers.0.kernel_initializer={type: glorot_uniform}", "export.version=3",
                "dataset.validation.count=1000"},
               &c) == "");
  CHECK(c.optimizer.schedule.type == "cosine");
  CHECK(c.optimizer.schedule.min_learning_rate == 0.001);
  CHECK(c.train.threads == 2);
  CHECK(c.model.layers[0].kernel_initializer.type == "glorot_uniform");
  CHECK(c.model.layers[0].kernel_initializer.stddev == 1.0);
  CHECK(c.export_.version == "3");
  CHECK(c.dataset.validation.count == 1000);
  CHECK(c.dataset.validation.start == 55000);
}

TEST_CASE("config: an override can append one list element") {
  PipelineConfig c;
  REQUIRE(Load({"model.layers.2.units=32", "model.layers.2.activation=relu", "model.layers.3.units=10"}, &c) == "");
  REQUIRE(c.model.layers.size() == 4);
  CHECK(c.model.layers[2].units == 32);
  CHECK(c.model.layers[3].units == 10);
  CHECK(c.model.layers[3].name == "dense_3");
  CHECK(Load({"model.layers.5.units=3"}, &c) ==
        "<override 'model.layers.5.units=3'>: error: model.layers.5: index 5 is out of range: 'model.layers' has 3 "
        "elements (use 3 to append)");
  CHECK(Load({"model.layers.first.units=3"}, &c) ==
        "<override 'model.layers.first.units=3'>: error: model.layers.first: expected a list index (0, 1, ...) after "
        "'model.layers', got 'first'");
}

TEST_CASE("config: an unknown override key gets a suggestion") {
  PipelineConfig c;
  CHECK(Load({"train.epoch=5"}, &c) ==
        "<override 'train.epoch=5'>: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)");
  CHECK(Load({"optimiser.learning_rate=0.1"}, &c) ==
        "<override 'optimiser.learning_rate=0.1'>: error: optimiser: unknown key 'optimiser' (did you mean "
        "'optimizer'?)");
  CHECK(Load({"model.layers.0.unit=5"}, &c) ==
        "<override 'model.layers.0.unit=5'>: error: model.layers.0.unit: unknown key 'unit' (did you mean 'units'?)");
  CHECK(Load({"train.epochs.x=5"}, &c) ==
        "<override 'train.epochs.x=5'>: error: train.epochs.x: 'train.epochs' is an integer, it has no key 'x'");
}

TEST_CASE("config: override values are validated like file values") {
  PipelineConfig c;
  CHECK(Load({"train.epochs=ten"}, &c) ==
        "<override 'train.epochs=ten'>: error: train.epochs: expected an integer, got 'ten'");
  CHECK(Load({"model.layers.0.activation=rleu"}, &c) ==
        "<override 'model.layers.0.activation=rleu'>: error: model.layers.0.activation: unknown activation 'rleu' "
        "(did you mean 'relu'? allowed: relu, sigmoid, tanh, linear, leaky_relu, elu, gelu, softplus, softmax)");
  CHECK(Load({"model.layers.0.kernel_initializer={type: zeros, stdev: 1}"}, &c) ==
        "<override 'model.layers.0.kernel_initializer={type: zeros, stdev: 1}'>: error: "
        "model.layers.0.kernel_initializer.stdev: unknown key 'stdev' (did you mean 'stddev'?)");
  CHECK(Load({"optimizer.learning_rate=-0.1"}, &c) ==
        "<override 'optimizer.learning_rate=-0.1'>: error: optimizer.learning_rate: must be > 0, got -0.1");
  CHECK(Load({"train.epochs="}, &c) ==
        "<override 'train.epochs='>: error: train.epochs: expected an integer, got an empty value");
}

TEST_CASE("config: unparsable overrides") {
  PipelineConfig c;
  const std::string msg = Load({"evaluate.metrics=[accuracy, loss"}, &c);
  CHECK(msg.starts_with("<override 'evaluate.metrics=[accuracy, loss'>: error: evaluate.metrics: cannot parse value "
                        "'[accuracy, loss' as YAML: "));
  CHECK(Load({"train.epochs"}, &c) ==
        "<override 'train.epochs'>: error: expected KEY=VALUE, e.g. train.epochs=10");
  CHECK(Load({"train..epochs=1"}, &c) ==
        "<override 'train..epochs=1'>: error: train..epochs: empty part in key path 'train..epochs'");
}

TEST_CASE("config: file errors come first / then override errors in order") {
  PipelineConfig c;
  const std::string path = Src("tests/data/configs/three_mistakes.yaml");
  Status s = LoadConfig(path, {"train.epoch=5", "train.batch_size=100", "seed=-3"}, &c);
  REQUIRE(s.IsInvalidArgument());
  CHECK(s.message() ==
        path + ":19:19: error: model.layers.0.activation: unknown activation 'rleu' (did you mean 'relu'? allowed: "
               "relu, sigmoid, tanh, linear, leaky_relu, elu, gelu, softplus, softmax)\n" +
            path + ":41:3: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)\n" +
            "<override 'train.epoch=5'>: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)\n" +
            "<override 'seed=-3'>: error: seed: must be >= 0, got -3");
}

TEST_CASE("config: the node-level steps compose for sweeps") {
  YAML::Node base;
  REQUIRE(LoadYamlFile(Mnist(), &base).ok());
  for (int epochs : {1, 2, 3}) {
    YAML::Node run;
    REQUIRE(LoadYamlFile(Mnist(), &run).ok());
    REQUIRE(ApplyOverride(run, "train.epochs=" + std::to_string(epochs)).ok());
    PipelineConfig c;
    Status s = ValidateConfig(run, Mnist(), &c);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(c.train.epochs == epochs);
    CHECK(c.source_path == Mnist());
  }
  PipelineConfig c;
  REQUIRE(ValidateConfig(base, Mnist(), &c).ok());
  CHECK(c.train.epochs == 50);  // the base is untouched
  YAML::Node run;
  REQUIRE(LoadYamlFile(Src("tests/data/configs/three_mistakes.yaml"), &run).ok());
  Status s = ApplyOverride(run, "train.epoch=5");
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "<override 'train.epoch=5'>: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)");
  REQUIRE(ApplyOverride(run, "model.layers.0.activation=relu").ok());
  s = ValidateConfig(run, "three.yaml", &c);  // file positions survive overrides
  CHECK(s.message() == "three.yaml:41:3: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)\n"
                       "three.yaml:42:15: error: train.batch_size: expected an integer, got 'hundred'");
}
