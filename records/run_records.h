// The run records, one type each, with to/from JSON: what the pipeline writes
// for a run and a sweep, and what the sweep runner and the report read back.
//   EpochRecord   one line of <run_dir>/metrics.jsonl, an element of summary.json's "epochs"
//   RunSummary    <run_dir>/summary.json (and `run --json FILE`)
//   TrialRecord   one element of a sweep's results.json "trials" (a row of results.csv/md)
//   SweepResults  <sweep_dir>/results.json
// records/ depends on common/ only, so the writers (stages/, cli/, sweep/) and
// the report share these without depending on each other.
//
// ToJson writes the long-standing layout byte for byte (key order, json::Number's
// number form, NaN as null; scripts/artifact-digests.sh compares it). FromJson
// is tolerant as the readers always were: the value must be an object (a
// results.json may also be a bare array of trials), and a member that is
// missing or of another type reads as its "unknown" value (NaN for numbers,
// 0 for counts, "" for strings), so partial and hand-written files still load.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json_value.h"
#include "common/status.h"

namespace pipeline::records {

struct EpochRecord {
  int64_t epoch = 0;                 // 1-based, as the tutorial prints it
  double loss = 0.0;                 // mean training loss over the epoch's batches
  double validation_accuracy = NAN;  // NaN when there is no validation split
  double validation_loss = NAN;      // NaN when there is no validation split
  double seconds = 0.0;              // training time of the epoch (no validation)
  double learning_rate = 0.0;
  // The validation split's other scores, written only when finite: AUC (two
  // classes), RMSE and R^2 (regression).
  double validation_auc = NAN, validation_rmse = NAN, validation_r2 = NAN;

  std::string ToJson() const;  // one line, no newline
  static Status FromJson(const JsonValue& v, EpochRecord* out);
  bool operator==(const EpochRecord& o) const;  // NaN equals NaN
};

struct RunSummary {
  std::string name, config, run_dir;
  std::string status;                 // ok | failed
  std::optional<std::string> error;   // written only when the run failed
  int64_t seed = 0, threads = 0, parameters = 0;
  double test_accuracy = NAN, test_loss = NAN;
  // CSV models: AUC (two classes), RMSE and R^2 (regression); written only when finite.
  double test_auc = NAN, test_rmse = NAN, test_r2 = NAN;
  double validation_accuracy = NAN;   // the kept epoch's: the last, unless train.keep: best
  double final_loss = NAN;            // the last epoch's training loss
  std::vector<EpochRecord> epochs;
  // train.early_stopping / train.keep: best; written only when not 0: the epoch
  // after which early stopping ended training, the best epoch by the monitor,
  // and the epoch whose weights were evaluated and exported.
  int64_t stopped_epoch = 0, best_epoch = 0, kept_epoch = 0;
  double train_examples_per_second = NAN, evaluate_examples_per_second = NAN;
  std::optional<std::string> export_dir;  // null when nothing was exported
  int64_t export_version = 0;             // written with export_dir

  // validation_accuracy test_accuracy test_loss final_loss (a sweep objective); NaN otherwise.
  double Metric(const std::string& name) const;
  std::string ToJson() const;  // with the trailing newline, as the file holds it
  static Status FromJson(const JsonValue& v, RunSummary* out);
  bool operator==(const RunSummary& o) const;
};

struct TrialRecord {
  int64_t rank = 0;            // 1-based place in results.json (0: not ranked yet)
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;  // swept key -> value
  std::string status = "pending";  // ok | failed | stopped (ASHA: not promoted) | pending
  std::string error;           // written only when not empty
  double validation_accuracy = NAN, test_accuracy = NAN, test_loss = NAN, final_loss = NAN,
         seconds_per_epoch = NAN;
  int64_t epochs = 0;          // epochs of the reported run
  int64_t threads = 0;
  std::string run_dir;
  std::string slurm_job;       // "<array job>_<task>" that ran it last (launcher slurm); written when not empty

  double Metric(const std::string& name) const;  // as RunSummary::Metric
  std::string ToJson() const;
  // Also reads the forms other tools write: "trial" for "id"; params as
  // {"k": v}, [["k", v]] or [{"key": k, "value": v}]; a metric under "metrics".
  static Status FromJson(const JsonValue& v, TrialRecord* out);
  bool operator==(const TrialRecord& o) const;
};

struct SweepObjective {
  std::string metric = "validation_accuracy";
  bool maximize = true;  // written as "mode": "max" | "min"
};

struct SweepResults {
  std::string sweep, base;
  SweepObjective objective;
  bool objective_given = true;  // FromJson: whether the file named one
  std::string scheduler;
  int64_t jobs = 0, threads_per_trial = 0;
  double wall_seconds = NAN;
  int64_t epochs_trained = 0, epochs_total = 0, epochs_full_grid = 0;
  std::optional<std::string> best, export_dir;  // null when none
  std::vector<TrialRecord> trials;              // best first

  std::string ToJson() const;  // with the trailing newline
  // Also reads "name" for "sweep", an objective given as a string or with
  // "maximize", a top-level "maximize", and the trials under "results" or as
  // the whole (array) document.
  static Status FromJson(const JsonValue& v, SweepResults* out);
  bool operator==(const SweepResults& o) const;
};

// ReadJsonFile / ReadJsonLines + FromJson; errors name the path.
Status ReadRunSummary(const std::string& path, RunSummary* out);
Status ReadEpochRecords(const std::string& path, std::vector<EpochRecord>* out);
Status ReadSweepResults(const std::string& path, SweepResults* out);

}  // namespace pipeline::records
