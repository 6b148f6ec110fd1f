#include "stages/epoch_hooks.h"

#include "common/files.h"
#include "common/json.h"

namespace pipeline {
namespace {

// Appends one JSON line per epoch to <run_dir>/metrics.jsonl.
class MetricsFileHook : public EpochHook {
 public:
  Status OnEpochEnd(Context& ctx, const EpochMetrics& m) override {
    if (ctx.run_dir.empty()) return Status::Ok();
    return AppendLine(ctx.run_dir + "/metrics.jsonl", EpochMetricsJson(m));
  }
};

}  // namespace

std::string EpochMetricsJson(const EpochMetrics& m) {
  return json::Object()
      .Int("epoch", m.epoch)
      .Num("loss", m.loss)
      .Num("validation_accuracy", m.validation_accuracy)
      .Num("seconds", m.seconds)
      .Num("learning_rate", m.learning_rate)
      .Num("validation_loss", m.validation_loss)
      .str();
}

std::unique_ptr<EpochHook> NewMetricsFileHook() { return std::make_unique<MetricsFileHook>(); }

}  // namespace pipeline
