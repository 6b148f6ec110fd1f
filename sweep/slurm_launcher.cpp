// The Slurm launcher: a batch of trial runs becomes one job array. Each array
// task runs one `pipeline run` into its run directory and leaves its exit code
// beside it; the driver polls squeue until no task of the array is left, and
// takes each result from the run directory (FinishTask), never from Slurm's
// job states: with the wrong process tracking a job that never ran is still
// recorded as COMPLETED with exit 0.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/files.h"
#include "stages/signals.h"
#include "sweep/trial_task.h"

extern char** environ;

namespace pipeline::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kExitFile = "slurm_exit_code";

// Runs a Slurm command to completion; its standard output in *out. IOError
// naming the command when it cannot start or exits non-zero (with its stderr).
Status RunSlurmCommand(const std::vector<std::string>& argv, std::string* out) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    return Status::IOError(fmt::format("{}: cannot make a pipe: {}", argv[0], std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  const sigset_t mask = ChildSignalMask();
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::string err;
  // Slurm's commands print little: read stdout, then stderr (no deadlock
  // below a pipe's 64 KiB).
  for (auto [fd, text] : {std::pair{out_pipe[0], out}, std::pair{err_pipe[0], &err}}) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) text->append(buf, static_cast<size_t>(n));
    close(fd);
  }
  if (rc != 0)
    return Status::IOError(fmt::format("cannot run {}: {} (is Slurm installed? Debian package slurm-client)", argv[0],
                                       std::strerror(rc)));
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Status::IOError(fmt::format("{} failed (exit {}): {}", argv[0],
                                       WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus), err));
  }
  return Status::Ok();
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

// The job script: array task i runs tasks[i] and records its exit code. A
// trial of several processes runs under srun inside its task: srun starts its
// ranks in the task's allocation (sbatch --ntasks) and hands them Slurm's PMIx,
// which Open MPI's MPI_Init reads (dist/collective.cpp).
std::string SlurmJobScript(const std::vector<Task*>& tasks, const std::string& exe, const std::string& name,
                           const SlurmOptions& options) {
  const std::string launch =
      options.ntasks_per_trial > 1
          ? fmt::format("srun --mpi=pmix --ntasks={} --cpus-per-task={} --kill-on-bad-exit=1 ", options.ntasks_per_trial,
                        options.cpus_per_task)
          : std::string();
  std::string s = "#!/bin/sh\n# Written by pipeline sweep (" + name +
                  "): array task i runs trial run i, its output in its run directory's log.txt and its exit\n"
                  "# code in " + kExitFile + " there. The run directory's summary.json is its result.\n"
                  "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string dir = ShellQuote(tasks[i]->run_dir);
    s += fmt::format("  {})\n    {}{} > {}/log.txt 2>&1 < /dev/null\n    echo $? > {}/{}.tmp && mv {}/{}.tmp {}/{} ;;\n", i,
                     launch, CommandLine(exe, tasks[i]->args), dir, dir, kExitFile, dir, kExitFile, dir, kExitFile);
  }
  s += "  *) echo \"pipeline sweep: no trial run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n";
  return s;
}

namespace {

// The exit of array task `i` from the file it left; false when it left none.
bool ReadExit(const Task& t, const std::string& job, TaskExit* exit) {
  std::string text;
  if (!ReadInputFile(t.run_dir + "/" + kExitFile, input::kRunRecord, &text).ok()) return false;
  exit->job = job;
  const int code = std::atoi(text.c_str());
  // pipeline exits 0, 1 or 2; the shell reports a signal N as 128 + N.
  exit->signal = code > 128 ? code - 128 : 0;
  exit->code = code;
  return true;
}

}  // namespace

