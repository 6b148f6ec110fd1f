// Running a sweep: trials as runs of the same binary (child processes up to
// `jobs` at once, or Slurm job arrays: sweep/trial_task.h), resume-skip of finished trials, successive halving, results, export.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/dir_lock.h"
#include "common/files.h"
#include "config/loader.h"
#include "stages/events_hparams.h"
#include "stages/signals.h"
#include "sweep/sweep.h"
#include "sweep/trial_task.h"

namespace pipeline::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string StagesOverride(const std::vector<std::string>& stages) {
  std::string s = "stages=[";
  for (size_t i = 0; i < stages.size(); ++i) s += (i ? "," : "") + stages[i];
  return s + "]";
}

}  // namespace

int64_t Cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max<int64_t>(1, std::thread::hardware_concurrency());
}

int64_t DefaultJobs(int64_t trials) {
  // One trial per core, one thread each: on the 2-core machine jobs=2 beat jobs=1
  // (2 threads per trial) for the 6-trial Fashion-MNIST sweep; docs/sweep.md.
  return std::max<int64_t>(1, std::min(Cores(), trials));
}

namespace {

// One invocation of RunSweep: the plan (trials, jobs, rungs), the rungs' runs,
// the export of the best trial, and the result files.
class SweepRunner {
 public:
  SweepRunner(const SweepSpec& spec, const RunOptions& options) : spec_(spec), options_(options) {}

  Status Run() {
    const auto sweep_start = Clock::now();
    PIPELINE_RETURN_IF_ERROR(Plan());
    PrintHeader();
    DirLock sweep_lock;  // held until the sweep returns
    if (!options_.dry_run) PIPELINE_RETURN_IF_ERROR(PrepareSweepDir(&sweep_lock));
    if (options_.dry_run) {
      for (const auto& t : trials_) std::printf("  %s  %s\n", t.id.c_str(), ParamsText(t.params).c_str());
      return Status::Ok();
    }
    PIPELINE_RETURN_IF_ERROR(MakeDirs(sweep_dir_));
    PIPELINE_RETURN_IF_ERROR(RunRungs());

    std::vector<TrialResult> sorted = results_;
    SortResults(&sorted, spec_.objective);
    const TrialResult* best = !sorted.empty() && sorted[0].status == "ok" ? &sorted[0] : nullptr;
    const int64_t failed = std::count_if(results_.begin(), results_.end(), [](const TrialResult& r) { return r.status == "failed"; });
    std::string export_dir, export_error;
    if (best && spec_.export_policy != "none") PIPELINE_RETURN_IF_ERROR(ExportBest(*best, &export_dir, &export_error));

    // The table and the result files.
    const double wall = Since(sweep_start);
    PrintSummary(sorted, best, failed, wall, export_dir, export_error);
    PIPELINE_RETURN_IF_ERROR(WriteResultFiles(sorted, best, wall, export_dir));

    const int64_t n = static_cast<int64_t>(trials_.size());
    if (failed > 0) return Status::Runtime(fmt::format("sweep {}: {} of {} trials failed", spec_.name, failed, n));
    if (!export_error.empty()) return Status::Runtime("sweep " + spec_.name + ": exporting the best trial failed: " + export_error);
    if (!best) return Status::Runtime("sweep " + spec_.name + ": no trial produced a finite " + spec_.objective.metric);
    return Status::Ok();
  }

