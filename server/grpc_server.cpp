#include "server/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "proto/serving_model_service.grpc.pb.h"
#include "proto/serving_prediction_service.grpc.pb.h"
#include "server/grpc_tensor.h"
#include "server/metrics.h"
#include "server/model_manager.h"
#include "serving/classify_api.h"
#include "serving/servable.h"

namespace pipeline::server {

namespace tfs = tensorflow::serving;
using serving::ErrorCode;
using serving::ServingStatus;

namespace {

// TensorFlow's signature constants (signature_constants.h).
constexpr char kClassifyMethodName[] = "tensorflow/serving/classify";
constexpr char kRegressMethodName[] = "tensorflow/serving/regress";
constexpr char kClassifyInputs[] = "inputs";
constexpr char kClassifyOutputClasses[] = "classes";
constexpr char kClassifyOutputScores[] = "scores";
constexpr char kRegressInputs[] = "inputs";
constexpr char kRegressOutputs[] = "outputs";
constexpr char kSignatureDefField[] = "signature_def";

ServingStatus Invalid(std::string msg) { return ServingStatus::Error(ErrorCode::kInvalidArgument, std::move(msg)); }

ServingStatus MissingModelSpec() { return Invalid("Missing ModelSpec"); }

std::string SignatureKey(const tfs::ModelSpec& spec) {
  return spec.signature_name().empty() ? serving::kDefaultSignature : spec.signature_name();
}

// TF Serving's MakeModelSpec: the request's name, the signature that ran
// (the default key for an empty one), the servable's version.
void MakeModelSpec(const std::string& name, const std::string& signature_name, int64_t version, tfs::ModelSpec* spec) {
  spec->Clear();
  spec->set_name(name);
  spec->set_signature_name(signature_name.empty() ? serving::kDefaultSignature : signature_name);
  if (version >= 0) spec->mutable_version()->set_value(version);
}

// A request tensor that did not parse. TF Serving parses each input when its
// signature check reaches it, so a request naming an unknown signature or an
// input the signature lacks gets that refusal instead: serving::Predict gives
// it (it refuses such a request before running anything, whatever the
// inputs hold). Otherwise it is TF Serving's parse error. (A request that
// also has too few inputs gets the parse error where TF Serving would report
// the count.)
ServingStatus UnparsableInput(serving::Servable& servable, const serving::PredictRequest& request,
                              const std::string& alias, const Status& why) {
  const tensorflow::SignatureDef* sig =
      servable.FindSignature(request.signature_name.empty() ? serving::kDefaultSignature : request.signature_name);
  if (sig == nullptr || !sig->inputs().count(alias)) {
    serving::PredictResponse unused;
    ServingStatus st = serving::Predict(servable, request, &unused);
    if (!st.ok()) return st;
  }
  // A dtype TensorFlow reads but we cannot (half from half_val, ...) is ours
  // to refuse, by name; a malformed proto is TF Serving's parse error.
  if (why.code() == Status::Code::kUnimplemented) {
    return ServingStatus::Error(ErrorCode::kUnimplemented, "input " + alias + ": " + why.message());
  }
  return Invalid("tensor parsing error: " + alias);
}

// PreProcessClassification / PreProcessRegression (classifier.cc,
// regressor.cc): the signature's one input tensor, or the refusal. The
// method-name check is TF Serving's --enable_signature_method_name_check.
ServingStatus ClassificationInput(const tensorflow::SignatureDef& sig, const serving::ClassifyOptions& options,
                                  std::string* input_tensor) {
  if (options.signature_method_name_check && sig.method_name() != kClassifyMethodName) {
    return Invalid(std::string("Expected classification signature method_name to be ") + kClassifyMethodName +
                   ". Was: " + sig.method_name());
  }
  if (sig.inputs_size() != 1) return Invalid("Expected one input Tensor.");
  if (sig.outputs_size() != 1 && sig.outputs_size() != 2) {
    return Invalid("Expected one or two output Tensors, found " + std::to_string(sig.outputs_size()));
  }
  auto in = sig.inputs().find(kClassifyInputs);
  if (in == sig.inputs().end()) return Invalid("No classification inputs found in SignatureDef: " + sig.DebugString());
  if (!sig.outputs().count(kClassifyOutputClasses) && !sig.outputs().count(kClassifyOutputScores)) {
    return Invalid(std::string("Expected classification signature outputs to contain at least one of \"") +
                   kClassifyOutputClasses + "\" or \"" + kClassifyOutputScores +
                   "\". Signature was: " + sig.DebugString());
  }
  *input_tensor = in->second.name();
  return ServingStatus::Ok();
}

ServingStatus RegressionInput(const tensorflow::SignatureDef& sig, const serving::ClassifyOptions& options,
                              std::string* input_tensor) {
  if (options.signature_method_name_check && sig.method_name() != kRegressMethodName) {
    return Invalid(std::string("Expected regression signature method_name to be ") + kRegressMethodName +
                   ". Was: " + sig.method_name());
  }
  if (sig.inputs_size() != 1) return Invalid("Expected one input Tensor.");
  if (sig.outputs_size() != 1) return Invalid("Expected one output Tensor.");
  auto in = sig.inputs().find(kRegressInputs);
  if (in == sig.inputs().end()) return Invalid("No regression inputs found in SignatureDef: " + sig.DebugString());
  if (!sig.outputs().count(kRegressOutputs)) {
    return Invalid("No regression outputs found in SignatureDef: " + sig.DebugString());
  }
  *input_tensor = in->second.name();
  return ServingStatus::Ok();
}

grpc::Status ToGrpcStatus(const ServingStatus& st) {
  if (st.ok()) return grpc::Status::OK;
  // TensorFlow's canonical codes are gRPC's, number for number.
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(st.code)), GrpcErrorMessage(st.message));
}

}  // namespace

