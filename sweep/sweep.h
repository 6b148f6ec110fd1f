// Hyperparameter sweeps: many variants of one pipeline config, run as child
// processes of the same binary, compared in one table. docs/sweep.md.
//
//   SweepSpec spec;
//   Status s = LoadSweepFile("configs/sweeps/fashion_lr.yaml", &spec);   // strict, FILE:LINE:COL errors
//   std::vector<Trial> trials;
//   s = ExpandTrials(spec, &trials);          // grid x sets x random samples, ids derived from overrides
//   s = ValidateTrials(spec, &trials);        // every trial's config, before anything runs
//   s = RunSweep(spec, trials, options);      // processes, resume-skip, ASHA, results, export
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "records/run_records.h"

namespace pipeline::sweep {

// A position in the sweep file (1-based; 0: none, e.g. from the command line).
struct Where {
  int line = 0, col = 0;
};

// One "dotted.key=value" the sweep passes to a trial. `value` is YAML text.
struct Param {
  std::string key;
  std::string value;
  Where key_at, value_at;
  std::string Text() const { return key + "=" + value; }
};

struct GridAxis {
  std::string key;
  Where key_at;
  std::vector<Param> values;  // one Param per list element (same key)
};

// A per-key distribution of `random:`.
struct Distribution {
  std::string key;
  std::string kind;           // uniform loguniform int choice
  double low = 0, high = 0;   // uniform, loguniform, int (inclusive)
  std::vector<std::string> choices;  // choice: YAML texts
  Where key_at, value_at;
};

struct RandomSpec {
  int64_t samples = 0;        // 0: no random search
  uint64_t seed = 0;
  std::vector<Distribution> params;
};

struct Objective {
  std::string metric = "validation_accuracy";  // validation_accuracy test_accuracy test_loss final_loss
  bool maximize = true;
};

struct Scheduler {
  std::string type = "none";  // none | asha (successive halving)
  int64_t min_epochs = 1, max_epochs = 0, reduction_factor = 2;
};

// How many trials a sweep may have unless --max-trials raises it: far more than
// anyone runs, few enough to expand and validate in seconds. Counted before
// any trial is made (a 100^4 grid or random.samples: 1e11 is refused at once).
inline constexpr int64_t kDefaultMaxTrials = 10000;

struct SweepSpec {
  std::string path;           // the sweep file ("" for --multirun)
  std::string label;          // how errors name the sweep: the file, or "<multirun>"
  std::string name;           // directory under the base config's output_dir
  std::string base;           // the pipeline config, relative to the current directory
  std::vector<Param> overrides;  // applied to every trial, before the swept ones
  std::vector<GridAxis> grid;
  RandomSpec random;
  std::vector<std::vector<Param>> sets;
  Objective objective;
  Scheduler scheduler;
  std::string export_policy = "best";  // best all none
  int64_t jobs = 0;           // 0: the default for this machine (DefaultJobs)
  int64_t max_trials = kDefaultMaxTrials;  // --max-trials
};

struct Trial {
  std::string id;             // readable part + "-" + 8 hex digits of the overrides' hash
  std::vector<Param> params;  // the swept overrides (grid, set, random), in that order
  int64_t epochs = 0;         // train.epochs of the resolved config (from ValidateTrials)
};

// Reads a sweep file strictly: unknown keys (with did-you-mean), wrong types and
// bad distributions are InvalidArgument with FILE:LINE:COL. `base` is resolved
// relative to the sweep file's directory.
Status LoadSweepFile(const std::string& path, SweepSpec* out);

// `pipeline run CONFIG --multirun k=a,b k2=c ...`: values with top-level commas
// become grid axes, the others overrides of every trial.
Status MultirunSpec(const std::string& config, const std::vector<std::string>& overrides, SweepSpec* out);

// Whether the override `later`, applied after `earlier`, replaces what
// `earlier` set: "train" after "train.epochs" replaces the whole train map.
bool ReplacesKey(const std::string& later, const std::string& earlier);

// Splits "a,b,[1, 2],{x: 1}" at top-level commas (not inside [] {} or quotes).
std::vector<std::string> SplitTopLevelCommas(const std::string& s);

// Every trial: the product grid (first key slowest) x sets x random samples
// (each a fresh draw from the seeded stream). Identical trials are dropped.
// InvalidArgument, before anything is made, when the count (checked
// arithmetic) exceeds spec.max_trials, or when a swept key would replace the
// map an override set a key in ("train" after the override "train.epochs").
Status ExpandTrials(const SweepSpec& spec, std::vector<Trial>* out);

// The number of trials ExpandTrials makes at most (before dropping identical
// ones); false when it does not fit in int64_t.
bool CountTrials(const SweepSpec& spec, int64_t* count);

// The trial id: "<short key>-<value>_..." (at most 48 readable characters) and
// 8 hex digits of FNV-1a over the global and swept override texts.
std::string TrialId(const std::vector<Param>& global, const std::vector<Param>& params);

// Loads the base config once per trial (LoadYamlFile, ApplyOverride, ValidateConfig)
// with every override. Errors from sweep-file values are re-pointed at the sweep
// file's line:col; all problems of all trials are reported together, de-duplicated.
// Fills trial.epochs.
Status ValidateTrials(const SweepSpec& spec, std::vector<Trial>* trials);

// ASHA rung epoch counts: min, min*rf, min*rf^2, ... (< max), then max.
std::vector<int64_t> RungEpochs(const Scheduler& s);

// ---- results ----

// One trial's row of results.json/csv/md (records/run_records.h writes and reads it).
using TrialResult = records::TrialRecord;

// Sorts by the objective (NaN and failed last; ties keep the input order).
void SortResults(std::vector<TrialResult>* results, const Objective& objective);
// Columns: rank, trial, swept keys..., validation_accuracy, test_accuracy, final_loss, s/epoch, epochs, status.
std::string FormatTable(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys);
std::string ResultsCsv(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys);
std::string ResultsMarkdown(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys);

// Reads a run's summary.json (the fields cli/summary.cpp writes). False if
// absent or unreadable (an interrupted run).
bool ReadSummary(const std::string& path, TrialResult* out, std::string* export_dir = nullptr);

// ---- running ----

// `pipeline sweep --launcher slurm`: the trials run as Slurm job arrays.
struct SlurmOptions {
  std::string partition;      // --partition; "": the cluster's default
  std::string time;           // --time, Slurm's format ("10", "1:00:00"); "": the partition's limit
  int64_t max_parallel = 0;   // array tasks at once (--array=...%K); 0: as many as Slurm starts
  int64_t cpus_per_task = 1;  // --cpus-per-task, and the trial's train.threads (per rank)
  // --ntasks-per-trial: a trial of N > 1 processes trains data-parallel, started by
  // srun --mpi=pmix inside its array task (sbatch --ntasks=N; docs/distributed.md).
  int64_t ntasks_per_trial = 1;
  double poll_seconds = 0.5;  // how often squeue is asked whether the array is done
};

struct RunOptions {
  int64_t jobs = 0;                 // 0: spec.jobs, else DefaultJobs()
  std::string exe = "/proc/self/exe";
  bool dry_run = false;             // validate and list the trials only
  std::string launcher = "local";   // local | slurm
  SlurmOptions slurm;
};

// Usable cores (sched_getaffinity).
int64_t Cores();
// The default number of concurrent trials: see docs/sweep.md for the measurement.
int64_t DefaultJobs(int64_t trials);

// Runs the sweep; Ok if every trial succeeded, Runtime if any failed,
// InvalidArgument (nothing run) if any trial's config is invalid.
Status RunSweep(const SweepSpec& spec, const RunOptions& options);

}  // namespace pipeline::sweep
