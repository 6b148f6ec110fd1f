// TF Serving's REST API (model_servers/http_rest_api_handler.cc and
// http_rest_api_util.cc) over the model manager: routing, the model spec a
// path names, and the reply of each route. The JSON codecs are serving/'s
// (json_tensor.h for requests, json_response.h for replies); the transport
// is server/http_server.h. Routes, matched case-insensitively as TF
// Serving's regular expressions match them:
//   POST /v1/models/M[/versions/V | /labels/L]:(predict|classify|regress)
//   GET  /v1/models/M[/versions/V | /labels/L]            -> status
//   GET  /v1/models/M[/versions/V | /labels/L]/metadata   -> signature_def
// Anything else is 400 "Malformed request: METHOD PATH". Every reply is
// application/json; an error is {"error": "..."} with TF Serving's HTTP
// status for its code (serving::HttpStatusCode).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "server/http_message.h"
#include "server/metrics.h"
#include "server/model_manager.h"
#include "serving/classify_api.h"

namespace pipeline::server {

struct RestApiOptions {
  bool enable_cors = false;  // --rest_api_enable_cors_support
  serving::ClassifyOptions classify;  // --enable_signature_method_name_check
  // --monitoring_config_file: requests are counted here, and a GET of
  // `prometheus_path` answers the Prometheus text. Unset: neither.
  ServerMetrics* metrics = nullptr;
  std::string prometheus_path;
};

// Where a request path points. Parsed without regular expressions (the
// hot path), to the same matches as TF Serving's kPredictionApiGegex and
// kModelStatusApiRegex.
struct RestRoute {
  enum class Kind { kMalformed, kPredict, kClassify, kRegress, kStatus, kMetadata };
  Kind kind = Kind::kMalformed;
  std::string model;            // percent-decoded
  std::string version;          // digits as sent ("" = none)
  std::string label;            // percent-decoded ("" = none)
  bool has_label = false;
  bool missing_model = false;   // GET /v1/models: "Missing model name in request."
};
RestRoute ParseRestRoute(const std::string& method, const std::string& path);

class RestApi {
 public:
  RestApi(ModelManager* manager, RestApiOptions options) : manager_(manager), options_(options) {}

  // Answers one request; safe to call from every transport thread at once.
  void Handle(const HttpRequest& request, HttpResponse* response);

 private:
  serving::ServingStatus Dispatch(const HttpRequest& request, const std::string& path, const RestRoute& route,
                                  std::string* body);
  ModelManager* manager_;
  RestApiOptions options_;
};

}  // namespace pipeline::server