 private:
  // The trials, the base config, jobs and threads per trial, the rungs, the swept keys.
  Status Plan() {
    PIPELINE_RETURN_IF_ERROR(ExpandTrials(spec_, &trials_));
    PIPELINE_RETURN_IF_ERROR(ValidateTrials(spec_, &trials_));

    std::vector<std::string> global;
    for (const auto& p : spec_.overrides) global.push_back(p.Text());
    PIPELINE_RETURN_IF_ERROR(LoadConfig(spec_.base, global, &base_));
    sweep_dir_ = base_.output_dir + "/" + spec_.name;
    const int64_t n = static_cast<int64_t>(trials_.size());
    if (options_.launcher == "slurm") {
      // Slurm places the array tasks; each trial gets the CPUs it asked for.
      jobs_ = options_.slurm.max_parallel > 0 ? std::min(options_.slurm.max_parallel, n) : n;
      threads_ = options_.slurm.cpus_per_task;
    } else {
      jobs_ = options_.jobs > 0 ? options_.jobs : spec_.jobs > 0 ? spec_.jobs : DefaultJobs(n);
      jobs_ = std::max<int64_t>(1, std::min(jobs_, n));
      threads_ = std::max<int64_t>(1, Cores() / jobs_);
    }
    rungs_ = RungEpochs(spec_.scheduler);
    asha_ = !rungs_.empty();

    for (const auto& t : trials_)  // the swept keys, in order of first appearance
      for (const auto& p : t.params)
        if (std::find(keys_.begin(), keys_.end(), p.key) == keys_.end()) keys_.push_back(p.key);
    for (const auto& s : base_.stages)
      if (s != "export" || spec_.export_policy == "all") trial_stages_.push_back(s);
    return Status::Ok();
  }

  void PrintHeader() const {
    const int64_t n = static_cast<int64_t>(trials_.size());
    std::printf("sweep %s: %lld trial%s of %s, %lld at a time with %lld thread%s each%s -> %s/\n", spec_.name.c_str(),
                static_cast<long long>(n), n == 1 ? "" : "s", spec_.base.c_str(), static_cast<long long>(jobs_),
                static_cast<long long>(threads_), threads_ == 1 ? "" : "s",
                options_.launcher == "slurm" ? ", as Slurm job arrays" : "", sweep_dir_.c_str());
    if (asha_) {
      std::string r;
      for (auto e : rungs_) {
        if (!r.empty()) r += ", ";
        r += std::to_string(e);
      }
      std::printf("scheduler: successive halving, rungs at %s epochs, keeping the best 1/%lld at each\n", r.c_str(),
                  static_cast<long long>(spec_.scheduler.reduction_factor));
    }
  }

  // Makes and locks the sweep directory; TensorBoard's HParams experiment, once.
  Status PrepareSweepDir(DirLock* sweep_lock) const {
    // TensorBoard's HParams tab: which keys were swept over which values.
    std::vector<events::HParamSpec> specs;
    for (const auto& key : keys_) {
      events::HParamSpec spec_of_key{key, {}};
      for (const auto& t : trials_)
        for (const auto& p : t.params)
          if (p.key == key && std::find(spec_of_key.values.begin(), spec_of_key.values.end(), HParam(p.value)) ==
                                  spec_of_key.values.end())
            spec_of_key.values.push_back(HParam(p.value));
      specs.push_back(std::move(spec_of_key));
    }
    PIPELINE_RETURN_IF_ERROR(MakeDirs(sweep_dir_));
    // One driver per sweep directory: two would run every trial into the same
    // trial directories. The trials (child processes) lock their own run
    // directories below it, and inherit nothing of this lock (O_CLOEXEC).
    PIPELINE_RETURN_IF_ERROR(DirLock::Acquire(sweep_dir_, "sweep directory", sweep_lock));
    // Once per sweep directory: a resumed sweep must not add a second experiment.
    bool written = false;
    for (const auto& e : fs::directory_iterator(sweep_dir_))
      written = written || e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
    if (!written) PIPELINE_RETURN_IF_ERROR(events::WriteHParamsExperiment(sweep_dir_, specs));
    return Status::Ok();
  }

  // The arguments of a trial's `pipeline run`.
  std::vector<std::string> TrialArgs(const Trial& t, int64_t epochs, int64_t nthreads,
                                     const std::vector<std::string>& stages, const std::string& run_dir,
                                     bool export_here, bool resume = false) const {
    std::vector<std::string> a = {"run", spec_.base, fmt::format("train.threads={}", nthreads)};
    for (const auto& p : spec_.overrides) a.push_back(p.Text());
    for (const auto& p : t.params) a.push_back(p.Text());
    if (epochs > 0) a.push_back(fmt::format("train.epochs={}", epochs));
    // Every rung of a trial trains on one schedule: the horizon is the last rung
    // from the start (Ray Tune's max_t), so a promotion continues the same curve.
    if (asha_) a.push_back(fmt::format("optimizer.schedule.epochs={}", spec_.scheduler.max_epochs));
    a.push_back(StagesOverride(stages));
    if (export_here) {
      a.push_back("export.path=" + run_dir + "/savedmodel");
      a.push_back("export.version=1");
      a.push_back("export.overwrite=true");
    }
    for (const char* x : {resume ? "--resume" : "--run-dir", "", "--json", "", "--quiet"}) a.push_back(x);
    a[a.size() - 4] = run_dir;
    a[a.size() - 2] = run_dir + "/summary.json";
    return a;
  }

