// The servable lifecycle of the model server (TF Serving's ServerCore,
// AspiredVersionsManager and FileSystemStoragePathSource in one place).
//
// Every model of the config has a base path whose numeric subdirectories
// are its versions (TF Serving's rule, common/version_number.h: ".tmp-3-…",
// what an export writes before its atomic rename, is never a version). A
// poll (every file_system_poll_wait_seconds, and once at Start) lists them,
// applies the model's version policy, and:
//   - loads each newly aspired version (Servable::Load), gives it a batcher
//     when batching is on, replays its warmup records (assets.extra/
//     tf_serving_warmup_requests; through the batcher, as TF Serving warms
//     up its batching session) and only then makes it available: no request
//     ever sees a version before it is warm;
//   - a version that fails to load is END with the error in its status and
//     is left out of the policy, so the previous version keeps serving; it is
//     retried only once its directory has been removed and comes back;
//   - unloads versions no longer aspired (a removed directory, or one a
//     newer version displaced under `latest`) only after their replacements
//     are available (TF Serving's availability-preserving policy). Requests
//     hold a shared_ptr to the servable they run on, so an unload never
//     pulls a version out from under a request in flight.
// Reloading the config (--model_config_file polling, HandleReloadConfigRequest)
// adds and removes models and changes policies and labels in place.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "proto/serving_get_model_status.pb.h"
#include "proto/serving_model.pb.h"
#include "proto/serving_model_server_config.pb.h"
#include "server/batching.h"
#include "serving/predict_api.h"
#include "serving/servable.h"

namespace pipeline::server {

// The text of --model_config_file (a ModelServerConfig text proto) as a
// ModelConfigList; InvalidArgument naming the file and line for a parse
// error, an empty or duplicate model name, a missing base_path, or a
// model_platform other than "tensorflow" (or empty).
Status ParseModelConfigText(const std::string& text, const std::string& file, tensorflow::serving::ModelConfigList* out);
// The checks both a config file and a reload (HandleReloadConfigRequest)
// pass: every model named once, with a base_path and the tensorflow
// platform. Messages start with `where` ("m.config: " or "").
Status CheckModelConfigList(const tensorflow::serving::ModelConfigList& list, const std::string& where);

struct ModelManagerOptions {
  // Seconds between polls of the base paths; <= 0 polls only once, at Start.
  double file_system_poll_wait_seconds = 1.0;
  ReaderOptions reader;
  // Warmup records replayed per version, at most (TF Serving's limit).
  int64_t max_warmup_records = 1000;
  // Set: every version loaded runs through a batcher of this scheduler.
  std::shared_ptr<BatchScheduler> batch_scheduler;
};

// One version as the status API reports it.
struct VersionStatus {
  int64_t version = 0;
  tensorflow::serving::ModelVersionStatus::State state = tensorflow::serving::ModelVersionStatus::UNKNOWN;
  serving::ServingStatus status;  // why a version is END after a failure
};

class ModelManager {
 public:
  explicit ModelManager(ModelManagerOptions options);
  ~ModelManager();  // stops polling

  // Sets the models and runs the first poll synchronously: when it returns,
  // every version the policies aspire has loaded or failed. Then polling
  // starts. InvalidArgument for a bad config; a model whose base path has no
  // version yet is not an error (it is logged; TF Serving waits for one).
  Status Start(const tensorflow::serving::ModelConfigList& config);
  // Replaces the models (HandleReloadConfigRequest, config-file polling) and
  // polls at once. Removed models unload; their requests get NotFound.
  Status ReloadConfig(const tensorflow::serving::ModelConfigList& config);
  // One poll of every model now (tests; the poll thread calls it).
  void PollNow();
  void Stop();

  // The servable a request names: by version, by label, or the latest
  // available. TF Serving's errors (NotFound):
  //   Servable not found for request: Latest(m)
  //   Servable not found for request: Specific(m, 3)
  //   Unrecognized servable version label: l    (InvalidArgument)
  serving::ServingStatus Find(const tensorflow::serving::ModelSpec& spec, std::shared_ptr<serving::Servable>* out) const;

  // GetModelStatus: every version the manager knows of model `name`, newest
  // first (or only spec's version / label). NotFound:
  //   Could not find any versions of model m
  //   Could not find version 3 of model m
  serving::ServingStatus GetStatus(const tensorflow::serving::ModelSpec& spec,
                                   tensorflow::serving::GetModelStatusResponse* response) const;

  std::vector<std::string> ModelNames() const;

 private:
  struct Model;
  struct VersionEntry;
  void PollModel(Model& model);
  void PollLoop();

  ModelManagerOptions options_;
  mutable std::shared_mutex mu_;  // guards models_ (the map and each model's versions)
  std::map<std::string, std::shared_ptr<Model>> models_;
  std::mutex poll_mu_;            // one poll at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

// Replays a version's warmup file (assets.extra/tf_serving_warmup_requests,
// TFRecord of PredictionLog) on `servable`: each record's Predict, Classify
// or Regress must succeed, as TF Serving requires. Sets *replayed. OK when
// the file does not exist.
Status RunWarmup(serving::Servable& servable, int64_t max_records, int64_t* replayed);

}  // namespace pipeline::server
