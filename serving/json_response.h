// The serving API's response codec: output tensors -> TF Serving's REST
// predict response (tensorflow_serving/util/json_tensor.cc,
// MakeJsonFromTensors), byte for byte: RapidJSON's PrettyWriter with 4-space
// indents and each row on one line, as TF Serving writes it, e.g. for
// half_plus_two on [[1.0], [2.0]]:
//   {
//       "predictions": [[2.5], [3.0]
//       ]
//   }
// Floats in TF Serving's form: the "%.6g" text if it reads back to the same
// value, else "%.9g" (float) / "%.17g" (double); ".0" appended to whole
// numbers written without an exponent; NaN, Infinity, -Infinity as bare
// tokens (TF Serving's requests accept them back). DT_STRING outputs whose
// alias ends in "_bytes" are written as {"b64": "<base64>"}.
#pragma once

#include <map>
#include <string>

#include "serving/predict_api.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

enum class JsonFormat {
  kRow,       // {"predictions": [row, ...]}: a row is the output's slice, or
              // {"alias": slice, ...} when there are several outputs
  kColumnar,  // {"outputs": tensor}, or {"outputs": {"alias": tensor, ...}}
};

// InvalidArgument with TF Serving's texts: "Cannot convert empty tensor map
// to JSON"; for kRow "Tensor name: A has no shape information " (a scalar)
// and "Tensor name: A has inconsistent batch size: N expecting: M"; "Failed
// to write JSON value for tensor type: T" for a dtype TF Serving cannot
// write (resource, uint16).
ServingStatus MakeJsonFromTensors(const std::map<std::string, TensorValue>& outputs, JsonFormat format,
                                  std::string* json);

// {"error": "<message>"}, TF Serving's error body.
std::string MakeJsonFromStatus(const ServingStatus& status);

// One float or double as TF Serving writes it (see above).
std::string TfServingDecimal(double value, bool is_float);

}  // namespace pipeline::serving