std::string GrpcErrorMessage(const std::string& message) {
  constexpr size_t kErrorMessageLimit = 1024;
  if (message.size() <= kErrorMessageLimit) return message;
  return message.substr(0, kErrorMessageLimit) + "...TRUNCATED";
}

ServingStatus PredictRpc(const ModelManager& manager, const tfs::PredictRequest& request, tfs::PredictResponse* response) {
  if (!request.has_model_spec()) return MissingModelSpec();
  std::shared_ptr<serving::Servable> servable;
  ServingStatus st = manager.Find(request.model_spec(), &servable);
  if (!st.ok()) return st;
  serving::PredictRequest in;
  std::string bad_alias;
  const Status bad = serving::PredictRequestFromProto(request, &in, &bad_alias);
  if (!bad.ok()) return UnparsableInput(*servable, in, bad_alias, bad);
  serving::PredictResponse out;
  st = serving::Predict(*servable, in, &out);
  if (!st.ok()) return st;
  MakeModelSpec(request.model_spec().name(), out.signature_name, out.version, response->mutable_model_spec());
  auto* outputs = response->mutable_outputs();
  for (const auto& [alias, value] : out.outputs) TensorToTypedProto(value, &(*outputs)[alias]);
  return ServingStatus::Ok();
}

ServingStatus ClassifyRpc(const ModelManager& manager, const tfs::ClassificationRequest& request,
                          tfs::ClassificationResponse* response, const serving::ClassifyOptions& options) {
  if (!request.has_model_spec()) return MissingModelSpec();
  std::shared_ptr<serving::Servable> servable;
  ServingStatus st = manager.Find(request.model_spec(), &servable);
  if (!st.ok()) return st;
  return serving::Classify(*servable, request, response, options);  // it fills model_spec as TF Serving does
}

