// Things that happen at epoch boundaries of the train stage besides training
// itself: checkpoints (stages/checkpoint.*), TensorBoard events, and so on.
// Each is a hook the train stage calls; none edits the training loop. The
// interface only: the list of hooks is stages/train_hooks.h, so that a hook's
// unit includes this one and nothing includes back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "stages/context.h"

namespace pipeline {

class EpochHook {
 public:
  virtual ~EpochHook() = default;
  // Before the first epoch that will run (after a resume: the first remaining one).
  virtual Status OnTrainBegin(Context& ctx) { return Status::Ok(); }
  // After epoch `m.epoch` (1-based) finished and its metrics are in ctx.metrics.
  virtual Status OnEpochEnd(Context& ctx, const EpochMetrics& m) { return Status::Ok(); }
  // After the last epoch, or when training stops early (stopped = true).
  virtual Status OnTrainEnd(Context& ctx, bool stopped) { return Status::Ok(); }
};

// Appends m.ToJson() (records/run_records.h) to <run_dir>/metrics.jsonl after each epoch.
std::unique_ptr<EpochHook> NewMetricsFileHook();

}  // namespace pipeline
