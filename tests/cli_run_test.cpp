// The CLI end to end, through the built binary, on the real Fashion-MNIST files.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "tests/support/run_pipeline.h"

using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

// The "loss" values of metrics.jsonl, as written (shortest round-trip text).
std::vector<std::string> Losses(const std::string& metrics_jsonl) {
  std::vector<std::string> out;
  std::regex re("\"loss\": ([^,]+),");
  for (auto it = std::sregex_iterator(metrics_jsonl.begin(), metrics_jsonl.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

double JsonNumber(const std::string& json, const std::string& key) {
  std::smatch m;
  REQUIRE(std::regex_search(json, m, std::regex("\"" + key + "\": ([-0-9.e+]+)")));
  return std::stod(m[1]);
}

}  // namespace

TEST_CASE("cli: one Fashion-MNIST epoch writes the run directory and the json summary") {
  const std::string tmp = TempDir("run");
  auto r = RunPipeline({"run", "configs/fashion_mnist.yaml", "train.epochs=1", "--stages", "load,build,train,evaluate",
                        "--run-dir", tmp + "/run", "--json", tmp + "/out.json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_search(r.out, std::regex("epoch: 0001   loss = [0-9]+\\.[0-9]{6}")));
  CHECK(std::regex_search(r.out, std::regex("accuracy=0\\.[0-9]{8}\n")));
  const std::string summary = Slurp(tmp + "/out.json");
  CHECK(JsonNumber(summary, "test_accuracy") > 0.5);
  CHECK(JsonNumber(summary, "test_loss") > 0.0);
  CHECK(JsonNumber(summary, "train_examples_per_second") > 0.0);  // speed itself is the bench's business
  CHECK(summary.find("\"epochs\": [{\"epoch\": 1, \"loss\": ") != std::string::npos);
  CHECK(summary.find("\"export_dir\": null") != std::string::npos);
  CHECK(Slurp(tmp + "/run/summary.json") == summary);
  CHECK(Losses(Slurp(tmp + "/run/metrics.jsonl")).size() == 1);
  // The resolved config is complete and loads back.
  const std::string resolved = Slurp(tmp + "/run/config.yaml");
  CHECK(resolved.find("epochs: 1") != std::string::npos);
  auto v = RunPipeline({"validate", tmp + "/run/config.yaml"});
  CHECK(v.exit_code == 0);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("cli: same config / seed and threads give bit-identical per-epoch losses") {
  const std::string tmp = TempDir("determinism");
  auto run = [&](const std::string& name, const std::string& seed) {
    auto r = RunPipeline({"run", "configs/fashion_mnist.yaml", "train.epochs=3", "dataset.train.count=6000",
                          "train.threads=2", "seed=" + seed, "--stages", "load,build,train", "--run-dir",
                          tmp + "/" + name});
    REQUIRE(r.exit_code == 0);
    return Losses(Slurp(tmp + "/" + name + "/metrics.jsonl"));
  };
  const auto a = run("a", "1"), b = run("b", "1"), c = run("c", "2");
  REQUIRE(a.size() == 3);
  CHECK(a == b);
  CHECK(a != c);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("cli: a config with three mistakes reports all three and exits 2") {
  auto r = RunPipeline({"run", "tests/data/configs/three_mistakes.yaml"});
  CHECK(r.exit_code == 2);
  INFO(r.err);
  CHECK(std::regex_search(r.err, std::regex("three_mistakes.yaml:[0-9]+:[0-9]+: error: train.epoch: unknown key 'epoch' \\(did you mean 'epochs'\\?\\)")));
  CHECK(std::regex_search(r.err, std::regex("three_mistakes.yaml:[0-9]+:[0-9]+: error: train.batch_size: expected an integer")));
  CHECK(std::regex_search(r.err, std::regex("three_mistakes.yaml:[0-9]+:[0-9]+: error: model.layers\\[?.?0?\\]?.*activation.*rleu.*did you mean 'relu'")));
}

TEST_CASE("cli: a stage whose input no earlier stage provides is a config error") {
  auto r = RunPipeline({"run", "configs/fashion_mnist.yaml", "--stages", "build,train"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("stage 'train' needs the dataset, which stage 'load' provides") != std::string::npos);
  auto u = RunPipeline({"run", "configs/fashion_mnist.yaml", "--stages", "load,trian"});
  CHECK(u.exit_code == 2);
  CHECK(u.err.find("train") != std::string::npos);
}

TEST_CASE("cli: validate prints the resolved config / parameters and FLOPs") {
  auto r = RunPipeline({"validate", "configs/fashion_mnist.yaml", "train.epochs=7"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("epochs: 7") != std::string::npos);
  CHECK(r.out.find("# parameters: 269322") != std::string::npos);
  CHECK(r.out.find("# training FLOPs per example: 1211392") != std::string::npos);
  auto bad = RunPipeline({"validate", "configs/fashion_mnist.yaml", "train.epoch=7"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("did you mean 'epochs'") != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2 / help exits 0") {
  CHECK(RunPipeline({}).exit_code == 2);
  CHECK(RunPipeline({"--help"}).exit_code == 0);
  auto r = RunPipeline({"run", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--json FILE") != std::string::npos);
  auto typo = RunPipeline({"rnu", "configs/fashion_mnist.yaml"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean 'run'") != std::string::npos);
  CHECK(RunPipeline({"run", "configs/fashion_mnist.yaml", "--jsno", "x"}).exit_code == 2);
  CHECK(RunPipeline({"run"}).exit_code == 2);
}

TEST_CASE("cli: missing data is a runtime error that says what to put where") {
  const std::string tmp = TempDir("nodata");
  auto r = RunPipeline({"run", "configs/mnist.yaml", "dataset.path=" + tmp, "dataset.download=false", "--run-dir",
                        tmp + "/run"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("train-images-idx3-ubyte.gz") != std::string::npos);
  CHECK(r.err.find(tmp) != std::string::npos);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("cli: the real MNIST test set split 8000/2000 trains and evaluates") {
  const std::string tmp = TempDir("mnist-split");
  auto r = RunPipeline({"run", "configs/mnist_test_split.yaml", "train.epochs=2", "--stages",
                        "load,build,train,evaluate", "--run-dir", tmp + "/run", "--json", tmp + "/out.json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string summary = Slurp(tmp + "/out.json");
  CHECK(JsonNumber(summary, "test_accuracy") > 0.5);
  CHECK(summary.find("\"validation_accuracy\": null") != std::string::npos);
  std::filesystem::remove_all(tmp);
}
