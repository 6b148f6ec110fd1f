// train: minibatch training for train.epochs epochs. Each epoch shuffles the
// training split from (seed, epoch), so any epoch's order is reproducible on
// its own; prints the tutorial's line and appends to metrics.jsonl.
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "config/loader.h"
#include "stages/checkpoint.h"
#include "stages/data_parallel.h"
#include "stages/early_stopping.h"
#include "stages/epoch_hooks.h"
#include "stages/evaluation.h"
#include "stages/model_spec.h"
#include "stages/resume.h"
#include "stages/signals.h"
#include "stages/stage.h"
#include "stages/train_hooks.h"

namespace pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The shuffle stream of one epoch: independent of every other epoch's.
uint64_t EpochSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch) + 1;
}

// One batch size's plan and label buffer, built before the loop. Data-parallel,
// the plan is this rank's shard of the batch (`n` global rows, `shard` ours):
// null when the shard is empty.
struct BatchSlot {
  BatchSlot(Network& net, int64_t n, ShardRows shard)
      : n(n), shard(shard), plan(shard.rows() ? &net.Plan(shard.rows(), true) : nullptr), labels(shard.rows()) {}
  int64_t n;
  ShardRows shard;
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

// A batch that could not be applied under train.on_nan: stop.
Status DivergedAt(const TrainStepResult& step, int64_t epoch, int64_t b, double lr) {
  const double loss = step.loss;
  const bool loss_finite = step.loss_finite;
  return Status::Runtime(fmt::format(
      "training diverged: the {} is {} at epoch {}, batch {} (learning rate {}); nothing was exported. "
      "Lower optimizer.learning_rate, use an initializer with a smaller scale (e.g. glorot_uniform), "
      "or set train.on_nan: skip_batch",
      loss_finite ? "gradient" : "loss",
      loss_finite ? "NaN or Inf" : std::isnan(loss) ? "NaN" : loss > 0 ? "Inf" : "-Inf", epoch + 1,
      b + 1, lr));
}

Status CheckBatchSize(const Split& train, int64_t batch) {
  const int64_t n = train.count;
  if (n == 0) return Status::InvalidArgument("dataset.train selects no examples; there is nothing to train on");
  if (batch > n) {
    return Status::InvalidArgument(fmt::format(
        "train.batch_size ({}) is larger than the training split ({} examples from {}); use at most {}", batch, n,
        train.source, n));
  }
  return Status::Ok();
}

// One train stage run: the loop over epochs and batches, with its buffers.
class TrainLoop {
 public:
  explicit TrainLoop(Context& ctx)
      : ctx_(ctx),
        cfg_(ctx.config),
        train_(ctx.dataset->train),
        net_(*ctx.model),
        n_(train_.count),
        batch_(cfg_.train.batch_size),
        full_batches_(n_ / batch_),
        batches_(full_batches_ + (n_ % batch_ ? 1 : 0)),
        schedule_(cfg_.optimizer.schedule),
        // Fixed when the run started; --resume has checked that it still is (CheckResumeConfig).
        horizon_(ScheduleHorizon(cfg_.optimizer.schedule.epochs, cfg_.train.epochs)),
        single_(dist::NewSingleProcess()),
        world_(ctx.world ? *ctx.world : *single_),
        parallel_(world_.size() > 1) {}

