// TF Serving's Predict API in process (tensorflow_serving/apis/predict.proto,
// servables/tensorflow/predict_util.cc): a request names a signature
// (default "serving_default"), its inputs by alias and optionally the outputs
// it wants; the response holds the output tensors by alias. The request is
// checked as TF Serving checks it, and a refusal carries TF Serving's text and
// status code, which the REST server maps to an HTTP status as TF Serving
// does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/serving_predict.pb.h"
#include "serving/servable.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

// TensorFlow's canonical error codes (tensorflow::error::Code = gRPC's).
enum class ErrorCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// A serving answer's status: TF Serving's code and message.
struct ServingStatus {
  ErrorCode code = ErrorCode::kOk;
  std::string message;

  bool ok() const { return code == ErrorCode::kOk; }
  static ServingStatus Ok() { return {}; }
  static ServingStatus Error(ErrorCode code, std::string message) { return {code, std::move(message)}; }
  // A pipeline Status in TensorFlow's codes: InvalidArgument and the
  // interpreter's Runtime errors (bad shapes, bad values: what TensorFlow's
  // kernels report as INVALID_ARGUMENT) -> kInvalidArgument; NotFound ->
  // kNotFound; Unimplemented -> kUnimplemented; Corruption, IOError -> kInternal.
  static ServingStatus From(const Status& st);
};

// The HTTP status TF Serving's REST API answers `code` with (its
// ToHTTPStatusCode): 400 for invalid argument, failed precondition and out
// of range; 404 not found; 409 already exists and aborted; 403, 401, 429
// resource exhausted, 499 cancelled, 501 unimplemented, 503 unavailable,
// 504 deadline exceeded; 500 for the rest.
int HttpStatusCode(ErrorCode code);

struct PredictRequest {
  std::string signature_name;                     // "" = kDefaultSignature
  std::map<std::string, TensorValue> inputs;      // by input alias
  std::vector<std::string> output_filter;         // output aliases; empty = every output
};

// A wire PredictRequest (gRPC, a warmup record) as a PredictRequest: the
// signature, the output filter and every input through TensorValue::FromProto
// (tensor_content or typed lists). The inputs that parse are all kept; the
// returned Status is the failure of the first unparsable input in alias order
// (as TF Serving's sorted walk meets it), with its alias in *bad_alias.
Status PredictRequestFromProto(const tensorflow::serving::PredictRequest& proto, PredictRequest* request,
                               std::string* bad_alias);

// The input dtypes of a signature ("" = the default signature) by alias: what
// TF Serving reads from the signature's TensorInfos (GetInfoMap). Its errors
// are returned as they are.
using InputDtypesFn =
    std::function<ServingStatus(const std::string& signature_name, std::map<std::string, tensorflow::DataType>* input_dtypes)>;

struct PredictResponse {
  std::string model_name;  // ModelSpec of the answer: the servable's name,
  int64_t version = -1;    // version (-1: none)
  std::string signature_name;                 // the signature that ran
  std::map<std::string, TensorValue> outputs;  // by output alias
};

// Runs `request` on a restored servable. Refusals, in TF Serving's order and words:
//   FailedPrecondition  Serving signature key "K" not found.
//   InvalidArgument     input size does not match signature: 2!=1 len({a,b}) != len({a}). Sent extra: {b}. Missing but required: {}.
//   InvalidArgument     Signature input alias: a(feed name: x:0) not found in request and no default value provided. ...
//   InvalidArgument     Inputs contains invalid name. Used request inputs: ..., request input: ...
//   InvalidArgument     output tensor alias not found in signature: o Outputs expected to be in the set {y}.
//   InvalidArgument     duplicate output tensor alias: o
// then what the run reports (ServingStatus::From). A signature's `defaults`
// fill inputs the request leaves out. The method-name check TF Serving keeps
// behind --enable_signature_method_name_check (off by default) is not made.
ServingStatus Predict(Servable& servable, const PredictRequest& request, PredictResponse* response);

}  // namespace pipeline::serving
