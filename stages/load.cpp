// load: reads the dataset the config names into the context.
#include "stages/stage.h"

namespace pipeline {
namespace {

class LoadStage : public Stage {
 public:
  std::string name() const override { return "load"; }
  std::vector<std::string> needs() const override { return {}; }
  std::vector<std::string> provides() const override { return {"dataset"}; }

  Status Run(Context& ctx) override {
    auto dataset = std::make_unique<Dataset>();
    Logger* log = ctx.log;
    PIPELINE_RETURN_IF_ERROR(LoadDataset(ctx.config.dataset, dataset.get(),
                                         [log](const std::string& line) { log->Info(line); }));
    const auto describe = [](const char* name, const Split& s) {
      return std::string(name) + " " + std::to_string(s.count);
    };
    log->Verbose("dataset: " + describe("train", dataset->train) + ", " + describe("validation", dataset->validation) +
                 ", " + describe("test", dataset->test) + " examples of " + std::to_string(dataset->train.features) +
                 " features");
    ctx.dataset = std::move(dataset);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewLoadStage() { return std::make_unique<LoadStage>(); }

}  // namespace pipeline
