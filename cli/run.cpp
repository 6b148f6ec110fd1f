// pipeline run CONFIG [KEY=VALUE ...]: the whole pipeline, stage by stage.
#include <algorithm>
#include <filesystem>
#include <ctime>

#include "cli/command.h"
#include "cli/summary.h"
#include "common/dir_lock.h"
#include "common/files.h"
#include "config/loader.h"
#include "dist/collective.h"
#include "stages/preflight.h"
#include "stages/resume.h"
#include "stages/signals.h"
#include "stages/stage.h"

namespace pipeline::cli {

extern const char kRunUsage[] =
    "usage: pipeline run CONFIG [KEY=VALUE ...] [options]\n\n"
    "Runs the stages of the pipeline CONFIG describes (default: load build train evaluate export).\n\n"
    "  KEY=VALUE, --set KEY=VALUE   override a config key, e.g. train.epochs=5 model.layers.0.units=128;\n"
    "                               validated like the file\n"
    "  --stages a,b,...             run only these stages (same as stages=[a,b,...])\n"
    "  --json FILE                  write the run summary (test_accuracy, test_loss, epochs, ...) to FILE\n"
    "  --run-dir DIR                write the run's files to DIR (default: <output_dir>/<name>/<time>)\n"
    "  --resume RUN_DIR             continue the run in RUN_DIR from its last checkpoint (RUN_DIR/checkpoint/);\n"
    "                               the config must equal RUN_DIR/config.yaml except for a larger train.epochs\n"
    "  --quiet, --verbose           fewer or more lines\n"
    "  --multirun KEY=A,B ...       a sweep over the comma-separated values (pipeline sweep --help)\n\n"
    "The run directory receives config.yaml (the resolved config), metrics.jsonl (one line per epoch)\n"
    "and summary.json. SIGINT or SIGTERM during training finishes the batch, writes a checkpoint and\n"
    "exits 130 or 143. Exit codes: 0 success, 1 runtime failure, 2 usage or config error,\n"
    "130/143 interrupted (resumable with --resume).\n\n"
    "Under mpirun -np N (or srun) the N processes train one model data-parallel: each takes a slice\n"
    "of every train.batch_size batch and rank 0 alone writes the run directory (docs/distributed.md).\n";

namespace {

std::string NewRunDir(const PipelineConfig& cfg) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const std::string base = cfg.output_dir + "/" + cfg.name + "/" + stamp;
  std::string dir = base;
  for (int k = 2; std::filesystem::exists(dir); ++k) dir = base + "-" + std::to_string(k);
  return dir;
}

}  // namespace

int MultirunCommand(const std::vector<std::string>& args);  // cli/sweep.cpp

int RunCommand(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--multirun") != args.end()) return MultirunCommand(args);
  CommonArgs a;
  if (!ParseCommon(args, {"--json", "--stages", "--run-dir", "--resume"}, {"--quiet", "--verbose"}, &a)) return 2;
  if (!Option(a, "--stages").empty()) a.overrides.push_back("stages=[" + Option(a, "--stages") + "]");

  Context ctx;
  Status st = LoadConfig(a.config, a.overrides, &ctx.config);
  if (!st.ok()) return Fail(st);
  // mpirun / srun: one of N ranks training one model (docs/distributed.md).
  std::string world_error;
  std::unique_ptr<dist::Collective> world = dist::OpenWorld(&world_error);
  if (!world) return Fail(Status::Runtime(world_error));
  if (world->size() > 1) ctx.world = world.get();
  const bool primary = ctx.primary();
  Logger log(stdout, Flag(a, "--quiet") || !primary ? Logger::Level::kQuiet
                     : Flag(a, "--verbose") ? Logger::Level::kVerbose
                                            : Logger::Level::kNormal);
  ctx.log = &log;
  // What can fail without data fails before the run directory exists.
  st = Preflight(ctx.config);
  if (!st.ok()) return Fail(st);
  // One process per run directory: a second writer would interleave its
  // metrics, checkpoints and summary with ours (common/dir_lock.h).
  DirLock lock;
  const std::string resume = Option(a, "--resume");
  // Rank 0's setup failed: the others are on their way into training's first collective.
  auto FailAll = [&](const Status& failed) {
    const int code = Fail(failed);
    if (ctx.world) world->Abort(code);
    return code;
  };
  if (!primary) {
    // The others write nothing: rank 0 owns the run directory and checks --resume.
    ctx.run_dir = resume.empty() ? Option(a, "--run-dir") : resume;
    ctx.resume = !resume.empty();
    std::vector<std::string> stages;  // evaluate and export run on rank 0 alone
    for (const auto& s : ctx.config.stages)
      if (s == "load" || s == "build" || s == "train") stages.push_back(s);
    st = RunStages(stages, ctx);
    if (!st.ok()) {
      const int code = Fail(st);
      if (!ctx.failure_agreed) world->Abort(code);
      return StopSignal() != 0 ? 128 + StopSignal() : code;
    }
    return 0;
  }
  if (!resume.empty()) {
    st = OpenResumedRunDir(resume, Option(a, "--run-dir"), ctx.config, &lock);
    if (!st.ok()) return FailAll(st);
    ctx.run_dir = resume;
    ctx.resume = true;
  } else {
    ctx.run_dir = Option(a, "--run-dir").empty() ? NewRunDir(ctx.config) : Option(a, "--run-dir");
    st = MakeDirs(ctx.run_dir);
    if (st.ok()) st = DirLock::Acquire(ctx.run_dir, "run directory", &lock);
    if (!st.ok()) return FailAll(st);
  }
  if (st.ok()) st = WriteFileAtomic(ctx.run_dir + "/config.yaml", EmitResolvedYaml(ctx.config));
  if (st.ok()) st = RunStages(ctx.config.stages, ctx);
  log.ClearProgress();  // an error message must not start on a progress line

  const std::string summary = SummaryJson(ctx, st);
  Status write = WriteFileAtomic(ctx.run_dir + "/summary.json", summary);
  if (write.ok() && !Option(a, "--json").empty()) write = WriteFileAtomic(Option(a, "--json"), summary);
  if (!st.ok()) {
    const int code = Fail(st);
    // A failure rank 0 alone met: the others may wait in a collective.
    if (ctx.world && !ctx.failure_agreed) world->Abort(StopSignal() != 0 ? 128 + StopSignal() : code);
    // Interrupted training: 128 + the signal, as a shell reports a process the signal killed.
    return StopSignal() != 0 ? 128 + StopSignal() : code;
  }
  if (!write.ok()) return Fail(write);
  log.Verbose("run directory: " + ctx.run_dir);
  return 0;
}

}  // namespace pipeline::cli
