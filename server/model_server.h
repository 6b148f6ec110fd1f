// `pipeline serve`: TF Serving's model server (model_servers/server.cc) in
// one object. It loads the first models before any port opens (a client that
// can connect can be served), then serves gRPC on --port and REST on
// --rest_api_port until SIGTERM or SIGINT, which stop accepting, finish the
// requests in flight and return 0.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace pipeline::server {

// TF Serving's flags, by their names and defaults.
struct ModelServerOptions {
  int port = 8500;               // gRPC; 0 picks a free port
  int rest_api_port = 8501;      // 0 disables REST, as in TF Serving
  std::string host = "0.0.0.0";  // both APIs listen here
  std::string model_name = "default";
  std::string model_base_path;
  std::string model_config_file;
  double model_config_file_poll_wait_seconds = 0;  // 0: read the config file once
  double file_system_poll_wait_seconds = 1;
  int rest_api_num_threads = 0;      // 0: one event loop per hardware thread
  int64_t rest_api_timeout_in_ms = 30000;
  bool rest_api_enable_cors_support = false;
  // Ours: the largest REST request body; larger ones get 413 before their
  // body is read.
  int64_t rest_api_max_body_bytes = int64_t{256} << 20;
  int64_t grpc_max_message_bytes = (int64_t{1} << 31) - 1;  // TF Serving's kint32max
  std::string grpc_socket_path;        // also listen on this Unix socket
  int grpc_max_threads = 0;            // 0: 4 per hardware thread, TF Serving's default
  std::string grpc_channel_arguments;  // "k1=v1,k2=v2"
  bool enable_signature_method_name_check = false;
  // A MonitoringConfig text proto; with prometheus_config { enable: true }
  // the REST port answers Prometheus text at its path.
  std::string monitoring_config_file;
  // Request batching (server/batching.h): concurrent runs of one signature
  // merged along dimension 0. The file is a BatchingParameters text proto;
  // without it, TF Serving's defaults. The file without the flag is an error.
  bool enable_batching = false;
  std::string batching_parameters_file;
};

// Runs the server until a signal (blocks SIGTERM and SIGINT in the calling
// thread first; call before starting other threads). InvalidArgument for bad
// options or config; IOError when a port cannot be bound.
Status RunModelServer(const ModelServerOptions& options);

}  // namespace pipeline::server
