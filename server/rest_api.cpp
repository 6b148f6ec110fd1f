#include "server/rest_api.h"

#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstdlib>

#include "proto/serving_classification.pb.h"
#include "proto/serving_get_model_metadata.pb.h"
#include "proto/serving_regression.pb.h"
#include "serving/classify_api.h"
#include "serving/json_response.h"
#include "serving/json_tensor.h"

namespace pipeline::server {
namespace {

using serving::ErrorCode;
using serving::ServingStatus;

// Case-insensitive prefix match: TF Serving's regexes are (?i).
bool ConsumeI(const std::string& s, size_t* pos, const char* word) {
  size_t i = *pos;
  for (const char* w = word; *w; ++w, ++i) {
    if (i >= s.size() || std::tolower(static_cast<unsigned char>(s[i])) != *w) return false;
  }
  *pos = i;
  return true;
}

// [^/:]+ from *pos.
bool ConsumeSegment(const std::string& s, size_t* pos, std::string* out) {
  size_t end = *pos;
  while (end < s.size() && s[end] != '/' && s[end] != ':') ++end;
  if (end == *pos) return false;
  out->assign(s, *pos, end - *pos);
  *pos = end;
  return true;
}

bool ConsumeDigits(const std::string& s, size_t* pos, std::string* out) {
  size_t end = *pos;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
  if (end == *pos) return false;
  out->assign(s, *pos, end - *pos);
  *pos = end;
  return true;
}

// (?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))? -- tried in order, each
// undone when it does not match (as the regex backtracks).
void ConsumeVersionOrLabel(const std::string& s, size_t* pos, RestRoute* r) {
  size_t p = *pos;
  if (ConsumeI(s, &p, "/versions/") && ConsumeDigits(s, &p, &r->version)) {
    *pos = p;
    return;
  }
  r->version.clear();
  p = *pos;
  if (ConsumeI(s, &p, "/labels/") && ConsumeSegment(s, &p, &r->label)) {
    r->has_label = true;
    *pos = p;
    return;
  }
  r->label.clear();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// curl_easy_unescape, as TF Serving decodes model names and labels: %XX
// becomes its byte; anything else, a malformed escape included, stays.
std::string Unescape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

ServingStatus Invalid(std::string message) { return ServingStatus::Error(ErrorCode::kInvalidArgument, std::move(message)); }

// TF Serving's FillModelSpecWithNameVersionAndLabel and the version parse.
ServingStatus FillModelSpec(const RestRoute& route, tensorflow::serving::ModelSpec* spec) {
  spec->set_name(route.model);
  if (!route.version.empty()) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(route.version.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0') {
      return Invalid("Failed to convert version: " + route.version + " to numeric.");
    }
    spec->mutable_version()->set_value(v);
  }
  if (route.has_label) spec->set_version_label(route.label);
  return ServingStatus::Ok();
}

ServingStatus ProtoToJson(const google::protobuf::Message& message, bool preserve_names, std::string* out) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = preserve_names;
  out->clear();
  auto st = google::protobuf::util::MessageToJsonString(message, out, opts);
  if (!st.ok()) {
    return ServingStatus::Error(ErrorCode::kInternal, "Failed to convert proto to json. Error: " + st.ToString());
  }
  return ServingStatus::Ok();
}

}  // namespace

RestRoute ParseRestRoute(const std::string& method, const std::string& path) {
  RestRoute r;
  size_t pos = 0;
  if (method == "POST") {
    if (!ConsumeI(path, &pos, "/v1/models/") || !ConsumeSegment(path, &pos, &r.model)) return r;
    ConsumeVersionOrLabel(path, &pos, &r);
    if (pos >= path.size() || path[pos] != ':') return r;
    const std::string verb = path.substr(pos + 1);
    std::string lower;
    for (char c : verb) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower != "predict" && lower != "classify" && lower != "regress") return r;
    // The regex matches any case; the dispatch compares exactly, so
    // ":PREDICT" stays a malformed request, as in TF Serving.
    if (verb == "predict") r.kind = RestRoute::Kind::kPredict;
    if (verb == "classify") r.kind = RestRoute::Kind::kClassify;
    if (verb == "regress") r.kind = RestRoute::Kind::kRegress;
  } else if (method == "GET") {
    if (!ConsumeI(path, &pos, "/v1/models")) return r;
    if (pos < path.size()) {
      size_t p = pos;
      if (path[p] != '/' || !ConsumeSegment(path, &++p, &r.model)) return r;
      pos = p;
    }
    ConsumeVersionOrLabel(path, &pos, &r);
    std::string subresource;
    if (pos < path.size()) {
      size_t p = pos;
      if (!ConsumeI(path, &p, "/metadata") || p != path.size()) return r;
      subresource = path.substr(pos + 1);
      pos = p;
    }
    r.missing_model = r.model.empty();
    r.kind = subresource == "metadata" ? RestRoute::Kind::kMetadata : RestRoute::Kind::kStatus;
  } else {
    return r;
  }
  r.model = Unescape(r.model);
  r.label = Unescape(r.label);
  return r;
}

