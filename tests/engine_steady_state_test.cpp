// Steady state runs what was built before the loop: oneDNN's own verbose log
// shows every primitive created while the first epoch's plans are compiled,
// none after, and no reorder executed at all.
#include <doctest/doctest.h>

#include <regex>

#include "tests/support/run_pipeline.h"

using pipeline::test::RunPipeline;

namespace {

struct VerboseCounts {
  int create = 0, exec = 0, reorder = 0;
};

VerboseCounts Count(int epochs, const std::string& config = "configs/fashion_mnist.yaml",
                    const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> args = {"run", config, "train.epochs=" + std::to_string(epochs),
                                   "dataset.train.count=1000", "train.threads=2", "--stages", "load,build,train",
                                   "--run-dir", pipeline::test::TempDir("verbose") + "/run"};
  args.insert(args.end(), overrides.begin(), overrides.end());
  auto r = RunPipeline(args, PIPELINE_SOURCE_DIR, {"ONEDNN_VERBOSE=2"});
  REQUIRE(r.exit_code == 0);
  VerboseCounts c;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("onednn_verbose,create", 0) == 0) ++c.create;
    if (line.rfind("onednn_verbose,exec", 0) == 0) ++c.exec;
    if (line.find(",reorder,") != std::string::npos) ++c.reorder;
  }
  return c;
}

}  // namespace

TEST_CASE("engine: no primitive is created after the first epoch and no reorder ever runs") {
  const VerboseCounts one = Count(1), three = Count(3);
  INFO("create " << one.create << "/" << three.create << " exec " << one.exec << "/" << three.exec);
  CHECK(one.create > 10);              // the plans were really built (and logged)
  CHECK(three.create == one.create);   // two more epochs created nothing
  CHECK(three.exec > 2 * one.exec);    // ...while executing every batch
  CHECK(one.reorder == 0);
  CHECK(three.reorder == 0);
}

// The CNN (configs/fashion_cnn.yaml: conv2d, max_pool2d, flatten, dropout,
// dense) builds its primitives in the first epoch's plans too. Its flatten
// (and dropout's inference identity) are copies, which oneDNN runs as
// reorders, so reorders do run here: plain NHWC in and out, never a layout
// change.
TEST_CASE("engine: the CNN creates no primitive after the first epoch") {
  const VerboseCounts one = Count(1, "configs/fashion_cnn.yaml"), three = Count(3, "configs/fashion_cnn.yaml");
  INFO("create " << one.create << "/" << three.create << " exec " << one.exec << "/" << three.exec);
  CHECK(one.create > 10);
  CHECK(three.create == one.create);
  CHECK(three.exec > 2 * one.exec);
}

// The activations with steps of their own (gelu's and softplus's eltwise from
// the kept pre-activation, softmax's primitive) and the fused ones with an
// alpha: built with the plans too, and no reorder.
TEST_CASE("engine: layers with leaky_relu elu gelu softplus softmax create no primitive after the first epoch") {
  const std::vector<std::string> layers = {
      "model.layers=[{units: 64, activation: gelu}, {units: 64, activation: softplus}, {units: 32, activation: softmax},"
      " {units: 32, activation: leaky_relu}, {units: 32, activation: elu}, {units: 10}]"};
  const VerboseCounts one = Count(1, "configs/fashion_mnist.yaml", layers),
                      three = Count(3, "configs/fashion_mnist.yaml", layers);
  INFO("create " << one.create << "/" << three.create << " exec " << one.exec << "/" << three.exec);
  CHECK(one.create > 10);
  CHECK(three.create == one.create);
  CHECK(three.exec > 2 * one.exec);
  CHECK(three.reorder == 0);
}
