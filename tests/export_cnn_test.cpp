// The image layers end to end through the binary: a small CNN with every
// image layer (conv2d, batch_norm, max_pool2d, avg_pool2d, flatten, dropout)
// trains, exports, and `pipeline predict` on the export (the reader running
// Conv2D, MaxPool, AvgPool, Reshape, Mul, AddV2) reproduces the run's test
// accuracy to the last digit through both signatures.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/support/export_verify.h"
#include "tests/support/run_pipeline.h"

using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

std::string Field(const std::string& json, const std::string& key) {
  std::smatch m;
  REQUIRE(std::regex_search(json, m, std::regex("\"" + key + "\": (\"[^\"]*\"|[-0-9.e+]+|null)")));
  return m[1];
}

// A small CNN with every image layer, written to tmp/cnn.yaml.
std::string WriteCnnConfig(const std::string& tmp, const std::string& fashion) {
  const std::string config = tmp + "/cnn.yaml";
  std::ofstream(config) << "name: cnn\nseed: 3\n"
                           "dataset: {name: fashion_mnist, path: " + fashion + ", download: false,\n"
                           "          train: {count: 3000}, validation: {count: 0}, test: {count: 2000}}\n"
                           "model:\n  input_shape: [28, 28, 1]\n  layers:\n"
                           "    - {type: conv2d, filters: 4, kernel_size: [3, 3], padding: same, activation: relu,\n"
                           "       kernel_initializer: {type: he_normal}, bias_initializer: {type: zeros}}\n"
                           "    - {type: batch_norm, momentum: 0.9}\n"
                           "    - {type: max_pool2d}\n"
                           "    - {type: conv2d, filters: 6, kernel_size: [3, 3], strides: [2, 2], activation: tanh,\n"
                           "       kernel_initializer: {type: glorot_uniform}, bias_initializer: {type: zeros}}\n"
                           "    - {type: avg_pool2d, pool_size: [2, 2], padding: same}\n"
                           "    - {type: flatten}\n"
                           "    - {type: dropout, rate: 0.2}\n"
                           "    - {type: dense, units: 10, kernel_initializer: {type: glorot_uniform},\n"
                           "       bias_initializer: {type: zeros}}\n"
                           "optimizer: {type: adam, learning_rate: 0.003}\n"
                           "train: {epochs: 2, batch_size: 50}\n"
                           "export: {path: " + tmp + "/models}\n";
  return config;
}

}  // namespace

