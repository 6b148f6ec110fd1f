// Learning-rate schedules, evaluated once per epoch (0-based).
//
// A cosine schedule depends on the length of the run: it decays over a
// horizon of `horizon` epochs. The horizon is fixed when a run starts
// (optimizer.schedule.epochs, else train.epochs) and kept in the checkpoint,
// so a run extended with --resume, or an ASHA trial promoted to the next rung,
// continues the same curve instead of restarting a longer one (docs/config.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/optimizer_config.h"

namespace pipeline {

// The schedule's own keys (engine/optimizer_config.h); its `epochs` horizon
// reaches LearningRateAt resolved (0 means train.epochs there).
using ScheduleSpec = ScheduleConfig;

// Each schedule registers itself in engine/schedule.cpp (one function, one
// PIPELINE_REGISTER line); these are their names, alphabetical.
const std::vector<std::string>& ScheduleTypes();

// InvalidArgument "Unknown schedule type: X (known types: ...)" for a type no
// schedule registered; the build stage checks it before training starts.
Status CheckSchedule(const ScheduleSpec& spec);

// constant: base; step: base * rate^floor(epoch/decay_epochs);
// exponential: base * rate^(epoch/decay_epochs);
// cosine: min + (base-min) * (1 + cos(pi * epoch/horizon)) / 2.
// An unknown type (CheckSchedule) gives NaN, never a silent constant.
double LearningRateAt(const ScheduleSpec& spec, double base, int64_t epoch, int64_t horizon);

// Whether the schedule's values depend on the horizon (cosine), so that
// changing the run's length changes learning rates already applied.
bool ScheduleDependsOnHorizon(const std::string& type);

// The horizon of a run: `schedule_epochs` when set (> 0), else `train_epochs`.
int64_t ScheduleHorizon(int64_t schedule_epochs, int64_t train_epochs);

}  // namespace pipeline
