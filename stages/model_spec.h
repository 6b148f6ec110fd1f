// Translations from the typed config to the engine's network spec and the
// exporter's request. (Optimizer and schedule configs are the engine's own
// structs, engine/optimizer_config.h: nothing to translate.)
#pragma once

#include "config/config.h"
#include "data/dataset.h"
#include "engine/network.h"
#include "engine/optimizer.h"
#include "engine/schedule.h"
#include "export/export.h"

namespace pipeline {

NetworkSpec ToNetworkSpec(const ModelConfig& model);
LossSpec ToLossSpec(const LossConfig& loss);
// The export request for `net` (shapes always; weights point into net's params).
// `data` (may be null) gives a CSV model its columns' encodings.
ExportRequest ToExportRequest(const PipelineConfig& config, Network& net, const Dataset* data);

}  // namespace pipeline
