// build: creates the runtime, the network with its initial weights, and the
// optimizer; checks the model against the data and, when export will run,
// the export against the model, so both fail before any training.
#include <algorithm>

#include <fmt/format.h>

#include "config/loader.h"

#include "config/schema.h"
#include "stages/model_spec.h"
#include "stages/preflight.h"
#include "stages/stage.h"

namespace pipeline {
namespace {

class BuildStage : public Stage {
 public:
  std::string name() const override { return "build"; }
  std::vector<std::string> needs() const override { return {}; }
  std::vector<std::string> provides() const override { return {"model"}; }

  Status Run(Context& ctx) override {
    const PipelineConfig& cfg = ctx.config;
    if (ctx.dataset) PIPELINE_RETURN_IF_ERROR(CheckAgainstData(cfg, *ctx.dataset));
    // Before the network allocates its weights (pipeline run checked this
    // already; other callers of the stages, e.g. bench, have not).
    PIPELINE_RETURN_IF_ERROR(CheckModelFitsMemory(cfg));
    ctx.runtime = std::make_unique<Runtime>(static_cast<int>(cfg.train.threads));
    NetworkSpec spec = ToNetworkSpec(cfg.model);
    spec.loss = ToLossSpec(cfg.loss);
    PIPELINE_RETURN_IF_ERROR(Network::Create(spec, ctx.runtime.get(), &ctx.model));
    if (ctx.dataset) PIPELINE_RETURN_IF_ERROR(CheckClasses(cfg, ctx.model->classes(), *ctx.dataset));
    PIPELINE_RETURN_IF_ERROR(ctx.model->Initialize(cfg.seed));
    PIPELINE_RETURN_IF_ERROR(CreateOptimizer(cfg.optimizer, &ctx.optimizer));
    PIPELINE_RETURN_IF_ERROR(CheckSchedule(cfg.optimizer.schedule));
    // One update slice per worker thread, as Network::TrainStep runs them.
    GradientRules rules;
    rules.clip_global_norm = cfg.optimizer.clip_global_norm;
    rules.weight_decay = ctx.model->WeightDecays(cfg.optimizer.weight_decay);
    ctx.optimizer->Build(ctx.model->params(), ctx.runtime->engine(), ctx.runtime->threads(), rules);
    if (std::find(cfg.stages.begin(), cfg.stages.end(), "export") != cfg.stages.end()) {
      PIPELINE_RETURN_IF_ERROR(CheckExportPath(cfg));
      PIPELINE_RETURN_IF_ERROR(CheckExport(ToExportRequest(cfg, *ctx.model, ctx.dataset.get())));
    }
    ctx.log->Verbose("model: " + std::to_string(ctx.model->ParameterCount()) + " parameters, " +
                     std::to_string(ctx.runtime->threads()) + " threads");
    return Status::Ok();
  }

 private:
  static Status CheckAgainstData(const PipelineConfig& cfg, const Dataset& data) {
    const Split& any = data.train.count ? data.train : data.test;
    if (any.features != cfg.model.input) {
      if (data.tabular) {
        std::string layout;
        for (const TabularColumn& col : data.tabular->columns)
          if (col.categorical)
            layout += fmt::format(", '{}' {} (one-hot of {} values + 1 unseen)", col.name, col.width(),
                                  col.vocabulary.size());
        return ConfigErrorAt(cfg, "model.input",
                             fmt::format("is {} but {} encodes to {} features ({} columns{}); set model.input: {}",
                                         cfg.model.input, any.source, any.features, data.tabular->columns.size(),
                                         layout, any.features));
      }
      return Status::InvalidArgument("model.input is " + std::to_string(cfg.model.input) + " but the images in " +
                                     any.source + " have " + std::to_string(any.features) +
                                     " pixels each; set model.input: " + std::to_string(any.features));
    }
    // The config knows a dense layer's outputs (units); any other type's
    // are checked against the network once it is built (CheckClasses).
    const LayerConfig& last = cfg.model.layers.back();
    const std::vector<std::string> keys = ChildKeysFor("model.layers.*", last.type);
    if (std::find(keys.begin(), keys.end(), "units") == keys.end()) return Status::Ok();
    return CheckClasses(cfg, last.units, data);
  }

  static Status CheckClasses(const PipelineConfig& cfg, int64_t units, const Dataset& data) {
    // Binary sigmoid cross-entropy may use one logit, the positive class's.
    const bool binary_sigmoid = cfg.loss.type == "sigmoid_cross_entropy" && data.num_classes == 2 && units == 1;
    if (units != data.num_classes && !binary_sigmoid) {
      return Status::InvalidArgument("the last layer has " + std::to_string(units) + " units but the dataset has " +
                                     std::to_string(data.num_classes) + " classes; set model.layers[" +
                                     std::to_string(cfg.model.layers.size() - 1) + "].units: " +
                                     std::to_string(data.num_classes));
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewBuildStage() { return std::make_unique<BuildStage>(); }

}  // namespace pipeline
