#include "stages/resume.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "common/files.h"
#include "config/loader.h"
#include "stages/model_spec.h"
#include "stages/signals.h"

namespace pipeline {
namespace {

// Dotted path of the first difference between two YAML trees, or "".
std::string FirstDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path) {
  if (a.Type() != b.Type()) return path.empty() ? "<root>" : path;
  if (a.IsMap()) {
    for (const auto& kv : a) {
      const std::string key = kv.first.as<std::string>();
      const std::string sub = path.empty() ? key : path + "." + key;
      if (!b[key]) return sub;
      std::string d = FirstDifference(kv.second, b[key], sub);
      if (!d.empty()) return d;
    }
    for (const auto& kv : b) {
      const std::string key = kv.first.as<std::string>();
      if (!a[key]) return path.empty() ? key : path + "." + key;
    }
    return "";
  }
  if (a.IsSequence()) {
    if (a.size() != b.size()) return path;
    for (size_t i = 0; i < a.size(); ++i) {
      std::string d = FirstDifference(a[i], b[i], path + "." + std::to_string(i));
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.IsScalar() && a.Scalar() != b.Scalar()) return path;
  return "";
}

std::string ScalarAt(const YAML::Node& root, const std::string& dotted) {
  YAML::Node n = YAML::Clone(root);
  size_t start = 0;
  while (n && start <= dotted.size()) {
    const size_t dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (n.IsSequence()) {
      char* end = nullptr;
      const unsigned long i = std::strtoul(key.c_str(), &end, 10);
      if (*end != '\0' || i >= n.size()) return "?";
      n.reset(n[i]);
    } else if (n.IsMap()) {
      n.reset(n[key]);
    } else {
      return "?";
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!n) return "(absent)";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A cosine schedule's learning rates depend on the horizon: resuming on another
// one would apply the first epochs on one curve and the rest on another
// (3 epochs then 5: the rate jumps from 0.00325 back up to 0.00411). Refused,
// with the fix: fix the horizon when the run starts.
Status CheckResumeSchedule(const PipelineConfig& checkpointed, const PipelineConfig& requested, const Checkpoint& ck) {
  const ScheduleConfig& s = requested.optimizer.schedule;
  if (!ScheduleDependsOnHorizon(s.type)) return Status::Ok();
  const int64_t before = ck.schedule_horizon > 0
                             ? ck.schedule_horizon
                             : ScheduleHorizon(checkpointed.optimizer.schedule.epochs, checkpointed.train.epochs);
  const int64_t now = ScheduleHorizon(s.epochs, requested.train.epochs);
  if (before == now) return Status::Ok();
  const double base = requested.optimizer.learning_rate;
  const int64_t done = ck.position.epoch;
  std::string jump;  // the discontinuity the user would get
  if (ck.position.batch > 0)
    jump = fmt::format(": epoch {} started at learning rate {:.6g} and would go on at {:.6g}", done + 1,
                       LearningRateAt(s, base, done, before), LearningRateAt(s, base, done, now));
  else if (done > 0)
    jump = fmt::format(": epoch {} ran at learning rate {:.6g}, epoch {} would run at {:.6g}", done,
                       LearningRateAt(s, base, done - 1, before), done + 1, LearningRateAt(s, base, done, now));
  return Status::InvalidArgument(fmt::format(
      "train.epochs: the checkpointed run's {} learning-rate schedule spans {} epochs; train.epochs={} (with "
      "optimizer.schedule.epochs: {}) would stretch it to {} epochs mid-run{}. A {} schedule's horizon is fixed when "
      "the run starts: to extend a run later, start it with optimizer.schedule.epochs set to the final length; or "
      "start a new run",
      s.type, before, requested.train.epochs, s.epochs, now, jump, s.type));
}

}  // namespace

Status OpenResumedRunDir(const std::string& run_dir, const std::string& run_dir_option,
                         const PipelineConfig& requested, DirLock* lock) {
  if (!run_dir_option.empty() && run_dir_option != run_dir) {
    return Status::InvalidArgument("--run-dir and --resume name different directories; a resumed run "
                                   "continues in its own run directory (give only --resume RUN_DIR)");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(run_dir, ec)) return Status::NotFound("--resume " + run_dir + ": no such run directory");
  PIPELINE_RETURN_IF_ERROR(DirLock::Acquire(run_dir, "run directory", lock));  // before reading the checkpoint it continues
  // It must hold a checkpoint and a config.yaml that `requested` equals but for a larger train.epochs.
  Checkpoint ck;
  PIPELINE_RETURN_IF_ERROR(ReadCheckpoint(run_dir, &ck));
  PipelineConfig checkpointed;
  Status st = LoadConfig(run_dir + "/config.yaml", {}, &checkpointed);
  if (!st.ok()) {
    return Status::Corruption("--resume " + run_dir + ": the run's config.yaml does not load: " + st.message());
  }
  return CheckResumeConfig(checkpointed, requested, ck);
}

Status ResumeTraining(Context& ctx, int64_t batches_per_epoch, TrainPosition* at) {
  // The checkpoint's weights, optimizer state, metrics and position.
  Checkpoint ck;
  PIPELINE_RETURN_IF_ERROR(ReadCheckpoint(ctx.run_dir, &ck));
  PIPELINE_RETURN_IF_ERROR(RestoreCheckpoint(ck, ctx));
  if (ck.position.batch > batches_per_epoch) {
    return Status::Corruption(fmt::format("{}: batch {} of an epoch of {} batches", CheckpointPath(ctx.run_dir),
                                          ck.position.batch, batches_per_epoch));
  }
  *at = ck.position;
  PIPELINE_RETURN_IF_ERROR(TruncateMetricsFile(ctx.run_dir, at->epoch));
  ctx.log->Info(fmt::format("resuming {} at epoch {}, batch {}/{}", ctx.run_dir, at->epoch + 1, at->batch,
                            batches_per_epoch));
  return Status::Ok();
}

Status StoppedStatus(const Context& ctx, const TrainPosition& pos, int64_t batches_per_epoch, const Status& saved) {
  const std::string where = fmt::format("in epoch {} after batch {}/{}", pos.epoch + 1, pos.batch, batches_per_epoch);
  if (!saved.ok()) {
    return Status::IOError(fmt::format("interrupted by {} {}; {}", StopSignalName(StopSignal()), where,
                                       saved.message()));
  }
  return Status::Runtime(fmt::format(
      "interrupted by {} {}; checkpoint written to {}. Resume with:\n  pipeline run {}/config.yaml "
      "--resume {}",
      StopSignalName(StopSignal()), where, CheckpointPath(ctx.run_dir), ctx.run_dir, ctx.run_dir));
}

Status TruncateMetricsFile(const std::string& run_dir, int64_t epochs) {
  const std::string path = run_dir + "/metrics.jsonl";
  std::string text, kept;
  if (!std::filesystem::exists(path)) return Status::Ok();
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kRunRecord, &text));
  int64_t next = 1;
  size_t start = 0;
  while (start < text.size() && next <= epochs) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // a torn last line (killed mid-append) is dropped
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.find("{\"epoch\": " + std::to_string(next) + ",") == 0) {
      kept += line + "\n";
      ++next;
    }
  }
  return WriteFileAtomic(path, kept);
}

