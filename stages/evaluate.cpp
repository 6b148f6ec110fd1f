// evaluate: accuracy and mean loss on the test split, printed as the
// tutorial prints it (the float32 value to 8 decimals: accuracy=0.92979997).
#include <fmt/format.h>

#include "stages/evaluation.h"
#include "stages/stage.h"

namespace pipeline {
namespace {

class EvaluateStage : public Stage {
 public:
  std::string name() const override { return "evaluate"; }
  std::vector<std::string> needs() const override { return {"dataset", "model"}; }
  std::vector<std::string> provides() const override { return {"test metrics"}; }

  Status Run(Context& ctx) override {
    const Split& test = ctx.dataset->test;
    if (test.count == 0) return Status::InvalidArgument("dataset.test selects no examples; there is nothing to evaluate");
    if (!ctx.trained) ctx.log->Warn("evaluating a model that was not trained in this run");
    SplitScore s = EvaluateSplit(*ctx.model, test, ctx.dataset->scale, ctx.config.evaluate.batch_size);
    ctx.metrics.test_accuracy = s.accuracy;
    ctx.metrics.test_loss = s.loss;
    ctx.metrics.test_examples = s.examples;
    ctx.metrics.evaluate_examples_per_second = s.examples / s.seconds;
    const auto& metrics = ctx.config.evaluate.metrics;
    for (const auto& metric : metrics) {
      if (metric == "accuracy") ctx.log->Info(fmt::format("accuracy={:.8f}", static_cast<float>(s.accuracy)));
      if (metric == "loss") ctx.log->Info(fmt::format("test_loss={:.6f}", s.loss));
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewEvaluateStage() { return std::make_unique<EvaluateStage>(); }

}  // namespace pipeline
