#include "stages/early_stopping.h"

#include <cmath>

#include <fmt/format.h>

namespace pipeline {
namespace {

bool HigherIsBetter(const std::string& monitor) {
  return monitor == "validation_accuracy" || monitor == "validation_auc" || monitor == "validation_r2";
}

}  // namespace

bool TracksBestEpoch(const TrainConfig& train) { return train.early_stopping.patience > 0 || train.keep == "best"; }

double MonitoredValue(const EpochMetrics& m, const std::string& monitor) {
  if (monitor == "validation_accuracy") return m.validation_accuracy;
  if (monitor == "validation_auc") return m.validation_auc;
  if (monitor == "validation_rmse") return m.validation_rmse;
  if (monitor == "validation_r2") return m.validation_r2;
  return m.validation_loss;
}

bool Improves(const EarlyStoppingConfig& es, double value, double best) {
  if (!std::isfinite(value)) return false;
  if (std::isnan(best)) return true;
  return HigherIsBetter(es.monitor) ? value - es.min_delta > best : value + es.min_delta < best;
}

void UpdateBestEpoch(Context& ctx, const EpochMetrics& m) {
  const TrainConfig& train = ctx.config.train;
  BestEpoch& best = ctx.best;
  const double value = MonitoredValue(m, train.early_stopping.monitor);
  if (!Improves(train.early_stopping, value, best.value)) {
    ++best.wait;
    return;
  }
  best.epoch = m.epoch;
  best.value = value;
  best.wait = 0;
  if (train.keep != "best") return;
  const std::vector<Param*> tensors = ctx.model->SavedTensors();
  best.weights.resize(tensors.size());
  // Same sizes every time: after the first improvement the copies reuse their storage.
  for (size_t i = 0; i < tensors.size(); ++i) best.weights[i].assign(tensors[i]->value.begin(), tensors[i]->value.end());
}

bool EarlyStopDue(const TrainConfig& train, const BestEpoch& best) {
  return train.early_stopping.patience > 0 && best.wait >= train.early_stopping.patience;
}

void SummarizeBestEpoch(Context& ctx, int64_t epochs_run) {
  const TrainConfig& train = ctx.config.train;
  if (!TracksBestEpoch(train)) return;
  const EarlyStoppingConfig& es = train.early_stopping;
  RunMetrics& m = ctx.metrics;
  m.best_epoch = ctx.best.epoch;
  m.stopped_epoch = EarlyStopDue(train, ctx.best) && epochs_run < train.epochs ? epochs_run : 0;
  // No epoch with a finite score: nothing to restore, the last weights stay.
  m.kept_epoch = train.keep == "best" && ctx.best.epoch > 0 ? ctx.best.epoch : epochs_run;
  if (!ctx.log) return;
  if (m.stopped_epoch > 0)
    ctx.log->Info(fmt::format("early stopping: {} has not improved by more than {} for {} epochs; stopped after "
                              "epoch {} of {}",
                              es.monitor, es.min_delta, es.patience, m.stopped_epoch, train.epochs));
  if (m.best_epoch > 0)
    ctx.log->Info(fmt::format("best epoch: {} ({} = {:.6f}); keeping epoch {}'s weights (train.keep: {})",
                              m.best_epoch, es.monitor, ctx.best.value, m.kept_epoch, train.keep));
  else
    ctx.log->Warn(fmt::format("no epoch had a finite {}; keeping the last epoch's weights", es.monitor));
}

void RestoreBestWeights(Context& ctx) {
  if (ctx.config.train.keep != "best" || ctx.best.weights.empty()) return;
  const std::vector<Param*> tensors = ctx.model->SavedTensors();
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i]->value = ctx.best.weights[i];
}

}  // namespace pipeline