  Status Run() {
    // A diverging step stops the run, so SGD may fuse its update into the
    // weight-gradient GEMMs (the damaged weights are never exported).
    // Data-parallel, the gradients are summed over the ranks before the update.
    net_.set_fuse_sgd(cfg_.train.on_nan == "stop" && !parallel_);
    const int rank = world_.rank(), size = world_.size();
    BatchSlot full(net_, batch_, ShardOf(batch_, rank, size));
    std::unique_ptr<BatchSlot> partial;
    if (const int64_t tail = n_ % batch_) partial = std::make_unique<BatchSlot>(net_, tail, ShardOf(tail, rank, size));
    full_ = &full;
    partial_ = partial.get();
    order_.resize(n_);
    // --resume: the checkpoint's weights, optimizer state, metrics and position
    // (read by rank 0, which then gives them to the others with its initial weights).
    TrainPosition resume_at;
    Status st;
    if (ctx_.primary()) st = CheckWorldSize(ctx_, world_);
    if (st.ok() && ctx_.resume && ctx_.primary()) st = ResumeTraining(ctx_, batches_, &resume_at);
    if (st.ok() && ctx_.primary()) {
      hooks_ = MakeEpochHooks(ctx_);  // only rank 0 writes metrics, checkpoints and events
      for (auto& hook : hooks_) {
        st = hook->OnTrainBegin(ctx_);
        if (!st.ok()) break;
      }
    }
    if (parallel_) {
      st = AgreeStatus(world_, st);
      if (!st.ok()) ctx_.failure_agreed = true;
    }
    PIPELINE_RETURN_IF_ERROR(st);
    BroadcastTrainingState(world_, ctx_, &resume_at);
    ScopedStopSignals stop_signals;  // SIGINT/SIGTERM: finish the batch, checkpoint, return

    // A resumed run whose checkpoint was written when early stopping ended it trains no more.
    AgreeEarlyStop();
    int64_t epoch = resume_at.epoch;
    for (; epoch < cfg_.train.epochs && !stop_early_; ++epoch) {
      const TrainPosition from = epoch == resume_at.epoch ? resume_at : TrainPosition{epoch, 0, 0.0, 0};
      PIPELINE_RETURN_IF_ERROR(RunEpoch(from));
      AgreeEarlyStop();
    }
    if (Stopping()) return Interrupted(TrainPosition{epoch, 0, 0.0, 0});
    if (ctx_.primary()) SummarizeBestEpoch(ctx_, epoch);
    for (auto& hook : hooks_) PIPELINE_RETURN_IF_ERROR(hook->OnTrainEnd(ctx_, false));
    // After the final checkpoint, which keeps the last weights (an extended run goes on from them).
    if (ctx_.primary()) RestoreBestWeights(ctx_);
    if (skipped_) ctx_.log->Warn(fmt::format("{} batches had a non-finite loss and were skipped", skipped_));
    ctx_.metrics.train_examples_per_second =
        train_seconds_ > 0 ? static_cast<double>(trained_examples_) / train_seconds_ : NAN;
    ctx_.trained = true;
    return Status::Ok();
  }

