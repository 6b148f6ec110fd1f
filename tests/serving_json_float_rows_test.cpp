// The no-DOM predict scanner (serving/json_float_rows.h) against the DOM
// codec it stands in for: what it takes, it reads as the DOM codec does;
// what it leaves, the DOM codec answers (values or TF Serving's errors).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "serving/json_float_rows.h"
#include "serving/json_tensor.h"

using namespace pipeline;
using namespace pipeline::serving;

namespace {

InputDtypesFn OneInput(tensorflow::DataType dtype = tensorflow::DT_FLOAT) {
  return [dtype](const std::string&, std::map<std::string, tensorflow::DataType>* dtypes) {
    *dtypes = {{"images", dtype}};
    return ServingStatus::Ok();
  };
}

// Both routes on `json`; the scanner must take it and agree exactly.
void CheckTakenAndAgrees(const std::string& json, const TensorShape& shape) {
  INFO(json);
  PredictRequest fast, dom;
  JsonFormat fast_format = JsonFormat::kColumnar, dom_format = JsonFormat::kColumnar;
  REQUIRE(FillFloatRowsFromJson(json, OneInput(), &fast, &fast_format));
  REQUIRE(FillPredictRequestFromJsonDom(json, OneInput(), &dom, &dom_format).ok());
  CHECK(fast.signature_name == dom.signature_name);
  CHECK(fast_format == JsonFormat::kRow);
  CHECK(dom_format == JsonFormat::kRow);
  REQUIRE(fast.inputs.count("images"));
  CHECK(fast.inputs.at("images").shape() == shape);
  CHECK(fast.inputs.at("images").SameAs(dom.inputs.at("images")));
}

}  // namespace

TEST_CASE("json float rows: the common predict bodies are scanned as the DOM codec reads them") {
  CheckTakenAndAgrees(R"({"signature_name": "predict_images", "instances": [[0.1, 0.2, 0.3]]})", {1, 3});
  CheckTakenAndAgrees(R"({"instances":[[1,2],[3,4],[5,6]]})", {3, 2});
  CheckTakenAndAgrees("{\n \"instances\" : [ [ -0.0 , 1e-3 , 2.5E+2 ] ] ,\t\"signature_name\":\"\" }\n", {1, 3});
  CheckTakenAndAgrees(R"({"instances": [[0.0039215688593685627, 3.4028e+38, -1.17549435e-38, 16777215, -0, 123456789.25]]})",
                      {1, 6});
  // What Python's json.dumps writes for float32 pixels, 784 of them.
  std::string row;
  for (int i = 0; i < 784; ++i) row += (i ? ", " : "") + std::to_string((i * 37 % 256) / 255.0);
  CheckTakenAndAgrees(R"({"signature_name": "predict_images", "instances": [[)" + row + "], [" + row + "]]}", {2, 784});
}

TEST_CASE("json float rows: long fractions read eight digits at a time agree with the DOM codec bit for bit") {
  // Around the scanner's eight-digit step: fractions of 7 to 25 digits,
  // leading zeros (RapidJSON counts significant digits from the first nonzero
  // one), an integer part, and significands crossing the 2^53 limit where
  // RapidJSON leaves its integer for a double, inside and after a chunk.
  std::vector<std::string> numbers = {
      "0.3294117748737335", "0.32941177487373352", "0.329411774873733521", "0.0039215688593685627",
      "0.00000000123456789012", "0.000000000000000001", "0.1234567", "0.12345678", "0.123456789",
      "0.9007199254740991", "0.9007199254740992", "0.90071991999999999", "0.90071992000000001",
      "0.9007199199999999912345", "0.9999999999999999999999999", "123456789.1234567890123456",
      "1.00000000000000000000001", "0.00000000", "0.0000000000000000", "5.12345678e-3", "-0.7654321098765432",
      "0.12345678a"};
  numbers.pop_back();  // (the last is not a number: kept out of the agreeing rows)
  // Printed doubles with 17 significant digits, as json.dumps writes many of them.
  uint64_t state = 88172645463325252u;
  for (int i = 0; i < 2000; ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(state >> 11) / 9007199254740992.0 * (i % 7 ? 1 : 1e-5));
    numbers.push_back(buf);
  }
  std::string row;
  for (size_t i = 0; i < numbers.size(); ++i) row += (i ? ", " : "") + numbers[i];
  CheckTakenAndAgrees(R"({"instances": [[)" + row + "]]}", {1, static_cast<int64_t>(numbers.size())});
  // Each alone too, so that a number ending the body exercises the bounds.
  for (const std::string& n : numbers) CheckTakenAndAgrees(R"({"instances": [[)" + n + "]]}", {1, 1});
}

TEST_CASE("json float rows: anything else is left to the DOM codec and its errors") {
  const std::vector<std::string> left = {
      R"({"instances": [[NaN, 1]]})",                        // TF Serving's NaN token
      R"({"instances": [[1, 2], [3]]})",                     // ragged
      R"({"instances": [1, 2]})",                            // one-dimensional input
      R"({"instances": [[[1]]]})",                           // deeper
      R"({"instances": []})",                                // empty
      R"({"instances": [[]]})",                              // empty row
      R"({"instances": [[1]], "inputs": [[1]]})",            // both keys
      R"({"instances": [[1]], "instances": [[2]]})",         // a key twice
      R"({"instances": [[1]], "extra": 1})",                 // another key
      R"({"signature_name": "a\"b", "instances": [[1]]})",   // an escape
      R"({"signature_name": 3, "instances": [[1]]})",        // not a string
      R"({"instances": [[16777217]]})",                      // not exact in a float
      R"({"instances": [[1e39]]})",                          // beyond float's range
      R"({"instances": [[3.4028236e+38]]})",                 // just beyond float's max
      R"({"instances": [[1234567890]]})",                    // 10 digits: RapidJSON's 64-bit integers
      R"({"instances": [[01]]})",                            // not JSON
      R"({"instances": [[1.]]})",                            // not JSON
      R"({"instances": [[1, 2]]} x)",                        // trailing bytes
      R"({"instances": [["1"]]})",                           // a string
      R"({"signature_name": "s"})",                          // no instances
  };
  for (const std::string& json : left) {
    INFO(json);
    PredictRequest fast;
    JsonFormat format;
    CHECK_FALSE(FillFloatRowsFromJson(json, OneInput(), &fast, &format));
    // The public entry gives exactly the DOM codec's answer.
    PredictRequest a, b;
    JsonFormat fa = JsonFormat::kColumnar, fb = JsonFormat::kColumnar;
    const ServingStatus sa = FillPredictRequestFromJson(json, OneInput(), &a, &fa);
    const ServingStatus sb = FillPredictRequestFromJsonDom(json, OneInput(), &b, &fb);
    CHECK(sa.code == sb.code);
    CHECK(sa.message == sb.message);
  }
  // A signature whose input is not a single float: the DOM codec decides.
  PredictRequest r;
  JsonFormat format;
  CHECK_FALSE(FillFloatRowsFromJson(R"({"instances": [[1, 2]]})", OneInput(tensorflow::DT_DOUBLE), &r, &format));
  CHECK(FillPredictRequestFromJson(R"({"instances": [[1, 2]]})", OneInput(tensorflow::DT_DOUBLE), &r, &format).ok());
  CHECK(r.inputs.at("images").dtype() == tensorflow::DT_DOUBLE);
}
