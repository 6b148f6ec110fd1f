// Translations from the typed config to the engine's and exporter's specs.
#pragma once

#include "config/config.h"
#include "engine/network.h"
#include "engine/optimizer.h"
#include "engine/schedule.h"
#include "export/export.h"

namespace pipeline {

NetworkSpec ToNetworkSpec(const ModelConfig& model);
OptimizerSpec ToOptimizerSpec(const OptimizerConfig& optimizer);
ScheduleSpec ToScheduleSpec(const ScheduleConfig& schedule);
// The export request for `net` (shapes always; weights point into net's params).
ExportRequest ToExportRequest(const PipelineConfig& config, Network& net);

}  // namespace pipeline
