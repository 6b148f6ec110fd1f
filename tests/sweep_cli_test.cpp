// Sweeps end to end through the built binary, on a small Fashion-MNIST subset.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/support/run_pipeline.h"

using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

const std::string kBase = std::string(PIPELINE_SOURCE_DIR) + "/configs/fashion_mnist.yaml";
const std::string kSmall =
    "  train.epochs: 1\n"
    "  dataset.train.count: 2000\n"
    "  dataset.validation.count: 1000\n"
    "  dataset.test.count: 1000\n";

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("sweep: a small sweep runs trials in parallel and records a diverging one as failed") {
  const std::string tmp = TempDir("sweep-e2e");
  std::ofstream(tmp + "/small.yaml") << "base: " << kBase << "\n"
                                     << "overrides:\n" << kSmall
                                     << "sets:\n"
                                        "  - {optimizer.learning_rate: 0.01}\n"
                                        "  - {optimizer.learning_rate: 1000}\n"
                                        "  - {optimizer.learning_rate: 0.05}\n";
  auto r = RunPipeline({"sweep", "small.yaml", "--jobs", "2"}, tmp);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);  // one trial failed; the others completed
  CHECK(std::regex_search(r.out, std::regex("sweep small: 3 trials of .*, 2 at a time with [0-9]+ threads? each")));
  CHECK(Count(r.out, " start ") == 4);  // 3 trials and the export of the best
  CHECK(Count(r.out, " done ") == 3);
  CHECK(std::regex_search(r.out, std::regex("failed learning_rate-1000-[0-9a-f]{8}  training diverged: ")));
  CHECK(r.err.find("sweep small: 1 of 3 trials failed") != std::string::npos);

  const std::string dir = tmp + "/runs/small";
  const std::string csv = Slurp(dir + "/results.csv");
  CHECK(Count(csv, "\n") == 4);
  CHECK(std::regex_search(csv, std::regex("\n3,learning_rate-1000-[0-9a-f]{8},1000,,,,[^,]*,[0-9]+,failed,\"?training diverged")));
  CHECK(Count(csv, ",ok,") == 2);
  CHECK(Slurp(dir + "/results.md").find("| rank | trial | optimizer.learning_rate |") == 0);
  const std::string json = Slurp(dir + "/results.json");
  CHECK(json.find("\"sweep\": \"small\"") != std::string::npos);
  std::smatch best;
  REQUIRE(std::regex_search(json, best, std::regex("\"best\": \"([^\"]+)\"")));
  int run_dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_directory()) {
      ++run_dirs;
      CHECK(std::filesystem::exists(e.path() / "config.yaml"));
      CHECK(std::filesystem::exists(e.path() / "log.txt"));
      CHECK(std::regex_search(Slurp((e.path() / "config.yaml").string()), std::regex("threads: [1-9]")));  // cores / jobs
    }
  CHECK(run_dirs == 3);
  // The best trial's SavedModel is the first version under the base config's export.path.
  CHECK(std::filesystem::exists(tmp + "/exports/fashion_mnist/1/saved_model.pb"));
  CHECK(r.out.find("exported best trial " + best[1].str() + ": exports/fashion_mnist/1") != std::string::npos);

  // Again: the finished trials and the export are skipped, the failed one is retried.
  auto again = RunPipeline({"sweep", "small.yaml", "--jobs", "2"}, tmp);
  INFO(again.out << again.err);
  CHECK(again.exit_code == 1);
  CHECK(Count(again.out, " skip ") == 2);
  CHECK(Count(again.out, " start ") == 1);
  CHECK(again.out.find("best trial " + best[1].str() + " already exported") != std::string::npos);
  CHECK(!std::filesystem::exists(tmp + "/exports/fashion_mnist/2"));
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: an invalid trial config stops the sweep before anything runs") {
  const std::string tmp = TempDir("sweep-invalid");
  std::ofstream(tmp + "/bad.yaml") << "base: " << kBase << "\n"
                                   << "overrides:\n" << kSmall
                                   << "grid:\n"
                                      "  optimizer.learning_rate: [0.01, -0.5]\n";
  auto r = RunPipeline({"sweep", "bad.yaml"}, tmp);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:8:35: error: optimizer.learning_rate: ") != std::string::npos);
  CHECK(r.err.find("nothing was run") != std::string::npos);
  CHECK(!std::filesystem::exists(tmp + "/runs"));
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: run --multirun sweeps comma-separated values") {
  const std::string tmp = TempDir("sweep-multirun");
  auto r = RunPipeline({"run", kBase, "--multirun", "optimizer.learning_rate=0.01,0.05", "train.epochs=1",
                        "dataset.train.count=2000", "dataset.validation.count=1000", "dataset.test.count=1000"},
                       tmp);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(Count(r.out, " done ") == 3);  // 2 trials and the export
  CHECK(Count(Slurp(tmp + "/runs/fashion_mnist_multirun_learning_rate/results.csv"), "\n") == 3);
  CHECK(std::filesystem::exists(tmp + "/exports/fashion_mnist/1"));
  // TensorBoard's HParams tab: the experiment in the sweep dir, a session per trial.
  auto events_text = [](const std::string& dir) {
    std::string all;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) all += Slurp(e.path().string());
    return all;
  };
  const std::string sweep_dir = tmp + "/runs/fashion_mnist_multirun_learning_rate";
  CHECK(events_text(sweep_dir).find("_hparams_/experiment") != std::string::npos);
  CHECK(events_text(sweep_dir).find("optimizer.learning_rate") != std::string::npos);
  int sessions = 0;
  for (const auto& e : std::filesystem::directory_iterator(sweep_dir)) {
    if (!e.is_directory()) continue;
    const std::string text = events_text(e.path().string());
    if (text.find("_hparams_/session_start_info") == std::string::npos) continue;
    ++sessions;
    CHECK(text.find("_hparams_/session_end_info") != std::string::npos);
  }
  CHECK(sessions == 2);
  // Re-running the finished sweep trains nothing and adds no second experiment.
  auto again = RunPipeline({"run", kBase, "--multirun", "optimizer.learning_rate=0.01,0.05", "train.epochs=1",
                            "dataset.train.count=2000", "dataset.validation.count=1000", "dataset.test.count=1000"},
                           tmp);
  CHECK(again.exit_code == 0);
  int experiments = 0;
  for (const auto& e : std::filesystem::directory_iterator(sweep_dir))
    experiments += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  CHECK(experiments == 1);
  auto dry = RunPipeline({"run", kBase, "--multirun", "optimizer.learning_rate=0.01,0.05", "train.batch_size=50,100",
                          "--dry-run"},
                         tmp);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("4 trials") != std::string::npos);
  std::filesystem::remove_all(tmp);
}
