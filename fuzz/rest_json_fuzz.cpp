// libFuzzer target: the REST API's JSON-to-tensor conversion
// (serving/json_tensor.h) for predict (against a signature of several
// dtypes, so every converter is reached), classify and regress, and the
// reply codec on whatever a request produced. The first byte picks the
// request kind. Any ServingStatus is fine; crashes, sanitizer reports, a
// tensor whose element count disagrees with its shape, and a reply that is
// not valid JSON (common/json_value.h, TF Serving's NaN mode) are bugs.
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "common/json_value.h"
#include "serving/json_float_rows.h"
#include "serving/json_response.h"
#include "serving/json_tensor.h"

namespace {

using pipeline::serving::ServingStatus;

const std::map<std::string, tensorflow::DataType>& Dtypes(int variant) {
  static const std::map<std::string, tensorflow::DataType> one{{"images", tensorflow::DT_FLOAT}};
  static const std::map<std::string, tensorflow::DataType> many{
      {"a", tensorflow::DT_FLOAT}, {"b", tensorflow::DT_INT64}, {"c", tensorflow::DT_STRING},
      {"d", tensorflow::DT_BOOL},  {"e", tensorflow::DT_DOUBLE}, {"f", tensorflow::DT_UINT8},
      {"g", tensorflow::DT_INT32}, {"h", tensorflow::DT_HALF}};
  return variant % 2 == 0 ? one : many;
}

void CheckJson(const std::string& json) {
  pipeline::JsonValue v;
  pipeline::JsonParseOptions options;
  options.allow_non_finite = true;
  if (!pipeline::ParseJson(json, &v, options).ok()) std::abort();
}

// The no-DOM scanner (serving/json_float_rows.h) takes a body only when the
// DOM codec takes it too, with the same signature, shape and float bits.
void CheckFastPathAgrees(std::string_view json, const pipeline::serving::InputDtypesFn& dtypes_of) {
  pipeline::serving::PredictRequest fast, dom;
  pipeline::serving::JsonFormat fast_format, dom_format;
  if (!pipeline::serving::FillFloatRowsFromJson(json, dtypes_of, &fast, &fast_format)) return;
  if (!pipeline::serving::FillPredictRequestFromJsonDom(json, dtypes_of, &dom, &dom_format).ok()) std::abort();
  if (fast.signature_name != dom.signature_name || fast_format != dom_format || fast.inputs.size() != 1 ||
      dom.inputs.size() != 1 || fast.inputs.begin()->first != dom.inputs.begin()->first) {
    std::abort();
  }
  const pipeline::TensorValue& a = fast.inputs.begin()->second;
  const pipeline::TensorValue& b = dom.inputs.begin()->second;
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) std::abort();
  if (a.raw_size() != b.raw_size() || std::memcmp(a.raw(), b.raw(), a.raw_size()) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 20) return -1;
  const int kind = data[0] % 3;
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (kind == 0) {
    pipeline::serving::PredictRequest request;
    pipeline::serving::JsonFormat format;
    const pipeline::serving::InputDtypesFn dtypes_of = [&](const std::string&,
                                                           std::map<std::string, tensorflow::DataType>* dtypes) {
      *dtypes = Dtypes(data[0] / 3);
      return ServingStatus::Ok();
    };
    ServingStatus st = pipeline::serving::FillPredictRequestFromJson(json, dtypes_of, &request, &format);
    CheckFastPathAgrees(json, dtypes_of);
    if (!st.ok()) {
      CheckJson(pipeline::serving::MakeJsonFromStatus(st));
      return 0;
    }
    for (const auto& [alias, t] : request.inputs) {
      if (t.dtype() == tensorflow::DT_STRING && static_cast<int64_t>(t.strings().size()) != t.NumElements()) std::abort();
    }
    std::string reply;
    if (pipeline::serving::MakeJsonFromTensors(request.inputs, format, &reply).ok()) CheckJson(reply);
  } else {
    tensorflow::serving::ClassificationRequest classify;
    tensorflow::serving::RegressionRequest regress;
    ServingStatus st = kind == 1 ? pipeline::serving::FillClassificationRequestFromJson(json, &classify)
                                 : pipeline::serving::FillRegressionRequestFromJson(json, &regress);
    if (!st.ok()) CheckJson(pipeline::serving::MakeJsonFromStatus(st));
  }
  return 0;
}
