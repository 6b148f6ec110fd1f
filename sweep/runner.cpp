// Running a sweep: trials as child processes of the same binary, up to `jobs`
// at once, resume-skip of finished trials, successive halving, results, export.
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
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
#include "common/json.h"
#include "config/loader.h"
#include "stages/events_hparams.h"
#include "sweep/sweep.h"

extern char** environ;

namespace pipeline::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One child run: a trial to `epochs` (0: the config's own count).
struct Task {
  size_t trial = 0;
  int64_t epochs = 0;
  std::string run_dir;
  std::string keep_as;            // after success, copy summary.json to this file (ASHA rung results)
  std::vector<std::string> args;  // after the executable
  std::string label;              // "[3/6]" etc.
  bool resume = false;            // continue the run in run_dir (--resume): do not clear it
  // Results.
  TrialResult result;
  double seconds = 0;
  bool skipped = false;
};

struct Running {
  pid_t pid;
  Task* task;
  Clock::time_point start;
};

std::string LastLines(const std::string& path, size_t n) {
  std::string text;
  if (!ReadInputFile(path, input::kRunRecord, &text).ok()) return "";
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (const size_t cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);  // progress lines
    if (!line.empty()) lines.push_back(line);
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

Status Spawn(const std::string& exe, const std::vector<std::string>& args, const std::string& log, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  std::string arg0 = exe;
  argv.push_back(arg0.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::IOError(fmt::format("cannot start {}: {}", exe, std::strerror(rc)));
  return Status::Ok();
}

// Clears what a previous attempt left in a trial directory (keeps rung results).
void CleanRunDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("rung-", 0) == 0 || name == "export-run") continue;
    fs::remove_all(e.path(), ec);
  }
}

std::string Quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" '\"\\$`*?[]{}()<>|&;!#~") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A swept value as TensorBoard's HParams tab types it: number, bool or string.
events::HParamValue HParam(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return v;
  return text;
}

std::map<std::string, events::HParamValue> HParams(const Trial& trial) {
  std::map<std::string, events::HParamValue> out;
  for (const auto& p : trial.params) out[p.key] = HParam(p.value);
  return out;
}

std::string ParamsText(const std::vector<Param>& params) {
  std::string s;
  for (const auto& p : params) {
    if (!s.empty()) s += " ";
    s += p.Text();
  }
  return s;
}

