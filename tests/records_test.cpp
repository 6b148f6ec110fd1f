// The run records (records/run_records.h): each type's ToJson reads back to an
// equal record, and a file the pipeline wrote reads back and re-serializes to
// the same bytes.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "common/json_value.h"
#include "records/run_records.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline;
using namespace pipeline::records;
using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

template <typename T>
T RoundTrip(const T& in) {
  JsonValue v;
  REQUIRE(ParseJson(in.ToJson(), &v).ok());
  T out;
  REQUIRE(T::FromJson(v, &out).ok());
  return out;
}

EpochRecord Epoch(int64_t n) { return EpochRecord{n, 0.5 / n, 0.8 + 0.01 * n, 0.45 / n, 1.25, 0.1 / n}; }

TrialRecord Trial(const std::string& id, int64_t rank) {
  TrialRecord t;
  t.rank = rank;
  t.id = id;
  t.params = {{"optimizer.learning_rate", "0.01"}, {"optimizer.type", "sgd"}};
  t.status = "ok";
  t.validation_accuracy = 0.8512;
  t.test_accuracy = 0.8411;
  t.test_loss = 0.41;
  t.final_loss = 0.39;
  t.seconds_per_epoch = 1.5;
  t.epochs = 2;
  t.threads = 1;
  t.run_dir = "runs/s/" + id;
  return t;
}

}  // namespace

TEST_CASE("records: an epoch record round-trips with NaN as null") {
  EpochRecord e = Epoch(3);
  CHECK(e.ToJson() == "{\"epoch\": 3, \"loss\": 0.16666666666666666, \"validation_accuracy\": 0.8300000000000001, \"seconds\": 1.25, "
                      "\"learning_rate\": 0.03333333333333333, \"validation_loss\": 0.15}");
  CHECK(RoundTrip(e) == e);
  e.validation_accuracy = NAN;
  e.validation_loss = NAN;
  CHECK(e.ToJson().find("\"validation_accuracy\": null") != std::string::npos);
  CHECK(RoundTrip(e) == e);
  CHECK(!(RoundTrip(e) == Epoch(3)));
  // A CSV model's other validation scores: written after the others, only when finite.
  e.validation_rmse = 2.5;
  e.validation_r2 = 0.75;
  CHECK(e.ToJson().find("\"validation_loss\": null, \"validation_rmse\": 2.5, \"validation_r2\": 0.75}") !=
        std::string::npos);
  CHECK(RoundTrip(e) == e);
  e.validation_auc = 0.5;
  CHECK(!(RoundTrip(e) == Epoch(3)));
  CHECK(RoundTrip(e).validation_auc == 0.5);
}

TEST_CASE("records: a run summary round-trips when failed and when exported") {
  RunSummary s;
  s.name = "fashion_mnist";
  s.config = "configs/fashion_mnist.yaml";
  s.run_dir = "runs/x";
  s.status = "ok";
  s.seed = 1;
  s.threads = 2;
  s.parameters = 269322;
  s.test_accuracy = 0.85;
  s.test_loss = 0.42;
  s.epochs = {Epoch(1), Epoch(2)};
  s.validation_accuracy = s.epochs.back().validation_accuracy;
  s.final_loss = s.epochs.back().loss;
  s.train_examples_per_second = 40000;
  CHECK(RoundTrip(s) == s);
  CHECK(s.ToJson().find("\"export_dir\": null}\n") != std::string::npos);
  s.export_dir = "exports/fashion_mnist/3";
  s.export_version = 3;
  CHECK(RoundTrip(s) == s);
  s.status = "failed";
  s.error = "training diverged: \"nan\"\n";
  s.export_dir.reset();
  s.export_version = 0;
  CHECK(RoundTrip(s) == s);
  RunSummary other = s;
  other.error.reset();
  CHECK(!(RoundTrip(other) == s));
  // A CSV model's scores: written only when there are any.
  CHECK(s.ToJson().find("test_rmse") == std::string::npos);
  s.test_rmse = 2.5;
  s.test_r2 = 0.9;
  CHECK(s.ToJson().find("\"test_rmse\": 2.5") != std::string::npos);
  CHECK(RoundTrip(s) == s);
  other = s;
  other.test_r2 = 0.8;
  CHECK(!(RoundTrip(other) == s));
  // Early stopping / keep: best: written only when set.
  CHECK(s.ToJson().find("kept_epoch") == std::string::npos);
  s.stopped_epoch = 9;
  s.best_epoch = 7;
  s.kept_epoch = 7;
  CHECK(s.ToJson().find("\"stopped_epoch\": 9, \"best_epoch\": 7, \"kept_epoch\": 7") != std::string::npos);
  CHECK(RoundTrip(s) == s);
  other = s;
  other.kept_epoch = 9;
  CHECK(!(RoundTrip(other) == s));
}

