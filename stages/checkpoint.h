// Training checkpoints: everything needed to continue a run bit-identically.
//
// Layout: <run_dir>/checkpoint/checkpoint.bin, one file written atomically
// (temporary sibling, fsync, rename, fsync of the directory), so a kill at any
// moment leaves the previous checkpoint or the new one, never a mix. It holds
//   - the training position: epochs completed, batches done in the epoch in
//     progress (0 at an epoch boundary) and that epoch's running loss sums,
//   - every Param value (name, dims), every optimizer Slot and the step count,
//   - the learning-rate schedule's horizon in epochs (format 2; engine/schedule.h),
//   - the per-epoch metrics so far (what metrics.jsonl holds; AUC, RMSE and R^2
//     from format 3),
//   - train.early_stopping / keep: best's state (format 3; Context::best): the
//     best epoch, its score, the epochs since, and with keep: best its tensors,
// little-endian, closed by a masked CRC-32C of all preceding bytes.
//
// Writers: the train stage on SIGINT/SIGTERM (mid-epoch position), the
// checkpoint epoch hook every train.checkpoint_every epochs and at the end of
// training. Reader: `pipeline run CONFIG --resume RUN_DIR` (stages/resume.h).
// docs/reliability.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "stages/context.h"
#include "stages/epoch_hooks.h"

namespace pipeline {

struct TrainPosition {
  int64_t epoch = 0;           // epochs completed = 0-based index of the epoch in progress
  int64_t batch = 0;           // batches of that epoch already applied (0: at the boundary)
  double loss_sum = 0.0;       // that epoch's sum of loss * batch size so far
  int64_t loss_examples = 0;   // and the examples it covers
};

struct CheckpointTensor {
  std::string name;
  std::vector<int64_t> dims;   // params only
  std::vector<float> values;
};

struct Checkpoint {
  TrainPosition position;
  int64_t optimizer_steps = 0;
  // The epochs a length-dependent (cosine) schedule spans, fixed when the run
  // started; 0 in format-1 checkpoints, which did not record it.
  int64_t schedule_horizon = 0;
  std::vector<CheckpointTensor> params;
  std::vector<CheckpointTensor> slots;
  std::vector<EpochMetrics> epochs;
  // Context::best; its weights as tensors named as the model's SavedTensors.
  // Format-1 and -2 checkpoints hold none (best_epoch 0).
  int64_t best_epoch = 0;
  double best_value = NAN;
  int64_t best_wait = 0;
  std::vector<CheckpointTensor> best_weights;
};

std::string CheckpointDir(const std::string& run_dir);   // <run_dir>/checkpoint
std::string CheckpointPath(const std::string& run_dir);  // <run_dir>/checkpoint/checkpoint.bin

// The bytes of a checkpoint and back. Parse errors are Corruption naming
// `source` and the byte offset.
std::string SerializeCheckpoint(const Checkpoint& ck);
Status ParseCheckpoint(const std::string& bytes, const std::string& source, Checkpoint* out);

// Snapshot of ctx's model, optimizer and metrics at `pos`.
Checkpoint CaptureCheckpoint(Context& ctx, const TrainPosition& pos);
// Writes it atomically to CheckpointPath(run_dir).
Status WriteCheckpoint(const std::string& run_dir, const Checkpoint& ck);
Status SaveCheckpoint(Context& ctx, const TrainPosition& pos);
// NotFound when RUN_DIR has no checkpoint; Corruption when it is damaged.
Status ReadCheckpoint(const std::string& run_dir, Checkpoint* out);
// Puts the checkpoint's values into ctx.model / ctx.optimizer / ctx.metrics.
// Corruption when names or sizes disagree with the built model.
Status RestoreCheckpoint(const Checkpoint& ck, Context& ctx);
// Writes a checkpoint every train.checkpoint_every epochs and after the last.
std::unique_ptr<EpochHook> NewCheckpointHook();

}  // namespace pipeline
