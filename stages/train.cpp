// train: minibatch training for train.epochs epochs. Each epoch shuffles the
// training split from (seed, epoch), so any epoch's order is reproducible on
// its own; prints the tutorial's line and appends to metrics.jsonl.
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "stages/checkpoint.h"
#include "stages/epoch_hooks.h"
#include "stages/evaluation.h"
#include "stages/model_spec.h"
#include "stages/signals.h"
#include "stages/stage.h"

namespace pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The shuffle stream of one epoch: independent of every other epoch's.
uint64_t EpochSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch) + 1;
}

// One batch size's plan and label buffer, built before the loop.
struct BatchSlot {
  BatchSlot(Network& net, int64_t n) : plan(&net.Plan(n, true)), labels(n) {}
  BatchPlan* plan;
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
    // A diverging step stops the run, so SGD may fuse its update into the
    // weight-gradient GEMMs (the damaged weights are never exported).
    net.set_fuse_sgd(cfg.train.on_nan == "stop");
    const int64_t full_batches = n / batch, tail = n % batch;
    const int64_t batches = full_batches + (tail ? 1 : 0);
    BatchSlot full(net, batch);
    std::unique_ptr<BatchSlot> partial;
    if (tail) partial = std::make_unique<BatchSlot>(net, tail);

