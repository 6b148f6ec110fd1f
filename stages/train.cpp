// train: minibatch training for train.epochs epochs. Each epoch shuffles the
// training split from (seed, epoch), so any epoch's order is reproducible on
// its own; prints the tutorial's line and appends to metrics.jsonl.
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "engine/batch_gather.h"
#include "stages/epoch_hooks.h"
#include "stages/evaluation.h"
#include "stages/model_spec.h"
#include "stages/stage.h"

namespace pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The shuffle stream of one epoch: independent of every other epoch's.
uint64_t EpochSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch) + 1;
}

// One batch size's plan, gather and label buffer, built before the loop.
struct BatchSlot {
  BatchSlot(Network& net, int64_t n, const Split& split, float scale)
      : plan(&net.Plan(n, true)), gather(net.runtime(), n, split.features, scale, plan->input.data()), labels(n) {}
  BatchPlan* plan;
  BatchGather gather;
  std::vector<uint8_t> labels;
};

// "epoch 3/50 [=====       ] 120/550 loss 2.4078 41234 ex/s ETA 1.2s"
std::string ProgressLine(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss, double seconds,
                         int64_t batch) {
  const int width = 24;
  const int filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  const double per_batch = seconds / std::max<int64_t>(done, 1);
  return fmt::format("epoch {}/{} [{}{}] {}/{} loss {:.4f} {:.0f} ex/s ETA {:.1f}s", epoch, epochs,
                     std::string(filled, '='), std::string(width - filled, ' '), done, total, loss,
                     batch / per_batch, per_batch * (total - done));
}

class TrainStage : public Stage {
 public:
  std::string name() const override { return "train"; }
  std::vector<std::string> needs() const override { return {"dataset", "model"}; }
  std::vector<std::string> provides() const override { return {"trained model"}; }

  Status Run(Context& ctx) override {
    const PipelineConfig& cfg = ctx.config;
    const Split& train = ctx.dataset->train;
    Network& net = *ctx.model;
    const int64_t n = train.count, batch = cfg.train.batch_size;
    if (n == 0) return Status::InvalidArgument("dataset.train selects no examples; there is nothing to train on");
    if (batch > n) {
      return Status::InvalidArgument(fmt::format(
          "train.batch_size ({}) is larger than the training split ({} examples from {}); use at most {}", batch, n,
          train.source, n));
    }
    const int64_t full_batches = n / batch, tail = n % batch;
    const int64_t batches = full_batches + (tail ? 1 : 0);
    BatchSlot full(net, batch, train, ctx.dataset->scale);
    std::unique_ptr<BatchSlot> partial;
    if (tail) partial = std::make_unique<BatchSlot>(net, tail, train, ctx.dataset->scale);

    std::vector<int64_t> order(n);
    const ScheduleSpec schedule = ToScheduleSpec(cfg.optimizer.schedule);
    auto hooks = MakeEpochHooks(ctx);
    for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnTrainBegin(ctx));
    double train_seconds = 0.0;
    int64_t skipped = 0;

    for (int64_t epoch = 0; epoch < cfg.train.epochs; ++epoch) {
      const double lr = LearningRateAt(schedule, cfg.optimizer.learning_rate, epoch, cfg.train.epochs);
      std::iota(order.begin(), order.end(), 0);
      if (cfg.train.shuffle) {
        Rng rng(EpochSeed(cfg.seed, epoch));
        Shuffle(order.data(), n, rng);
      }
      const auto start = Clock::now();
      double loss_sum = 0.0;
      int64_t loss_examples = 0;
      for (int64_t b = 0; b < batches; ++b) {
        BatchSlot& slot = b < full_batches ? full : *partial;
        const int64_t* idx = order.data() + b * batch;
        const int64_t size = slot.plan->n;
        slot.gather.Gather(train.images.data(), idx);
        for (int64_t i = 0; i < size; ++i) slot.labels[i] = train.labels[idx[i]];
        const double loss = net.ForwardBackward(*slot.plan, slot.labels.data());
        if (!std::isfinite(loss)) {
          if (cfg.train.on_nan == "skip_batch") {
            ++skipped;
            continue;
          }
          return Status::Runtime(fmt::format(
              "training diverged: the loss is {} at epoch {}, batch {} (learning rate {}); nothing was exported. "
              "Lower optimizer.learning_rate, use an initializer with a smaller scale (e.g. glorot_uniform), "
              "or set train.on_nan: skip_batch",
              loss, epoch + 1, b + 1, lr));
        }
        ctx.optimizer->Apply(ctx.runtime->stream(), static_cast<float>(lr));
        loss_sum += loss * static_cast<double>(size);
        loss_examples += size;
        if (ctx.log->interactive() && (b % 10 == 9 || b + 1 == batches)) {
          const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
          ctx.log->Progress(ProgressLine(epoch + 1, cfg.train.epochs, b + 1, batches,
                                         loss_sum / std::max<int64_t>(loss_examples, 1), elapsed, batch));
        }
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      train_seconds += seconds;

      EpochMetrics m;
      m.epoch = epoch + 1;
      m.loss = loss_examples ? loss_sum / static_cast<double>(loss_examples) : NAN;
      m.seconds = seconds;
      m.learning_rate = lr;
      std::string line = fmt::format("epoch: {:04d}   loss = {:.6f}", m.epoch, m.loss);
      if (ctx.dataset->validation.count > 0) {
        m.validation_accuracy =
            EvaluateSplit(net, ctx.dataset->validation, ctx.dataset->scale, cfg.evaluate.batch_size).accuracy;
        line += fmt::format("   validation_accuracy = {:.4f}", m.validation_accuracy);
      }
      ctx.log->Info(line);
      ctx.metrics.epochs.push_back(m);
      for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnEpochEnd(ctx, m));
    }
    for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnTrainEnd(ctx, false));
    if (skipped) ctx.log->Warn(fmt::format("{} batches had a non-finite loss and were skipped", skipped));
    ctx.metrics.train_examples_per_second = static_cast<double>(n) * cfg.train.epochs / train_seconds;
    ctx.trained = true;
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewTrainStage() { return std::make_unique<TrainStage>(); }

}  // namespace pipeline
