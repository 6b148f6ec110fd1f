// One trial run as a sweep launches it (a `pipeline run` of the trial's
// overrides into its run directory), what every launcher does before and
// after it, and the two launchers: child processes on this machine, or one
// Slurm job array per batch (sweep/slurm_launcher.cpp). Both prepare and
// finish a task the same way, and take its result from the run directory's
// summary.json, which is the truth (not an exit code or a job state), so they
// write the same results.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "stages/events_hparams.h"
#include "sweep/sweep.h"

namespace pipeline::sweep {

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

// How a task's process ended, as its launcher saw it.
struct TaskExit {
  bool reported = true;  // false: no exit was seen (cancelled, killed by the scheduler, never started)
  int code = 0;          // exit code
  int signal = 0;        // the signal that killed it, or 0
  std::string job;       // the scheduler's id of the task ("12_3"), "" locally
};

// `exe args...` quoted for a shell.
std::string CommandLine(const std::string& exe, const std::vector<std::string>& args);
// "k=v k2=v2".
std::string ParamsText(const std::vector<Param>& params);
// A swept value as TensorBoard's HParams tab types it: number, bool or string.
events::HParamValue HParam(const std::string& text);

// Before the task runs: clears what a previous attempt left in its run
// directory (unless it resumes), writes command.txt and the HParams session
// start, and prints its start line.
Status PrepareTask(Task* t, const std::string& exe, const Trial& trial);
// After it ran: reads its summary.json into t->result (failed, with the
// reason and the log's last lines, when there is none or the exit says
// otherwise), writes the HParams session end, keeps the rung result, prints
// its done or failed line.
void FinishTask(Task* t, const TaskExit& exit, const Trial& trial, const Objective& objective);

// Runs the tasks as child processes of `exe`, up to `jobs` at once.
void RunTasksLocally(const std::vector<Task*>& tasks, int64_t jobs, const std::string& exe,
                     const std::vector<Trial>& trials, const Objective& objective);

// Runs the tasks as one Slurm job array (sbatch), waits for it (squeue) and
// finishes each task. The job is named pipeline-`name`, its script
// `script_dir`/`name`.sh. A stop
// signal (SIGINT, SIGTERM) cancels the array (scancel) and returns
// Runtime; a Slurm command that fails returns IOError naming it.
Status RunTasksOnSlurm(const std::vector<Task*>& tasks, const SlurmOptions& options, const std::string& exe,
                       const std::vector<Trial>& trials, const Objective& objective, const std::string& script_dir,
                       const std::string& name);

// The array's job script: task i runs tasks[i]'s `pipeline run` (under
// srun --mpi=pmix when options.ntasks_per_trial > 1) and writes its exit code
// into its run directory.
std::string SlurmJobScript(const std::vector<Task*>& tasks, const std::string& exe, const std::string& name,
                           const SlurmOptions& options);

}  // namespace pipeline::sweep