ServingStatus RestApi::Dispatch(const HttpRequest& request, const std::string& path, const RestRoute& route,
                                std::string* body) {
  if (route.kind == RestRoute::Kind::kMalformed) return Invalid("Malformed request: " + request.method + " " + path);
  if (route.missing_model) return Invalid("Missing model name in request.");
  if (!route.version.empty() && route.has_label) {
    return Invalid("Both model version (" + route.version + ") and model version label (" + route.label +
                   ") cannot be supplied.");
  }
  tensorflow::serving::ModelSpec spec;
  ServingStatus st = FillModelSpec(route, &spec);
  if (!st.ok()) return st;

  if (route.kind == RestRoute::Kind::kStatus) {
    tensorflow::serving::GetModelStatusResponse response;
    st = manager_->GetStatus(spec, &response);
    if (!st.ok()) return st;
    return ProtoToJson(response, false, body);
  }

  std::shared_ptr<serving::Servable> servable;
  st = manager_->Find(spec, &servable);
  if (!st.ok()) return st;

  switch (route.kind) {
    case RestRoute::Kind::kMetadata: {
      // TF Serving prints the model spec and the SignatureDefMap separately
      // and nests the map under "metadata" -> "signature_def", so the
      // signatures sit at metadata.signature_def.signature_def.
      tensorflow::serving::ModelSpec answered;
      answered.set_name(servable->name());
      answered.mutable_version()->set_value(servable->version());
      tensorflow::serving::SignatureDefMap signatures;
      for (const auto& [key, sig] : servable->reader().meta_graph().signature_def()) {
        (*signatures.mutable_signature_def())[key] = sig;
      }
      std::string spec_json, signatures_json;
      st = ProtoToJson(answered, true, &spec_json);
      if (st.ok()) st = ProtoToJson(signatures, true, &signatures_json);
      if (!st.ok()) return st;
      *body = "{\n\"model_spec\":" + spec_json + ",\n\"metadata\": {\"signature_def\": " + signatures_json + "}\n}\n";
      return ServingStatus::Ok();
    }
    case RestRoute::Kind::kPredict: {
      serving::PredictRequest predict;
      serving::JsonFormat format = serving::JsonFormat::kRow;
      st = serving::FillPredictRequestFromJson(
          request.body,
          [&](const std::string& signature_name, std::map<std::string, tensorflow::DataType>* dtypes) {
            const std::string key = signature_name.empty() ? serving::kDefaultSignature : signature_name;
            if (!servable->InputDtypes(key, dtypes)) {
              return Invalid("Serving signature name: \"" + key + "\" not found in signature def");
            }
            return ServingStatus::Ok();
          },
          &predict, &format);
      if (!st.ok()) return st;
      serving::PredictResponse response;
      st = serving::Predict(*servable, predict, &response);
      if (!st.ok()) return st;
      return serving::MakeJsonFromTensors(response.outputs, format, body);
    }
    case RestRoute::Kind::kClassify: {
      tensorflow::serving::ClassificationRequest classify;
      *classify.mutable_model_spec() = spec;
      st = serving::FillClassificationRequestFromJson(request.body, &classify);
      if (!st.ok()) return st;
      tensorflow::serving::ClassificationResponse response;
      st = serving::Classify(*servable, classify, &response, options_.classify);
      if (!st.ok()) return st;
      return serving::MakeJsonFromClassificationResult(response.result(), body);
    }
    case RestRoute::Kind::kRegress: {
      tensorflow::serving::RegressionRequest regress;
      *regress.mutable_model_spec() = spec;
      st = serving::FillRegressionRequestFromJson(request.body, &regress);
      if (!st.ok()) return st;
      tensorflow::serving::RegressionResponse response;
      st = serving::Regress(*servable, regress, &response, options_.classify);
      if (!st.ok()) return st;
      return serving::MakeJsonFromRegressionResult(response.result(), body);
    }
    default: break;
  }
  return Invalid("Malformed request: " + request.method + " " + path);
}

namespace {

// The API name a route is counted under (TF Serving's request_latency labels).
const char* ApiName(RestRoute::Kind kind) {
  switch (kind) {
    case RestRoute::Kind::kPredict: return "predict";
    case RestRoute::Kind::kClassify: return "classify";
    case RestRoute::Kind::kRegress: return "regress";
    case RestRoute::Kind::kStatus: return "get_model_status";
    case RestRoute::Kind::kMetadata: return "get_model_metadata";
    case RestRoute::Kind::kMalformed: break;
  }
  return nullptr;
}

}  // namespace

void RestApi::Handle(const HttpRequest& request, HttpResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  response->headers.clear();
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (!options_.prometheus_path.empty() && options_.metrics != nullptr && path == options_.prometheus_path &&
      request.method == "GET") {
    response->status = 200;
    response->headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    response->body = options_.metrics->PrometheusText();
    return;
  }
  response->headers.emplace_back("Content-Type", "application/json");
  if (options_.enable_cors) {
    response->headers.emplace_back("Access-Control-Allow-Origin", "*");
    response->headers.emplace_back("Access-Control-Allow-Methods", "POST, GET");
    response->headers.emplace_back("Access-Control-Allow-Headers", "Content-Type");
    if (request.method == "OPTIONS") {  // a browser's preflight: the headers are the answer
      response->status = 200;
      response->body.clear();
      return;
    }
  }
  const RestRoute route = ParseRestRoute(request.method, path);
  std::string body;
  ServingStatus st;
  try {
    st = Dispatch(request, path, route, &body);
  } catch (const std::exception& e) {  // oneDNN or protobuf: an internal error, never a dead server
    st = ServingStatus::Error(ErrorCode::kInternal, std::string("internal error: ") + e.what());
  }
  if (!st.ok()) body = serving::MakeJsonFromStatus(st);
  response->status = serving::HttpStatusCode(st.code);
  response->body = std::move(body);
  const char* api = ApiName(route.kind);
  if (options_.metrics != nullptr && api != nullptr) {
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    options_.metrics->Record(route.model, api, "REST", st.code, took.count());
  }
}

}  // namespace pipeline::server
