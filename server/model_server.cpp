#include "server/model_server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "common/files.h"
#include "common/input_limits.h"
#include "server/batching.h"
#include "server/grpc_server.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/model_manager.h"
#include "server/rest_api.h"

namespace pipeline::server {
namespace {

Status ReadModelConfig(const std::string& path, tensorflow::serving::ModelConfigList* config) {
  std::string text;
  Status st = ReadInputFile(path, input::kServerConfigFile, &text);
  if (!st.ok()) return Status::InvalidArgument("--model_config_file: " + st.message());
  return ParseModelConfigText(text, path, config);
}

// Re-reads --model_config_file every poll period; a changed, valid file
// reconfigures the manager, an invalid one is reported and the running
// config kept (TF Serving keeps serving too).
class ConfigFilePoller {
 public:
  ConfigFilePoller(ModelManager* manager, std::string path, double seconds, std::string text)
      : manager_(manager), path_(std::move(path)), seconds_(seconds), last_text_(std::move(text)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ConfigFilePoller() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::duration<double>(seconds_), [this] { return stop_; })) {
      std::string text;
      if (!ReadInputFile(path_, input::kServerConfigFile, &text).ok() || text == last_text_) continue;
      tensorflow::serving::ModelConfigList config;
      Status st = ParseModelConfigText(text, path_, &config);
      if (st.ok()) st = manager_->ReloadConfig(config);
      if (!st.ok()) {
        std::fprintf(stderr, "Keeping the running model config: %s\n", st.message().c_str());
      } else {
        std::fprintf(stderr, "Reloaded the model config from %s\n", path_.c_str());
      }
      last_text_ = text;
    }
  }
  ModelManager* manager_;
  std::string path_;
  double seconds_;
  std::string last_text_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Status RunModelServer(const ModelServerOptions& options) {
  if (options.model_config_file.empty() == options.model_base_path.empty()) {
    return Status::InvalidArgument(options.model_config_file.empty()
                                       ? "serve needs --model_base_path=DIR (with --model_name=NAME) or --model_config_file=F"
                                       : "--model_base_path and --model_config_file cannot both be given");
  }
  if (options.port < 0 || options.port > 65535 || options.rest_api_port < 0 || options.rest_api_port > 65535) {
    return Status::InvalidArgument("--port and --rest_api_port must be in 0..65535");
  }
  // A server holds a descriptor per connection: take the hard limit, as
  // nginx's worker_rlimit_nofile advice goes, rather than the soft 1,024
  // most shells start with (1,000 keep-alive clients would not fit).
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Signals are taken by sigwait below: block them before any thread starts,
  // so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  tensorflow::serving::ModelConfigList config;
  std::string config_text;
  if (!options.model_config_file.empty()) {
    PIPELINE_RETURN_IF_ERROR(ReadModelConfig(options.model_config_file, &config));
    ReadInputFile(options.model_config_file, input::kServerConfigFile, &config_text);
  } else {
    auto* m = config.add_config();
    m->set_name(options.model_name);
    m->set_base_path(options.model_base_path);
    m->set_model_platform("tensorflow");
  }

  // Checked before the first load, which can take long: a usage error must not wait for it.
  std::string prometheus_path;
  if (!options.monitoring_config_file.empty()) {
    std::string text;
    Status st = ReadInputFile(options.monitoring_config_file, input::kServerConfigFile, &text);
    if (!st.ok()) return Status::InvalidArgument("--monitoring_config_file: " + st.message());
    PIPELINE_RETURN_IF_ERROR(ParseMonitoringConfigText(text, options.monitoring_config_file, &prometheus_path));
  }
  ServerMetrics metrics;
  ServerMetrics* counted = prometheus_path.empty() ? nullptr : &metrics;

  // TF Serving's server.cc: the file needs the flag; the flag alone takes
  // the scheduler's defaults. One scheduler for every model (batching.h),
  // checked before the first load. Declared before the manager: its threads
  // are joined after every servable, and so every batcher, is gone.
  std::shared_ptr<BatchScheduler> batch_scheduler;
  if (!options.batching_parameters_file.empty() && !options.enable_batching) {
    return Status::InvalidArgument("--batching_parameters_file is set without setting --enable_batching to true.");
  }
  if (options.enable_batching) {
    BatchingOptions batching = DefaultServerBatchingOptions();
    if (!options.batching_parameters_file.empty()) {
      std::string text;
      Status st = ReadInputFile(options.batching_parameters_file, input::kServerConfigFile, &text);
      if (!st.ok()) return Status::InvalidArgument("--batching_parameters_file: " + st.message());
      PIPELINE_RETURN_IF_ERROR(ParseBatchingParametersText(text, options.batching_parameters_file, &batching));
    }
    PIPELINE_RETURN_IF_ERROR(BatchScheduler::Create(batching, &batch_scheduler));
    std::fprintf(stderr, "Batching requests: %s\n", DescribeBatchingOptions(batching).c_str());
  }

  ModelManagerOptions manager_options;
  manager_options.file_system_poll_wait_seconds = options.file_system_poll_wait_seconds;
  manager_options.batch_scheduler = batch_scheduler;
  ModelManager manager(manager_options);
  PIPELINE_RETURN_IF_ERROR(manager.Start(config));

  std::unique_ptr<GrpcServer> grpc;
  GrpcServerOptions grpc_options;
  grpc_options.host = options.host;
  grpc_options.port = options.port;
  grpc_options.max_message_bytes = static_cast<int>(options.grpc_max_message_bytes);
  grpc_options.socket_path = options.grpc_socket_path;
  grpc_options.metrics = counted;
  grpc_options.max_threads = options.grpc_max_threads;
  grpc_options.classify.signature_method_name_check = options.enable_signature_method_name_check;
  Status args = ParseGrpcChannelArguments(options.grpc_channel_arguments, &grpc_options.channel_arguments);
  if (!args.ok()) return Status::InvalidArgument("--grpc_channel_arguments: " + args.message());
  PIPELINE_RETURN_IF_ERROR(GrpcServer::Start(grpc_options, &manager, &grpc));
  std::fprintf(stderr, "Running gRPC ModelServer at %s:%d ...\n", options.host.c_str(), grpc->port());

  RestApiOptions rest_options;
  rest_options.enable_cors = options.rest_api_enable_cors_support;
  rest_options.classify.signature_method_name_check = options.enable_signature_method_name_check;
  rest_options.metrics = counted;
  rest_options.prometheus_path = prometheus_path;
  RestApi rest(&manager, rest_options);
  std::unique_ptr<HttpServer> http;
  if (options.rest_api_port != 0) {
    HttpServerOptions http_options;
    http_options.host = options.host;
    http_options.port = options.rest_api_port;
    http_options.num_threads = options.rest_api_num_threads;
    if (http_options.num_threads == 0 && batch_scheduler) {
      // A REST request waits for its batch in its event loop: one loop per
      // core would let at most that many requests join a batch. TF Serving's
      // own default, 4 per core, instead.
      http_options.num_threads = 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    http_options.request_timeout_ms = options.rest_api_timeout_in_ms;
    http_options.limits.max_body_bytes = static_cast<size_t>(options.rest_api_max_body_bytes);
    PIPELINE_RETURN_IF_ERROR(HttpServer::Start(
        http_options, [&rest](const HttpRequest& req, HttpResponse* resp) { rest.Handle(req, resp); }, &http));
    std::fprintf(stderr, "Exporting HTTP/REST API at:%s:%d ...\n", options.host.c_str(), http->port());
    if (counted != nullptr) std::fprintf(stderr, "Prometheus metrics at %s on the REST port\n", prometheus_path.c_str());
  }

  std::unique_ptr<ConfigFilePoller> config_poller;
  if (!options.model_config_file.empty() && options.model_config_file_poll_wait_seconds > 0) {
    config_poller = std::make_unique<ConfigFilePoller>(&manager, options.model_config_file,
                                                       options.model_config_file_poll_wait_seconds, config_text);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "Received %s: finishing the requests in flight, then exiting\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  config_poller.reset();
  if (http) http->Stop();  // stops accepting, answers what it has read, closes
  grpc->Stop();
  manager.Stop();
  if (batch_scheduler) {
    batch_scheduler->Stop();  // runs what is still queued (a late warmup), joins the threads
    const BatchingStats b = batch_scheduler->stats();
    std::fprintf(stderr,
                 "Batching: %lld merged runs answered %lld requests (%lld rows, %lld padding rows); %lld ran "
                 "unbatched, %lld refused\n",
                 static_cast<long long>(b.runs), static_cast<long long>(b.tasks), static_cast<long long>(b.rows),
                 static_cast<long long>(b.padded_rows), static_cast<long long>(b.unbatched),
                 static_cast<long long>(b.rejected));
  }
  return Status::Ok();
}

}  // namespace pipeline::server
