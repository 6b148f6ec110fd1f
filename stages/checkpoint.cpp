#include "stages/checkpoint.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/files.h"
#include "tfformat/crc32c.h"
#include "stages/model_spec.h"

namespace pipeline {
namespace {

constexpr char kMagic[8] = {'P', 'I', 'P', 'E', 'C', 'K', 'P', 'T'};
// 2 added the schedule horizon after the optimizer step count, 3 each epoch's
// validation AUC, RMSE and R^2 and the best epoch's state after the metrics;
// 1 and 2 are still read.
constexpr uint32_t kFormatVersion = 3;
// Bounds that keep a damaged length field from asking for absurd memory.
constexpr uint64_t kMaxCount = uint64_t{1} << 34;
constexpr uint32_t kMaxItems = 1u << 20;

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // x86-64 and aarch64 Linux: little-endian
    out_.append(b, sizeof(T));
  }
  void Str(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void Floats(const std::vector<float>& v) {
    Put<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Parser {
 public:
  Parser(const std::string& bytes, size_t end, const std::string& source) : b_(bytes), end_(end), source_(source) {}
  template <typename T>
  bool Get(T* v, const char* what) {
    if (!Need(sizeof(T), what)) return false;
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Str(std::string* s, const char* what) {
    uint32_t n = 0;
    if (!Get(&n, what) || !Need(n, what)) return false;
    s->assign(b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Floats(std::vector<float>* v, const char* what) {
    uint64_t n = 0;
    if (!Get(&n, what)) return false;
    if (n > kMaxCount || !Need(n * sizeof(float), what)) return Fail(what), false;
    v->resize(n);
    if (n) std::memcpy(v->data(), b_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return true;
  }
  bool Count(uint32_t* n, const char* what) {
    if (!Get(n, what)) return false;
    if (*n > kMaxItems) return Fail(what), false;
    return true;
  }
  bool Fail(const char* what) {
    if (error_.empty()) error_ = fmt::format("{}: bad {} at byte offset {}", source_, what, pos_);
    return false;
  }
  size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  bool Need(uint64_t n, const char* what) {
    if (n > end_ - pos_) {
      if (error_.empty())
        error_ = fmt::format("{}: truncated: {} at byte offset {} needs {} bytes, {} left", source_, what, pos_, n,
                             end_ - pos_);
      return false;
    }
    return true;
  }
  const std::string& b_;
  size_t end_;
  size_t pos_ = 0;
  const std::string& source_;
  std::string error_;
};

class CheckpointHook : public EpochHook {
 public:
  Status OnEpochEnd(Context& ctx, const EpochMetrics& m) override {
    const int64_t every = ctx.config.train.checkpoint_every;
    if (ctx.run_dir.empty() || every <= 0 || m.epoch % every != 0) return Status::Ok();
    if (m.epoch == ctx.config.train.epochs) return Status::Ok();  // OnTrainEnd writes the last one
    written_ = m.epoch;
    return SaveCheckpoint(ctx, TrainPosition{m.epoch, 0, 0.0, 0});
  }
  Status OnTrainEnd(Context& ctx, bool stopped) override {
    // After the last epoch: always, so a finished run can be extended with a
    // larger train.epochs (--resume). A stopped run's train stage wrote its own.
    if (stopped || ctx.run_dir.empty()) return Status::Ok();
    const int64_t done = static_cast<int64_t>(ctx.metrics.epochs.size());
    if (done == written_) return Status::Ok();
    return SaveCheckpoint(ctx, TrainPosition{done, 0, 0.0, 0});
  }

 private:
  int64_t written_ = -1;
};

}  // namespace

std::string CheckpointDir(const std::string& run_dir) { return run_dir + "/checkpoint"; }
std::string CheckpointPath(const std::string& run_dir) { return CheckpointDir(run_dir) + "/checkpoint.bin"; }

std::string SerializeCheckpoint(const Checkpoint& ck) {
  Writer w;
  w.out().append(kMagic, sizeof kMagic);
  w.Put<uint32_t>(kFormatVersion);
  w.Put<int64_t>(ck.position.epoch);
  w.Put<int64_t>(ck.position.batch);
  w.Put<double>(ck.position.loss_sum);
  w.Put<int64_t>(ck.position.loss_examples);
  w.Put<int64_t>(ck.optimizer_steps);
  w.Put<int64_t>(ck.schedule_horizon);
  w.Put<uint32_t>(static_cast<uint32_t>(ck.params.size()));
  for (const auto& p : ck.params) {
    w.Str(p.name);
    w.Put<uint32_t>(static_cast<uint32_t>(p.dims.size()));
    for (int64_t d : p.dims) w.Put<int64_t>(d);
    w.Floats(p.values);
  }
  w.Put<uint32_t>(static_cast<uint32_t>(ck.slots.size()));
  for (const auto& s : ck.slots) {
    w.Str(s.name);
    w.Floats(s.values);
  }
  w.Put<uint32_t>(static_cast<uint32_t>(ck.epochs.size()));
  for (const auto& m : ck.epochs) {
    w.Put<int64_t>(m.epoch);
    w.Put<double>(m.loss);
    w.Put<double>(m.validation_accuracy);
    w.Put<double>(m.validation_loss);
    w.Put<double>(m.seconds);
    w.Put<double>(m.learning_rate);
    w.Put<double>(m.validation_auc);
    w.Put<double>(m.validation_rmse);
    w.Put<double>(m.validation_r2);
  }
  w.Put<int64_t>(ck.best_epoch);
  w.Put<double>(ck.best_value);
  w.Put<int64_t>(ck.best_wait);
  w.Put<uint32_t>(static_cast<uint32_t>(ck.best_weights.size()));
  for (const auto& t : ck.best_weights) {
    w.Str(t.name);
    w.Floats(t.values);
  }
  w.Put<uint32_t>(crc32c::Mask(crc32c::Value(w.out())));
  return std::move(w.out());
}

Status ParseCheckpoint(const std::string& bytes, const std::string& source, Checkpoint* out) {
  if (bytes.size() < sizeof kMagic + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Status::Corruption(source + ": not a pipeline checkpoint (no PIPECKPT magic at byte offset 0)");
  }
  const size_t end = bytes.size() - 4;
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + end, 4);
  if (crc32c::Unmask(stored) != crc32c::Value(bytes.data(), end)) {
    return Status::Corruption(fmt::format("{}: checksum mismatch (CRC-32C at byte offset {}); the checkpoint is "
                                          "damaged, delete it to start over",
                                          source, end));
  }
  Parser p(bytes, end, source);
  Checkpoint ck;
  uint32_t version = 0, n = 0;
  std::string magic(sizeof kMagic, '\0');
  for (auto& c : magic) p.Get(&c, "magic");
  if (!p.Get(&version, "format version")) return Status::Corruption(p.error());
  if (version < 1 || version > kFormatVersion) {
    return Status::Corruption(fmt::format("{}: checkpoint format version {} (this build reads {})", source, version,
                                          kFormatVersion));
  }
  bool ok = p.Get(&ck.position.epoch, "epoch") && p.Get(&ck.position.batch, "batch") &&
            p.Get(&ck.position.loss_sum, "loss sum") && p.Get(&ck.position.loss_examples, "loss examples") &&
            p.Get(&ck.optimizer_steps, "optimizer steps") &&
            (version < 2 || p.Get(&ck.schedule_horizon, "schedule horizon")) && p.Count(&n, "parameter count");
  for (uint32_t i = 0; ok && i < n; ++i) {
    CheckpointTensor t;
    uint32_t rank = 0;
    ok = p.Str(&t.name, "parameter name") && p.Count(&rank, "parameter rank") && rank <= 8;
    for (uint32_t d = 0; ok && d < rank; ++d) {
      int64_t dim = 0;
      ok = p.Get(&dim, "parameter dimension");
      t.dims.push_back(dim);
    }
    ok = ok && p.Floats(&t.values, "parameter values");
    ck.params.push_back(std::move(t));
  }
  ok = ok && p.Count(&n, "slot count");
  for (uint32_t i = 0; ok && i < n; ++i) {
    CheckpointTensor t;
    ok = p.Str(&t.name, "slot name") && p.Floats(&t.values, "slot values");
    ck.slots.push_back(std::move(t));
  }
  ok = ok && p.Count(&n, "epoch count");
  for (uint32_t i = 0; ok && i < n; ++i) {
    EpochMetrics m;
    ok = p.Get(&m.epoch, "epoch metrics") && p.Get(&m.loss, "epoch metrics") &&
         p.Get(&m.validation_accuracy, "epoch metrics") && p.Get(&m.validation_loss, "epoch metrics") &&
         p.Get(&m.seconds, "epoch metrics") &&
         p.Get(&m.learning_rate, "epoch metrics") &&
         (version < 3 || (p.Get(&m.validation_auc, "epoch metrics") && p.Get(&m.validation_rmse, "epoch metrics") &&
                          p.Get(&m.validation_r2, "epoch metrics")));
    ck.epochs.push_back(m);
  }
  if (version >= 3) {
    ok = ok && p.Get(&ck.best_epoch, "best epoch") && p.Get(&ck.best_value, "best value") &&
         p.Get(&ck.best_wait, "best epoch wait") && p.Count(&n, "best weights count");
    for (uint32_t i = 0; ok && i < n; ++i) {
      CheckpointTensor t;
      ok = p.Str(&t.name, "best weights name") && p.Floats(&t.values, "best weights values");
      ck.best_weights.push_back(std::move(t));
    }
  }
  if (!ok) return Status::Corruption(p.error().empty() ? source + ": malformed checkpoint" : p.error());
  if (p.pos() != end) {
    return Status::Corruption(fmt::format("{}: {} unexpected bytes at byte offset {}", source, end - p.pos(), p.pos()));
  }
  if (ck.position.epoch < 0 || ck.position.batch < 0 || ck.position.loss_examples < 0 ||
      static_cast<int64_t>(ck.epochs.size()) != ck.position.epoch) {
    return Status::Corruption(fmt::format("{}: inconsistent position (epoch {}, batch {}, {} epochs of metrics)",
                                          source, ck.position.epoch, ck.position.batch, ck.epochs.size()));
  }
  if (ck.best_epoch < 0 || ck.best_epoch > ck.position.epoch || ck.best_wait < 0 ||
      ck.best_wait > ck.position.epoch) {
    return Status::Corruption(fmt::format("{}: inconsistent best epoch {} (waited {} epochs) at epoch {}", source,
                                          ck.best_epoch, ck.best_wait, ck.position.epoch));
  }
  *out = std::move(ck);
  return Status::Ok();
}

Checkpoint CaptureCheckpoint(Context& ctx, const TrainPosition& pos) {
  Checkpoint ck;
  ck.position = pos;
  ck.optimizer_steps = ctx.optimizer->steps();
  ck.schedule_horizon = ScheduleHorizon(ctx.config.optimizer.schedule.epochs, ctx.config.train.epochs);
  // With batch_norm's moving statistics after the parameters.
  for (Param* p : ctx.model->SavedTensors()) ck.params.push_back({p->name, p->dims, p->value});
  for (const Slot& s : ctx.optimizer->slots()) ck.slots.push_back({s.name, {}, *s.values});
  ck.epochs.assign(ctx.metrics.epochs.begin(), ctx.metrics.epochs.begin() + std::min<size_t>(pos.epoch, ctx.metrics.epochs.size()));
  ck.best_epoch = ctx.best.epoch;
  ck.best_value = ctx.best.value;
  ck.best_wait = ctx.best.wait;
  const std::vector<Param*> tensors = ctx.model->SavedTensors();
  for (size_t i = 0; i < ctx.best.weights.size() && i < tensors.size(); ++i)
    ck.best_weights.push_back({tensors[i]->name, {}, ctx.best.weights[i]});
  return ck;
}

Status WriteCheckpoint(const std::string& run_dir, const Checkpoint& ck) {
  PIPELINE_RETURN_IF_ERROR(MakeDirs(CheckpointDir(run_dir)));
  return WriteFileAtomic(CheckpointPath(run_dir), SerializeCheckpoint(ck));
}

Status SaveCheckpoint(Context& ctx, const TrainPosition& pos) {
  Status st = WriteCheckpoint(ctx.run_dir, CaptureCheckpoint(ctx, pos));
  if (!st.ok()) return Status::IOError("cannot write the checkpoint: " + st.message());
  if (ctx.log) ctx.log->Verbose(fmt::format("checkpoint: epoch {}, batch {} -> {}", pos.epoch, pos.batch,
                                            CheckpointPath(ctx.run_dir)));
  return Status::Ok();
}

Status ReadCheckpoint(const std::string& run_dir, Checkpoint* out) {
  const std::string path = CheckpointPath(run_dir);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("no checkpoint to resume from: " + path +
                            " does not exist (checkpoints are written every train.checkpoint_every epochs, at the "
                            "end of training and on SIGINT/SIGTERM)");
  }
  std::string bytes;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kCheckpoint, &bytes));
  return ParseCheckpoint(bytes, path, out);
}

Status RestoreCheckpoint(const Checkpoint& ck, Context& ctx) {
  const std::string path = CheckpointPath(ctx.run_dir);
  std::vector<Param*> params = ctx.model->SavedTensors();
  if (params.size() != ck.params.size()) {
    return Status::Corruption(fmt::format("{} holds {} parameters but the model has {}", path, ck.params.size(),
                                          params.size()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const CheckpointTensor& t = ck.params[i];
    if (t.name != params[i]->name || t.dims != params[i]->dims || t.values.size() != params[i]->value.size()) {
      return Status::Corruption(fmt::format("{}: parameter {} is '{}' with {} values; the model's is '{}' with {}",
                                            path, i, t.name, t.values.size(), params[i]->name,
                                            params[i]->value.size()));
    }
  }
  std::vector<Slot> slots = ctx.optimizer->slots();
  if (slots.size() != ck.slots.size()) {
    return Status::Corruption(fmt::format("{} holds {} optimizer slots but optimizer '{}' has {}", path,
                                          ck.slots.size(), ctx.config.optimizer.type, slots.size()));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (ck.slots[i].name != slots[i].name || ck.slots[i].values.size() != slots[i].values->size()) {
      return Status::Corruption(fmt::format("{}: optimizer slot {} is '{}'; the optimizer's is '{}'", path, i,
                                            ck.slots[i].name, slots[i].name));
    }
  }
  if (!ck.best_weights.empty() && ck.best_weights.size() != params.size()) {
    return Status::Corruption(fmt::format("{} holds {} best-epoch tensors but the model has {}", path,
                                          ck.best_weights.size(), params.size()));
  }
  for (size_t i = 0; i < ck.best_weights.size(); ++i) {
    if (ck.best_weights[i].name != params[i]->name || ck.best_weights[i].values.size() != params[i]->value.size()) {
      return Status::Corruption(fmt::format("{}: best-epoch tensor {} is '{}' with {} values; the model's is '{}' "
                                            "with {}",
                                            path, i, ck.best_weights[i].name, ck.best_weights[i].values.size(),
                                            params[i]->name, params[i]->value.size()));
    }
  }
  for (size_t i = 0; i < params.size(); ++i) params[i]->value = ck.params[i].values;
  for (size_t i = 0; i < slots.size(); ++i) *slots[i].values = ck.slots[i].values;
  ctx.optimizer->set_steps(ck.optimizer_steps);
  // Dropout's masks continue from the same step (exact unless batches were skipped
  // for non-finite losses, which count as steps run but not as optimizer steps).
  ctx.model->set_steps(ck.optimizer_steps);
  ctx.metrics.epochs = ck.epochs;
  ctx.best.epoch = ck.best_epoch;
  ctx.best.value = ck.best_value;
  ctx.best.wait = ck.best_wait;
  ctx.best.weights.clear();
  for (const auto& t : ck.best_weights) ctx.best.weights.push_back(t.values);
  return Status::Ok();
}

std::unique_ptr<EpochHook> NewCheckpointHook() { return std::make_unique<CheckpointHook>(); }

}  // namespace pipeline