TEST_CASE("records: sweep results round-trip with their trials") {
  SweepResults r;
  r.sweep = "small";
  r.base = "configs/fashion_mnist.yaml";
  r.objective = {"test_loss", false};
  r.scheduler = "asha";
  r.jobs = 2;
  r.threads_per_trial = 1;
  r.wall_seconds = 12.5;
  r.epochs_trained = 5;
  r.epochs_total = 6;
  r.epochs_full_grid = 8;
  r.best = "a";
  r.trials = {Trial("a", 1), Trial("b", 2)};
  r.trials[1].status = "failed";
  r.trials[1].error = "training diverged";
  r.trials[1].validation_accuracy = NAN;
  CHECK(RoundTrip(r.trials[0]) == r.trials[0]);
  CHECK(RoundTrip(r.trials[1]) == r.trials[1]);
  CHECK(RoundTrip(r) == r);
  r.best.reset();
  r.export_dir = "exports/fashion_mnist/1";
  CHECK(RoundTrip(r) == r);
  CHECK(r.ToJson().find("\"objective\": {\"metric\": \"test_loss\", \"mode\": \"min\"}") != std::string::npos);
}

TEST_CASE("records: the files a run and a sweep write read back to the same bytes") {
  const std::string tmp = TempDir("records");
  std::ofstream(tmp + "/s.yaml") << "base: " << PIPELINE_SOURCE_DIR << "/configs/fashion_mnist.yaml\n"
                                 << "overrides:\n  train.epochs: 2\n  dataset.train.count: 1000\n"
                                    "  dataset.validation.count: 500\n  dataset.test.count: 500\n"
                                 << "export: none\n"
                                 << "sets:\n  - {optimizer.learning_rate: 0.01}\n  - {optimizer.learning_rate: 1000}\n";
  auto run = RunPipeline({"sweep", "s.yaml", "--jobs", "1"}, tmp);
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 1);  // the second trial diverges: a failed summary too

  SweepResults results;
  const std::string results_path = tmp + "/runs/s/results.json";
  REQUIRE(ReadSweepResults(results_path, &results).ok());
  CHECK(results.ToJson() == Slurp(results_path));
  REQUIRE(results.trials.size() == 2);
  CHECK(results.trials[0].status == "ok");
  CHECK(results.trials[1].status == "failed");
  CHECK(results.objective.metric == "validation_accuracy");

  int summaries = 0;
  for (const auto& t : results.trials) {
    const std::string dir = t.run_dir.rfind("/", 0) == 0 ? t.run_dir : tmp + "/" + t.run_dir;
    RunSummary s;
    REQUIRE(ReadRunSummary(dir + "/summary.json", &s).ok());
    CHECK(s.ToJson() == Slurp(dir + "/summary.json"));
    CHECK(s.status == t.status);
    ++summaries;
    if (t.status != "ok") {
      CHECK(s.error.has_value());
      continue;
    }
    std::vector<EpochRecord> epochs;
    REQUIRE(ReadEpochRecords(dir + "/metrics.jsonl", &epochs).ok());
    REQUIRE(epochs.size() == 2);
    std::string lines;
    for (const auto& e : epochs) lines += e.ToJson() + "\n";
    CHECK(lines == Slurp(dir + "/metrics.jsonl"));
    CHECK(s.epochs == epochs);
    CHECK(s.validation_accuracy == t.validation_accuracy);
  }
  CHECK(summaries == 2);
}
