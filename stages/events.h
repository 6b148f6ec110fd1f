// TensorBoard event files: `events.out.tfevents.<secs>.<host>.<pid>.<n>` in a
// run directory, TFRecord-framed (tfformat/tfrecord.h, masked CRC32C) Event
// protos, the first one carrying file_version "brain.Event:2".
//
// Scalars are written as Summary.Value.simple_value (TF1 style, what
// tf.compat.v1.summary.scalar and tensorboardX write). TensorBoard's loader
// migrates them (tensorboard/data_compat.py, _migrate_scalar_value) into the
// "scalars" plugin's tensor form, so the Scalars tab and the HParams plugin's
// metrics read them like TF2's. docs/observability.md lists the tags.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "tfformat/tfrecord.h"

namespace tensorflow {
class Event;
}

namespace pipeline {

class EpochHook;
struct Context;

namespace events {

constexpr char kFileVersion[] = "brain.Event:2";

// Seconds since the Unix epoch, with sub-second precision (Event.wall_time).
double WallTime();

// One event file, created in `dir` (made if missing) by Open().
class EventWriter {
 public:
  EventWriter() = default;
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Creates a new, uniquely named event file and writes the file_version event.
  Status Open(const std::string& dir);
  // One Event at `step` whose summary holds one simple_value per (tag, value).
  Status WriteScalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  Status WriteEvent(const tensorflow::Event& event);
  Status Flush();  // fsyncs, so a crashed run keeps every finished epoch
  Status Close();
  bool is_open() const { return file_.is_open(); }
  const std::string& path() const { return path_; }

 private:
  tfrecord::Writer file_;
  std::string path_;
};

// The events.out.tfevents.* files directly in `dir`, sorted by name (that is,
// by creation time, as TensorBoard reads them).
std::vector<std::string> ListEventFiles(const std::string& dir);

// Decodes an event file, verifying every record's framing and CRCs.
Status ReadEventFile(const std::string& path, std::vector<tensorflow::Event>* events);

// A scalar as TensorBoard shows it: from simple_value, or from a scalar float
// tensor with plugin "scalars".
struct Scalar {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0.0;
  double value = 0.0;
};
// Every scalar in every event file directly in `dir`, in file then record order.
Status ReadScalars(const std::string& dir, std::vector<Scalar>* scalars);

// Subdirectories of a run directory, one TensorBoard run each (Keras' layout).
constexpr char kTrainDir[] = "train";
constexpr char kValidationDir[] = "validation";
constexpr char kTestDir[] = "test";

// The train stage's hook: per epoch, train/ gets epoch_loss,
// epoch_learning_rate and epoch_examples_per_second; validation/ gets
// epoch_accuracy and epoch_loss (when there is a validation split), and
// epoch_auc (two classes) or epoch_rmse and epoch_r2 (regression). With
// train.early_stopping or keep: best, train/ also gets stopped_epoch (when it
// stopped early), best_epoch and kept_epoch at the last epoch's step.
std::unique_ptr<EpochHook> NewEventsHook();

// The evaluate stage's test scores: test/ gets epoch_accuracy and epoch_loss
// at step `step` (the number of epochs trained), a point beside the curves.
Status WriteTestScalars(const std::string& run_dir, int64_t step, double accuracy, double loss);

}  // namespace events
}  // namespace pipeline
