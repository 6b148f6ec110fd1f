// TensorBoard's HParams tab for a sweep: each trial's run directory gets a
// session-start summary (its hyperparameter values), the sweep directory the
// experiment summary (which hyperparameters and metrics to tabulate). The
// metrics themselves are the trials' scalars (stages/events.h): a metric
// (group, tag) is the scalar `tag` in <trial run dir>/<group>.
//
// Usage from the sweep driver (sweep/), around each trial's `pipeline run`:
//
//   events::WriteHParamsExperiment(sweep_dir, {{"optimizer.learning_rate", {0.1, 0.01}},
//                                              {"optimizer.type", {"sgd", "adam"}}});
//   for each trial:
//     events::WriteHParamsSessionStart(trial_dir, {{"optimizer.learning_rate", 0.1},
//                                                  {"optimizer.type", std::string("sgd")}});
//     ... run `pipeline run CONFIG --run-dir trial_dir ...` ...
//     events::WriteHParamsSessionEnd(trial_dir, exit_code == 0);
//
// Every summary is a Summary.Value with plugin_name "hparams" whose content is
// a serialized tensorboard.hparams.HParamsPluginData (proto/hparams.proto,
// version 0), tagged as TensorBoard's hparams/summary.py tags them.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace pipeline::events {

// A hyperparameter's value: a number, a string or a bool (google.protobuf.Value).
// Pass integers as double (3.0) and strings as std::string.
using HParamValue = std::variant<double, std::string, bool>;

struct HParamSpec {
  std::string name;                  // e.g. "optimizer.learning_rate"
  std::vector<HParamValue> values;   // the values the sweep tries (discrete domain); may be empty
};

struct MetricName {
  std::string group;  // the trial run dir's subdirectory: "train", "validation", "test"
  std::string tag;    // e.g. "epoch_accuracy"
};

// validation/epoch_accuracy, validation/epoch_loss, train/epoch_loss, test/epoch_accuracy.
std::vector<MetricName> DefaultHParamsMetrics();

constexpr char kExperimentTag[] = "_hparams_/experiment";
constexpr char kSessionStartTag[] = "_hparams_/session_start_info";
constexpr char kSessionEndTag[] = "_hparams_/session_end_info";

// Writes a new event file in `sweep_dir` with the experiment summary. The
// hparam type comes from its values (all numbers: FLOAT64, all bools: BOOL,
// else STRING; no values: UNSET).
Status WriteHParamsExperiment(const std::string& sweep_dir, const std::vector<HParamSpec>& hparams,
                              const std::vector<MetricName>& metrics = DefaultHParamsMetrics(),
                              const std::string& description = "");

// Writes a new event file in `run_dir` (made if missing) with the trial's values.
Status WriteHParamsSessionStart(const std::string& run_dir, const std::map<std::string, HParamValue>& hparams,
                                const std::string& group_name = "");

// Writes a new event file in `run_dir` marking the trial finished (STATUS_SUCCESS or STATUS_FAILURE).
Status WriteHParamsSessionEnd(const std::string& run_dir, bool success);

}  // namespace pipeline::events