ServingStatus RegressRpc(const ModelManager& manager, const tfs::RegressionRequest& request,
                         tfs::RegressionResponse* response, const serving::ClassifyOptions& options) {
  if (!request.has_model_spec()) return MissingModelSpec();
  std::shared_ptr<serving::Servable> servable;
  ServingStatus st = manager.Find(request.model_spec(), &servable);
  if (!st.ok()) return st;
  return serving::Regress(*servable, request, response, options);  // it fills model_spec as TF Serving does
}

ServingStatus MultiInferenceRpc(const ModelManager& manager, const tfs::MultiInferenceRequest& request,
                                tfs::MultiInferenceResponse* response, const serving::ClassifyOptions& options) {
  // The model of the first task (a default spec without tasks: the
  // manager's not-found answer), as RunMultiInferenceWithServerCore.
  const tfs::ModelSpec& first = request.tasks_size() > 0 && request.tasks(0).has_model_spec()
                                    ? request.tasks(0).model_spec()
                                    : tfs::ModelSpec::default_instance();
  std::shared_ptr<serving::Servable> servable;
  ServingStatus st = manager.Find(first, &servable);
  if (!st.ok()) return st;

  // Every task is checked before any runs (TensorFlowMultiInferenceRunner::Infer).
  std::string model_name, input_tensor;
  std::set<std::string> signatures;
  for (const auto& task : request.tasks()) {
    if (task.model_spec().name().empty()) return Invalid("Found ModelSpec with an empty model name.");
    if (model_name.empty()) {
      model_name = task.model_spec().name();
    } else if (model_name != task.model_spec().name()) {
      return Invalid("All ModelSpecs in a MultiInferenceRequest must access the same model name.");
    }
    const std::string key = SignatureKey(task.model_spec());
    if (!signatures.insert(key).second) return Invalid("Duplicate evaluation of signature: " + key);
    const tensorflow::SignatureDef* sig = servable->FindSignature(key);
    if (sig == nullptr) return Invalid("Requested signature not found in model graph: " + key);
    std::string input;
    if (task.method_name() == kClassifyMethodName) {
      st = ClassificationInput(*sig, options, &input);
    } else if (task.method_name() == kRegressMethodName) {
      st = RegressionInput(*sig, options, &input);
    } else {
      return ServingStatus::Error(ErrorCode::kUnimplemented, "Unsupported signature method_name: " + task.method_name());
    }
    if (!st.ok()) return st;
    if (input_tensor.empty()) {
      input_tensor = input;
    } else if (input_tensor != input) {
      return Invalid("Input tensor must be the same for all Signatures.");
    }
  }

  for (const auto& task : request.tasks()) {
    tfs::InferenceResult* result = response->add_results();
    if (task.method_name() == kClassifyMethodName) {
      tfs::ClassificationRequest one;
      *one.mutable_model_spec() = task.model_spec();
      *one.mutable_input() = request.input();
      tfs::ClassificationResponse answer;
      st = serving::Classify(*servable, one, &answer, options);
      if (!st.ok()) return st;
      *result->mutable_classification_result() = std::move(*answer.mutable_result());
    } else {
      tfs::RegressionRequest one;
      *one.mutable_model_spec() = task.model_spec();
      *one.mutable_input() = request.input();
      tfs::RegressionResponse answer;
      st = serving::Regress(*servable, one, &answer, options);
      if (!st.ok()) return st;
      *result->mutable_regression_result() = std::move(*answer.mutable_result());
    }
    MakeModelSpec(task.model_spec().name(), task.model_spec().signature_name(), servable->version(),
                  result->mutable_model_spec());
  }
  return ServingStatus::Ok();
}

