// evaluate: accuracy and mean loss on the test split, printed as the
// tutorial prints it (the float32 value to 8 decimals: accuracy=0.92979997);
// the confusion matrix and per-class precision/recall go to the run directory
// (confusion.json, confusion.csv) and, with --verbose, to the terminal.
#include <fmt/format.h>

#include "common/files.h"
#include "stages/confusion.h"
#include "stages/evaluation.h"
#include "stages/events.h"
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
    std::vector<int64_t> predictions;
    SplitScore s = EvaluateSplit(*ctx.model, test, ctx.dataset->scale, ctx.config.evaluate.batch_size, &predictions);
    ctx.metrics.test_accuracy = s.accuracy;
    ctx.metrics.test_loss = s.loss;
    ctx.metrics.test_examples = s.examples;
    ctx.metrics.evaluate_examples_per_second = s.examples / s.seconds;
    const auto& metrics = ctx.config.evaluate.metrics;
    for (const auto& metric : metrics) {
      if (metric == "accuracy") ctx.log->Info(fmt::format("accuracy={:.8f}", static_cast<float>(s.accuracy)));
      if (metric == "loss") ctx.log->Info(fmt::format("test_loss={:.6f}", s.loss));
      if (metric == "auc") ctx.log->Info(fmt::format("auc={:.6f}", s.auc));
      if (metric == "rmse") ctx.log->Info(fmt::format("rmse={:.6f}", s.rmse));
      if (metric == "r2") ctx.log->Info(fmt::format("r2={:.6f}", s.r2));
    }
    ctx.metrics.test_auc = s.auc;
    ctx.metrics.test_rmse = s.rmse;
    ctx.metrics.test_r2 = s.r2;
    // A regression has no classes to confuse, nor a test accuracy for TensorBoard.
    if (ctx.model->loss().regression()) return Status::Ok();
    return WriteDetails(ctx, test, predictions, s);
  }

 private:
  // The confusion matrix and per-class precision/recall (confusion.json and
  // .csv, and a table with --verbose), and the test scores for TensorBoard.
  static Status WriteDetails(Context& ctx, const Split& test, const std::vector<int64_t>& predictions,
                             const SplitScore& s) {
    ConfusionMatrix m(ctx.model->classes());
    for (size_t i = 0; i < predictions.size() && i < test.labels.size(); ++i) m.Add(test.labels[i], predictions[i]);
    std::vector<std::string> names = ctx.config.export_.class_names;
    for (const auto& line : ConfusionTable(m, names)) ctx.log->Verbose(line);
    if (ctx.run_dir.empty()) return Status::Ok();
    PIPELINE_RETURN_IF_ERROR(WriteFileAtomic(ctx.run_dir + "/confusion.json", ConfusionJson(m, names)));
    PIPELINE_RETURN_IF_ERROR(WriteFileAtomic(ctx.run_dir + "/confusion.csv", ConfusionCsv(m, names)));
    const int64_t step = ctx.metrics.epochs.empty() ? 0 : ctx.metrics.epochs.back().epoch;
    return events::WriteTestScalars(ctx.run_dir, step, s.accuracy, s.loss);
  }
};

}  // namespace

std::unique_ptr<Stage> NewEvaluateStage() { return std::make_unique<EvaluateStage>(); }

}  // namespace pipeline