  // Runs a batch of tasks with the launcher the options name; `name` names a
  // Slurm batch's job script.
  Status Launch(const std::vector<Task*>& tasks, int64_t jobs, const std::string& name) {
    if (options_.launcher != "slurm") {
      RunTasksLocally(tasks, jobs, options_.exe, trials_, spec_.objective);
      return Status::Ok();
    }
    return RunTasksOnSlurm(tasks, options_.slurm, options_.exe, trials_, spec_.objective, sweep_dir_ + "/slurm",
                           spec_.name + "-" + name);
  }

  // Every rung (one for a grid): run the active trials, record, promote the best.
  Status RunRungs() {
    // Final per-trial results, and the epochs bill.
    results_.resize(trials_.size());
    for (size_t i = 0; i < trials_.size(); ++i) {
      results_[i].id = trials_[i].id;
      for (const auto& p : trials_[i].params) results_[i].params.emplace_back(p.key, p.value);
      results_[i].run_dir = sweep_dir_ + "/" + trials_[i].id;
    }
    for (const auto& t : trials_) full_epochs_ += asha_ ? spec_.scheduler.max_epochs : t.epochs;

    std::vector<size_t> active(trials_.size());
    for (size_t i = 0; i < trials_.size(); ++i) active[i] = i;
    const std::vector<int64_t> plan = asha_ ? rungs_ : std::vector<int64_t>{0};
    for (size_t k = 0; k < plan.size(); ++k) {
      const int64_t epochs = plan[k];
      if (asha_)
        std::printf("rung %zu/%zu: %zu trial%s to %lld epoch%s\n", k + 1, plan.size(), active.size(),
                    active.size() == 1 ? "" : "s", static_cast<long long>(epochs), epochs == 1 ? "" : "s");
      std::vector<Task> tasks(active.size());
      std::vector<Task*> to_run;
      for (size_t j = 0; j < active.size(); ++j)
        if (PlanTask(plan, k, active, j, &tasks[j])) to_run.push_back(&tasks[j]);
      std::fflush(stdout);
      PIPELINE_RETURN_IF_ERROR(Launch(to_run, jobs_, asha_ ? fmt::format("rung-{}", epochs) : "trials"));

      // Record this rung's results; decide who goes on.
      std::vector<TrialResult> rung;
      for (auto& t : tasks) {
        TrialResult r = t.result;
        r.id = results_[t.trial].id;
        r.params = results_[t.trial].params;
        r.run_dir = results_[t.trial].run_dir;
        if (r.status == "ok" && asha_ && k + 1 < plan.size()) r.status = "stopped";  // until promoted
        results_[t.trial] = r;
        rung.push_back(r);
      }
      if (!asha_ || k + 1 == plan.size()) break;
      active = Promote(std::move(rung), active.size());
      if (active.empty()) break;
    }
    return Status::Ok();
  }

