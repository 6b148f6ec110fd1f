#include "stages/events.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

#include "common/files.h"
#include "proto/event.pb.h"
#include "stages/epoch_hooks.h"

namespace pipeline::events {
namespace {

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

// TensorFlow's name: events.out.tfevents.<int seconds>.<hostname>.<pid>.<uid>.
std::string EventFileName(double wall_time) {
  static std::atomic<int> counter{0};
  return fmt::format("events.out.tfevents.{}.{}.{}.{:04d}", static_cast<int64_t>(wall_time), HostName(),
                     static_cast<long>(::getpid()), counter++);
}

}  // namespace

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EventWriter::~EventWriter() { (void)file_.Close(); }

Status EventWriter::Open(const std::string& dir) {
  if (file_.is_open()) return Status::Runtime("events: writer already open on " + path_);
  PIPELINE_RETURN_IF_ERROR(MakeDirs(dir));
  const double now = WallTime();
  std::string path;
  do {
    path = dir + "/" + EventFileName(now);
  } while (std::filesystem::exists(path));
  PIPELINE_RETURN_IF_ERROR(file_.Open(path));
  path_ = path;
  tensorflow::Event e;
  e.set_wall_time(now);
  e.set_step(0);
  e.set_file_version(kFileVersion);
  e.mutable_source_metadata()->set_writer("pipeline");
  return WriteEvent(e);
}

Status EventWriter::WriteEvent(const tensorflow::Event& event) {
  std::string bytes;
  if (!event.SerializeToString(&bytes)) return Status::Runtime("events: cannot serialize an Event");
  return file_.Write(bytes);
}

Status EventWriter::WriteScalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars) {
  tensorflow::Event e;
  e.set_wall_time(WallTime());
  e.set_step(step);
  for (const auto& [tag, value] : scalars) {
    if (std::isnan(value)) continue;  // e.g. no validation split: no point rather than a NaN
    tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  if (e.summary().value_size() == 0) return Status::Ok();
  return WriteEvent(e);
}

Status EventWriter::Flush() { return file_.Flush(); }

Status EventWriter::Close() { return file_.Close(); }

std::vector<std::string> ListEventFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find("tfevents") != std::string::npos) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ReadEventFile(const std::string& path, std::vector<tensorflow::Event>* events) {
  events->clear();
  std::string contents;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kTFRecordFile, &contents));
  std::vector<std::string> records;
  Status st = tfrecord::Decode(contents, &records);
  if (!st.ok()) return Status::Corruption(path + ": " + st.message());
  for (size_t i = 0; i < records.size(); ++i) {
    tensorflow::Event e;
    if (!e.ParseFromString(records[i]))
      return Status::Corruption(fmt::format("{}: record {} is not an Event", path, i));
    events->push_back(std::move(e));
  }
  return Status::Ok();
}

Status ReadScalars(const std::string& dir, std::vector<Scalar>* scalars) {
  scalars->clear();
  for (const auto& path : ListEventFiles(dir)) {
    std::vector<tensorflow::Event> evs;
    PIPELINE_RETURN_IF_ERROR(ReadEventFile(path, &evs));
    for (const auto& e : evs) {
      for (const auto& v : e.summary().value()) {
        Scalar s{v.tag(), e.step(), e.wall_time(), 0.0};
        if (v.value_case() == tensorflow::Summary::Value::kSimpleValue) {
          s.value = v.simple_value();
        } else if (v.has_tensor() && v.metadata().plugin_data().plugin_name() == "scalars" &&
                   v.tensor().float_val_size() == 1) {
          s.value = v.tensor().float_val(0);
        } else {
          continue;
        }
        scalars->push_back(std::move(s));
      }
    }
  }
  return Status::Ok();
}

namespace {

class EventsHook : public EpochHook {
 public:
  Status OnTrainBegin(Context& ctx) override {
    if (ctx.run_dir.empty()) return Status::Ok();
    PIPELINE_RETURN_IF_ERROR(train_.Open(ctx.run_dir + "/" + kTrainDir));
    if (ctx.dataset && ctx.dataset->validation.count > 0)
      PIPELINE_RETURN_IF_ERROR(validation_.Open(ctx.run_dir + "/" + kValidationDir));
    if (ctx.resume) {
      // A resumed run re-trains from the checkpoint's epoch; SessionLog START at
      // that step makes TensorBoard drop the older files' points from there on
      // (its "purge orphaned data" on restart), so no step appears twice.
      tensorflow::Event e;
      e.set_wall_time(WallTime());
      e.set_step(ctx.metrics.epochs.empty() ? 1 : ctx.metrics.epochs.back().epoch + 1);
      e.mutable_session_log()->set_status(tensorflow::SessionLog::START);
      PIPELINE_RETURN_IF_ERROR(train_.WriteEvent(e));
      if (validation_.is_open()) PIPELINE_RETURN_IF_ERROR(validation_.WriteEvent(e));
    }
    return Status::Ok();
  }

  Status OnEpochEnd(Context& ctx, const EpochMetrics& m) override {
    if (!train_.is_open()) return Status::Ok();
    const double examples = ctx.dataset ? static_cast<double>(ctx.dataset->train.count) : NAN;
    PIPELINE_RETURN_IF_ERROR(train_.WriteScalars(m.epoch, {{"epoch_loss", m.loss},
                                                            {"epoch_learning_rate", m.learning_rate},
                                                            {"epoch_examples_per_second",
                                                             m.seconds > 0 ? examples / m.seconds : NAN}}));
    PIPELINE_RETURN_IF_ERROR(train_.Flush());
    if (validation_.is_open()) {
      PIPELINE_RETURN_IF_ERROR(validation_.WriteScalars(
          m.epoch, {{"epoch_accuracy", m.validation_accuracy},
                    {"epoch_loss", m.validation_loss},
                    {"epoch_auc", m.validation_auc},
                    {"epoch_rmse", m.validation_rmse},
                    {"epoch_r2", m.validation_r2}}));
      PIPELINE_RETURN_IF_ERROR(validation_.Flush());
    }
    return Status::Ok();
  }

  Status OnTrainEnd(Context& ctx, bool stopped) override {
    // train.early_stopping / keep: best: beside the curves' last point (0: not
    // stopped early, so no point).
    const RunMetrics& r = ctx.metrics;
    if (!stopped && train_.is_open() && r.kept_epoch > 0 && !r.epochs.empty()) {
      auto point = [](int64_t epoch) { return epoch > 0 ? static_cast<double>(epoch) : NAN; };
      PIPELINE_RETURN_IF_ERROR(train_.WriteScalars(r.epochs.back().epoch, {{"stopped_epoch", point(r.stopped_epoch)},
                                                                           {"best_epoch", point(r.best_epoch)},
                                                                           {"kept_epoch", point(r.kept_epoch)}}));
    }
    Status st = train_.Close();
    Status v = validation_.Close();
    return st.ok() ? v : st;
  }

 private:
  EventWriter train_, validation_;
};

}  // namespace

std::unique_ptr<EpochHook> NewEventsHook() { return std::make_unique<EventsHook>(); }

Status WriteTestScalars(const std::string& run_dir, int64_t step, double accuracy, double loss) {
  if (run_dir.empty()) return Status::Ok();
  EventWriter w;
  PIPELINE_RETURN_IF_ERROR(w.Open(run_dir + "/" + kTestDir));
  PIPELINE_RETURN_IF_ERROR(w.WriteScalars(step, {{"epoch_accuracy", accuracy}, {"epoch_loss", loss}}));
  return w.Close();
}

}  // namespace pipeline::events