TEST_CASE("export: a CNN with every image layer exports and predict reproduces its accuracy") {
  const std::string tmp = TempDir("cnn");
  const std::string fashion = "/usr/share/datasets/fashion-mnist/";
  const std::string config = WriteCnnConfig(tmp, fashion);
  auto r = RunPipeline({"run", config, "--run-dir", tmp + "/run", "--json", tmp + "/run.json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string run = Slurp(tmp + "/run.json");
  const std::string accuracy = Field(run, "test_accuracy");
  CHECK(std::stod(accuracy) > 0.6);  // it learned (2 epochs of 3000 examples)

  tensorflow::SavedModel sm;
  REQUIRE(pipeline::savedmodel::ReadSavedModelProto(tmp + "/models/1", &sm).ok());
  std::set<std::string> ops;
  for (const auto& n : sm.meta_graphs(0).graph_def().node()) ops.insert(n.op());
  for (const char* op : {"Conv2D", "MaxPool", "AvgPool", "Reshape", "Mul", "AddV2", "Identity"}) {
    INFO(op);
    CHECK(ops.count(op) == 1);
  }
  for (const std::string signature : {"predict_images", "serving_default"}) {
    auto p = RunPipeline({"predict", tmp + "/models/1", "--signature", signature, "--idx-images",
                          fashion + "t10k-images-idx3-ubyte.gz", "--idx-labels", fashion + "t10k-labels-idx1-ubyte.gz",
                          "--limit", "2000", "--json", tmp + "/" + signature + ".json"});
    INFO(signature << "\n" << p.out << p.err);
    REQUIRE(p.exit_code == 0);
    const std::string out = Slurp(tmp + "/" + signature + ".json");
    CHECK(Field(out, "count") == "2000");
    CHECK(Field(out, "accuracy") == accuracy);
  }
  std::filesystem::remove_all(tmp);
}

// configs/mnist_lenet.yaml on the real MNIST test set (the first 4000 t10k
// images train, the last 2000 test): it learns, and two runs with the same
// seed and threads give bit-identical per-epoch losses.
TEST_CASE("engine: mnist_lenet learns real MNIST and is reproducible") {
  const std::string tmp = TempDir("lenet");
  auto run = [&](const std::string& name) {
    auto r = RunPipeline({"run", "configs/mnist_lenet.yaml", "dataset.path=tests/data/mnist", "dataset.download=false",
                          "dataset.train.file=t10k", "dataset.train.count=4000", "dataset.validation.count=0",
                          "dataset.test.file=t10k", "dataset.test.start=8000", "dataset.test.count=2000",
                          "train.epochs=2", "train.threads=2", "--stages", "load,build,train,evaluate", "--run-dir",
                          tmp + "/" + name, "--json", tmp + "/" + name + ".json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return std::make_pair(Slurp(tmp + "/" + name + "/metrics.jsonl"), Field(Slurp(tmp + "/" + name + ".json"), "test_accuracy"));
  };
  const auto first = run("a");
  const auto second = run("b");
  std::regex loss("\"loss\": [-0-9.e+]+");
  auto losses = [&](const std::string& text) {
    std::string out;
    for (std::sregex_iterator it(text.begin(), text.end(), loss), end; it != end; ++it) out += it->str() + "\n";
    return out;
  };
  CHECK(!losses(first.first).empty());
  CHECK(losses(first.first) == losses(second.first));
  CHECK(first.second == second.second);
  CHECK(std::stod(first.second) > 0.85);  // 0.903 measured
  std::filesystem::remove_all(tmp);
}

// batch_norm's moving statistics and dropout's step are in the checkpoint: a
// run resumed after epoch 1 ends exactly where the uninterrupted run does.
TEST_CASE("reliability: a CNN with batch_norm and dropout resumes bit-identically") {
  const std::string tmp = TempDir("cnn_resume");
  const std::string fashion = "/usr/share/datasets/fashion-mnist/";
  const std::string config = WriteCnnConfig(tmp, fashion);
  auto run = [&](std::vector<std::string> args) {
    auto r = RunPipeline(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  };
  run({"run", config, "train.threads=2", "--stages", "load,build,train,evaluate", "--run-dir", tmp + "/straight",
       "--json", tmp + "/straight.json"});
  run({"run", config, "train.threads=2", "train.epochs=1", "--stages", "load,build,train,evaluate", "--run-dir",
       tmp + "/resumed"});
  run({"run", config, "train.threads=2", "--stages", "load,build,train,evaluate", "--resume", tmp + "/resumed",
       "--json", tmp + "/resumed.json"});
  std::regex loss("\"loss\": [-0-9.e+]+");
  auto losses = [&](const std::string& text) {
    std::string out;
    for (std::sregex_iterator it(text.begin(), text.end(), loss), end; it != end; ++it) out += it->str() + "\n";
    return out;
  };
  const std::string a = losses(Slurp(tmp + "/straight/metrics.jsonl"));
  CHECK(std::count(a.begin(), a.end(), '\n') == 2);
  CHECK(a == losses(Slurp(tmp + "/resumed/metrics.jsonl")));
  CHECK(Field(Slurp(tmp + "/straight.json"), "test_accuracy") == Field(Slurp(tmp + "/resumed.json"), "test_accuracy"));
  std::filesystem::remove_all(tmp);
}