  // Task j of rung k (of `plan`'s epochs) for trial active[j]: false when it
  // finished earlier (skipped), else its arguments, fresh or resumed.
  bool PlanTask(const std::vector<int64_t>& plan, size_t k, const std::vector<size_t>& active, size_t j, Task* out) {
    const int64_t epochs = plan[k];
    Task& t = *out;
    const Trial& trial = trials_[active[j]];
    t.trial = active[j];
    t.epochs = epochs;
    t.run_dir = results_[t.trial].run_dir;
    t.label = fmt::format("[{}/{}]", j + 1, active.size());
    t.keep_as = asha_ ? fmt::format("{}/rung-{}.json", t.run_dir, epochs) : "";
    const std::string done_file = asha_ ? t.keep_as : t.run_dir + "/summary.json";
    // A promoted trial costs the epochs between the rungs (it resumes); a first run all of them.
    const int64_t cost = !asha_ ? trial.epochs : k > 0 ? epochs - plan[k - 1] : epochs;
    epochs_total_ += cost;
    if (ReadSummary(done_file, &t.result) && t.result.status == "ok") {
      t.skipped = true;
      std::printf("%s skip   %s  finished earlier: %s=%.4f\n", t.label.c_str(), trial.id.c_str(),
                  spec_.objective.metric.c_str(), t.result.Metric(spec_.objective.metric));
      return false;
    }
    // Promotion: continue the previous rung's run from its final checkpoint (run --resume, same
    // config and thread count, only train.epochs raised) when the directory holds exactly that run;
    // else train from scratch to this rung's epochs (deterministic, so the same result, dearer).
    TrialResult prev;
    const bool resume = asha_ && k > 0 && ReadSummary(t.run_dir + "/summary.json", &prev) && prev.status == "ok" &&
                        prev.epochs == plan[k - 1] && fs::exists(t.run_dir + "/checkpoint/checkpoint.bin");
    t.result = TrialResult();
    t.resume = resume;
    t.args = TrialArgs(trial, epochs, resume && prev.threads > 0 ? prev.threads : threads_, trial_stages_, t.run_dir,
                       spec_.export_policy == "all", resume);
    const int64_t trained = resume || !asha_ ? cost : epochs;  // from scratch: the earlier epochs again
    epochs_trained_ += trained;
    epochs_total_ += trained - cost;
    return true;
  }

  // Successive halving: the best 1/reduction_factor of a rung's `active` trials
  // (at least one) that stopped with a finite metric, in trial order.
  std::vector<size_t> Promote(std::vector<TrialResult> rung, size_t active) const {
    SortResults(&rung, spec_.objective);
    const size_t keep = std::max<size_t>(1, active / static_cast<size_t>(spec_.scheduler.reduction_factor));
    std::vector<size_t> promoted;
    for (const auto& r : rung) {
      if (promoted.size() >= keep || r.status != "stopped" || !std::isfinite(r.Metric(spec_.objective.metric))) break;
      for (size_t i = 0; i < trials_.size(); ++i)
        if (trials_[i].id == r.id) promoted.push_back(i);
    }
    std::sort(promoted.begin(), promoted.end());
    return promoted;
  }

  // Export the best trial: re-run it with the export stage (same overrides and thread count,
  // so the same weights), into the base config's export.path as its next version.
  Status ExportBest(const TrialResult& best, std::string* export_dir, std::string* export_error) {
    size_t bi = 0;
    while (trials_[bi].id != best.id) ++bi;
    const std::string dir = best.run_dir + "/export-run";
    TrialResult er;
    std::string existing;
    if (ReadSummary(dir + "/summary.json", &er, &existing) && er.status == "ok" && !existing.empty() &&
        fs::is_directory(existing)) {
      *export_dir = existing;
      std::printf("best trial %s already exported: %s\n", best.id.c_str(), export_dir->c_str());
      return Status::Ok();
    }
    std::vector<std::string> stages = base_.stages;
    if (std::find(stages.begin(), stages.end(), "export") == stages.end()) stages.push_back("export");
    Task t;
    t.trial = bi;
    t.run_dir = dir;
    t.label = "[export]";
    t.args = TrialArgs(trials_[bi], asha_ ? spec_.scheduler.max_epochs : 0, best.threads > 0 ? best.threads : threads_,
                       stages, dir, false);
    epochs_trained_ += best.epochs;
    PIPELINE_RETURN_IF_ERROR(Launch({&t}, 1, "export"));
    std::string out_dir;
    TrialResult check;
    if (t.result.status == "ok" && ReadSummary(dir + "/summary.json", &check, &out_dir) && !out_dir.empty()) {
      *export_dir = out_dir;
      const double a = check.Metric(spec_.objective.metric), b = best.Metric(spec_.objective.metric);
      if (a != b)
        std::printf("warning: the export run's %s (%.6f) differs from the trial's (%.6f)\n",
                    spec_.objective.metric.c_str(), a, b);
    } else {
      *export_error = t.result.error.empty() ? "the export run failed" : t.result.error;
    }
    return Status::Ok();
  }

