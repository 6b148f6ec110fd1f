// The serving API's JSON side (what `pipeline predict` and the
// model server share, outside cli/). The inputs of one predict run and how a
// JSON instances file becomes them: TF Serving's REST row format
// ({"instances": [...]} or a bare list),
// parsed with the one strict JSON reader (common/json_value.h) in TF
// Serving's mode, which also accepts NaN / Infinity.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

// Either serialized examples or float rows (or per-instance input maps).
struct PredictInputs {
  bool examples = false;
  std::vector<std::string> serialized;                           // examples
  std::vector<float> floats;                                     // rows, row-major
  TensorShape row_shape;                                         // shape of one float row
  std::vector<std::map<std::string, TensorValue>> per_instance;  // predict objects (multi-input)
  int64_t count = 0;      // inputs that run (after --limit)
  int64_t available = 0;  // inputs in the source (before --limit): what --idx-labels must match
  // Indices (< count) of the inputs holding a NaN or an infinity. TensorFlow
  // computes with them (NaN propagates), so predict runs them and says so.
  std::vector<int64_t> non_finite;
};

// Reads `path` as TF Serving's instances. With `wants_examples` every
// instance must be a {"feature": [values]} object and becomes a serialized
// tf.Example (numbers -> float_list, strings -> bytes_list); otherwise an
// instance is a (nested) number list, or an {"input alias": value} object.
// `limit` < 0 takes every instance. A finite number beyond float's range is
// refused, as TF Serving refuses it ("without loss of precision").
// Errors: Corruption naming the file, the instance and the byte offset.
Status ReadJsonInstances(const std::string& path, bool wants_examples, int64_t limit, PredictInputs* out);

// Whether a serialized tf.Example holds a non-finite float_list value.
bool ExampleHasNonFinite(const std::string& serialized);

}  // namespace pipeline::serving