// Runs the tasks, up to `jobs` at once; prints a status line as each starts and ends.
void RunTasks(std::vector<Task*> tasks, int64_t jobs, const std::string& exe, const std::vector<Trial>& trials,
              const Objective& objective) {
  std::vector<Running> running;
  size_t next = 0;
  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && static_cast<int64_t>(running.size()) < jobs) {
      Task* t = tasks[next++];
      if (!t->resume) CleanRunDir(t->run_dir);
      Status st = MakeDirs(t->run_dir);
      std::string cmd = Quote(exe);
      for (const auto& a : t->args) {
        cmd += ' ';
        cmd += Quote(a);
      }
      if (st.ok()) st = WriteFileAtomic(t->run_dir + "/command.txt", cmd + "\n");
      if (st.ok() && !t->resume) st = events::WriteHParamsSessionStart(t->run_dir, HParams(trials[t->trial]));
      pid_t pid = 0;
      if (st.ok()) st = Spawn(exe, t->args, t->run_dir + "/log.txt", &pid);
      std::printf("%s start  %s  %s\n", t->label.c_str(), trials[t->trial].id.c_str(),
                  ParamsText(trials[t->trial].params).c_str());
      if (!st.ok()) {
        t->result.status = "failed";
        t->result.error = st.message();
        std::printf("%s failed %s  %s\n", t->label.c_str(), trials[t->trial].id.c_str(), st.message().c_str());
        continue;
      }
      std::fflush(stdout);
      running.push_back({pid, t, Clock::now()});
    }
    bool reaped = false;
    for (size_t i = 0; i < running.size(); ++i) {
      int wstatus = 0;
      const pid_t r = waitpid(running[i].pid, &wstatus, WNOHANG);
      if (r == 0) continue;
      Task* t = running[i].task;
      t->seconds = Since(running[i].start);
      const bool have = ReadSummary(t->run_dir + "/summary.json", &t->result);
      const int code = r < 0 ? -1 : WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
      events::WriteHParamsSessionEnd(t->run_dir, have && code == 0 && t->result.status == "ok");
      if (!have || code != 0 || t->result.status != "ok") {
        t->result.status = "failed";
        if (t->result.error.empty()) {
          const std::string tail = LastLines(t->run_dir + "/log.txt", 2);
          t->result.error = r > 0 && WIFSIGNALED(wstatus)
                                ? fmt::format("killed by signal {}{}", WTERMSIG(wstatus), tail.empty() ? "" : ": " + tail)
                                : fmt::format("exit code {}{}", code, tail.empty() ? "" : ": " + tail);
        }
        std::string first = t->result.error.substr(0, t->result.error.find_first_of(";\n"));
        std::printf("%s failed %s  %s  (%.1fs; log: %s/log.txt)\n", t->label.c_str(), trials[t->trial].id.c_str(),
                    first.c_str(), t->seconds, t->run_dir.c_str());
      } else {
        if (!t->keep_as.empty()) fs::copy_file(t->run_dir + "/summary.json", t->keep_as, fs::copy_options::overwrite_existing);
        std::printf("%s done   %s  %s=%.4f  %.1fs\n", t->label.c_str(), trials[t->trial].id.c_str(),
                    objective.metric.c_str(), t->result.Metric(objective.metric), t->seconds);
      }
      std::fflush(stdout);
      running.erase(running.begin() + static_cast<long>(i));
      --i;
      reaped = true;
    }
    if (!reaped && !running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

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

Status RunSweep(const SweepSpec& spec, const RunOptions& options) {
  const auto sweep_start = Clock::now();
  std::vector<Trial> trials;
  PIPELINE_RETURN_IF_ERROR(ExpandTrials(spec, &trials));
  PIPELINE_RETURN_IF_ERROR(ValidateTrials(spec, &trials));

  std::vector<std::string> global;
  for (const auto& p : spec.overrides) global.push_back(p.Text());
  PipelineConfig base;
  PIPELINE_RETURN_IF_ERROR(LoadConfig(spec.base, global, &base));
  const std::string sweep_dir = base.output_dir + "/" + spec.name;
  const int64_t n = static_cast<int64_t>(trials.size());
  int64_t jobs = options.jobs > 0 ? options.jobs : spec.jobs > 0 ? spec.jobs : DefaultJobs(n);
  jobs = std::max<int64_t>(1, std::min(jobs, n));
  const int64_t threads = std::max<int64_t>(1, Cores() / jobs);
  const std::vector<int64_t> rungs = RungEpochs(spec.scheduler);
  const bool asha = !rungs.empty();

  std::vector<std::string> keys;  // the swept keys, in order of first appearance
  for (const auto& t : trials)
    for (const auto& p : t.params)
      if (std::find(keys.begin(), keys.end(), p.key) == keys.end()) keys.push_back(p.key);

  std::printf("sweep %s: %lld trial%s of %s, %lld at a time with %lld thread%s each -> %s/\n", spec.name.c_str(),
              static_cast<long long>(n), n == 1 ? "" : "s", spec.base.c_str(), static_cast<long long>(jobs),
              static_cast<long long>(threads), threads == 1 ? "" : "s", sweep_dir.c_str());
  if (asha) {
    std::string r;
    for (auto e : rungs) {
      if (!r.empty()) r += ", ";
      r += std::to_string(e);
    }
    std::printf("scheduler: successive halving, rungs at %s epochs, keeping the best 1/%lld at each\n", r.c_str(),
                static_cast<long long>(spec.scheduler.reduction_factor));
  }
  DirLock sweep_lock;  // held until the sweep returns
  if (!options.dry_run) {
    // TensorBoard's HParams tab: which keys were swept over which values.
    std::vector<events::HParamSpec> specs;
    for (const auto& key : keys) {
      events::HParamSpec spec_of_key{key, {}};
      for (const auto& t : trials)
        for (const auto& p : t.params)
          if (p.key == key && std::find(spec_of_key.values.begin(), spec_of_key.values.end(), HParam(p.value)) ==
                                  spec_of_key.values.end())
            spec_of_key.values.push_back(HParam(p.value));
      specs.push_back(std::move(spec_of_key));
    }
    PIPELINE_RETURN_IF_ERROR(MakeDirs(sweep_dir));
    // One driver per sweep directory: two would run every trial into the same
    // trial directories. The trials (child processes) lock their own run
    // directories below it, and inherit nothing of this lock (O_CLOEXEC).
    PIPELINE_RETURN_IF_ERROR(DirLock::Acquire(sweep_dir, "sweep directory", &sweep_lock));
    // Once per sweep directory: a resumed sweep must not add a second experiment.
    bool written = false;
    for (const auto& e : fs::directory_iterator(sweep_dir))
      written = written || e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
    if (!written) PIPELINE_RETURN_IF_ERROR(events::WriteHParamsExperiment(sweep_dir, specs));
  }
  if (options.dry_run) {
    for (const auto& t : trials) std::printf("  %s  %s\n", t.id.c_str(), ParamsText(t.params).c_str());
    return Status::Ok();
  }
  PIPELINE_RETURN_IF_ERROR(MakeDirs(sweep_dir));

  std::vector<std::string> trial_stages;
  for (const auto& s : base.stages)
    if (s != "export" || spec.export_policy == "all") trial_stages.push_back(s);

  auto trial_args = [&](const Trial& t, int64_t epochs, int64_t nthreads, const std::vector<std::string>& stages,
                        const std::string& run_dir, bool export_here, bool resume = false) {
    std::vector<std::string> a = {"run", spec.base, fmt::format("train.threads={}", nthreads)};
    for (const auto& p : spec.overrides) a.push_back(p.Text());
    for (const auto& p : t.params) a.push_back(p.Text());
    if (epochs > 0) a.push_back(fmt::format("train.epochs={}", epochs));
    // Every rung of a trial trains on one schedule: the horizon is the last rung
    // from the start (Ray Tune's max_t), so a promotion continues the same curve.
    if (asha) a.push_back(fmt::format("optimizer.schedule.epochs={}", spec.scheduler.max_epochs));
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
  };

  // Final per-trial results, and the epochs bill.
  std::vector<TrialResult> results(trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    results[i].id = trials[i].id;
    for (const auto& p : trials[i].params) results[i].params.emplace_back(p.key, p.value);
    results[i].run_dir = sweep_dir + "/" + trials[i].id;
  }
  int64_t epochs_trained = 0, epochs_total = 0, full_epochs = 0;
  for (const auto& t : trials) full_epochs += asha ? spec.scheduler.max_epochs : t.epochs;

  std::vector<size_t> active(trials.size());
  for (size_t i = 0; i < trials.size(); ++i) active[i] = i;
  const std::vector<int64_t> plan = asha ? rungs : std::vector<int64_t>{0};
  for (size_t k = 0; k < plan.size(); ++k) {
    const int64_t epochs = plan[k];
    if (asha)
      std::printf("rung %zu/%zu: %zu trial%s to %lld epoch%s\n", k + 1, plan.size(), active.size(),
                  active.size() == 1 ? "" : "s", static_cast<long long>(epochs), epochs == 1 ? "" : "s");
    std::vector<Task> tasks(active.size());
    std::vector<Task*> to_run;
    for (size_t j = 0; j < active.size(); ++j) {
      Task& t = tasks[j];
      const Trial& trial = trials[active[j]];
      t.trial = active[j];
      t.epochs = epochs;
      t.run_dir = results[t.trial].run_dir;
      t.label = fmt::format("[{}/{}]", j + 1, active.size());
      t.keep_as = asha ? fmt::format("{}/rung-{}.json", t.run_dir, epochs) : "";
      const std::string done_file = asha ? t.keep_as : t.run_dir + "/summary.json";
      // A promoted trial costs the epochs between the rungs (it resumes); a first run all of them.
      const int64_t cost = !asha ? trial.epochs : k > 0 ? epochs - plan[k - 1] : epochs;
      epochs_total += cost;
      if (ReadSummary(done_file, &t.result) && t.result.status == "ok") {
        t.skipped = true;
        std::printf("%s skip   %s  finished earlier: %s=%.4f\n", t.label.c_str(), trial.id.c_str(),
                    spec.objective.metric.c_str(), t.result.Metric(spec.objective.metric));
        continue;
      }
      // Promotion: continue the previous rung's run from its final checkpoint (run --resume, same
      // config and thread count, only train.epochs raised) when the directory holds exactly that run;
      // else train from scratch to this rung's epochs (deterministic, so the same result, dearer).
      TrialResult prev;
      const bool resume = asha && k > 0 && ReadSummary(t.run_dir + "/summary.json", &prev) && prev.status == "ok" &&
                          prev.epochs == plan[k - 1] && fs::exists(t.run_dir + "/checkpoint/checkpoint.bin");
      t.result = TrialResult();
      t.resume = resume;
      t.args = trial_args(trial, epochs, resume && prev.threads > 0 ? prev.threads : threads, trial_stages, t.run_dir,
                          spec.export_policy == "all", resume);
      const int64_t trained = resume || !asha ? cost : epochs;  // from scratch: the earlier epochs again
      epochs_trained += trained;
      epochs_total += trained - cost;
      to_run.push_back(&t);
    }
    std::fflush(stdout);
    RunTasks(to_run, jobs, options.exe, trials, spec.objective);

    // Record this rung's results; decide who goes on.
    std::vector<TrialResult> rung;
    for (auto& t : tasks) {
      TrialResult r = t.result;
      r.id = results[t.trial].id;
      r.params = results[t.trial].params;
      r.run_dir = results[t.trial].run_dir;
      if (r.status == "ok" && asha && k + 1 < plan.size()) r.status = "stopped";  // until promoted
      results[t.trial] = r;
      rung.push_back(r);
    }
    if (!asha || k + 1 == plan.size()) break;
    SortResults(&rung, spec.objective);
    const size_t keep = std::max<size_t>(1, active.size() / static_cast<size_t>(spec.scheduler.reduction_factor));
    std::vector<size_t> promoted;
    for (const auto& r : rung) {
      if (promoted.size() >= keep || r.status != "stopped" || !std::isfinite(r.Metric(spec.objective.metric))) break;
      for (size_t i = 0; i < trials.size(); ++i)
        if (trials[i].id == r.id) promoted.push_back(i);
    }
    std::sort(promoted.begin(), promoted.end());
    active = promoted;
    if (active.empty()) break;
  }

  std::vector<TrialResult> sorted = results;
  SortResults(&sorted, spec.objective);
  const TrialResult* best = !sorted.empty() && sorted[0].status == "ok" ? &sorted[0] : nullptr;
  const int64_t failed = std::count_if(results.begin(), results.end(), [](const TrialResult& r) { return r.status == "failed"; });

  // Export the best trial: re-run it with the export stage (same overrides and thread count,
  // so the same weights), into the base config's export.path as its next version.
  std::string export_dir, export_error;
  if (best && spec.export_policy != "none") {
    size_t bi = 0;
    while (trials[bi].id != best->id) ++bi;
    const std::string dir = best->run_dir + "/export-run";
    TrialResult er;
    std::string existing;
    if (ReadSummary(dir + "/summary.json", &er, &existing) && er.status == "ok" && !existing.empty() &&
        fs::is_directory(existing)) {
      export_dir = existing;
      std::printf("best trial %s already exported: %s\n", best->id.c_str(), export_dir.c_str());
    } else {
      std::vector<std::string> stages = base.stages;
      if (std::find(stages.begin(), stages.end(), "export") == stages.end()) stages.push_back("export");
      Task t;
      t.trial = bi;
      t.run_dir = dir;
      t.label = "[export]";
      t.args = trial_args(trials[bi], asha ? spec.scheduler.max_epochs : 0, best->threads > 0 ? best->threads : threads,
                          stages, dir, false);
      epochs_trained += best->epochs;
      RunTasks({&t}, 1, options.exe, trials, spec.objective);
      std::string out_dir;
      TrialResult check;
      if (t.result.status == "ok" && ReadSummary(dir + "/summary.json", &check, &out_dir) && !out_dir.empty()) {
        export_dir = out_dir;
        const double a = check.Metric(spec.objective.metric), b = best->Metric(spec.objective.metric);
        if (a != b)
          std::printf("warning: the export run's %s (%.6f) differs from the trial's (%.6f)\n",
                      spec.objective.metric.c_str(), a, b);
      } else {
        export_error = t.result.error.empty() ? "the export run failed" : t.result.error;
      }
    }
  }

  // The table and the result files.
  const double wall = Since(sweep_start);
  std::printf("\n%s", FormatTable(sorted, keys).c_str());
  std::printf("\n%lld trial%s: %lld ok, %lld failed%s; %.1fs wall\n", static_cast<long long>(n), n == 1 ? "" : "s",
              static_cast<long long>(std::count_if(results.begin(), results.end(), [](const TrialResult& r) { return r.status == "ok"; })),
              static_cast<long long>(failed),
              asha ? fmt::format(", {} stopped early",
                                 std::count_if(results.begin(), results.end(), [](const TrialResult& r) { return r.status == "stopped"; })).c_str()
                   : "",
              wall);
  std::printf("epochs: %lld trained by this invocation (with the export run), %lld by the sweep's trials%s\n",
              static_cast<long long>(epochs_trained),
              static_cast<long long>(epochs_total),
              asha ? fmt::format(" (the full grid: {})", full_epochs).c_str() : "");
  if (best) std::printf("best: %s (%s=%.4f)\n", best->id.c_str(), spec.objective.metric.c_str(), best->Metric(spec.objective.metric));
  if (!export_dir.empty()) std::printf("exported best trial %s: %s\n", best->id.c_str(), export_dir.c_str());
  if (!export_error.empty()) std::printf("export of the best trial failed: %s\n", export_error.c_str());

  std::vector<std::string> rows;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TrialResult& r = sorted[i];
    json::Object params;
    for (const auto& [k, v] : r.params) params.Str(k, v);
    json::Object o;
    o.Int("rank", static_cast<long long>(i + 1)).Str("id", r.id).Raw("params", params.str()).Str("status", r.status);
    if (!r.error.empty()) o.Str("error", r.error);
    o.Num("validation_accuracy", r.validation_accuracy)
        .Num("test_accuracy", r.test_accuracy)
        .Num("test_loss", r.test_loss)
        .Num("final_loss", r.final_loss)
        .Num("seconds_per_epoch", r.seconds_per_epoch)
        .Int("epochs", r.epochs)
        .Int("threads", r.threads)
        .Str("run_dir", r.run_dir);
    rows.push_back(o.str());
  }
  json::Object doc;
  doc.Str("sweep", spec.name)
      .Str("base", spec.base)
      .Raw("objective", json::Object().Str("metric", spec.objective.metric).Str("mode", spec.objective.maximize ? "max" : "min").str())
      .Str("scheduler", spec.scheduler.type)
      .Int("jobs", jobs)
      .Int("threads_per_trial", threads)
      .Num("wall_seconds", wall)
      .Int("epochs_trained", epochs_trained)
      .Int("epochs_total", epochs_total)
      .Int("epochs_full_grid", full_epochs);
  if (best) doc.Str("best", best->id); else doc.Null("best");
  if (!export_dir.empty()) doc.Str("export_dir", export_dir); else doc.Null("export_dir");
  doc.Raw("trials", json::Array(rows));
  Status w = WriteFileAtomic(sweep_dir + "/results.json", doc.str() + "\n");
  if (w.ok()) w = WriteFileAtomic(sweep_dir + "/results.csv", ResultsCsv(sorted, keys));
  if (w.ok()) w = WriteFileAtomic(sweep_dir + "/results.md", ResultsMarkdown(sorted, keys));
  if (!w.ok()) return w;
  std::printf("results: %s/results.{csv,json,md}\n", sweep_dir.c_str());
  std::fflush(stdout);

  if (failed > 0) return Status::Runtime(fmt::format("sweep {}: {} of {} trials failed", spec.name, failed, n));
  if (!export_error.empty()) return Status::Runtime("sweep " + spec.name + ": exporting the best trial failed: " + export_error);
  if (!best) return Status::Runtime("sweep " + spec.name + ": no trial produced a finite " + spec.objective.metric);
  return Status::Ok();
}

}  // namespace pipeline::sweep
