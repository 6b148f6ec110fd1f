#include "serving/predict_api.h"

#include <set>

#include "common/strings.h"

namespace pipeline::serving {
namespace {

template <class Map>
std::set<std::string> Keys(const Map& m) {
  std::set<std::string> keys;
  for (const auto& [k, v] : m) keys.insert(k);
  return keys;
}

std::string JoinSet(const std::set<std::string>& s) { return Join(std::vector<std::string>(s.begin(), s.end()), ","); }

std::set<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& x : a)
    if (!b.count(x)) out.insert(x);
  return out;
}

ServingStatus Invalid(std::string msg) { return ServingStatus::Error(ErrorCode::kInvalidArgument, std::move(msg)); }

// TF Serving's VerifyRequestInputsSize and TensorFlow's GetInputValues
// (tensorflow/cc/saved_model/util.cc): the feeds by input alias.
ServingStatus InputValues(const tensorflow::SignatureDef& sig, const PredictRequest& request,
                          std::map<std::string, TensorValue>* feeds) {
  const size_t wanted = static_cast<size_t>(sig.inputs_size());
  if (request.inputs.size() > wanted || (request.inputs.size() < wanted && sig.defaults().empty())) {
    const std::set<std::string> sent = Keys(request.inputs), expected = Keys(sig.inputs());
    return Invalid("input size does not match signature: " + std::to_string(request.inputs.size()) + "!=" +
                   std::to_string(wanted) + " len({" + JoinSet(sent) + "}) != len({" + JoinSet(expected) +
                   "}). Sent extra: {" + JoinSet(Minus(sent, expected)) + "}. Missing but required: {" +
                   JoinSet(Minus(expected, sent)) + "}.");
  }
  std::set<std::string> used;
  for (const std::string& alias : Keys(sig.inputs())) {
    auto it = request.inputs.find(alias);
    if (it != request.inputs.end()) {
      used.insert(alias);
      (*feeds)[alias] = it->second;
      continue;
    }
    auto def = sig.defaults().find(alias);
    if (def == sig.defaults().end()) {
      return Invalid("Signature input alias: " + alias + "(feed name: " + sig.inputs().at(alias).name() +
                     ") not found in request and no default value provided. Inputs expected to be in the request {" +
                     JoinSet(Keys(request.inputs)) + "}, or default input alias set: " + JoinSet(Keys(sig.defaults())));
    }
    TensorValue v;
    if (!TensorValue::FromProto(def->second, &v).ok()) return Invalid("tensor parsing error: " + alias);
    (*feeds)[alias] = std::move(v);
  }
  if (!request.inputs.empty() && used.size() != request.inputs.size()) {
    return Invalid("Inputs contains invalid name. Used request inputs: " + JoinSet(used) +
                   ", request input: " + JoinSet(Keys(request.inputs)));
  }
  return ServingStatus::Ok();
}

}  // namespace

ServingStatus ServingStatus::From(const Status& st) {
  switch (st.code()) {
    case Status::Code::kOk: return Ok();
    case Status::Code::kInvalidArgument:
    case Status::Code::kRuntime: return Error(ErrorCode::kInvalidArgument, st.message());
    case Status::Code::kNotFound: return Error(ErrorCode::kNotFound, st.message());
    case Status::Code::kUnimplemented: return Error(ErrorCode::kUnimplemented, st.message());
    case Status::Code::kUnavailable: return Error(ErrorCode::kUnavailable, st.message());
    case Status::Code::kFailedPrecondition: return Error(ErrorCode::kFailedPrecondition, st.message());
    case Status::Code::kCorruption:
    case Status::Code::kIOError: break;
  }
  return Error(ErrorCode::kInternal, st.message());
}

int HttpStatusCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kOutOfRange: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kAborted: return 409;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kCancelled: return 499;
    case ErrorCode::kUnimplemented: return 501;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kDeadlineExceeded: return 504;
    case ErrorCode::kUnknown:
    case ErrorCode::kInternal:
    case ErrorCode::kDataLoss: break;
  }
  return 500;
}

Status PredictRequestFromProto(const tensorflow::serving::PredictRequest& proto, PredictRequest* request,
                               std::string* bad_alias) {
  request->signature_name = proto.model_spec().signature_name();
  request->output_filter.assign(proto.output_filter().begin(), proto.output_filter().end());
  Status bad;
  bad_alias->clear();
  for (const auto& [alias, tensor] : proto.inputs()) {  // a protobuf map: unordered
    TensorValue v;
    Status parsed = TensorValue::FromProto(tensor, &v);
    if (!parsed.ok() && (bad.ok() || alias < *bad_alias)) {
      bad = parsed;
      *bad_alias = alias;
    }
    request->inputs.emplace(alias, std::move(v));
  }
  return bad;
}

ServingStatus Predict(Servable& servable, const PredictRequest& request, PredictResponse* response) {
  const std::string key = request.signature_name.empty() ? kDefaultSignature : request.signature_name;
  const tensorflow::SignatureDef* sig = servable.FindSignature(key);
  if (sig == nullptr) {
    return ServingStatus::Error(ErrorCode::kFailedPrecondition, "Serving signature key \"" + key + "\" not found.");
  }
  std::map<std::string, TensorValue> feeds;
  ServingStatus st = InputValues(*sig, request, &feeds);
  if (!st.ok()) return st;
  std::set<std::string> seen;
  for (const std::string& alias : request.output_filter) {
    if (!sig->outputs().count(alias)) {
      return Invalid("output tensor alias not found in signature: " + alias + " Outputs expected to be in the set {" +
                     JoinSet(Keys(sig->outputs())) + "}.");
    }
    if (!seen.insert(alias).second) return Invalid("duplicate output tensor alias: " + alias);
  }
  response->model_name = servable.name();
  response->version = servable.version();
  response->signature_name = key;
  return ServingStatus::From(servable.Run(key, feeds, request.output_filter, &response->outputs));
}

}  // namespace pipeline::serving