ServingStatus GetModelMetadataRpc(const ModelManager& manager, const tfs::GetModelMetadataRequest& request,
                                  tfs::GetModelMetadataResponse* response) {
  if (!request.has_model_spec()) return MissingModelSpec();
  if (request.metadata_field_size() == 0) {
    return Invalid("GetModelMetadataRequest must specify at least one metadata_field");
  }
  for (const auto& field : request.metadata_field()) {
    // TF Serving's text, verbatim: errors::InvalidArgument concatenates its
    // arguments, so the "%s" stays and the field follows it.
    if (field != kSignatureDefField) return Invalid("Metadata field %s is not supported" + field);
  }
  std::shared_ptr<serving::Servable> servable;
  ServingStatus st = manager.Find(request.model_spec(), &servable);
  if (!st.ok()) return st;
  tfs::SignatureDefMap map;
  for (const std::string& key : servable->SignatureKeys()) {
    (*map.mutable_signature_def())[key] = *servable->FindSignature(key);
  }
  // Name and version only: TF Serving leaves signature_name unset here.
  tfs::ModelSpec* spec = response->mutable_model_spec();
  spec->set_name(servable->name());
  if (servable->version() >= 0) spec->mutable_version()->set_value(servable->version());
  (*response->mutable_metadata())[kSignatureDefField].PackFrom(map);
  return ServingStatus::Ok();
}

ServingStatus GetModelStatusRpc(const ModelManager& manager, const tfs::GetModelStatusRequest& request,
                                tfs::GetModelStatusResponse* response) {
  if (!request.has_model_spec()) return MissingModelSpec();
  return manager.GetStatus(request.model_spec(), response);
}

ServingStatus ReloadConfigRpc(ModelManager& manager, const tfs::ReloadConfigRequest& request,
                              tfs::ReloadConfigResponse* response) {
  ServingStatus st;
  if (request.config().config_case() == tfs::ModelServerConfig::kModelConfigList) {
    st = ServingStatus::From(manager.ReloadConfig(request.config().model_config_list()));
  } else {
    // Also what a custom_model_config (a field we do not model) arrives as.
    st = Invalid(
        "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently "
        "supported");
  }
  tfs::StatusProto* status = response->mutable_status();
  status->set_error_code(static_cast<tensorflow::error::Code>(static_cast<int>(st.code)));
  if (!st.ok()) status->set_error_message(st.message);
  return st;
}

Status ParseGrpcChannelArguments(const std::string& flag, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  if (flag.empty()) return Status::Ok();
  size_t start = 0;
  while (start <= flag.size()) {
    size_t end = flag.find(',', start);
    if (end == std::string::npos) end = flag.size();
    const std::string item = flag.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--grpc_channel_arguments: '" + item + "' is not key=value");
    }
    out->emplace_back(item.substr(0, eq), item.substr(eq + 1));
    start = end + 1;
  }
  return Status::Ok();
}

namespace {

// The threads that run the RPC bodies. gRPC's callback API hands each call
// to one of a few threads of its own (two on two cores) that must not be
// held: one slow batch there would stall every other call. So the callback
// only queues the call, and these workers run it and Finish it. The worker
// woken is the one that went idle last (its cache and stack are warm), so a
// light load runs on one or two threads however many there are; that, and
// no thread starts, make it cheaper than the synchronous API, which under
// concurrent load starts and ends a thread for most calls.
class WorkerPool {
 public:
  explicit WorkerPool(int n) : workers_(static_cast<size_t>(n)) {
    for (auto& w : workers_) w.thread = std::thread([this, &w] { Loop(&w); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (Worker* w : idle_) w->cv.notify_one();
    }
    for (auto& w : workers_) w.thread.join();  // the queue is run to the end first
  }
  void Run(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(work));
    if (!idle_.empty()) {
      Worker* w = idle_.back();
      idle_.pop_back();
      w->woken = true;
      w->cv.notify_one();
    }
  }

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    bool woken = false;
  };

  void Loop(Worker* w) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (!queue_.empty()) {
        std::function<void()> work = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        work();
        lock.lock();
        continue;
      }
      if (stopping_) return;
      w->woken = false;
      idle_.push_back(w);
      w->cv.wait(lock, [&] { return w->woken || stopping_; });
      if (!w->woken) idle_.erase(std::find(idle_.begin(), idle_.end(), w));  // stopping, never handed work
    }
  }

  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  std::vector<Worker*> idle_;  // a stack: the last to go idle is woken first
  bool stopping_ = false;
  std::vector<Worker> workers_;  // sized once: the Worker addresses stay put
};

