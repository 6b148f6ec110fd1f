#include "sweep/trial_task.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/files.h"
#include "stages/signals.h"

extern char** environ;

namespace pipeline::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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
  // The child starts with SIGINT/SIGTERM unblocked (this process blocks them: stages/signals.h).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  const sigset_t mask = ChildSignalMask();
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc = posix_spawn(pid, exe.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
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

std::map<std::string, events::HParamValue> HParams(const Trial& trial) {
  std::map<std::string, events::HParamValue> out;
  for (const auto& p : trial.params) out[p.key] = HParam(p.value);
  return out;
}

}  // namespace

std::string CommandLine(const std::string& exe, const std::vector<std::string>& args) {
  std::string cmd = Quote(exe);
  for (const auto& a : args) {
    cmd += ' ';
    cmd += Quote(a);
  }
  return cmd;
}

events::HParamValue HParam(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return v;
  return text;
}

std::string ParamsText(const std::vector<Param>& params) {
  std::string s;
  for (const auto& p : params) {
    if (!s.empty()) s += " ";
    s += p.Text();
  }
  return s;
}

Status PrepareTask(Task* t, const std::string& exe, const Trial& trial) {
  if (!t->resume) CleanRunDir(t->run_dir);
  Status st = MakeDirs(t->run_dir);
  if (st.ok()) st = WriteFileAtomic(t->run_dir + "/command.txt", CommandLine(exe, t->args) + "\n");
  if (st.ok() && !t->resume) st = events::WriteHParamsSessionStart(t->run_dir, HParams(trial));
  std::printf("%s start  %s  %s\n", t->label.c_str(), trial.id.c_str(), ParamsText(trial.params).c_str());
  if (!st.ok()) {
    t->result.status = "failed";
    t->result.error = st.message();
    std::printf("%s failed %s  %s\n", t->label.c_str(), trial.id.c_str(), st.message().c_str());
  }
  std::fflush(stdout);
  return st;
}

void FinishTask(Task* t, const TaskExit& exit, const Trial& trial, const Objective& objective) {
  const bool have = ReadSummary(t->run_dir + "/summary.json", &t->result);
  t->result.slurm_job = exit.job;
  const bool ok = have && exit.reported && exit.code == 0 && exit.signal == 0 && t->result.status == "ok";
  events::WriteHParamsSessionEnd(t->run_dir, ok);
  if (!ok) {
    t->result.status = "failed";
    if (t->result.error.empty()) {
      const std::string tail = LastLines(t->run_dir + "/log.txt", 2);
      const std::string why = !exit.reported ? "cancelled, or killed by the scheduler, before it exited"
                              : exit.signal != 0 ? fmt::format("killed by signal {}", exit.signal)
                                                 : fmt::format("exit code {}", exit.code);
      t->result.error = why + (tail.empty() ? "" : ": " + tail);
    }
    // A Slurm trial's error names its array task, also when the run wrote the
    // error itself (scancel's SIGTERM: "interrupted by SIGTERM ...").
    if (!exit.job.empty()) t->result.error = fmt::format("slurm job {}: {}", exit.job, t->result.error);
    const std::string first = t->result.error.substr(0, t->result.error.find_first_of(";\n"));
    std::printf("%s failed %s  %s  (%.1fs; log: %s/log.txt)\n", t->label.c_str(), trial.id.c_str(), first.c_str(),
                t->seconds, t->run_dir.c_str());
  } else {
    if (!t->keep_as.empty())
      fs::copy_file(t->run_dir + "/summary.json", t->keep_as, fs::copy_options::overwrite_existing);
    std::printf("%s done   %s  %s=%.4f  %.1fs\n", t->label.c_str(), trial.id.c_str(), objective.metric.c_str(),
                t->result.Metric(objective.metric), t->seconds);
  }
  std::fflush(stdout);
}

void RunTasksLocally(const std::vector<Task*>& tasks, int64_t jobs, const std::string& exe,
                     const std::vector<Trial>& trials, const Objective& objective) {
  std::vector<Running> running;
  size_t next = 0;
  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && static_cast<int64_t>(running.size()) < jobs) {
      Task* t = tasks[next++];
      if (!PrepareTask(t, exe, trials[t->trial]).ok()) continue;
      pid_t pid = 0;
      const Status st = Spawn(exe, t->args, t->run_dir + "/log.txt", &pid);
      if (!st.ok()) {
        t->result.status = "failed";
        t->result.error = st.message();
        std::printf("%s failed %s  %s\n", t->label.c_str(), trials[t->trial].id.c_str(), st.message().c_str());
        continue;
      }
      running.push_back({pid, t, Clock::now()});
    }
    bool reaped = false;
    for (size_t i = 0; i < running.size(); ++i) {
      int wstatus = 0;
      const pid_t r = waitpid(running[i].pid, &wstatus, WNOHANG);
      if (r == 0) continue;
      Task* t = running[i].task;
      t->seconds = Since(running[i].start);
      TaskExit exit;
      exit.code = r < 0 ? -1 : WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
      exit.signal = r > 0 && WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
      FinishTask(t, exit, trials[t->trial], objective);
      running.erase(running.begin() + static_cast<long>(i));
      --i;
      reaped = true;
    }
    if (!reaped && !running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace pipeline::sweep
