#include "cli/summary.h"

#include "records/run_records.h"

namespace pipeline::cli {

std::string SummaryJson(const Context& ctx, const Status& status) {
  const RunMetrics& m = ctx.metrics;
  records::RunSummary s;
  s.name = ctx.config.name;
  s.config = ctx.config.source_path;
  s.run_dir = ctx.run_dir;
  s.status = status.ok() ? "ok" : "failed";
  if (!status.ok()) s.error = status.message();
  s.seed = static_cast<int64_t>(ctx.config.seed);
  s.threads = ctx.runtime ? ctx.runtime->threads() : 0;
  s.parameters = ctx.model ? ctx.model->ParameterCount() : 0;
  s.test_accuracy = m.test_accuracy;
  s.test_loss = m.test_loss;
  s.test_auc = m.test_auc;
  s.test_rmse = m.test_rmse;
  s.test_r2 = m.test_r2;
  // The epoch whose weights were evaluated and exported (train.keep), so a
  // sweep ranks the model it would get.
  const size_t kept = m.kept_epoch > 0 ? static_cast<size_t>(m.kept_epoch) : m.epochs.size();
  s.validation_accuracy = kept == 0 || kept > m.epochs.size() ? NAN : m.epochs[kept - 1].validation_accuracy;
  s.final_loss = m.epochs.empty() ? NAN : m.epochs.back().loss;
  s.epochs = m.epochs;
  s.stopped_epoch = m.stopped_epoch;
  s.best_epoch = m.best_epoch;
  s.kept_epoch = m.kept_epoch;
  s.train_examples_per_second = m.train_examples_per_second;
  s.evaluate_examples_per_second = m.evaluate_examples_per_second;
  if (ctx.exported) {
    s.export_dir = ctx.exported->version_dir;
    s.export_version = ctx.exported->version;
  }
  return s.ToJson();
}

}  // namespace pipeline::cli