    std::vector<int64_t> order(n);
    const ScheduleSpec schedule = ToScheduleSpec(cfg.optimizer.schedule);
    // Fixed when the run started; --resume has checked that it still is (CheckResumeConfig).
    const int64_t horizon = ScheduleHorizon(cfg.optimizer.schedule.epochs, cfg.train.epochs);
    // --resume: the checkpoint's weights, optimizer state, metrics and position.
    TrainPosition resume_at;
    if (ctx.resume) {
      Checkpoint ck;
      PIPELINE_RETURN_IF_ERROR(ReadCheckpoint(ctx.run_dir, &ck));
      PIPELINE_RETURN_IF_ERROR(RestoreCheckpoint(ck, ctx));
      if (ck.position.batch > batches) {
        return Status::Corruption(fmt::format("{}: batch {} of an epoch of {} batches", CheckpointPath(ctx.run_dir),
                                              ck.position.batch, batches));
      }
      resume_at = ck.position;
      PIPELINE_RETURN_IF_ERROR(TruncateMetricsFile(ctx.run_dir, resume_at.epoch));
      ctx.log->Info(fmt::format("resuming {} at epoch {}, batch {}/{}", ctx.run_dir, resume_at.epoch + 1, resume_at.batch,
                                batches));
    }
    ScopedStopSignals stop_signals;  // SIGINT/SIGTERM: finish the batch, checkpoint, return
    auto hooks = MakeEpochHooks(ctx);
    for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnTrainBegin(ctx));
    double train_seconds = 0.0;
    int64_t skipped = 0, trained_examples = 0;
    // On a stop signal: checkpoint the position (batches applied so far) and say how to go on.
    auto interrupted = [&](const TrainPosition& pos) -> Status {
      Status saved = SaveCheckpoint(ctx, pos);
      for (auto& hook : hooks) hook->OnTrainEnd(ctx, true);
      const std::string where = fmt::format("in epoch {} after batch {}/{}", pos.epoch + 1, pos.batch, batches);
      if (!saved.ok()) {
        return Status::IOError(fmt::format("interrupted by {} {}; {}", StopSignalName(StopSignal()), where,
                                           saved.message()));
      }
      return Status::Runtime(fmt::format(
          "interrupted by {} {}; checkpoint written to {}. Resume with:\n  pipeline run {}/config.yaml "
          "--resume {}",
          StopSignalName(StopSignal()), where, CheckpointPath(ctx.run_dir), ctx.run_dir, ctx.run_dir));
    };

    for (int64_t epoch = resume_at.epoch; epoch < cfg.train.epochs; ++epoch) {
      const double lr = LearningRateAt(schedule, cfg.optimizer.learning_rate, epoch, horizon);
      const auto start = Clock::now();  // an epoch's time includes its shuffle
      std::iota(order.begin(), order.end(), 0);
      if (cfg.train.shuffle) {
        Rng rng(EpochSeed(cfg.seed, epoch));
        Shuffle(order.data(), n, rng);
      }
      const bool resumed_epoch = epoch == resume_at.epoch;
      double loss_sum = resumed_epoch ? resume_at.loss_sum : 0.0;
      int64_t loss_examples = resumed_epoch ? resume_at.loss_examples : 0;
      int64_t skipped_in_epoch = 0;
      for (int64_t b = resumed_epoch ? resume_at.batch : 0; b < batches; ++b) {
        if (StopRequested()) return interrupted(TrainPosition{epoch, b, loss_sum, loss_examples});
        BatchSlot& slot = b < full_batches ? full : *partial;
        const int64_t* idx = order.data() + b * batch;
        const int64_t size = slot.plan->n;
        for (int64_t i = 0; i < size; ++i) slot.labels[i] = train.labels[idx[i]];
        BatchInput input{train.images.data(), idx, 0, ctx.dataset->scale};
        if (b + 1 < batches) {
          input.next = idx + size;
          input.next_count = std::min(batch, n - (b + 1) * batch);
        }
        // Applies the update only when the loss and every gradient are finite.
        const TrainStepResult step =
            net.TrainStep(*slot.plan, slot.labels.data(), input, *ctx.optimizer, static_cast<float>(lr));
        const double loss = step.loss;
        const bool loss_finite = step.loss_finite;
        if (!step.applied()) {
          // Parameters and optimizer state stay as they were.
          if (cfg.train.on_nan == "skip_batch") {
            ++skipped;
            ++skipped_in_epoch;
            continue;
          }
          return Status::Runtime(fmt::format(
              "training diverged: the {} is {} at epoch {}, batch {} (learning rate {}); nothing was exported. "
              "Lower optimizer.learning_rate, use an initializer with a smaller scale (e.g. glorot_uniform), "
              "or set train.on_nan: skip_batch",
              loss_finite ? "gradient" : "loss",
              loss_finite ? "NaN or Inf" : std::isnan(loss) ? "NaN" : loss > 0 ? "Inf" : "-Inf", epoch + 1,
              b + 1, lr));
        }
        loss_sum += loss * static_cast<double>(size);
        loss_examples += size;
        trained_examples += size;
        if (ctx.log->ProgressDue()) {  // at most 10 times a second, on a terminal only
          const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
          ctx.log->Progress(ProgressLine(epoch + 1, cfg.train.epochs, b + 1, batches,
                                         loss_sum / std::max<int64_t>(loss_examples, 1), elapsed, batch));
        }
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      train_seconds += seconds;
      if (skipped_in_epoch == batches) {
        return Status::Runtime(fmt::format(
            "training diverged: every batch of epoch {} had a non-finite loss or gradient and was skipped "
            "(train.on_nan: skip_batch); nothing was exported. Lower optimizer.learning_rate or use an initializer "
            "with a smaller scale (e.g. glorot_uniform)",
            epoch + 1));
      }

      EpochMetrics m;
      m.epoch = epoch + 1;
      m.loss = loss_examples ? loss_sum / static_cast<double>(loss_examples) : NAN;
      m.seconds = seconds;
      m.learning_rate = lr;
      std::string line = fmt::format("epoch: {:04d}   loss = {:.6f}", m.epoch, m.loss);
      if (ctx.dataset->validation.count > 0) {
        const SplitScore v = EvaluateSplit(net, ctx.dataset->validation, ctx.dataset->scale, cfg.evaluate.batch_size);
        m.validation_accuracy = v.accuracy;
        m.validation_loss = v.loss;
        line += fmt::format("   validation_accuracy = {:.4f}", m.validation_accuracy);
      }
      ctx.log->Info(line);
      ctx.metrics.epochs.push_back(m);
      for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnEpochEnd(ctx, m));
    }
    if (StopRequested()) return interrupted(TrainPosition{cfg.train.epochs, 0, 0.0, 0});
    for (auto& hook : hooks) PIPELINE_RETURN_IF_ERROR(hook->OnTrainEnd(ctx, false));
    if (skipped) ctx.log->Warn(fmt::format("{} batches had a non-finite loss and were skipped", skipped));
    ctx.metrics.train_examples_per_second =
        train_seconds > 0 ? static_cast<double>(trained_examples) / train_seconds : NAN;
    ctx.trained = true;
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewTrainStage() { return std::make_unique<TrainStage>(); }

}  // namespace pipeline
