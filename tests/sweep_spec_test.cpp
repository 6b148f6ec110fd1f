// Sweep files: parsing, expansion (grid, sets, random), trial ids, validation errors.
#include <algorithm>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "sweep/sweep.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline::sweep;
using pipeline::Status;

namespace {

const std::string kBase = std::string(PIPELINE_SOURCE_DIR) + "/configs/fashion_mnist.yaml";

std::string WriteSweep(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> Texts(const Trial& t) {
  std::vector<std::string> out;
  for (const auto& p : t.params) out.push_back(p.Text());
  return out;
}

}  // namespace

TEST_CASE("sweep: grid expands to the product with the first key slowest") {
  const std::string tmp = pipeline::test::TempDir("sweep-grid");
  const std::string path = WriteSweep(tmp, "g.yaml",
                                      "base: " + kBase + "\n"
                                      "overrides: {train.epochs: 2}\n"
                                      "grid:\n"
                                      "  optimizer.learning_rate: [0.01, 0.05, 0.1]\n"
                                      "  train.batch_size: [50, 100]\n");
  SweepSpec spec;
  Status st = LoadSweepFile(path, &spec);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(spec.name == "g");
  CHECK(spec.base == kBase);
  CHECK(spec.export_policy == "best");
  CHECK(spec.objective.metric == "validation_accuracy");
  CHECK(spec.objective.maximize);
  std::vector<Trial> trials;
  REQUIRE(ExpandTrials(spec, &trials).ok());
  REQUIRE(trials.size() == 6);
  const std::vector<std::vector<std::string>> expected = {
      {"optimizer.learning_rate=0.01", "train.batch_size=50"}, {"optimizer.learning_rate=0.01", "train.batch_size=100"},
      {"optimizer.learning_rate=0.05", "train.batch_size=50"}, {"optimizer.learning_rate=0.05", "train.batch_size=100"},
      {"optimizer.learning_rate=0.1", "train.batch_size=50"},  {"optimizer.learning_rate=0.1", "train.batch_size=100"}};
  for (size_t i = 0; i < 6; ++i) CHECK(Texts(trials[i]) == expected[i]);
  // FNV-1a of "train.epochs=2\n--\noptimizer.learning_rate=0.01\ntrain.batch_size=50\n", low 32 bits.
  CHECK(trials[0].id == "learning_rate-0.01_batch_size-50-e0a1bae2");
  REQUIRE(ValidateTrials(spec, &trials).ok());
  CHECK(trials[0].epochs == 2);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: trial ids are stable and depend on every override") {
  const Param lr{"optimizer.learning_rate", "0.01", {}, {}}, bs{"train.batch_size", "50", {}, {}};
  const Param epochs{"train.epochs", "2", {}, {}};
  CHECK(TrialId({epochs}, {lr, bs}) == "learning_rate-0.01_batch_size-50-e0a1bae2");
  CHECK(TrialId({epochs}, {lr, bs}) == TrialId({epochs}, {lr, bs}));
  CHECK(TrialId({}, {}) == "base-de1b00ff");  // FNV-1a of "--\n"
  // The global overrides are part of the hash, not of the readable part.
  const std::string other = TrialId({{"train.epochs", "3", {}, {}}}, {lr, bs});
  CHECK(other.rfind("learning_rate-0.01_batch_size-50-", 0) == 0);
  CHECK(other != TrialId({epochs}, {lr, bs}));
  // Long and odd values stay short and file-name safe.
  const std::string id = TrialId({}, {{"model.layers", "[{units: 10}, {units: 20}, {units: 30}, {units: 40}]", {}, {}}});
  CHECK(std::regex_match(id, std::regex("[A-Za-z0-9._+-]{1,48}-[0-9a-f]{8}")));
}

TEST_CASE("sweep: sets give one trial each and multiply the grid") {
  const std::string tmp = pipeline::test::TempDir("sweep-sets");
  const std::string path = WriteSweep(tmp, "s.yaml",
                                      "base: " + kBase + "\n"
                                      "grid: {train.batch_size: [50, 100]}\n"
                                      "sets:\n"
                                      "  - {optimizer.type: sgd}\n"
                                      "  - {optimizer.type: adam, optimizer.learning_rate: 0.001}\n");
  SweepSpec spec;
  REQUIRE(LoadSweepFile(path, &spec).ok());
  std::vector<Trial> trials;
  REQUIRE(ExpandTrials(spec, &trials).ok());
  REQUIRE(trials.size() == 4);
  CHECK(Texts(trials[0]) == std::vector<std::string>{"train.batch_size=50", "optimizer.type=sgd"});
  CHECK(Texts(trials[1]) == std::vector<std::string>{"train.batch_size=50", "optimizer.type=adam", "optimizer.learning_rate=0.001"});
  CHECK(Texts(trials[3]) == std::vector<std::string>{"train.batch_size=100", "optimizer.type=adam", "optimizer.learning_rate=0.001"});
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: random samples are drawn deterministically from the seed") {
  const std::string tmp = pipeline::test::TempDir("sweep-random");
  const std::string path = WriteSweep(tmp, "r.yaml",
                                      "base: " + kBase + "\n"
                                      "random:\n"
                                      "  samples: 3\n"
                                      "  seed: 0\n"
                                      "  params:\n"
                                      "    optimizer.learning_rate: {loguniform: [0.001, 0.1]}\n"
                                      "    train.batch_size: {choice: [50, 100, 200]}\n"
                                      "    model.layers.0.units: {int: [64, 128]}\n"
                                      "    optimizer.momentum: {uniform: [0.8, 0.9]}\n");
  SweepSpec spec;
  Status st = LoadSweepFile(path, &spec);
  REQUIRE_MESSAGE(st.ok(), st.message());
  std::vector<Trial> trials;
  REQUIRE(ExpandTrials(spec, &trials).ok());
  REQUIRE(trials.size() == 3);
  // splitmix64 from seed 0 (first output 0xe220a8397b1dcdaf); u = (x >> 11) / 2^53, one draw per key in order:
  // loguniform exp(ln lo + u (ln hi - ln lo)), choice floor(u n), int lo + floor(u (hi - lo + 1)), uniform lo + u (hi - lo).
  CHECK(Texts(trials[0]) == std::vector<std::string>{"optimizer.learning_rate=0.05843", "train.batch_size=100",
                                                      "model.layers.0.units=65", "optimizer.momentum=0.8971"});
  CHECK(Texts(trials[1]) == std::vector<std::string>{"optimizer.learning_rate=0.001632", "train.batch_size=50",
                                                      "model.layers.0.units=75", "optimizer.momentum=0.8772"});
  CHECK(Texts(trials[2]) == std::vector<std::string>{"optimizer.learning_rate=0.0031", "train.batch_size=200",
                                                      "model.layers.0.units=89", "optimizer.momentum=0.8761"});
  std::vector<Trial> again;
  REQUIRE(ExpandTrials(spec, &again).ok());
  for (size_t i = 0; i < 3; ++i) CHECK(again[i].id == trials[i].id);
  REQUIRE(ValidateTrials(spec, &trials).ok());
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: rung epochs double up to max_epochs") {
  Scheduler s;
  s.type = "asha";
  s.min_epochs = 1;
  s.max_epochs = 8;
  s.reduction_factor = 2;
  CHECK(RungEpochs(s) == std::vector<int64_t>{1, 2, 4, 8});
  s.max_epochs = 6;
  s.reduction_factor = 3;
  CHECK(RungEpochs(s) == std::vector<int64_t>{1, 3, 6});
  s.type = "none";
  CHECK(RungEpochs(s).empty());
}

TEST_CASE("sweep: a bad trial value is reported at the sweep file's line and column") {
  const std::string tmp = pipeline::test::TempDir("sweep-bad");
  const std::string path = WriteSweep(tmp, "bad.yaml",
                                      "base: " + kBase + "\n"
                                      "overrides:\n"
                                      "  train.epochz: 2\n"
                                      "grid:\n"
                                      "  optimizer.learning_rate: [0.01, -1]\n"
                                      "  train.batch_size: [50, 0]\n");
  SweepSpec spec;
  REQUIRE(LoadSweepFile(path, &spec).ok());
  std::vector<Trial> trials;
  REQUIRE(ExpandTrials(spec, &trials).ok());
  Status st = ValidateTrials(spec, &trials);
  REQUIRE(st.IsInvalidArgument());
  const std::string& m = st.message();
  INFO(m);
  CHECK(m.find(path + ":3:3: error: train.epochz: unknown key 'epochz' (did you mean 'epochs'?)") != std::string::npos);
  CHECK(m.find(path + ":5:35: error: optimizer.learning_rate: ") != std::string::npos);
  CHECK(m.find(path + ":6:26: error: train.batch_size: must be >= 1") != std::string::npos);
  CHECK(m.find("nothing was run") != std::string::npos);
  // Each problem once, though it appears in several trials.
  CHECK(m.find(path + ":5:35:") == m.rfind(path + ":5:35:"));
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: the sweep file itself is strict with did-you-mean") {
  const std::string tmp = pipeline::test::TempDir("sweep-strict");
  const std::string path = WriteSweep(tmp, "strict.yaml",
                                      "base: " + kBase + "\n"
                                      "gird:\n"
                                      "  train.epochs: [1]\n"
                                      "objective: {metric: validation_acc}\n"
                                      "random: {samples: 2, sed: 1, params: {optimizer.learning_rate: {logunifrom: [0.1, 1]}}}\n"
                                      "scheduler: {type: asha, min_epochs: 4, max_epochs: 2}\n"
                                      "export: bset\n");
  SweepSpec spec;
  Status st = LoadSweepFile(path, &spec);
  REQUIRE(st.IsInvalidArgument());
  const std::string& m = st.message();
  INFO(m);
  CHECK(m.find(path + ":2:1: error: gird: unknown key 'gird' (did you mean 'grid'?)") != std::string::npos);
  CHECK(m.find(path + ":4:21: error: objective.metric: unknown value 'validation_acc' (did you mean 'validation_accuracy'?") !=
        std::string::npos);
  CHECK(m.find(path + ":5:22: error: random.sed: unknown key 'sed' (did you mean 'seed'?)") != std::string::npos);
  CHECK(m.find("unknown key 'logunifrom' (did you mean 'loguniform'?)") != std::string::npos);
  CHECK(m.find(path + ":6:37: error: scheduler.min_epochs: must not exceed max_epochs (2), got 4") != std::string::npos);
  CHECK(m.find(path + ":7:9: error: export: unknown value 'bset' (did you mean 'best'?") != std::string::npos);

  const std::string nobase = WriteSweep(tmp, "nobase.yaml", "grid: {train.epochs: [1, 2]}\n");
  st = LoadSweepFile(nobase, &spec);
  CHECK(st.message().find("missing required key 'base'") != std::string::npos);
  const std::string twice = WriteSweep(tmp, "twice.yaml",
                                       "base: " + kBase + "\n"
                                       "grid: {train.epochs: [1, 2]}\n"
                                       "sets: [{train.epochs: 3}]\n");
  st = LoadSweepFile(twice, &spec);
  CHECK(st.message().find(twice + ":3:9: error: sets.train.epochs: 'train.epochs' is swept more than once") != std::string::npos);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("sweep: numbers in a sweep file follow the config's scalar rules") {
  // strtod, which the sweep reader once called, took the hex float 0x1p-3 as
  // 0.125; the config's reader refuses it, and words out-of-range and
  // non-finite values the same way in both files.
  const std::string tmp = pipeline::test::TempDir("sweep-scalars");
  const std::string path = WriteSweep(tmp, "scalars.yaml",
                                      "base: " + kBase + "\n"
                                      "random:\n"
                                      "  samples: 99999999999999999999\n"
                                      "  params:\n"
                                      "    optimizer.learning_rate: {uniform: [0x1p-3, 1]}\n"
                                      "    optimizer.momentum: {uniform: [0.1, .inf]}\n"
                                      "    train.batch_size: {int: [0x10, 64]}\n"
                                      "jobs: 2\n"
                                      "jobs: 3\n");
  SweepSpec spec;
  const Status st = LoadSweepFile(path, &spec);
  REQUIRE(st.IsInvalidArgument());
  const std::string& m = st.message();
  INFO(m);
  CHECK(m.find(path + ":3:12: error: random.samples: '99999999999999999999' is out of range for a 64-bit integer") !=
        std::string::npos);
  CHECK(m.find(path + ":5:41: error: random.params.optimizer.learning_rate: expected a number, got '0x1p-3'") !=
        std::string::npos);
  CHECK(m.find(path + ":6:41: error: random.params.optimizer.momentum: must be a finite number, got '.inf'") !=
        std::string::npos);
  CHECK(m.find(path + ":7:30: error: random.params.train.batch_size: expected an integer, got '0x10'") != std::string::npos);
  CHECK(m.find(path + ":9:1: error: jobs: duplicate key 'jobs' (first given at line 8)") != std::string::npos);
  CHECK(std::count(m.begin(), m.end(), '\n') == 4);  // five errors, nothing else
}

TEST_CASE("sweep: multirun arguments split at top-level commas into grid axes") {
  CHECK(SplitTopLevelCommas("0.01,0.1") == std::vector<std::string>{"0.01", "0.1"});
  CHECK(SplitTopLevelCommas("[1, 2],{a: 1, b: 2},'x,y'") == std::vector<std::string>{"[1, 2]", "{a: 1, b: 2}", "'x,y'"});
  SweepSpec spec;
  REQUIRE(MultirunSpec(kBase, {"optimizer.learning_rate=0.01,0.1", "train.epochs=1", "train.batch_size=50,100"}, &spec).ok());
  CHECK(spec.name == "fashion_mnist_multirun_learning_rate_batch_size");
  REQUIRE(spec.overrides.size() == 1);
  CHECK(spec.overrides[0].Text() == "train.epochs=1");
  std::vector<Trial> trials;
  REQUIRE(ExpandTrials(spec, &trials).ok());
  CHECK(trials.size() == 4);
  CHECK(ValidateTrials(spec, &trials).ok());
}

TEST_CASE("sweep: every sweep file in configs/sweeps loads and validates") {
  std::map<std::string, size_t> expected = {
      {"fashion_lr.yaml", 6}, {"fashion_diverge.yaml", 3}, {"fashion_asha.yaml", 8}, {"fashion_random_full.yaml", 8}};
  std::map<std::string, std::vector<Trial>> loaded;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PIPELINE_SOURCE_DIR) + "/configs/sweeps")) {
    const std::string name = e.path().filename().string();
    INFO(name);
    REQUIRE(expected.count(name) == 1);  // a new sweep file needs an entry here
    SweepSpec spec;
    Status st = LoadSweepFile(e.path().string(), &spec);
    REQUIRE_MESSAGE(st.ok(), st.message());
    std::vector<Trial> trials;
    REQUIRE(ExpandTrials(spec, &trials).ok());
    CHECK(trials.size() == expected[name]);
    st = ValidateTrials(spec, &trials);
    CHECK_MESSAGE(st.ok(), st.message());
    loaded[name] = trials;
  }
  CHECK(loaded.size() == expected.size());
  // The ASHA sweep and its full-length reference sample the same configurations.
  REQUIRE(loaded["fashion_asha.yaml"].size() == loaded["fashion_random_full.yaml"].size());
  for (size_t i = 0; i < loaded["fashion_asha.yaml"].size(); ++i)
    CHECK(Texts(loaded["fashion_asha.yaml"][i]) == Texts(loaded["fashion_random_full.yaml"][i]));
}
