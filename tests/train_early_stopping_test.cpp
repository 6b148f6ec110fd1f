// Issue 14: train.early_stopping (Keras' EarlyStopping) and train.keep: best,
// their checkpointed state, their reports and their config errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "common/logger.h"
#include "config/loader.h"
#include "records/run_records.h"
#include "stages/checkpoint.h"
#include "stages/early_stopping.h"
#include "stages/events.h"
#include "tests/support/run_pipeline.h"

namespace fs = std::filesystem;
using namespace pipeline;
using pipeline::test::CommandResult;
using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

// The per-epoch validation losses `values` through the tracker, without a
// model (keep: last copies nothing): the epoch after which training stops
// (0: it never does) and the best epoch.
std::pair<int64_t, int64_t> Track(const std::vector<double>& values, const std::string& monitor, int64_t patience,
                                  double min_delta) {
  Context ctx;
  ctx.config.train.early_stopping = {patience, monitor, min_delta};
  for (size_t i = 0; i < values.size(); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(i) + 1;
    const std::map<std::string, double*> field = {{"validation_loss", &m.validation_loss},
                                                  {"validation_accuracy", &m.validation_accuracy},
                                                  {"validation_auc", &m.validation_auc},
                                                  {"validation_rmse", &m.validation_rmse},
                                                  {"validation_r2", &m.validation_r2}};
    *field.at(monitor) = values[i];
    UpdateBestEpoch(ctx, m);
    if (EarlyStopDue(ctx.config.train, ctx.best)) return {m.epoch, ctx.best.epoch};
  }
  return {0, ctx.best.epoch};
}