// Queues `body` (returning a ServingStatus) on the pool and answers the call
// with its status. A call whose client gave up while it waited (deadline,
// cancel) is not run.
// With `metrics`, the answered call is counted under `api` and the model
// the request names (server/metrics.h).
template <class Body>
grpc::ServerUnaryReactor* Dispatch(WorkerPool* pool, ServerMetrics* metrics, const char* api, std::string model,
                                   grpc::CallbackServerContext* ctx, Body body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const auto start = std::chrono::steady_clock::now();
  pool->Run([ctx, reactor, metrics, api, model = std::move(model), start, body = std::move(body)]() mutable {
    if (ctx->IsCancelled()) {
      reactor->Finish(grpc::Status::CANCELLED);
      return;
    }
    const ServingStatus st = body();
    if (metrics != nullptr) {
      const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
      metrics->Record(model, api, "GRPC", st.code, took.count());
    }
    reactor->Finish(ToGrpcStatus(st));
  });
  return reactor;
}

// The services: one line per RPC around the functions above.
class PredictionServiceImpl final : public tfs::PredictionService::CallbackService {
 public:
  PredictionServiceImpl(const ModelManager* manager, serving::ClassifyOptions options, WorkerPool* pool,
                        ServerMetrics* metrics)
      : manager_(manager), options_(options), pool_(pool), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* ctx, const tfs::ClassificationRequest* request,
                                     tfs::ClassificationResponse* response) override {
    return Dispatch(pool_, metrics_, "classify", request->model_spec().name(), ctx, [=, this] { return ClassifyRpc(*manager_, *request, response, options_); });
  }
  grpc::ServerUnaryReactor* Regress(grpc::CallbackServerContext* ctx, const tfs::RegressionRequest* request,
                                    tfs::RegressionResponse* response) override {
    return Dispatch(pool_, metrics_, "regress", request->model_spec().name(), ctx, [=, this] { return RegressRpc(*manager_, *request, response, options_); });
  }
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* ctx, const tfs::PredictRequest* request,
                                    tfs::PredictResponse* response) override {
    return Dispatch(pool_, metrics_, "predict", request->model_spec().name(), ctx, [=, this] { return PredictRpc(*manager_, *request, response); });
  }
  grpc::ServerUnaryReactor* MultiInference(grpc::CallbackServerContext* ctx, const tfs::MultiInferenceRequest* request,
                                           tfs::MultiInferenceResponse* response) override {
    return Dispatch(pool_, metrics_, "multi_inference", request->tasks_size() ? request->tasks(0).model_spec().name() : "", ctx, [=, this] { return MultiInferenceRpc(*manager_, *request, response, options_); });
  }
  grpc::ServerUnaryReactor* GetModelMetadata(grpc::CallbackServerContext* ctx,
                                             const tfs::GetModelMetadataRequest* request,
                                             tfs::GetModelMetadataResponse* response) override {
    return Dispatch(pool_, metrics_, "get_model_metadata", request->model_spec().name(), ctx, [=, this] { return GetModelMetadataRpc(*manager_, *request, response); });
  }

 private:
  const ModelManager* manager_;
  const serving::ClassifyOptions options_;
  WorkerPool* pool_;
  ServerMetrics* metrics_;
};

