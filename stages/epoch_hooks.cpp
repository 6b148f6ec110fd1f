#include "stages/epoch_hooks.h"

#include "common/files.h"

namespace pipeline {
namespace {

// Appends one JSON line per epoch to <run_dir>/metrics.jsonl.
class MetricsFileHook : public EpochHook {
 public:
  Status OnEpochEnd(Context& ctx, const EpochMetrics& m) override {
    if (ctx.run_dir.empty()) return Status::Ok();
    return AppendLine(ctx.run_dir + "/metrics.jsonl", m.ToJson());
  }
};

}  // namespace

std::unique_ptr<EpochHook> NewMetricsFileHook() { return std::make_unique<MetricsFileHook>(); }

}  // namespace pipeline
