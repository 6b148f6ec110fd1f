// The Slurm launcher's job script, run by a real shell with a stand-in `srun`
// on PATH: a data-parallel trial (--ntasks-per-trial N) starts under
// `srun --mpi=pmix --ntasks=N`, a one-process trial starts directly, and each
// task's exit code lands in its run directory. (tests/slurm/ runs sweeps on a
// real one-node cluster.)
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sweep/sweep.h"
#include "sweep/trial_task.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

using pipeline::test::ShellQuote;
using pipeline::test::Slurp;

namespace {

// Runs array task `index` of `script` with `bin` first on PATH; returns the shell's exit status.
int RunArrayTask(const std::string& script, int index, const std::string& bin) {
  const std::string cmd = "env PATH=" + ShellQuote(bin) + ":/usr/bin:/bin SLURM_ARRAY_TASK_ID=" +
                          std::to_string(index) + " sh " + ShellQuote(script);
  return std::system(cmd.c_str());
}

}  // namespace

TEST_CASE("sweep slurm: --ntasks-per-trial runs each trial under srun --mpi=pmix in its array task") {
  const std::string dir = pipeline::test::TempDir("slurm-script");
  const std::string bin = dir + "/bin";
  std::filesystem::create_directories(bin);
  // The stand-in srun records its arguments, then runs the command after its 4 options.
  {
    std::ofstream srun(bin + "/srun");
    srun << "#!/bin/sh\necho \"$@\" > " << ShellQuote(dir + "/srun-args") << "\nshift 4\nexec \"$@\"\n";
  }
  std::filesystem::permissions(bin + "/srun", std::filesystem::perms::owner_all);

  std::vector<pipeline::sweep::Task> tasks(2);
  std::vector<pipeline::sweep::Task*> ptrs;
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].run_dir = dir + "/trial" + std::to_string(i);
    std::filesystem::create_directories(tasks[i].run_dir);
    // The "pipeline run" of each trial: a shell that writes a mark and exits 3 + i.
    tasks[i].args = {"-c", "echo ran > mark; exit " + std::to_string(3 + i)};
    ptrs.push_back(&tasks[i]);
  }

  pipeline::sweep::SlurmOptions parallel;
  parallel.ntasks_per_trial = 2;
  parallel.cpus_per_task = 3;
  const std::string script = dir + "/parallel.sh";
  {
    std::ofstream out(script);
    out << pipeline::sweep::SlurmJobScript(ptrs, "/bin/sh", "grid", parallel);
  }
  RunArrayTask(script, 1, bin);
  CHECK(Slurp(dir + "/srun-args") == "--mpi=pmix --ntasks=2 --cpus-per-task=3 --kill-on-bad-exit=1 /bin/sh -c "
                                     "echo ran > mark; exit 4\n");
  CHECK(Slurp(tasks[1].run_dir + "/slurm_exit_code") == "4\n");
  CHECK(!std::filesystem::exists(tasks[0].run_dir + "/slurm_exit_code"));  // only task 1 ran

  // One process per trial: no srun at all.
  std::filesystem::remove(dir + "/srun-args");
  const std::string single = dir + "/single.sh";
  {
    std::ofstream out(single);
    out << pipeline::sweep::SlurmJobScript(ptrs, "/bin/sh", "grid", pipeline::sweep::SlurmOptions{});
  }
  RunArrayTask(single, 0, bin);
  CHECK(!std::filesystem::exists(dir + "/srun-args"));
  CHECK(Slurp(tasks[0].run_dir + "/slurm_exit_code") == "3\n");
  // An index the array does not have is an error of the script, not a silent success.
  CHECK(RunArrayTask(single, 7, bin) != 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("sweep slurm: --ntasks-per-trial is the Slurm launcher's and takes a positive count") {
  const std::string sweep = std::string(PIPELINE_SOURCE_DIR) + "/configs/sweeps/fashion_lr.yaml";
  auto local = pipeline::test::RunPipeline({"sweep", sweep, "--ntasks-per-trial", "2", "--dry-run"});
  CHECK(local.exit_code == 2);
  CHECK(local.err.find("--ntasks-per-trial is an option of the Slurm launcher") != std::string::npos);
  auto zero = pipeline::test::RunPipeline({"sweep", sweep, "--launcher", "slurm", "--ntasks-per-trial", "0", "--dry-run"});
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("--ntasks-per-trial needs a positive integer, got '0'") != std::string::npos);
}