class ModelServiceImpl final : public tfs::ModelService::CallbackService {
 public:
  ModelServiceImpl(ModelManager* manager, WorkerPool* pool, ServerMetrics* metrics)
      : manager_(manager), pool_(pool), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetModelStatus(grpc::CallbackServerContext* ctx, const tfs::GetModelStatusRequest* request,
                                           tfs::GetModelStatusResponse* response) override {
    return Dispatch(pool_, metrics_, "get_model_status", request->model_spec().name(), ctx, [=, this] { return GetModelStatusRpc(*manager_, *request, response); });
  }
  // A reload loads models: seconds on a worker, never on gRPC's threads.
  grpc::ServerUnaryReactor* HandleReloadConfigRequest(grpc::CallbackServerContext* ctx,
                                                      const tfs::ReloadConfigRequest* request,
                                                      tfs::ReloadConfigResponse* response) override {
    return Dispatch(pool_, nullptr, "reload_config", "", ctx, [=, this] { return ReloadConfigRpc(*manager_, *request, response); });
  }

 private:
  ModelManager* manager_;
  WorkerPool* pool_;
  ServerMetrics* metrics_;
};

// "host:port" as gRPC parses it: an IPv6 literal goes in brackets.
std::string Address(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct GrpcServer::Impl {
  GrpcServerOptions options;
  std::unique_ptr<WorkerPool> pool;  // outlives the server: Shutdown waits for the calls it runs
  std::unique_ptr<PredictionServiceImpl> prediction;
  std::unique_ptr<ModelServiceImpl> model;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::mutex stop_mu;
};

GrpcServer::GrpcServer() : impl_(std::make_unique<Impl>()) {}

GrpcServer::~GrpcServer() { Stop(); }

int GrpcServer::port() const { return impl_->port; }

Status GrpcServer::Start(const GrpcServerOptions& options, ModelManager* manager, std::unique_ptr<GrpcServer>* out) {
  std::unique_ptr<GrpcServer> s(new GrpcServer());
  Impl& impl = *s->impl_;
  impl.options = options;
  int threads = options.max_threads;
  if (threads <= 0) threads = 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  impl.pool = std::make_unique<WorkerPool>(threads);
  impl.prediction = std::make_unique<PredictionServiceImpl>(manager, options.classify, impl.pool.get(), options.metrics);
  impl.model = std::make_unique<ModelServiceImpl>(manager, impl.pool.get(), options.metrics);

  grpc::ServerBuilder builder;
  const std::string address = Address(options.host, options.port);
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  if (!options.socket_path.empty()) {
    builder.AddListeningPort("unix:" + options.socket_path, grpc::InsecureServerCredentials());
  }
  builder.RegisterService(impl.model.get());
  builder.RegisterService(impl.prediction.get());
  builder.SetMaxMessageSize(options.max_message_bytes);
  for (const auto& [key, value] : options.channel_arguments) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(value.c_str(), &end, 10);
    const bool is_int = !value.empty() && *end == '\0' && errno == 0 && v >= std::numeric_limits<int32_t>::min() &&
                        v <= std::numeric_limits<int32_t>::max();
    if (is_int) {
      builder.AddChannelArgument(key, static_cast<int>(v));
    } else {
      builder.AddChannelArgument(key, value);
    }
  }
  impl.server = builder.BuildAndStart();
  // A port that cannot be bound leaves selected_port 0 (and, with no other
  // port, no server); a socket path that cannot be bound fails the build.
  if (impl.server == nullptr || selected_port == 0) {
    if (impl.server) impl.server->Shutdown(std::chrono::system_clock::now());
    std::string what = "cannot listen for gRPC on " + address;
    if (!options.socket_path.empty()) what += " and unix:" + options.socket_path;
    return Status::IOError(what + " (in use, or not an address of this host?)");
  }
  impl.port = selected_port;
  *out = std::move(s);
  return Status::Ok();
}

void GrpcServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (!impl_->server) return;
  // Shutdown returns once every call has finished (the pool still runs
  // them; those past the grace period are cancelled and answer CANCELLED).
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(impl_->options.shutdown_grace_ms));
  impl_->server->Wait();
  impl_->server.reset();
  impl_->pool.reset();
}

}  // namespace pipeline::server
