// pipeline sweep SWEEP.yaml [--jobs N], and pipeline run CONFIG --multirun k=a,b ...
#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "cli/command.h"
#include "sweep/sweep.h"

namespace pipeline::cli {

extern const char kSweepUsage[] =
    "usage: pipeline sweep SWEEP.yaml [KEY=VALUE ...] [--jobs N] [--max-trials N] [--dry-run]\n"
    "                      [--launcher local|slurm] [--partition P] [--max-parallel K] [--time T] [--cpus-per-task C]\n"
    "                      [--ntasks-per-trial N]\n"
    "       pipeline run CONFIG --multirun KEY=A,B,... [KEY=VALUE ...] [--jobs N] [--max-trials N] [--dry-run]\n\n"
    "Runs every variant of a pipeline config a sweep file describes (grid, random samples, explicit sets),\n"
    "each as a child `pipeline run` in runs/<sweep>/<trial-id>/, and prints a table sorted by the objective.\n"
    "Every trial's config is validated before any runs. Re-running skips finished trials and retries\n"
    "failed or interrupted ones. docs/sweep.md describes the file.\n\n"
    "  KEY=VALUE       an extra override for every trial (with --multirun, A,B,... sweeps the values)\n"
    "  --jobs N        trials at once; each gets cores/N threads (default: one per core)\n"
    "  --max-trials N  refuse a sweep of more than N trials (default: 10000)\n"
    "  --dry-run       validate and list the trials, run nothing\n"
    "  --launcher L    local (default): child processes here; slurm: each batch of trials (a grid, an ASHA\n"
    "                  rung) is one Slurm job array submitted with sbatch, followed with squeue; results\n"
    "                  come from the run directories, which must be on a file system the nodes share\n"
    "  --partition P, --time T       sbatch's --partition and --time for every trial (slurm)\n"
    "  --max-parallel K              at most K trials running at once (sbatch --array=...%K; slurm)\n"
    "  --cpus-per-task C             CPUs per trial process, and its train.threads (default 1; slurm)\n"
    "  --ntasks-per-trial N          each trial trains data-parallel on N processes, started by\n"
    "                                srun --mpi=pmix in its array task (sbatch --ntasks=N; default 1; slurm)\n\n"
    "Writes results.csv, results.json and results.md into runs/<sweep>/; exports the best trial unless\n"
    "the file says export: none. Exit codes: 0 all trials ok, 1 a trial failed, 2 usage or config error.\n";

namespace {

// A positive integer option (unchanged when absent).
bool ParsePositive(const CommonArgs& a, const std::string& name, int64_t* out) {
  const std::string j = Option(a, name);
  if (j.empty()) return true;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(j.c_str(), &end, 10);
  if (*end || v < 1 || errno == ERANGE) {
    std::fprintf(stderr, "%s needs a positive integer, got '%s'\n", name.c_str(), j.c_str());
    return false;
  }
  *out = v;
  return true;
}

// The arguments both sweep commands take: CONFIG, overrides, --jobs, --max-trials, --dry-run.
bool ParseSweepArgs(const std::vector<std::string>& args, CommonArgs* a, sweep::RunOptions* options,
                    int64_t* max_trials) {
  static const std::vector<std::string> kSlurmOnly = {"--partition", "--max-parallel", "--time", "--cpus-per-task",
                                                      "--ntasks-per-trial"};
  std::vector<std::string> value_options = {"--jobs", "--max-trials", "--launcher"};
  value_options.insert(value_options.end(), kSlurmOnly.begin(), kSlurmOnly.end());
  if (!ParseCommon(args, value_options, {"--dry-run"}, a)) return false;
  if (!ParsePositive(*a, "--jobs", &options->jobs)) return false;
  if (!ParsePositive(*a, "--max-trials", max_trials)) return false;
  options->dry_run = Flag(*a, "--dry-run");
  const std::string launcher = Option(*a, "--launcher");
  if (!launcher.empty()) options->launcher = launcher;
  if (options->launcher != "local" && options->launcher != "slurm") {
    std::fprintf(stderr, "--launcher: unknown launcher '%s' (allowed: local, slurm)\n", launcher.c_str());
    return false;
  }
  for (const auto& name : kSlurmOnly)
    if (!Option(*a, name).empty() && options->launcher != "slurm") {
      std::fprintf(stderr, "%s is an option of the Slurm launcher: add --launcher slurm\n", name.c_str());
      return false;
    }
  if (options->launcher == "slurm" && !Option(*a, "--jobs").empty()) {
    std::fprintf(stderr, "--jobs is the local launcher's; with --launcher slurm use --max-parallel\n");
    return false;
  }
  options->slurm.partition = Option(*a, "--partition");
  options->slurm.time = Option(*a, "--time");
  if (!ParsePositive(*a, "--max-parallel", &options->slurm.max_parallel)) return false;
  if (!ParsePositive(*a, "--cpus-per-task", &options->slurm.cpus_per_task)) return false;
  if (!ParsePositive(*a, "--ntasks-per-trial", &options->slurm.ntasks_per_trial)) return false;
  return true;
}

}  // namespace

int SweepCommand(const std::vector<std::string>& args) {
  CommonArgs a;
  sweep::RunOptions options;
  int64_t max_trials = sweep::kDefaultMaxTrials;
  if (!ParseSweepArgs(args, &a, &options, &max_trials)) return 2;
  sweep::SweepSpec spec;
  Status st = sweep::LoadSweepFile(a.config, &spec);
  if (!st.ok()) return Fail(st);
  spec.max_trials = max_trials;
  for (const auto& o : a.overrides) {
    const size_t eq = o.find('=');
    spec.overrides.push_back({o.substr(0, eq), o.substr(eq + 1), {}, {}});
  }
  st = sweep::RunSweep(spec, options);
  return st.ok() ? 0 : Fail(st);
}

// `pipeline run CONFIG --multirun ...`: the run command hands over here.
int MultirunCommand(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  for (const auto& x : args)
    if (x != "--multirun") rest.push_back(x);
  CommonArgs a;
  sweep::RunOptions options;
  int64_t max_trials = sweep::kDefaultMaxTrials;
  if (!ParseSweepArgs(rest, &a, &options, &max_trials)) return 2;
  sweep::SweepSpec spec;
  Status st = sweep::MultirunSpec(a.config, a.overrides, &spec);
  spec.max_trials = max_trials;
  if (st.ok()) st = sweep::RunSweep(spec, options);
  return st.ok() ? 0 : Fail(st);
}

}  // namespace pipeline::cli
