#include "stages/events_hparams.h"

#include "proto/event.pb.h"
#include "proto/hparams.pb.h"
#include "stages/events.h"

namespace pipeline::events {
namespace {

constexpr char kPluginName[] = "hparams";
constexpr int kPluginDataVersion = 0;

void SetValue(const HParamValue& v, google::protobuf::Value* out) {
  if (const double* d = std::get_if<double>(&v)) {
    out->set_number_value(*d);
  } else if (const bool* b = std::get_if<bool>(&v)) {
    out->set_bool_value(*b);
  } else {
    out->set_string_value(std::get<std::string>(v));
  }
}

// One event holding one Summary.Value: `tag`, the plugin data as metadata and
// TensorBoard's NULL_TENSOR (an empty float vector) as the value, as
// tensorboard/plugins/hparams/summary_v2.py writes it.
Status WritePluginData(const std::string& dir, const std::string& tag,
                       const tensorboard::hparams::HParamsPluginData& data) {
  tensorflow::Event e;
  e.set_wall_time(WallTime());
  e.set_step(0);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  auto* plugin = v->mutable_metadata()->mutable_plugin_data();
  plugin->set_plugin_name(kPluginName);
  if (!data.SerializeToString(plugin->mutable_content())) return Status::Runtime("events: cannot serialize hparams");
  tensorflow::TensorProto* t = v->mutable_tensor();
  t->set_dtype(tensorflow::DT_FLOAT);
  t->mutable_tensor_shape()->add_dim()->set_size(0);
  EventWriter w;
  PIPELINE_RETURN_IF_ERROR(w.Open(dir));
  PIPELINE_RETURN_IF_ERROR(w.WriteEvent(e));
  return w.Close();
}

}  // namespace

std::vector<MetricName> DefaultHParamsMetrics() {
  return {{kValidationDir, "epoch_accuracy"},
          {kValidationDir, "epoch_loss"},
          {kTrainDir, "epoch_loss"},
          {kTestDir, "epoch_accuracy"}};
}

Status WriteHParamsExperiment(const std::string& sweep_dir, const std::vector<HParamSpec>& hparams,
                              const std::vector<MetricName>& metrics, const std::string& description) {
  tensorboard::hparams::HParamsPluginData data;
  data.set_version(kPluginDataVersion);
  auto* ex = data.mutable_experiment();
  ex->set_description(description);
  ex->set_time_created_secs(WallTime());
  for (const auto& h : hparams) {
    auto* info = ex->add_hparam_infos();
    info->set_name(h.name);
    bool numbers = !h.values.empty(), bools = !h.values.empty();
    for (const auto& v : h.values) {
      numbers = numbers && std::holds_alternative<double>(v);
      bools = bools && std::holds_alternative<bool>(v);
    }
    info->set_type(h.values.empty() ? tensorboard::hparams::DATA_TYPE_UNSET
                   : numbers        ? tensorboard::hparams::DATA_TYPE_FLOAT64
                   : bools          ? tensorboard::hparams::DATA_TYPE_BOOL
                                    : tensorboard::hparams::DATA_TYPE_STRING);
    if (!h.values.empty()) {
      auto* domain = info->mutable_domain_discrete();
      for (const auto& v : h.values) {
        // A mixed domain is written as strings, matching DATA_TYPE_STRING.
        if (numbers || bools || std::holds_alternative<std::string>(v)) {
          SetValue(v, domain->add_values());
        } else if (const double* d = std::get_if<double>(&v)) {
          domain->add_values()->set_string_value(std::to_string(*d));
        } else {
          domain->add_values()->set_string_value(std::get<bool>(v) ? "true" : "false");
        }
      }
    }
  }
  for (const auto& m : metrics) {
    auto* info = ex->add_metric_infos();
    info->mutable_name()->set_group(m.group);
    info->mutable_name()->set_tag(m.tag);
    info->set_display_name(m.group + "/" + m.tag);
    info->set_dataset_type(m.group == kTrainDir        ? tensorboard::hparams::DATASET_TRAINING
                           : m.group == kValidationDir ? tensorboard::hparams::DATASET_VALIDATION
                                                       : tensorboard::hparams::DATASET_UNKNOWN);
  }
  return WritePluginData(sweep_dir, kExperimentTag, data);
}

Status WriteHParamsSessionStart(const std::string& run_dir, const std::map<std::string, HParamValue>& hparams,
                                const std::string& group_name) {
  tensorboard::hparams::HParamsPluginData data;
  data.set_version(kPluginDataVersion);
  auto* start = data.mutable_session_start_info();
  for (const auto& [name, value] : hparams) SetValue(value, &(*start->mutable_hparams())[name]);
  start->set_group_name(group_name);
  start->set_start_time_secs(WallTime());
  return WritePluginData(run_dir, kSessionStartTag, data);
}

Status WriteHParamsSessionEnd(const std::string& run_dir, bool success) {
  tensorboard::hparams::HParamsPluginData data;
  data.set_version(kPluginDataVersion);
  auto* end = data.mutable_session_end_info();
  end->set_status(success ? tensorboard::hparams::STATUS_SUCCESS : tensorboard::hparams::STATUS_FAILURE);
  end->set_end_time_secs(WallTime());
  return WritePluginData(run_dir, kSessionEndTag, data);
}

}  // namespace pipeline::events
