// The gRPC API of the model server: TF Serving's tensorflow.serving.
// PredictionService (Classify, Regress, Predict, MultiInference,
// GetModelMetadata) and ModelService (GetModelStatus,
// HandleReloadConfigRequest) over the ModelManager, so that TF Serving's
// clients (prediction_service_pb2_grpc.PredictionServiceStub, ...) work
// unchanged. The messages are ours (proto/serving_*.proto), wire-compatible
// with TF Serving's (tests/tf/grpc_protos_match.py checks every field).
//
// gRPC's callback API; each call runs on a pool of our own (max_threads),
// never on gRPC's few threads, so a long batch holds only its worker and
// never stalls the other calls' I/O. (TF Serving uses the synchronous API,
// which starts and ends threads under load; the pool costs less per call.)
//
// Each RPC is also a plain function of its request (below), which the
// services call and tests can call without a network. Errors carry TF
// Serving's texts; the code is TensorFlow's (the same numbers as gRPC's).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "proto/serving_classification.pb.h"
#include "proto/serving_get_model_metadata.pb.h"
#include "proto/serving_get_model_status.pb.h"
#include "proto/serving_inference.pb.h"
#include "proto/serving_model_management.pb.h"
#include "proto/serving_predict.pb.h"
#include "proto/serving_regression.pb.h"
#include "serving/classify_api.h"
#include "serving/predict_api.h"

namespace pipeline::server {

class ModelManager;
class ServerMetrics;

struct GrpcServerOptions {
  std::string host = "0.0.0.0";  // TF Serving listens on every interface
  int port = 8500;               // 0: pick a free port (port() tells which)
  // Also listen on this Unix socket when not empty (--grpc_socket_path).
  std::string socket_path;
  // Largest request and reply, bytes. TF Serving sets kint32max: a batch
  // of images easily passes gRPC's 4 MiB default.
  int max_message_bytes = std::numeric_limits<int32_t>::max();
  // Threads running calls (--grpc_max_threads); 0: 4 per hardware thread,
  // TF Serving's default. Calls beyond it wait their turn in order.
  int max_threads = 0;
  // Extra channel arguments (--grpc_channel_arguments), e.g.
  // {"grpc.max_concurrent_streams", "100"}: a value that parses as an int32
  // is passed as one, as TF Serving does.
  std::vector<std::pair<std::string, std::string>> channel_arguments;
  // Stop() lets requests in flight finish for this long, then cancels them.
  int64_t shutdown_grace_ms = 5000;
  // --enable_signature_method_name_check, for Classify, Regress and MultiInference.
  serving::ClassifyOptions classify;
  // Counts every answered call when set (--monitoring_config_file); must
  // outlive the server.
  ServerMetrics* metrics = nullptr;
};

// --grpc_channel_arguments: "k1=v1,k2=v2" -> {(k1, v1), (k2, v2)}. An empty
// string is no arguments; InvalidArgument for an item without '=' or with
// an empty key (TF Serving would crash on the first, pass the second on).
Status ParseGrpcChannelArguments(const std::string& flag, std::vector<std::pair<std::string, std::string>>* out);

class GrpcServer {
 public:
  // Binds and starts serving on `manager` (which must outlive the server).
  // IOError naming host:port when the port cannot be bound.
  static Status Start(const GrpcServerOptions& options, ModelManager* manager, std::unique_ptr<GrpcServer>* out);
  ~GrpcServer();  // Stop()

  int port() const;  // the bound port (the picked one for port 0)
  // Stops accepting, waits up to shutdown_grace_ms for requests in flight,
  // cancels the rest. Idempotent.
  void Stop();

 private:
  GrpcServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The RPCs. Each resolves the servable with ModelManager::Find (a request
// without model_spec is "Missing ModelSpec", InvalidArgument) and fills the
// reply's model_spec as TF Serving does (name, signature_name, version).

// Inputs through TensorValue::FromProto (tensor_content or typed lists; one
// that does not parse is "tensor parsing error: ALIAS"), run by
// serving::Predict, outputs as typed lists (TensorToTypedProto).
serving::ServingStatus PredictRpc(const ModelManager& manager, const tensorflow::serving::PredictRequest& request,
                                  tensorflow::serving::PredictResponse* response);
// serving::Classify / serving::Regress (serving/classify_api.h).
serving::ServingStatus ClassifyRpc(const ModelManager& manager, const tensorflow::serving::ClassificationRequest& request,
                                   tensorflow::serving::ClassificationResponse* response,
                                   const serving::ClassifyOptions& options = {});
serving::ServingStatus RegressRpc(const ModelManager& manager, const tensorflow::serving::RegressionRequest& request,
                                  tensorflow::serving::RegressionResponse* response,
                                  const serving::ClassifyOptions& options = {});
// TF Serving's RunMultiInference: every task on the same model (that of the
// first task) and on signatures sharing one input tensor, checked before
// anything runs, with its texts:
//   Found ModelSpec with an empty model name.
//   All ModelSpecs in a MultiInferenceRequest must access the same model name.
//   Duplicate evaluation of signature: S
//   Requested signature not found in model graph: S
//   Unsupported signature method_name: M                     (Unimplemented)
//   Input tensor must be the same for all Signatures.
// and the classify/regress signature checks. Then each task runs as its own
// Classify or Regress on the shared input (TF Serving runs them as one
// session run; the results are the same, the input is parsed once per task).
serving::ServingStatus MultiInferenceRpc(const ModelManager& manager,
                                         const tensorflow::serving::MultiInferenceRequest& request,
                                         tensorflow::serving::MultiInferenceResponse* response,
                                         const serving::ClassifyOptions& options = {});
// Only metadata_field "signature_def": metadata["signature_def"] is an Any
// holding a SignatureDefMap of every signature of the servable.
serving::ServingStatus GetModelMetadataRpc(const ModelManager& manager,
                                           const tensorflow::serving::GetModelMetadataRequest& request,
                                           tensorflow::serving::GetModelMetadataResponse* response);
serving::ServingStatus GetModelStatusRpc(const ModelManager& manager,
                                         const tensorflow::serving::GetModelStatusRequest& request,
                                         tensorflow::serving::GetModelStatusResponse* response);
// Only a model_config_list config; the reply's status holds the outcome too
// (OK with an empty message on success), as TF Serving's does.
serving::ServingStatus ReloadConfigRpc(ModelManager& manager, const tensorflow::serving::ReloadConfigRequest& request,
                                       tensorflow::serving::ReloadConfigResponse* response);

// The message a gRPC status carries: TF Serving's ToGRPCStatus keeps the
// first 1024 bytes and appends "...TRUNCATED".
std::string GrpcErrorMessage(const std::string& message);

}  // namespace pipeline::server
