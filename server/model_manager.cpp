#include "server/model_manager.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include "common/files.h"
#include "common/input_limits.h"
#include "common/version_number.h"
#include "proto/serving_prediction_log.pb.h"
#include "server/text_proto.h"
#include "serving/classify_api.h"
#include "tfformat/tfrecord.h"

namespace pipeline::server {

namespace fs = std::filesystem;
using tensorflow::serving::ModelConfig;
using tensorflow::serving::ModelConfigList;
using tensorflow::serving::ModelVersionStatus;
using State = tensorflow::serving::ModelVersionStatus::State;
using serving::ErrorCode;
using serving::ServingStatus;

struct ModelManager::VersionEntry {
  State state = ModelVersionStatus::START;
  ServingStatus status;
  std::shared_ptr<serving::Servable> servable;  // set while AVAILABLE
  // A failed load: left out of the policy (the previous version keeps
  // serving) until the directory disappears or its files change.
  bool failed = false;
  std::string fingerprint;  // of the directory when the load failed
};

struct ModelManager::Model {
  ModelConfig config;
  std::map<int64_t, VersionEntry> versions;
  std::string last_listing_error;  // logged once, not every poll
};

namespace {

void Log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

std::string ServableId(const std::string& name, int64_t version) {
  return "{name: " + name + " version: " + std::to_string(version) + "}";
}

// The versions a policy aspires among `candidates` (ascending).
std::set<int64_t> Aspired(const ModelConfig& config, const std::set<int64_t>& candidates) {
  const auto& policy = config.model_version_policy();
  std::set<int64_t> out;
  if (policy.has_all()) return candidates;
  if (policy.has_specific()) {
    for (int64_t v : policy.specific().versions())
      if (candidates.count(v)) out.insert(v);
    return out;
  }
  const uint32_t n = policy.has_latest() && policy.latest().num_versions() > 0 ? policy.latest().num_versions() : 1;
  for (auto it = candidates.rbegin(); it != candidates.rend() && out.size() < n; ++it) out.insert(*it);
  return out;
}

// The numeric subdirectories of `base` (TF Serving's version rule), by
// version: "00000123" is version 123. Of two names for one version ("7" and
// "007") the first in byte order is taken, so the choice does not depend on
// the directory's listing order.
Status ListVersions(const std::string& base, std::map<int64_t, std::string>* out) {
  std::error_code ec;
  fs::directory_iterator it(base, ec);
  if (ec) return Status::NotFound("cannot list the model base path " + base + ": " + ec.message());
  for (const auto& e : it) {
    int64_t v;
    std::error_code dir_ec;
    const std::string name = e.path().filename().string();
    if (!ParseVersionNumber(name, &v) || !e.is_directory(dir_ec)) continue;
    auto [pos, inserted] = out->emplace(v, name);
    if (!inserted && name < pos->second) pos->second = name;
  }
  return Status::Ok();
}

// What changes when a version directory is (re)written: the sizes and
// modification times of the files a load reads first. A version copied in
// non-atomically (`cp -r`) fails while half-copied, and is retried once the
// copy has finished changing these.
std::string DirFingerprint(const std::string& dir) {
  std::string out;
  for (const char* rel : {"", "saved_model.pb", "variables/variables.index", "variables"}) {
    std::error_code ec;
    const fs::path p = fs::path(dir) / rel;
    const auto t = fs::last_write_time(p, ec);
    out += std::to_string(ec ? 0 : t.time_since_epoch().count()) + ",";
    const auto size = fs::is_regular_file(p, ec) ? fs::file_size(p, ec) : 0;
    out += std::to_string(ec ? 0 : size) + ";";
  }
  return out;
}

// The version a model spec asks for: its number, its label's version (by
// `config`'s version_labels), or none (the latest). InvalidArgument, TF
// Serving's text, for a label the config does not define.
ServingStatus RequestedVersion(const ModelConfig* config, const tensorflow::serving::ModelSpec& spec,
                               std::optional<int64_t>* version) {
  version->reset();
  if (spec.has_version()) *version = spec.version().value();
  if (spec.version_choice_case() != tensorflow::serving::ModelSpec::kVersionLabel) return ServingStatus::Ok();
  if (config != nullptr) {
    auto label = config->version_labels().find(spec.version_label());
    if (label != config->version_labels().end()) {
      *version = label->second;
      return ServingStatus::Ok();
    }
  }
  return ServingStatus::Error(ErrorCode::kInvalidArgument, "Unrecognized servable version label: " + spec.version_label());
}

}  // namespace

Status CheckModelConfigList(const ModelConfigList& list, const std::string& where) {
  std::set<std::string> names;
  for (const ModelConfig& m : list.config()) {
    const std::string which = where + "model '" + m.name() + "': ";
    if (m.name().empty()) return Status::InvalidArgument(where + "a model config has no name");
    if (!names.insert(m.name()).second) return Status::InvalidArgument(which + "the name appears twice");
    if (m.base_path().empty()) return Status::InvalidArgument(which + "no base_path");
    if (!m.model_platform().empty() && m.model_platform() != "tensorflow") {
      return Status::InvalidArgument(which + "model_platform \"" + m.model_platform() +
                                     "\" is not served (allowed: \"tensorflow\")");
    }
  }
  return Status::Ok();
}

Status ParseModelConfigText(const std::string& text, const std::string& file, ModelConfigList* out) {
  tensorflow::serving::ModelServerConfig config;
  PIPELINE_RETURN_IF_ERROR(ParseTextProtoFile(
      text, file, "model_config_list { config { name: \"m\" base_path: \"/models/m\" model_platform: \"tensorflow\" } }",
      &config));
  if (!config.has_model_config_list()) {
    return Status::InvalidArgument(file + ": no model_config_list (the only ModelServerConfig kind the server reads)");
  }
  PIPELINE_RETURN_IF_ERROR(CheckModelConfigList(config.model_config_list(), file + ": "));
  *out = config.model_config_list();
  return Status::Ok();
}

ModelManager::ModelManager(ModelManagerOptions options) : options_(std::move(options)) {}

ModelManager::~ModelManager() { Stop(); }

Status ModelManager::Start(const ModelConfigList& config) {
  PIPELINE_RETURN_IF_ERROR(ReloadConfig(config));
  if (options_.file_system_poll_wait_seconds > 0) poller_ = std::thread([this] { PollLoop(); });
  return Status::Ok();
}

Status ModelManager::ReloadConfig(const ModelConfigList& config) {
  PIPELINE_RETURN_IF_ERROR(CheckModelConfigList(config, ""));
  {
    std::unique_lock lock(mu_);
    std::map<std::string, std::shared_ptr<Model>> next;
    for (const ModelConfig& m : config.config()) {
      auto it = models_.find(m.name());
      std::shared_ptr<Model> model = it != models_.end() ? it->second : std::make_shared<Model>();
      if (it != models_.end() && it->second->config.base_path() != m.base_path()) {
        model = std::make_shared<Model>();  // another model under the same name: start afresh
      }
      model->config = m;
      next[m.name()] = model;
    }
    for (const auto& [name, model] : models_)
      if (!next.count(name)) Log("Unloading every version of model " + name + ": no longer in the config");
    models_ = std::move(next);  // servables of removed models die with their last request
  }
  PollNow();
  return Status::Ok();
}

void ModelManager::PollNow() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  std::vector<std::shared_ptr<Model>> models;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, model] : models_) models.push_back(model);
  }
  for (const auto& model : models) PollModel(*model);
}

