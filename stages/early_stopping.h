// train.early_stopping and train.keep: best, over the per-epoch validation
// scores the train stage computes (stages/evaluation.h). Keras' EarlyStopping
// semantics: an epoch improves when its monitored score beats the best so far
// by more than min_delta (lower for a loss or RMSE, higher for accuracy, AUC
// or R^2); training stops once `patience` epochs in a row have
// not improved. keep: best ranks epochs the same way, so with early stopping
// off it still uses train.early_stopping.monitor and min_delta.
#pragma once

#include <string>

#include "config/config.h"
#include "stages/context.h"

namespace pipeline {

// Whether early stopping or keep: best needs the tracker at all.
bool TracksBestEpoch(const TrainConfig& train);

// The monitored score of one epoch (NaN when the split has none).
double MonitoredValue(const EpochMetrics& m, const std::string& monitor);

// Whether `value` improves on the best so far (`best`, NaN: none yet). NaN never improves.
bool Improves(const EarlyStoppingConfig& es, double value, double best);

// After epoch `m` has been validated: ctx.best moves to `m` on an improvement
// (with keep: best, copying the model's tensors into buffers sized once), else
// its wait grows.
void UpdateBestEpoch(Context& ctx, const EpochMetrics& m);

// Whether training stops now: early stopping is on and `patience` epochs have
// gone by without an improvement.
bool EarlyStopDue(const TrainConfig& train, const BestEpoch& best);

// The end of training (`epochs_run` epochs done): fills ctx.metrics'
// stopped/best/kept epochs and logs them. Before the epoch hooks' OnTrainEnd,
// which report them.
void SummarizeBestEpoch(Context& ctx, int64_t epochs_run);

// keep: best: puts ctx.best's weights into ctx.model. After the final
// checkpoint, which keeps the last epoch's weights so that a run extended with
// --resume goes on from where it stopped.
void RestoreBestWeights(Context& ctx);

}  // namespace pipeline
