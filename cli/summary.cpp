#include "cli/summary.h"

#include "common/json.h"
#include "stages/epoch_hooks.h"

namespace pipeline::cli {

std::string SummaryJson(const Context& ctx, const Status& status) {
  const RunMetrics& m = ctx.metrics;
  std::vector<std::string> epochs;
  for (const auto& e : m.epochs) epochs.push_back(EpochMetricsJson(e));
  json::Object o;
  o.Str("name", ctx.config.name)
      .Str("config", ctx.config.source_path)
      .Str("run_dir", ctx.run_dir)
      .Str("status", status.ok() ? "ok" : "failed");
  if (!status.ok()) o.Str("error", status.message());
  o.Int("seed", static_cast<long long>(ctx.config.seed))
      .Int("threads", ctx.runtime ? ctx.runtime->threads() : 0)
      .Int("parameters", ctx.model ? ctx.model->ParameterCount() : 0)
      .Num("test_accuracy", m.test_accuracy)
      .Num("test_loss", m.test_loss)
      .Num("validation_accuracy", m.epochs.empty() ? NAN : m.epochs.back().validation_accuracy)
      .Num("final_loss", m.epochs.empty() ? NAN : m.epochs.back().loss)
      .Raw("epochs", json::Array(epochs))
      .Num("train_examples_per_second", m.train_examples_per_second)
      .Num("evaluate_examples_per_second", m.evaluate_examples_per_second);
  if (ctx.exported) {
    o.Str("export_dir", ctx.exported->version_dir).Int("export_version", ctx.exported->version);
  } else {
    o.Null("export_dir");
  }
  return o.str() + "\n";
}

}  // namespace pipeline::cli
