// export: writes the trained model as a SavedModel version directory.
#include "stages/model_spec.h"
#include "stages/stage.h"

namespace pipeline {
namespace {

class ExportStage : public Stage {
 public:
  std::string name() const override { return "export"; }
  std::vector<std::string> needs() const override { return {"model"}; }
  std::vector<std::string> provides() const override { return {"export"}; }

  Status Run(Context& ctx) override {
    if (!ctx.trained) ctx.log->Warn("exporting a model that was not trained in this run");
    ExportResult result;
    PIPELINE_RETURN_IF_ERROR(ExportSavedModel(ToExportRequest(ctx.config, *ctx.model, ctx.dataset.get()), &result));
    ctx.exported = ExportInfo{result.version_dir, result.version};
    ctx.log->Info("exported " + result.version_dir);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewExportStage() { return std::make_unique<ExportStage>(); }

}  // namespace pipeline
