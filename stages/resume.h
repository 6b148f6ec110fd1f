// Resuming a run: `pipeline run CONFIG --resume RUN_DIR` continues RUN_DIR from
// its checkpoint (stages/checkpoint.h). Everything that decides whether a run
// directory may be continued, and that puts its state back, is here:
//   - cli/run.cpp calls OpenResumedRunDir before the run writes anything;
//   - the train stage calls ResumeTraining when ctx.resume is set, and
//     StoppedStatus when a signal stops it (how to resume);
//   - the checkpoint hook and the stop path write the checkpoints it reads.
// docs/reliability.md describes the behaviour.
#pragma once

#include <cstdint>
#include <string>

#include "common/dir_lock.h"
#include "common/status.h"
#include "config/config.h"
#include "stages/checkpoint.h"
#include "stages/context.h"

namespace pipeline {

// --resume RUN_DIR [--run-dir DIR]: `run_dir_option` (may be empty) must name
// the same directory, RUN_DIR must exist, be unlocked (locks it into *lock,
// before reading the checkpoint it continues), hold a checkpoint, and a
// config.yaml that `requested` equals but as CheckResumeConfig allows.
Status OpenResumedRunDir(const std::string& run_dir, const std::string& run_dir_option,
                         const PipelineConfig& requested, DirLock* lock);

// The train stage on a resumed run: restores ctx's model, optimizer state and
// metrics from the checkpoint in ctx.run_dir, checks its position against an
// epoch of `batches_per_epoch` batches, cuts metrics.jsonl back to the
// checkpointed epochs and says where training goes on. *at: the position.
Status ResumeTraining(Context& ctx, int64_t batches_per_epoch, TrainPosition* at);

// What a run stopped by a signal at `pos` returns, given whether its checkpoint
// was written (`saved`): how to resume it, or why it cannot be.
Status StoppedStatus(const Context& ctx, const TrainPosition& pos, int64_t batches_per_epoch, const Status& saved);

// `requested` may differ from the checkpointed run's config only by a
// train.epochs at least as large as before (and not below the epochs already
// completed) and by the export section (export does not touch training).
// Otherwise InvalidArgument naming the first differing key. A horizon-dependent
// schedule (cosine) must keep the checkpoint's horizon: a larger train.epochs
// under optimizer.schedule.epochs: 0 would stretch the curve mid-run.
Status CheckResumeConfig(const PipelineConfig& checkpointed, const PipelineConfig& requested, const Checkpoint& ck);

// Rewrites <run_dir>/metrics.jsonl atomically, keeping the lines of epochs
// 1..epochs once each, in order (a run killed after appending an epoch's line
// but before checkpointing it would otherwise repeat that epoch's line).
Status TruncateMetricsFile(const std::string& run_dir, int64_t epochs);

}  // namespace pipeline