void ModelManager::PollModel(Model& model) {
  const std::string name = model.config.name();
  const std::string base = model.config.base_path();
  std::map<int64_t, std::string> on_disk;  // version -> directory name
  Status listed = ListVersions(base, &on_disk);
  if (!listed.ok()) {
    if (listed.message() != model.last_listing_error) Log(listed.message() + " (model " + name + "; polling on)");
    model.last_listing_error = listed.message();
    return;  // keep serving what is loaded: a transient listing error must not unload everything
  }
  model.last_listing_error.clear();
  if (on_disk.empty() && model.versions.empty()) {
    return;
  }

  // Forget failures whose directory is gone or has changed, so that a
  // version published again under the same number is retried.
  {
    std::unique_lock lock(mu_);
    for (auto it = model.versions.begin(); it != model.versions.end();) {
      auto disk = on_disk.find(it->first);
      if (it->second.failed &&
          (disk == on_disk.end() || DirFingerprint((fs::path(base) / disk->second).string()) != it->second.fingerprint)) {
        it = model.versions.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Load what the policy aspires; a failure removes that version from the
  // candidates, and the policy is applied again (latest{1} then falls back
  // to the previous version, which is still loaded).
  std::set<int64_t> aspired;
  for (;;) {
    std::set<int64_t> candidates;
    {
      std::shared_lock lock(mu_);
      for (const auto& [v, dir_name] : on_disk) {
        auto it = model.versions.find(v);
        if (it == model.versions.end() || !it->second.failed) candidates.insert(v);
      }
    }
    aspired = Aspired(model.config, candidates);
    int64_t to_load = -1;
    {
      std::unique_lock lock(mu_);
      for (int64_t v : aspired) {
        VersionEntry& e = model.versions[v];
        if (e.state != ModelVersionStatus::AVAILABLE) {
          to_load = v;
          e = VersionEntry();
          e.state = ModelVersionStatus::LOADING;
          break;
        }
      }
    }
    if (to_load < 0) break;
    const std::string dir = (fs::path(base) / on_disk.at(to_load)).string();
    const std::string fingerprint = DirFingerprint(dir);  // before reading: a change during the load retries
    std::unique_ptr<serving::Servable> loaded;
    Status st = serving::Servable::Load(dir, options_.reader, name, &loaded);
    // Before the warmup, which TF Serving runs through the batching session:
    // a warmup request larger than max_batch_size fails the load there too.
    if (st.ok() && options_.batch_scheduler) loaded->set_batcher(options_.batch_scheduler->NewBatcher());
    int64_t warmed = 0;
    if (st.ok()) st = RunWarmup(*loaded, options_.max_warmup_records, &warmed);
    std::unique_lock lock(mu_);
    VersionEntry& e = model.versions[to_load];
    if (st.ok()) {
      e.servable = std::move(loaded);
      e.state = ModelVersionStatus::AVAILABLE;
      e.status = ServingStatus::Ok();
      Log("Successfully loaded servable version " + ServableId(name, to_load) +
          (warmed > 0 ? " (" + std::to_string(warmed) + " warmup records replayed)" : ""));
    } else {
      e.state = ModelVersionStatus::END;
      e.status = ServingStatus::From(st);
      if (e.status.code == ErrorCode::kInvalidArgument || e.status.code == ErrorCode::kFailedPrecondition) {
        // A model that does not load is not the client's mistake.
        e.status.code = ErrorCode::kInternal;
      }
      e.failed = true;
      e.fingerprint = fingerprint;
      Log("Failed to load servable version " + ServableId(name, to_load) + ": " + st.message());
    }
  }

  // Unload what is no longer aspired. Every aspired version is available or
  // failed by now, so no model loses its last servable to a failed update.
  std::unique_lock lock(mu_);
  for (auto& [v, e] : model.versions) {
    if (e.state == ModelVersionStatus::AVAILABLE && !aspired.count(v)) {
      e.state = ModelVersionStatus::UNLOADING;
      e.servable.reset();  // requests in flight keep their own reference
      e.state = ModelVersionStatus::END;
      e.status = ServingStatus::Ok();
      Log("Unloaded servable version " + ServableId(name, v) +
          (on_disk.count(v) ? " (no longer aspired by the version policy)" : " (its directory was removed)"));
    }
  }
}

void ModelManager::PollLoop() {
  const auto wait = std::chrono::duration<double>(options_.file_system_poll_wait_seconds);
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stopping_) {
    if (stop_cv_.wait_for(lock, wait, [this] { return stopping_; })) break;
    lock.unlock();
    PollNow();
    lock.lock();
  }
}

void ModelManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

ServingStatus ModelManager::Find(const tensorflow::serving::ModelSpec& spec,
                                 std::shared_ptr<serving::Servable>* out) const {
  std::shared_lock lock(mu_);
  const std::string& name = spec.name();
  auto it = models_.find(name);
  std::optional<int64_t> version;
  ServingStatus st = RequestedVersion(it != models_.end() ? &it->second->config : nullptr, spec, &version);
  if (!st.ok()) {
    // A label of a model that does not exist: the model is what is missing.
    if (it == models_.end()) {
      return ServingStatus::Error(ErrorCode::kNotFound, "Servable not found for request: Latest(" + name + ")");
    }
    return st;
  }
  const std::string request = version ? "Specific(" + name + ", " + std::to_string(*version) + ")" : "Latest(" + name + ")";
  const ServingStatus not_found = ServingStatus::Error(ErrorCode::kNotFound, "Servable not found for request: " + request);
  if (it == models_.end()) return not_found;
  const auto& versions = it->second->versions;
  if (version) {
    auto v = versions.find(*version);
    if (v == versions.end() || v->second.state != ModelVersionStatus::AVAILABLE) return not_found;
    *out = v->second.servable;
    return ServingStatus::Ok();
  }
  for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
    if (v->second.state == ModelVersionStatus::AVAILABLE) {
      *out = v->second.servable;
      return ServingStatus::Ok();
    }
  }
  return not_found;
}

ServingStatus ModelManager::GetStatus(const tensorflow::serving::ModelSpec& spec,
                                      tensorflow::serving::GetModelStatusResponse* response) const {
  std::shared_lock lock(mu_);
  const std::string& name = spec.name();
  auto it = models_.find(name);
  const ServingStatus none =
      ServingStatus::Error(ErrorCode::kNotFound, "Could not find any versions of model " + name);
  if (it == models_.end() || it->second->versions.empty()) return none;
  std::optional<int64_t> version;
  ServingStatus st = RequestedVersion(&it->second->config, spec, &version);
  if (!st.ok()) return st;
  const auto& versions = it->second->versions;
  response->clear_model_version_status();
  for (auto v = versions.rbegin(); v != versions.rend(); ++v) {  // newest first, as TF Serving lists them
    if (version && v->first != *version) continue;
    ModelVersionStatus* s = response->add_model_version_status();
    s->set_version(v->first);
    s->set_state(v->second.state);
    s->mutable_status()->set_error_code(static_cast<tensorflow::error::Code>(v->second.status.code));
    s->mutable_status()->set_error_message(v->second.status.message);
  }
  if (version && response->model_version_status_size() == 0) {
    return ServingStatus::Error(ErrorCode::kNotFound,
                                "Could not find version " + std::to_string(*version) + " of model " + name);
  }
  return ServingStatus::Ok();
}

std::vector<std::string> ModelManager::ModelNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, model] : models_) names.push_back(name);
  return names;
}

