#include "stages/preflight.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/dir_target.h"
#include "common/meminfo.h"
#include "config/loader.h"
#include "stages/model_spec.h"

namespace pipeline {
namespace {

std::string UnitsKey(size_t layer) { return "model.layers." + std::to_string(layer) + ".units"; }

bool Has(const std::vector<std::string>& stages, const std::string& s) {
  return std::find(stages.begin(), stages.end(), s) != stages.end();
}

}  // namespace

Status SizeConfiguredModel(const PipelineConfig& cfg, ModelSize* out) {
  size_t failed = 0;
  Status st = SizeModel(ToNetworkSpec(cfg.model), cfg.optimizer.type, cfg.train.batch_size, cfg.evaluate.batch_size,
                        out, &failed);
  if (!st.ok()) return ConfigErrorAt(cfg, UnitsKey(failed), st.message());
  return Status::Ok();
}

Status CheckModelFitsMemory(const PipelineConfig& cfg) {
  ModelSize size;
  PIPELINE_RETURN_IF_ERROR(SizeConfiguredModel(cfg, &size));
  const AvailableMemory mem = ReadAvailableMemory();
  if (mem.bytes < 0 || size.bytes <= mem.bytes || size.layers.empty()) return Status::Ok();
  size_t big = 0;
  for (size_t i = 1; i < size.layers.size(); ++i)
    if (size.layers[i].bytes() > size.layers[big].bytes()) big = i;
  const LayerSize& l = size.layers[big];
  return ConfigErrorAt(
      cfg, UnitsKey(big),
      fmt::format("the model does not fit in memory: layer '{}' ({} inputs x {} units) needs {} to train "
                  "({} for its {} parameters, their gradients and the {} optimizer's buffers, {} for checkpoint and "
                  "export copies, "
                  "{} for activations at train.batch_size {} and evaluate.batch_size {}); the whole model needs {}, "
                  "but {} are available ({}). Use fewer units",
                  l.name, l.in, l.out, FormatBytes(l.bytes()), FormatBytes(l.param_bytes), l.params,
                  cfg.optimizer.type, FormatBytes(l.snapshot_bytes), FormatBytes(l.activation_bytes),
                  cfg.train.batch_size, cfg.evaluate.batch_size, FormatBytes(size.bytes), FormatBytes(mem.bytes),
                  mem.source));
}

Status CheckExportPath(const PipelineConfig& cfg) {
  if (!Has(cfg.stages, "export")) return Status::Ok();
  const std::string problem = DirTargetProblem(cfg.export_.path);
  if (problem.empty()) return Status::Ok();
  return ConfigErrorAt(cfg, "export.path",
                       problem + "; no SavedModel version can be written there (checked before training)");
}

Status Preflight(const PipelineConfig& cfg) {
  PIPELINE_RETURN_IF_ERROR(CheckModelFitsMemory(cfg));
  return CheckExportPath(cfg);
}

}  // namespace pipeline