// A Fashion-MNIST MLP with batch_norm (so keep: best must restore model state
// too) on 300 examples: its validation loss falls for ~20 epochs, then wanders.
std::vector<std::string> Args(const std::string& run_dir, int epochs, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {
      "run", "configs/fashion_mnist.yaml", "train.epochs=" + std::to_string(epochs), "dataset.train.count=300",
      "dataset.validation.count=300", "dataset.test.count=500", "train.threads=1", "optimizer.type=momentum",
      "optimizer.learning_rate=0.05",
      "model.layers=[{type: dense, units: 32, kernel_initializer: {type: glorot_uniform}}, {type: batch_norm}, "
      "{type: dense, units: 10, kernel_initializer: {type: glorot_uniform}}]",
      "export.path=" + run_dir + "/export", "--run-dir", run_dir, "--stages", "load,build,train,evaluate,export"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

records::RunSummary Summary(const std::string& run_dir) {
  records::RunSummary s;
  Status st = records::ReadRunSummary(run_dir + "/summary.json", &s);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return s;
}

std::vector<records::EpochRecord> Epochs(const std::string& run_dir) {
  std::vector<records::EpochRecord> e;
  Status st = records::ReadEpochRecords(run_dir + "/metrics.jsonl", &e);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return e;
}

// Keras' rule written out on the logged losses: the epoch after which
// training stops and the best epoch.
std::pair<int64_t, int64_t> ExpectedStop(const std::vector<records::EpochRecord>& epochs, int64_t patience,
                                         double min_delta) {
  double best = INFINITY;
  int64_t best_epoch = 0, wait = 0;
  for (const auto& e : epochs) {
    if (e.validation_loss < best - min_delta) {
      best = e.validation_loss;
      best_epoch = e.epoch;
      wait = 0;
    } else if (++wait >= patience) {
      return {e.epoch, best_epoch};
    }
  }
  return {0, best_epoch};
}

// The same on any logged score, rising (`higher`) or falling.
std::pair<int64_t, int64_t> ExpectedStopOn(const std::vector<double>& curve, bool higher, int64_t patience) {
  double best = higher ? -INFINITY : INFINITY;
  int64_t best_epoch = 0, wait = 0;
  for (size_t i = 0; i < curve.size(); ++i) {
    if (higher ? curve[i] > best : curve[i] < best) {
      best = curve[i];
      best_epoch = static_cast<int64_t>(i) + 1;
      wait = 0;
    } else if (++wait >= patience) {
      return {static_cast<int64_t>(i) + 1, best_epoch};
    }
  }
  return {0, best_epoch};
}

std::string Variables(const std::string& run_dir) {
  return Slurp(run_dir + "/export/1/variables/variables.data-00000-of-00001");
}

}  // namespace

TEST_CASE("early stopping: hand-computed stops - min_delta and the monitor's direction") {
  // Losses: best 1.0, 0.9 (2), 0.85 (4); 0.849 beats 0.85 by less than 0.01.
  const std::vector<double> loss = {1.0, 0.9, 0.95, 0.85, 0.86, 0.849, 0.9, 0.95};
  CHECK(Track(loss, "validation_loss", 2, 0.01) == std::pair<int64_t, int64_t>{6, 4});
  CHECK(Track(loss, "validation_loss", 2, 0.0) == std::pair<int64_t, int64_t>{8, 6});
  CHECK(Track(loss, "validation_loss", 3, 0.0) == std::pair<int64_t, int64_t>{0, 6});
  CHECK(Track(loss, "validation_loss", 1, 0.0) == std::pair<int64_t, int64_t>{3, 2});
  // An accuracy must rise: the same numbers, read the other way up.
  CHECK(Track(loss, "validation_accuracy", 2, 0.0) == std::pair<int64_t, int64_t>{3, 1});
  CHECK(Track({0.5, 0.7, 0.7, 0.71, 0.6}, "validation_accuracy", 2, 0.02) == std::pair<int64_t, int64_t>{4, 2});
  // AUC and R^2 rise like an accuracy; an RMSE falls like a loss.
  CHECK(Track(loss, "validation_auc", 2, 0.0) == std::pair<int64_t, int64_t>{3, 1});
  CHECK(Track(loss, "validation_r2", 1, 0.0) == std::pair<int64_t, int64_t>{2, 1});
  CHECK(Track(loss, "validation_rmse", 2, 0.01) == std::pair<int64_t, int64_t>{6, 4});
  // A tie is no improvement; a NaN never is, and never becomes the best.
  CHECK(Track({0.5, 0.5, 0.5}, "validation_loss", 2, 0.0) == std::pair<int64_t, int64_t>{3, 1});
  CHECK(Track({NAN, 2.0, NAN, NAN}, "validation_loss", 2, 0.0) == std::pair<int64_t, int64_t>{4, 2});
  // patience 0 is off.
  CHECK(Track({1.0, 2.0, 3.0, 4.0}, "validation_loss", 0, 0.0) == std::pair<int64_t, int64_t>{0, 1});
}

TEST_CASE("early stopping: a run stops after patience epochs without improvement - its epochs are the full run's") {
  const std::string tmp = TempDir("early-stop");
  const CommandResult full = RunPipeline(Args(tmp + "/full", 40));
  INFO(full.err);
  REQUIRE(full.exit_code == 0);
  const auto curve = Epochs(tmp + "/full");
  REQUIRE(curve.size() == 40);
  CHECK(Summary(tmp + "/full").stopped_epoch == 0);  // off by default: no report
  CHECK(Summary(tmp + "/full").kept_epoch == 0);
  int64_t stops[2] = {0, 0};
  int k = 0;
  for (const double min_delta : {0.0, 0.05}) {
    CAPTURE(min_delta);
    const auto [stop, best] = ExpectedStop(curve, 2, min_delta);
    REQUIRE_MESSAGE(stop > 0, "the curve must stop improving for this test to mean anything");
    stops[k] = stop;
    const std::string run = tmp + "/stop" + std::to_string(k++);
    const CommandResult r = RunPipeline(
        Args(run, 40, {"train.early_stopping.patience=2", "train.early_stopping.min_delta=" + fmt::format("{}", min_delta)}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto epochs = Epochs(run);
    REQUIRE(static_cast<int64_t>(epochs.size()) == stop);
    for (size_t i = 0; i < epochs.size(); ++i) CHECK(epochs[i].validation_loss == curve[i].validation_loss);
    const records::RunSummary s = Summary(run);
    CHECK(s.stopped_epoch == stop);
    CHECK(s.best_epoch == best);
    CHECK(s.kept_epoch == stop);  // keep: last
    CHECK(r.out.find(fmt::format("stopped after epoch {} of 40", stop)) != std::string::npos);
    // TensorBoard's train/ run: the three epochs at the last epoch's step.
    std::vector<events::Scalar> scalars;
    REQUIRE(events::ReadScalars(run + "/train", &scalars).ok());
    int found = 0;
    for (const auto& sc : scalars) {
      if (sc.tag == "stopped_epoch") found += sc.step == stop && sc.value == stop;
      if (sc.tag == "best_epoch") found += sc.step == stop && sc.value == best;
      if (sc.tag == "kept_epoch") found += sc.step == stop && sc.value == stop;
    }
    CHECK(found == 3);
  }
  CHECK(stops[0] != stops[1]);  // min_delta changed where it stopped
  fs::remove_all(tmp);
}

TEST_CASE("early stopping: CSV models stop on validation_auc and validation_r2 - logged every epoch") {
  const std::string tmp = TempDir("es-csv");
  struct Case {
    const char* config;
    const char* monitor;
    bool higher;
  };
  for (const Case& c : {Case{"configs/tabular_classify.yaml", "validation_auc", true},
                        Case{"configs/tabular_regress.yaml", "validation_r2", true},
                        Case{"configs/tabular_regress.yaml", "validation_rmse", false}}) {
    CAPTURE(c.monitor);
    const std::string run = tmp + "/" + c.monitor;
    const CommandResult r = RunPipeline({"run", c.config, "train.early_stopping.patience=2",
                                         std::string("train.early_stopping.monitor=") + c.monitor, "train.keep=best",
                                         "train.threads=1", "--stages", "load,build,train,evaluate", "--run-dir", run});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<double> curve;
    for (const auto& e : Epochs(run)) {
      const double value = std::string(c.monitor) == "validation_auc"  ? e.validation_auc
                           : std::string(c.monitor) == "validation_r2" ? e.validation_r2
                                                                       : e.validation_rmse;
      CHECK(std::isfinite(value));
      curve.push_back(value);
    }
    const auto [stop, best] = ExpectedStopOn(curve, c.higher, 2);
    const records::RunSummary s = Summary(run);
    CHECK(stop == static_cast<int64_t>(curve.size()));
    CHECK(s.stopped_epoch == stop);
    CHECK(s.best_epoch == best);
    CHECK(s.kept_epoch == best);
    // TensorBoard's validation/ run has the score too.
    std::vector<events::Scalar> scalars;
    REQUIRE(events::ReadScalars(run + "/validation", &scalars).ok());
    const std::string tag = std::string("epoch_") + (c.monitor + std::string("validation_").size());
    int64_t points = 0;
    for (const auto& sc : scalars)
      if (sc.tag == tag) points += sc.value == static_cast<float>(curve[sc.step - 1]);
    CHECK(points == static_cast<int64_t>(curve.size()));
  }
  fs::remove_all(tmp);
}

TEST_CASE("early stopping: keep: best exports the best epoch's weights bit for bit - resume keeps the state") {
  const std::string tmp = TempDir("keep-best");
  const std::vector<std::string> es = {"train.early_stopping.patience=2", "train.keep=best"};
  const CommandResult r = RunPipeline(Args(tmp + "/best", 40, es));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const records::RunSummary s = Summary(tmp + "/best");
  REQUIRE(s.stopped_epoch > 0);
  REQUIRE(s.best_epoch < s.stopped_epoch);
  CHECK(s.kept_epoch == s.best_epoch);
  // summary.json's validation_accuracy (a sweep's objective) is the kept model's.
  CHECK(s.validation_accuracy == s.epochs[s.best_epoch - 1].validation_accuracy);
  CHECK(r.out.find(fmt::format("keeping epoch {}'s weights (train.keep: best)", s.best_epoch)) != std::string::npos);
  // The run that ends at the best epoch: the same weights, batch_norm's moving
  // statistics included, and so the same test scores.
  const CommandResult at = RunPipeline(Args(tmp + "/at", static_cast<int>(s.best_epoch)));
  REQUIRE(at.exit_code == 0);
  const std::string best_vars = Variables(tmp + "/best"), at_vars = Variables(tmp + "/at");
  REQUIRE(!best_vars.empty());
  CHECK(best_vars == at_vars);
  CHECK(s.test_loss == Summary(tmp + "/at").test_loss);
  // And not the last epoch's: keep: last exports other bytes.
  const CommandResult last = RunPipeline(Args(tmp + "/last", 40, {"train.early_stopping.patience=2"}));
  REQUIRE(last.exit_code == 0);
  CHECK(Variables(tmp + "/last") != best_vars);

  // Resumed after the best epoch (its weights and the wait only in the
  // checkpoint), the run stops and keeps as the uninterrupted one.
  const std::string part = tmp + "/part";
  const int first = static_cast<int>(s.best_epoch) + 1;
  REQUIRE(RunPipeline(Args(part, first, es)).exit_code == 0);
  Checkpoint ck;
  REQUIRE(ReadCheckpoint(part, &ck).ok());
  CHECK(ck.best_epoch == s.best_epoch);
  CHECK(ck.best_wait == 1);
  CHECK(ck.best_weights.size() == ck.params.size());
  const CommandResult resumed = RunPipeline(Args(part, 40, {"train.early_stopping.patience=2", "train.keep=best",
                                                             "--resume", part}));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const records::RunSummary rs = Summary(part);
  CHECK(rs.stopped_epoch == s.stopped_epoch);
  CHECK(rs.kept_epoch == s.kept_epoch);
  CHECK(rs.epochs.size() == s.epochs.size());
  for (size_t i = 0; i < rs.epochs.size() && i < s.epochs.size(); ++i) CHECK(rs.epochs[i].loss == s.epochs[i].loss);
  CHECK(rs.test_loss == s.test_loss);
  // The export of the resumed run is version 2 of its path (the first part exported 1).
  CHECK(Slurp(part + "/export/2/variables/variables.data-00000-of-00001") == best_vars);
  // A run that stopped early, extended, stops again at once.
  const CommandResult again = RunPipeline(Args(part, 50, {"train.early_stopping.patience=2", "train.keep=best",
                                                           "--resume", part}));
  REQUIRE(again.exit_code == 0);
  CHECK(Epochs(part).size() == s.epochs.size());
  CHECK(Slurp(part + "/export/3/variables/variables.data-00000-of-00001") == best_vars);
  fs::remove_all(tmp);
}

TEST_CASE("early stopping: config errors name the key with what to do") {
  const std::string dir = TempDir("es-config");
  auto load = [&](const std::string& train, const std::string& extra = "") {
    const std::string path = dir + "/c.yaml";
    std::ofstream(path) << "dataset:\n  name: fashion_mnist\n" << extra << "train:\n" << train
                        << "model:\n  layers: [{type: dense, units: 10}]\n";
    PipelineConfig c;
    Status st = LoadConfig(path, {}, &c);
    if (!st.ok()) CHECK(st.IsInvalidArgument());
    return st.ok() ? std::string() : st.message();
  };
  CHECK(load("  early_stopping: {patience: 3, monitor: validation_loss, min_delta: 0.01}\n  keep: best\n").empty());
  const std::string monitor = load("  early_stopping:\n    patience: 3\n    monitor: validation_acuracy\n");
  CHECK(monitor.find("c.yaml:6:14: error: train.early_stopping.monitor: unknown monitor 'validation_acuracy' (did "
                     "you mean 'validation_accuracy'? allowed: validation_loss, validation_accuracy, validation_auc, "
                     "validation_rmse, validation_r2)") != std::string::npos);
  const std::string patience = load("  early_stopping:\n    patience: -1\n");
  CHECK(patience.find("c.yaml:5:15: error: train.early_stopping.patience: ") != std::string::npos);
  CHECK(patience.find(">= 0") != std::string::npos);
  const std::string delta = load("  early_stopping: {patience: 2, min_delta: -0.1}\n");
  CHECK(delta.find("train.early_stopping.min_delta: ") != std::string::npos);
  // A score the loss does not produce.
  CHECK(load("  early_stopping: {patience: 2, monitor: validation_rmse}\n")
            .find("train.early_stopping.monitor: validation_rmse scores regressed numbers, and loss "
                  "softmax_cross_entropy classifies; monitor validation_loss, validation_accuracy") != std::string::npos);
  CHECK(load("  early_stopping: {patience: 2, monitor: validation_auc}\n")
            .find("train.early_stopping.monitor: validation_auc scores two classes, and dataset.num_classes is 10") !=
        std::string::npos);
  const std::string keep = load("  keep: first\n");
  CHECK(keep.find("c.yaml:4:9: error: train.keep: unknown keep policy 'first'") != std::string::npos);
  // An empty validation split: at the key that needs it.
  const std::string empty_split = "  validation: {file: train, start: 55000, count: 0}\n";
  const std::string no_split = load("  early_stopping:\n    patience: 3\n", empty_split);
  CHECK(no_split.find("c.yaml:6:15: error: train.early_stopping.patience: early stopping (patience 3) ranks epochs "
                      "by validation_loss on the validation split, but dataset.validation selects no examples") !=
        std::string::npos);
  CHECK(no_split.find("set train.early_stopping.patience: 0 (off)") != std::string::npos);
  const std::string keep_no_split = load("  keep: best\n", empty_split);
  CHECK(keep_no_split.find("c.yaml:5:9: error: train.keep: keep: best ranks epochs") != std::string::npos);
  CHECK(keep_no_split.find("set train.keep: last") != std::string::npos);
  CHECK(load("  early_stopping: {patience: 0}\n", empty_split).empty());  // off needs no split
  // A CSV dataset without a validation split: [train, test] files, or a fraction of 0.
  auto load_csv = [&](const std::string& csv) {
    const std::string path = dir + "/csv.yaml";
    std::ofstream(path) << "dataset:\n  name: csv\n  num_classes: 2\n  csv: " << csv
                        << "\nmodel:\n  input: 4\n  layers: [{type: dense, units: 2}]\ntrain:\n  keep: best\n";
    PipelineConfig c;
    return LoadConfig(path, {}, &c).message();
  };
  CHECK(load_csv("{files: [a.csv, b.csv]}").find("csv.yaml:9:9: error: train.keep: keep: best ranks epochs by "
                                                  "validation_loss on the validation split, but dataset.csv.files "
                                                  "lists [train, test] files and no validation file; give the "
                                                  "validation split examples (list [train, validation, test] files)") !=
        std::string::npos);
  CHECK(load_csv("{files: [a.csv], validation_fraction: 0}").find("but dataset.csv.validation_fraction is 0; give "
                                                                  "the validation split examples (e.g. "
                                                                  "dataset.csv.validation_fraction: 0.1)") !=
        std::string::npos);
  CHECK(load_csv("{files: [a.csv]}").empty());
  const std::string path = dir + "/regress.yaml";
  std::ofstream(path) << "dataset:\n  name: csv\n  csv: {files: [a.csv]}\nmodel:\n  input: 4\n  layers: [{type: "
                         "dense, units: 1}]\nloss: {type: mean_squared_error}\nexport:\n  signatures: [{name: r, "
                         "method: regress}]\ntrain:\n  keep: best\n  early_stopping:\n    monitor: "
                         "validation_accuracy\n";
  PipelineConfig regress;
  CHECK(LoadConfig(path, {}, &regress).message().find(
            "regress.yaml:13:14: error: train.early_stopping.monitor: validation_accuracy scores classes, and loss "
            "mean_squared_error regresses a number; monitor validation_loss, validation_rmse or validation_r2") !=
        std::string::npos);
  // Through the CLI: exit 2.
  const CommandResult cli = RunPipeline({"validate", "configs/fashion_mnist.yaml", "train.early_stopping.patience=2",
                                         "dataset.validation.count=0"});
  CHECK(cli.exit_code == 2);
  CHECK(cli.err.find("train.early_stopping.patience: early stopping (patience 2)") != std::string::npos);
  // A split only the data shows empty (an idx file's end is not known to the
  // config rules): the train stage refuses it the same way, before training.
  const CommandResult data = RunPipeline({"run", "configs/fashion_mnist.yaml", "dataset.name=idx",
                                          "dataset.validation.start=60000", "dataset.validation.count=-1",
                                          "dataset.train.count=1000", "train.keep=best", "--stages",
                                          "load,build,train", "--run-dir", dir + "/run"});
  CHECK(data.exit_code == 2);
  CHECK(data.err.find("<override 'train.keep=best'>: error: train.keep: keep: best ranks epochs by validation_loss "
                      "on the validation split, but the validation split") != std::string::npos);
  CHECK(data.err.find("[60000, 60000)) holds no examples; give it examples, or set train.keep: last") !=
        std::string::npos);
  fs::remove_all(dir);
}