  void PrintSummary(const std::vector<TrialResult>& sorted, const TrialResult* best, int64_t failed, double wall,
                    const std::string& export_dir, const std::string& export_error) const {
    const int64_t n = static_cast<int64_t>(trials_.size());
    std::printf("\n%s", FormatTable(sorted, keys_).c_str());
    std::printf("\n%lld trial%s: %lld ok, %lld failed%s; %.1fs wall\n", static_cast<long long>(n), n == 1 ? "" : "s",
                static_cast<long long>(std::count_if(results_.begin(), results_.end(), [](const TrialResult& r) { return r.status == "ok"; })),
                static_cast<long long>(failed),
                asha_ ? fmt::format(", {} stopped early",
                                    std::count_if(results_.begin(), results_.end(), [](const TrialResult& r) { return r.status == "stopped"; })).c_str()
                      : "",
                wall);
    std::printf("epochs: %lld trained by this invocation (with the export run), %lld by the sweep's trials%s\n",
                static_cast<long long>(epochs_trained_),
                static_cast<long long>(epochs_total_),
                asha_ ? fmt::format(" (the full grid: {})", full_epochs_).c_str() : "");
    if (best) std::printf("best: %s (%s=%.4f)\n", best->id.c_str(), spec_.objective.metric.c_str(), best->Metric(spec_.objective.metric));
    if (!export_dir.empty()) std::printf("exported best trial %s: %s\n", best->id.c_str(), export_dir.c_str());
    if (!export_error.empty()) std::printf("export of the best trial failed: %s\n", export_error.c_str());
  }

  // results.json, results.csv and results.md in the sweep directory.
  Status WriteResultFiles(const std::vector<TrialResult>& sorted, const TrialResult* best, double wall,
                          const std::string& export_dir) const {
    records::SweepResults doc;
    doc.sweep = spec_.name;
    doc.base = spec_.base;
    doc.objective = {spec_.objective.metric, spec_.objective.maximize};
    doc.scheduler = spec_.scheduler.type;
    doc.jobs = jobs_;
    doc.threads_per_trial = threads_;
    doc.wall_seconds = wall;
    doc.epochs_trained = epochs_trained_;
    doc.epochs_total = epochs_total_;
    doc.epochs_full_grid = full_epochs_;
    if (best) doc.best = best->id;
    if (!export_dir.empty()) doc.export_dir = export_dir;
    doc.trials = sorted;
    for (size_t i = 0; i < doc.trials.size(); ++i) doc.trials[i].rank = static_cast<int64_t>(i + 1);
    Status w = WriteFileAtomic(sweep_dir_ + "/results.json", doc.ToJson());
    if (w.ok()) w = WriteFileAtomic(sweep_dir_ + "/results.csv", ResultsCsv(sorted, keys_));
    if (w.ok()) w = WriteFileAtomic(sweep_dir_ + "/results.md", ResultsMarkdown(sorted, keys_));
    if (!w.ok()) return w;
    std::printf("results: %s/results.{csv,json,md}\n", sweep_dir_.c_str());
    std::fflush(stdout);
    return Status::Ok();
  }

  const SweepSpec& spec_;
  const RunOptions& options_;
  std::vector<Trial> trials_;
  PipelineConfig base_;
  std::string sweep_dir_;
  int64_t jobs_ = 1, threads_ = 1;
  std::vector<int64_t> rungs_;
  bool asha_ = false;
  std::vector<std::string> keys_;          // the swept keys, in order of first appearance
  std::vector<std::string> trial_stages_;  // a trial's stages (export only under export_policy: all)
  std::vector<TrialResult> results_;       // final per-trial results
  int64_t epochs_trained_ = 0, epochs_total_ = 0, full_epochs_ = 0;  // the epochs bill
};

}  // namespace

Status RunSweep(const SweepSpec& spec, const RunOptions& options) { return SweepRunner(spec, options).Run(); }

}  // namespace pipeline::sweep
