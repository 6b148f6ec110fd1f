// Checks of a config against this machine that need no data and allocate
// nothing, run before a run directory is made and before the build stage
// allocates the model: a config that cannot work fails in a second, with the
// key to change (FILE:LINE:COL), instead of after hours of training.
#pragma once

#include "common/status.h"
#include "config/config.h"
#include "engine/model_size.h"

namespace pipeline {

// The model's sizes for cfg's optimizer and batch sizes (engine/model_size.h).
// InvalidArgument naming model.layers.N.units when a size overflows.
Status SizeConfiguredModel(const PipelineConfig& cfg, ModelSize* out);

// InvalidArgument naming the layer needing the most memory when training the
// model needs more than the memory available (MemAvailable, or the cgroup's
// limit): "model.layers.0.units: layer 'dense_0' (784 inputs x 2000000000
// units) needs 25.1 TB ... but 21.3 GB are available (...)".
Status CheckModelFitsMemory(const PipelineConfig& cfg);

// When the export stage will run: InvalidArgument naming export.path when no
// version directory can be written there (common/dir_target.h says why).
Status CheckExportPath(const PipelineConfig& cfg);

// Both, for `pipeline run` before it creates the run directory.
Status Preflight(const PipelineConfig& cfg);

}  // namespace pipeline