Status RunTasksOnSlurm(const std::vector<Task*>& tasks, const SlurmOptions& options, const std::string& exe,
                       const std::vector<Trial>& trials, const Objective& objective, const std::string& script_dir,
                       const std::string& name) {
  if (tasks.empty()) return Status::Ok();
  // The array tasks run the same binary by its real path: /proc/self/exe would be their shell.
  std::error_code ec;
  const std::string binary = fs::canonical(exe, ec).string();
  if (ec) return Status::IOError(fmt::format("cannot resolve the pipeline binary {}: {}", exe, ec.message()));
  std::vector<Task*> ready;
  for (Task* t : tasks) {
    if (!PrepareTask(t, binary, trials[t->trial]).ok()) continue;
    fs::remove(t->run_dir + "/" + kExitFile, ec);  // a resumed run's directory keeps its files
    ready.push_back(t);
  }
  if (ready.empty()) return Status::Ok();
  PIPELINE_RETURN_IF_ERROR(MakeDirs(script_dir));
  const std::string script = script_dir + "/" + name + ".sh";
  PIPELINE_RETURN_IF_ERROR(WriteFileAtomic(script, SlurmJobScript(ready, binary, name, options)));

  std::vector<std::string> sbatch = {"sbatch", "--parsable", "--job-name=pipeline-" + name,
                                     fmt::format("--array=0-{}{}", ready.size() - 1,
                                                 options.max_parallel > 0 ? fmt::format("%{}", options.max_parallel) : ""),
                                     fmt::format("--cpus-per-task={}", options.cpus_per_task),
                                     "--chdir=" + fs::current_path().string(),
                                     "--output=" + script_dir + "/" + name + "-%A_%a.out"};
  if (options.ntasks_per_trial > 1) sbatch.push_back(fmt::format("--ntasks={}", options.ntasks_per_trial));
  if (!options.partition.empty()) sbatch.push_back("--partition=" + options.partition);
  if (!options.time.empty()) sbatch.push_back("--time=" + options.time);
  sbatch.push_back(script);
  std::string out;
  PIPELINE_RETURN_IF_ERROR(RunSlurmCommand(sbatch, &out));
  const std::string job = out.substr(0, out.find_first_of(";\n"));  // "<id>" or "<id>;<cluster>"
  if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
    return Status::IOError(fmt::format("sbatch printed no job id: '{}'", out));
  std::printf("slurm: submitted job array %s (%zu task%s) from %s\n", job.c_str(), ready.size(),
              ready.size() == 1 ? "" : "s", script.c_str());
  std::fflush(stdout);

  const auto start = Clock::now();
  std::vector<bool> finished(ready.size(), false);
  auto finish_reported = [&] {
    for (size_t i = 0; i < ready.size(); ++i) {
      TaskExit exit;
      if (finished[i] || !ReadExit(*ready[i], fmt::format("{}_{}", job, i), &exit)) continue;
      ready[i]->seconds = std::chrono::duration<double>(Clock::now() - start).count();
      FinishTask(ready[i], exit, trials[ready[i]->trial], objective);
      finished[i] = true;
    }
  };
  Status result = Status::Ok();
  {
    ScopedStopSignals stop_signals;  // a first SIGINT/SIGTERM cancels the array instead of killing the driver
    int squeue_failures = 0;
    bool cancelled = false;
    for (;;) {
      finish_reported();
      if (StopRequested() && !cancelled) {
        cancelled = true;
        std::string ignored;
        const Status cancel = RunSlurmCommand({"scancel", job}, &ignored);
        result = Status::Runtime(fmt::format("interrupted by {}: cancelled slurm job {}{}",
                                             StopSignalName(StopSignal()), job,
                                             cancel.ok() ? "" : " (scancel: " + cancel.message() + ")"));
      }
      std::string left;
      const Status q = RunSlurmCommand({"squeue", "-h", "-j", job, "-o", "%i"}, &left);
      if (q.ok() && left.find_first_not_of(" \n") == std::string::npos) break;
      if (!q.ok()) {
        // A job that has left the controller's memory is "Invalid job id": done.
        if (q.message().find("Invalid job id") != std::string::npos) break;
        if (++squeue_failures >= 20) {
          result = Status::IOError(fmt::format("cannot follow slurm job {}: {}", job, q.message()));
          break;
        }
      } else {
        squeue_failures = 0;
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(options.poll_seconds));
    }
  }
  finish_reported();
  for (size_t i = 0; i < ready.size(); ++i) {
    if (finished[i]) continue;
    TaskExit exit;
    exit.reported = false;
    exit.job = fmt::format("{}_{}", job, i);
    ready[i]->seconds = std::chrono::duration<double>(Clock::now() - start).count();
    FinishTask(ready[i], exit, trials[ready[i]->trial], objective);
  }
  return result;
}

}  // namespace pipeline::sweep
