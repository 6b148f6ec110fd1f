// The serving API's request codec: TF Serving's REST request bodies ->
// requests (tensorflow_serving/util/json_tensor.cc, the specification):
//   predict  {"signature_name": s, "instances": [row, ...]}   (row format)
//            {"signature_name": s, "inputs": tensor | {"alias": tensor}}  (columnar)
//   classify / regress  {"signature_name": s, "context": {...}, "examples": [{...}, ...]}
// and the classify / regress replies ({"results": ...}). Every refusal has
// TF Serving's text and code, so a client sees what TF Serving would say.
//
// Parsed with RapidJSON in TF Serving's mode (NaN, Infinity and -Infinity are
// numbers) but iteratively, and every walk of the document keeps its own
// stack: a 100,000-deep nesting is an error message, not a stack overflow
// (TF Serving's parser recurses). Numbers go straight into the TensorValue
// the request will run with, sized once from the first instance's shape.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "proto/serving_classification.pb.h"
#include "proto/serving_regression.pb.h"
#include "proto/types.pb.h"
#include "serving/json_response.h"
#include "serving/predict_api.h"

namespace pipeline::serving {

// Fills request->signature_name and request->inputs from a predict body, and
// *format from the key used ("instances": kRow, "inputs": kColumnar; set once
// the key is known). TF Serving's rules:
//   - a single input takes plain values or lists; several inputs take one
//     {"alias": value} object per instance (row) or one object (columnar);
//     every instance must name every input, with the same shape each time;
//   - DT_STRING values may be {"b64": "<standard base64>"}; numbers must fit
//     the dtype (float/double: "without loss of precision"; int8/16/32 and
//     uint8: a JSON int32, wrapped as TensorFlow's int_val is; int64, uint32,
//     uint64, bool); half, uint16 and the rest are Unimplemented
//     ("Conversion of JSON Value: 1.5 to type: half"), as in TF Serving.
// Errors are InvalidArgument (parse errors "JSON Parse error: <RapidJSON's
// message> at offset: N") except that Unimplemented and the callback's own.
// The common one-float-input row body takes a scanner without a DOM first
// (serving/json_float_rows.h); everything else, and every error, the DOM.
ServingStatus FillPredictRequestFromJson(std::string_view json, const InputDtypesFn& input_dtypes_of,
                                         PredictRequest* request, JsonFormat* format);
// The DOM codec alone: what the scanner is tested and fuzzed against.
ServingStatus FillPredictRequestFromJsonDom(std::string_view json, const InputDtypesFn& input_dtypes_of,
                                            PredictRequest* request, JsonFormat* format);

// Fill request->model_spec().signature_name() (when given) and request->input:
// an ExampleList, or an ExampleListWithContext when "context" is present.
// A feature's values: integers and booleans (1/0) -> int64_list, numbers with
// a fraction or exponent (and NaN, Infinity) -> float_list, strings and
// {"b64": ...} -> bytes_list; a list mixing kinds is refused ("Unexpected
// element type in feature: f expecting type: int64"). Other request fields
// (model_spec name and version) are left as they are.
ServingStatus FillClassificationRequestFromJson(std::string_view json, tensorflow::serving::ClassificationRequest* request);
ServingStatus FillRegressionRequestFromJson(std::string_view json, tensorflow::serving::RegressionRequest* request);

// TF Serving's replies, formatted as json_response.h formats predict replies:
//   {
//       "results": [[["car", 0.2], ["bike", 0.7]], [["car", 0.5], ["bike", 0.5]]
//       ]
//   }
//   {
//       "results": [2.5, 3.0]
//   }
// InvalidArgument "Cannot convert empty ClassificationResults to JSON" (and
// RegressionResults) when there is no result.
ServingStatus MakeJsonFromClassificationResult(const tensorflow::serving::ClassificationResult& result, std::string* json);
ServingStatus MakeJsonFromRegressionResult(const tensorflow::serving::RegressionResult& result, std::string* json);

}  // namespace pipeline::serving
