// pipeline run CONFIG [KEY=VALUE ...]: the whole pipeline, stage by stage.
#include <filesystem>
#include <ctime>

#include "cli/command.h"
#include "cli/summary.h"
#include "common/files.h"
#include "config/loader.h"
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
    "  --quiet, --verbose           fewer or more lines\n\n"
    "The run directory receives config.yaml (the resolved config), metrics.jsonl (one line per epoch)\n"
    "and summary.json. Exit codes: 0 success, 1 runtime failure, 2 usage or config error.\n";

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

int RunCommand(const std::vector<std::string>& args) {
  CommonArgs a;
  if (!ParseCommon(args, {"--json", "--stages", "--run-dir"}, {"--quiet", "--verbose"}, &a)) return 2;
  if (!Option(a, "--stages").empty()) a.overrides.push_back("stages=[" + Option(a, "--stages") + "]");

  Context ctx;
  Status st = LoadConfig(a.config, a.overrides, &ctx.config);
  if (!st.ok()) return Fail(st);
  Logger log(stdout, Flag(a, "--quiet") ? Logger::Level::kQuiet
                     : Flag(a, "--verbose") ? Logger::Level::kVerbose
                                            : Logger::Level::kNormal);
  ctx.log = &log;
  ctx.run_dir = Option(a, "--run-dir").empty() ? NewRunDir(ctx.config) : Option(a, "--run-dir");
  st = MakeDirs(ctx.run_dir);
  if (st.ok()) st = WriteFileAtomic(ctx.run_dir + "/config.yaml", EmitResolvedYaml(ctx.config));
  if (st.ok()) st = RunStages(ctx.config.stages, ctx);

  const std::string summary = SummaryJson(ctx, st);
  Status write = WriteFileAtomic(ctx.run_dir + "/summary.json", summary);
  if (write.ok() && !Option(a, "--json").empty()) write = WriteFileAtomic(Option(a, "--json"), summary);
  if (!st.ok()) return Fail(st);
  if (!write.ok()) return Fail(write);
  log.Verbose("run directory: " + ctx.run_dir);
  return 0;
}

}  // namespace pipeline::cli
