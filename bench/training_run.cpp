#include "bench/training_run.h"

#include "stages/context.h"
#include "stages/model_spec.h"
#include "stages/stage.h"

namespace pipeline::bench {

TrainingRun::TrainingRun() : ctx_(std::make_unique<Context>()) {}
TrainingRun::~TrainingRun() = default;

Status TrainingRun::Train(const PipelineConfig& config, Logger* log, std::unique_ptr<TrainingRun>* out) {
  std::unique_ptr<TrainingRun> run(new TrainingRun());
  run->ctx_->config = config;
  run->ctx_->log = log;
  PIPELINE_RETURN_IF_ERROR(RunStages(run->ctx_->config.stages, *run->ctx_));
  *out = std::move(run);
  return Status::Ok();
}

const PipelineConfig& TrainingRun::config() const { return ctx_->config; }

std::vector<double> TrainingRun::EpochSeconds() const {
  std::vector<double> s;
  for (const EpochMetrics& m : ctx_->metrics.epochs) s.push_back(m.seconds);
  return s;
}

int64_t TrainingRun::train_examples() const { return ctx_->dataset->train.count; }
Network& TrainingRun::model() const { return *ctx_->model; }
const Split& TrainingRun::test() const { return ctx_->dataset->test; }
float TrainingRun::scale() const { return ctx_->dataset->scale; }

Status TrainingRun::ExportTo(const std::string& path, const std::string& version, ExportResult* out) const {
  PipelineConfig where = ctx_->config;
  where.export_.path = path;
  where.export_.version = version;
  return ExportSavedModel(ToExportRequest(where, *ctx_->model, ctx_->dataset.get()), out);
}

}  // namespace pipeline::bench