Status RunWarmup(serving::Servable& servable, int64_t max_records, int64_t* replayed) {
  *replayed = 0;
  const std::string path = (fs::path(servable.dir()) / "assets.extra" / "tf_serving_warmup_requests").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::Ok();
  std::string contents;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kTFRecordFile, &contents));
  std::vector<std::string> records;
  PIPELINE_RETURN_IF_ERROR(tfrecord::Decode(contents, &records).WithPrefix(path + ": "));
  if (static_cast<int64_t>(records.size()) > max_records) {
    return Status::InvalidArgument(path + ": " + std::to_string(records.size()) +
                                   " warmup records, more than the most TF Serving replays (" +
                                   std::to_string(max_records) + ")");
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string where = path + ": record " + std::to_string(i) + ": ";
    tensorflow::serving::PredictionLog log;
    if (!log.ParseFromString(records[i])) return Status::Corruption(where + "not a PredictionLog");
    ServingStatus st;
    if (log.has_predict_log()) {
      serving::PredictRequest request;
      std::string bad_alias;
      Status conv = serving::PredictRequestFromProto(log.predict_log().request(), &request, &bad_alias);
      if (!conv.ok()) return Status::Corruption(where + "input '" + bad_alias + "': " + conv.message());
      serving::PredictResponse response;
      st = serving::Predict(servable, request, &response);
    } else if (log.has_classify_log()) {
      tensorflow::serving::ClassificationResponse response;
      st = serving::Classify(servable, log.classify_log().request(), &response);
    } else if (log.has_regress_log()) {
      tensorflow::serving::RegressionResponse response;
      st = serving::Regress(servable, log.regress_log().request(), &response);
    } else {
      return Status::Unimplemented(where + "a warmup request other than predict, classify or regress");
    }
    if (!st.ok()) return Status::Runtime(where + "warmup request failed: " + st.message);
    ++*replayed;
  }
  return Status::Ok();
}

}  // namespace pipeline::server