 private:
  // One epoch from `from` (its start, or a resumed position inside it): its
  // batches, then its metrics, line and hooks.
  Status RunEpoch(const TrainPosition& from) {
    const int64_t epoch = from.epoch;
    const double lr = LearningRateAt(schedule_, cfg_.optimizer.learning_rate, epoch, horizon_);
    const auto start = Clock::now();  // an epoch's time includes its shuffle
    std::iota(order_.begin(), order_.end(), 0);
    if (cfg_.train.shuffle) {
      Rng rng(EpochSeed(cfg_.seed, epoch));
      Shuffle(order_.data(), n_, rng);
    }
    double loss_sum = from.loss_sum;
    int64_t loss_examples = from.loss_examples;
    int64_t skipped_in_epoch = 0;
    for (int64_t b = from.batch; b < batches_; ++b) {
      if (Stopping()) return Interrupted(TrainPosition{epoch, b, loss_sum, loss_examples});
      BatchSlot& slot = b < full_batches_ ? *full_ : *partial_;
      const TrainStepResult step = TrainBatch(slot, b, lr);
      if (!step.applied()) {
        // Parameters and optimizer state stay as they were.
        if (cfg_.train.on_nan == "skip_batch") {
          ++skipped_;
          ++skipped_in_epoch;
          continue;
        }
        ctx_.failure_agreed = parallel_;  // every rank saw the same summed loss and gradients
        return DivergedAt(step, epoch, b, lr);
      }
      const int64_t size = slot.n;
      loss_sum += step.loss * static_cast<double>(size);
      loss_examples += size;
      trained_examples_ += size;
      if (ctx_.log->ProgressDue()) {  // at most 10 times a second, on a terminal only
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        ctx_.log->Progress(ProgressLine(epoch + 1, cfg_.train.epochs, b + 1, batches_,
                                        loss_sum / std::max<int64_t>(loss_examples, 1), elapsed, batch_));
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    train_seconds_ += seconds;
    if (skipped_in_epoch == batches_) {
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
    return FinishEpoch(m);
  }

  // Batch `b` of the current order through one TrainStep, which applies the
  // update only when the loss and every gradient are finite.
  TrainStepResult TrainBatch(BatchSlot& slot, int64_t b, double lr) {
    if (parallel_) return TrainShard(slot, b, lr);
    const int64_t* idx = order_.data() + b * batch_;
    const int64_t size = slot.plan->n;
    if (!train_.labels.empty())
      for (int64_t i = 0; i < size; ++i) slot.labels[i] = train_.labels[idx[i]];
    BatchInput input{train_.images.data(), idx, 0, ctx_.dataset->scale};
    input.rows = train_.rows.empty() ? nullptr : train_.rows.data();
    input.targets = train_.targets.empty() ? nullptr : train_.targets.data();
    if (b + 1 < batches_) {
      input.next = idx + size;
      input.next_count = std::min(batch_, n_ - (b + 1) * batch_);
    }
    return net_.TrainStep(*slot.plan, slot.labels.data(), input, *ctx_.optimizer, static_cast<float>(lr));
  }

  // Data-parallel: this rank's shard of batch `b` forward and backward, the
  // gradients and loss summed over the ranks (with their stop requests), then
  // the same update on every rank.
  TrainStepResult TrainShard(BatchSlot& slot, int64_t b, double lr) {
    const int64_t* idx = order_.data() + b * batch_ + slot.shard.begin;
    const int64_t rows = slot.shard.rows();
    if (!train_.labels.empty())
      for (int64_t i = 0; i < rows; ++i) slot.labels[i] = train_.labels[idx[i]];
    BatchInput input{train_.images.data(), idx, 0, ctx_.dataset->scale};
    input.rows = train_.rows.empty() ? nullptr : train_.rows.data();
    input.targets = train_.targets.empty() ? nullptr : train_.targets.data();
    double sums[3] = {net_.TrainShard(slot.plan, slot.labels.data(), input, slot.n, slot.shard.begin), 0.0, 0.0};
    const auto reduce_start = Clock::now();
    AllreduceGradients(world_, net_, &flat_grads_);
    // The stop signals any rank has received by now: all stop before the next batch.
    sums[1] = StopSignal() == SIGINT ? 1.0 : 0.0;
    sums[2] = StopSignal() != 0 && StopSignal() != SIGINT ? 1.0 : 0.0;
    world_.AllreduceSum(sums, 3);
    allreduce_seconds_ += std::chrono::duration<double>(Clock::now() - reduce_start).count();
    if (sums[1] > 0) agreed_stop_ = SIGINT;
    else if (sums[2] > 0) agreed_stop_ = SIGTERM;
    if (agreed_stop_) RequestStop(agreed_stop_);
    TrainStepResult result;
    result.loss = sums[0] / static_cast<double>(slot.n);
    result.loss_finite = std::isfinite(sums[0]);
    // The summed gradients are the same bytes on every rank, so every rank decides alike.
    if (result.loss_finite) result.gradients_finite = net_.ApplyGradients(*ctx_.optimizer, static_cast<float>(lr));
    return result;
  }

  // Rank 0 validates, so it decides whether early stopping ends training; the
  // other ranks take its word.
  void AgreeEarlyStop() {
    if (cfg_.train.early_stopping.patience == 0) return;  // off on every rank (the same config)
    int64_t stop = ctx_.primary() && EarlyStopDue(cfg_.train, ctx_.best) ? 1 : 0;
    if (parallel_) world_.Broadcast(&stop, sizeof stop);
    stop_early_ = stop != 0;
  }

  // One process: a stop signal; data-parallel: one all ranks agreed on.
  bool Stopping() const { return parallel_ ? agreed_stop_ != 0 : StopRequested(); }

  // The validation scores, the tutorial's line, ctx.metrics and the hooks.
  Status FinishEpoch(EpochMetrics m) {
    if (parallel_) {
      Status same = CheckSameWeights(world_, net_, m.epoch);
      if (!same.ok()) {
        ctx_.failure_agreed = true;
        return same;
      }
      if (ctx_.primary() && allreduce_seconds_ > 0)
        ctx_.log->Verbose(fmt::format("epoch {}: {:.3f} s of {:.3f} s in allreduce ({})", m.epoch,
                                      allreduce_seconds_, m.seconds, world_.Describe()));
      allreduce_seconds_ = 0.0;
      if (!ctx_.primary()) return Status::Ok();  // rank 0 validates, prints and writes
    }
    std::string line = fmt::format("epoch: {:04d}   loss = {:.6f}", m.epoch, m.loss);
    if (ctx_.dataset->validation.count > 0) {
      const SplitScore v = EvaluateSplit(net_, ctx_.dataset->validation, ctx_.dataset->scale, cfg_.evaluate.batch_size);
      m.validation_accuracy = v.accuracy;
      m.validation_loss = v.loss;
      m.validation_auc = v.auc;
      m.validation_rmse = v.rmse;
      m.validation_r2 = v.r2;
      line += net_.loss().regression() ? fmt::format("   validation_loss = {:.6f}", m.validation_loss)
                                       : fmt::format("   validation_accuracy = {:.4f}", m.validation_accuracy);
    }
    ctx_.log->Info(line);
    ctx_.metrics.epochs.push_back(m);
    // Before the hooks: the epoch's checkpoint holds the tracker as of this epoch.
    if (TracksBestEpoch(cfg_.train)) UpdateBestEpoch(ctx_, m);
    for (auto& hook : hooks_) PIPELINE_RETURN_IF_ERROR(hook->OnEpochEnd(ctx_, m));
    return Status::Ok();
  }

  // On a stop signal: checkpoint the position (batches applied so far) and say how to go on.
  Status Interrupted(const TrainPosition& pos) {
    ctx_.failure_agreed = parallel_;
    if (!ctx_.primary()) return Status::Runtime(fmt::format("interrupted by {}: rank 0 checkpoints", StopSignalName(StopSignal())));
    Status saved = SaveCheckpoint(ctx_, pos);
    for (auto& hook : hooks_) hook->OnTrainEnd(ctx_, true);
    return StoppedStatus(ctx_, pos, batches_, saved);
  }

  Context& ctx_;
  const PipelineConfig& cfg_;
  const Split& train_;
  Network& net_;
  const int64_t n_, batch_, full_batches_, batches_;
  const ScheduleSpec schedule_;
  const int64_t horizon_;
  BatchSlot* full_ = nullptr;
  BatchSlot* partial_ = nullptr;
  std::vector<int64_t> order_;
  std::vector<std::unique_ptr<EpochHook>> hooks_;
  std::unique_ptr<dist::Collective> single_;
  dist::Collective& world_;
  const bool parallel_;
  std::vector<float> flat_grads_;
  double allreduce_seconds_ = 0.0;
  int agreed_stop_ = 0;
  bool stop_early_ = false;
  double train_seconds_ = 0.0;
  int64_t skipped_ = 0, trained_examples_ = 0;
};

// The config rules refuse an empty validation split the config shows; this
// catches one only the data shows (an idx file that ends before its start).
Status CheckValidationSplit(const Context& ctx) {
  const TrainConfig& t = ctx.config.train;
  if (!TracksBestEpoch(t) || ctx.dataset->validation.count > 0) return Status::Ok();
  const bool stopping = t.early_stopping.patience > 0;
  return ConfigErrorAt(
      ctx.config, stopping ? "train.early_stopping.patience" : "train.keep",
      fmt::format("{} ranks epochs by {} on the validation split, but the validation split ({}) holds no examples; "
                  "give it examples, or {}",
                  stopping ? "early stopping" : "keep: best", t.early_stopping.monitor,
                  ctx.dataset->validation.source.empty() ? "dataset.validation" : ctx.dataset->validation.source,
                  stopping ? "set train.early_stopping.patience: 0 (off)" : "set train.keep: last"));
}

class TrainStage : public Stage {
 public:
  std::string name() const override { return "train"; }
  std::vector<std::string> needs() const override { return {"dataset", "model"}; }
  std::vector<std::string> provides() const override { return {"trained model"}; }

  Status Run(Context& ctx) override {
    PIPELINE_RETURN_IF_ERROR(CheckBatchSize(ctx.dataset->train, ctx.config.train.batch_size));
    PIPELINE_RETURN_IF_ERROR(CheckValidationSplit(ctx));
    if (ctx.world) PIPELINE_RETURN_IF_ERROR(CheckDataParallel(ctx, *ctx.world));
    return TrainLoop(ctx).Run();
  }
};

}  // namespace

std::unique_ptr<Stage> NewTrainStage() { return std::make_unique<TrainStage>(); }

}  // namespace pipeline
