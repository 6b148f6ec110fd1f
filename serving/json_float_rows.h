// The predict body nearly every client sends -- one float input as rows of
// numbers:
//   {"signature_name": "predict_images", "instances": [[0.1, 0.2, ...], ...]}
// -- scanned in one pass straight into the float tensor, with no DOM: at
// batch 1 the DOM parse and its walk were a third of a request's CPU time.
//
// The scanner accepts only that shape: an object whose keys are
// "signature_name" (a string without escapes) and "instances" (a non-empty
// list of equally long, non-empty lists of plain JSON numbers), each at most
// once, for a signature whose only input is DT_FLOAT; every number in
// float's range, and an integer only when exact in a float (TF Serving's
// IsLosslessDecimal). Anything else -- another key, NaN, a nested list, a
// string, a malformed byte -- returns false untouched, and the full codec
// (json_tensor.h) parses the body with its own rules and error texts.
// Numbers are read exactly as the DOM codec's RapidJSON reads them (its
// default-precision algorithm, step for step) and then rounded to float, as
// TF Serving does (GetFloat of the parsed double): the same bits either way.
#pragma once

#include <string_view>

#include "serving/json_response.h"
#include "serving/predict_api.h"

namespace pipeline::serving {

// True when `json` had the shape above: request->signature_name and
// request->inputs are set ([rows, width] float) and *format is kRow. A
// failing `input_dtypes_of` also returns false (the full codec reports it).
bool FillFloatRowsFromJson(std::string_view json, const InputDtypesFn& input_dtypes_of, PredictRequest* request,
                           JsonFormat* format);

}  // namespace pipeline::serving