Status CheckResumeConfig(const PipelineConfig& checkpointed, const PipelineConfig& requested, const Checkpoint& ck) {
  const int64_t completed_epochs = ck.position.epoch;
  if (requested.train.epochs < checkpointed.train.epochs) {
    return Status::InvalidArgument(fmt::format(
        "train.epochs: a resumed run may only raise train.epochs (the checkpointed run has {}, got {}); "
        "valid: an integer >= {}",
        checkpointed.train.epochs, requested.train.epochs, std::max(checkpointed.train.epochs, completed_epochs)));
  }
  PipelineConfig a = checkpointed;
  a.train.epochs = requested.train.epochs;
  a.export_ = requested.export_;  // where and how the model is exported does not touch the checkpoint
  // The horizon means nothing to a schedule that does not depend on it (an ASHA
  // sweep sets it for every trial, also in directories from before it did).
  if (!ScheduleDependsOnHorizon(requested.optimizer.schedule.type))
    a.optimizer.schedule.epochs = requested.optimizer.schedule.epochs;
  const YAML::Node na = YAML::Load(EmitResolvedYaml(a)), nb = YAML::Load(EmitResolvedYaml(requested));
  const std::string key = FirstDifference(na, nb, "");
  if (!key.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: differs from the checkpointed run's config.yaml ({} there, {} now); a resumed run must use the same "
        "config, only train.epochs may be raised (and export changed). Valid: {} (or leave it out)",
        key, ScalarAt(na, key), ScalarAt(nb, key), ScalarAt(na, key)));
  }
  return CheckResumeSchedule(checkpointed, requested, ck);
}

}  // namespace pipeline
