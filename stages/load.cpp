// load: reads the dataset the config names into the context.
#include "common/files.h"
#include "config/loader.h"
#include "config/schema.h"
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
    std::string config_key;
    const Status loaded = LoadDataset(ctx.config.dataset, dataset.get(),
                                      [log](const std::string& line) { log->Info(line); },
                                      IsRegressionLoss(ctx.config.loss.type), &config_key);
    if (!loaded.ok()) {
      if (config_key.empty()) return loaded;
      // The message starts with the key; ConfigErrorAt puts its file:line:col first.
      const std::string& m = loaded.message();
      return ConfigErrorAt(ctx.config, config_key,
                           m.compare(0, config_key.size() + 2, config_key + ": ") == 0 ? m.substr(config_key.size() + 2)
                                                                                      : m);
    }
    const auto describe = [](const char* name, const Split& s) {
      return std::string(name) + " " + std::to_string(s.count);
    };
    log->Verbose("dataset: " + describe("train", dataset->train) + ", " + describe("validation", dataset->validation) +
                 ", " + describe("test", dataset->test) + " examples of " + std::to_string(dataset->train.features) +
                 " features");
    if (dataset->tabular && !ctx.run_dir.empty()) {
      // Which file lines each split holds, so a baseline can be trained on the
      // same rows (bench/tabular_baseline.py).
      std::string json = "{";
      for (const auto& [name, split] : {std::pair{"train", &dataset->train}, {"validation", &dataset->validation},
                                        {"test", &dataset->test}}) {
        json += std::string(json.size() > 1 ? ", " : "") + "\"" + name + "\": [";
        for (size_t i = 0; i < split->lines.size(); ++i) json += (i ? "," : "") + std::to_string(split->lines[i]);
        json += "]";
      }
      PIPELINE_RETURN_IF_ERROR(WriteFileAtomic(ctx.run_dir + "/csv_splits.json", json + "}\n"));
    }
    ctx.dataset = std::move(dataset);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewLoadStage() { return std::make_unique<LoadStage>(); }

}  // namespace pipeline
