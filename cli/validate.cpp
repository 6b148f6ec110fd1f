// pipeline validate CONFIG [KEY=VALUE ...]: checks without running anything.
#include <cstdio>

#include <fmt/format.h>

#include "cli/command.h"
#include "config/loader.h"
#include "stages/model_spec.h"
#include "stages/preflight.h"
#include "stages/stage.h"

namespace pipeline::cli {

extern const char kValidateUsage[] =
    "usage: pipeline validate CONFIG [KEY=VALUE ...] [--set KEY=VALUE]\n\n"
    "Validates CONFIG with the overrides applied, prints the resolved config (every key, defaults\n"
    "filled), the model's parameter count and its FLOPs per training example. Reads no data.\n"
    "Exit codes: 0 valid, 2 invalid (each error with file:line:col and the key).\n";

int ValidateCommand(const std::vector<std::string>& args) {
  CommonArgs a;
  if (!ParseCommon(args, {}, {}, &a)) return 2;
  PipelineConfig cfg;
  Status st = LoadConfig(a.config, a.overrides, &cfg);
  if (st.ok()) st = CheckStageOrder(cfg.stages);
  // Sizes from the config alone: building the network would allocate every weight.
  ModelSize size;
  if (st.ok()) st = SizeConfiguredModel(cfg, &size);
  if (st.ok()) st = CheckModelFitsMemory(cfg);
  if (!st.ok()) return Fail(st);
  std::printf("%s", EmitResolvedYaml(cfg).c_str());
  std::printf("# parameters: %lld\n", static_cast<long long>(size.params));
  std::printf("# training FLOPs per example: %lld (%.2f MFLOP)\n", static_cast<long long>(size.training_flops),
              size.training_flops / 1e6);
  std::printf("# inference FLOPs per example: %lld\n", static_cast<long long>(size.inference_flops));
  std::printf("# memory to train: %s\n", FormatBytes(size.bytes).c_str());
  std::printf("# %s: valid\n", a.config.c_str());
  return 0;
}

}  // namespace pipeline::cli
