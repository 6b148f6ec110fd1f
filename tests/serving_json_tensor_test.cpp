// TF Serving's REST request codec (serving/json_tensor.h) against hand-written
// bodies and hand-computed tensors, and its error texts as TF Serving's
// json_tensor.cc words them (each expected message below was derived from
// that source by hand, not from this implementation's output).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "serving/json_tensor.h"

using namespace pipeline;
using namespace pipeline::serving;
using tensorflow::DataType;

namespace {

using Dtypes = std::map<std::string, DataType>;

// What the callback was asked for, and what it answers.
struct Source {
  Dtypes dtypes;
  std::string asked = "(not asked)";
  InputDtypesFn Fn() {
    return [this](const std::string& signature, Dtypes* out) {
      asked = signature;
      *out = dtypes;
      return ServingStatus::Ok();
    };
  }
};

struct Parsed {
  ServingStatus status;
  PredictRequest request;
  JsonFormat format = JsonFormat::kRow;
  const TensorValue& at(const std::string& alias) const {
    REQUIRE(request.inputs.count(alias));
    return request.inputs.at(alias);
  }
};

Parsed Fill(std::string_view json, const Dtypes& dtypes) {
  Source src{dtypes};
  Parsed p;
  p.format = JsonFormat::kColumnar;  // so that kRow is seen to be set
  p.status = FillPredictRequestFromJson(json, src.Fn(), &p.request, &p.format);
  return p;
}

Parsed One(std::string_view json, DataType dtype) { return Fill(json, {{"v", dtype}}); }

// The message of a refused request (and that it was InvalidArgument).
std::string Refusal(std::string_view json, const Dtypes& dtypes, ErrorCode code = ErrorCode::kInvalidArgument) {
  const Parsed p = Fill(json, dtypes);
  CHECK_FALSE(p.status.ok());
  CHECK(p.status.code == code);
  return p.status.message;
}
std::string Refusal(std::string_view json, DataType dtype, ErrorCode code = ErrorCode::kInvalidArgument) {
  return Refusal(json, {{"v", dtype}}, code);
}

template <class T>
std::vector<T> Values(const TensorValue& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

constexpr char kRowPrefix[] = "Failed to process element: ";

}  // namespace

TEST_CASE("serving json tensor: instances of one input become one tensor batched along the list") {
  Source src{{{"default", tensorflow::DT_INT32}}};
  PredictRequest req;
  JsonFormat format = JsonFormat::kColumnar;
  ServingStatus st = FillPredictRequestFromJson(R"({"instances": [[1,2],[3,4],[5,6]]})", src.Fn(), &req, &format);
  REQUIRE(st.ok());
  CHECK(format == JsonFormat::kRow);
  CHECK(src.asked == "");  // no signature_name: the callback is asked for the default
  CHECK(req.signature_name == "");
  REQUIRE(req.inputs.size() == 1);
  const TensorValue& t = req.inputs.at("default");
  CHECK(t.dtype() == tensorflow::DT_INT32);
  CHECK(t.shape() == TensorShape{3, 2});
  CHECK(Values<int32_t>(t) == std::vector<int32_t>{1, 2, 3, 4, 5, 6});

  st = FillPredictRequestFromJson(R"({"signature_name": "predict_images", "instances": [[1,2]]})", src.Fn(), &req,
                                  &format);
  REQUIRE(st.ok());
  CHECK(src.asked == "predict_images");
  CHECK(req.signature_name == "predict_images");
  CHECK(req.inputs.at("default").shape() == TensorShape{1, 2});

  // Integers and decimals alike into a float input; scalars batch to [7].
  Parsed p = One(R"({"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{7});
  CHECK(Values<float>(p.at("v")) == std::vector<float>{1, 2, 3, 4, 5.003f, 0.007f, 0});

  // A body that is not NUL-terminated (a view into a larger buffer).
  const std::string buffer = R"({"instances": [[1,2],[3,4],[5,6]]}X)";
  p = One(std::string_view(buffer.data(), buffer.size() - 1), tensorflow::DT_INT32);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{3, 2});
}

TEST_CASE("serving json tensor: instances naming several inputs batch each input on its own") {
  Parsed p = Fill(R"({
      "instances": [
        {"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN], "dbl_tensor": [NaN]},
        {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}
      ]})",
                  {{"int_tensor", tensorflow::DT_INT32},
                   {"str_tensor", tensorflow::DT_STRING},
                   {"float_tensor", tensorflow::DT_FLOAT},
                   {"dbl_tensor", tensorflow::DT_DOUBLE}});
  REQUIRE(p.status.ok());
  CHECK(p.format == JsonFormat::kRow);
  CHECK(p.request.inputs.size() == 4);
  CHECK(p.at("int_tensor").shape() == TensorShape{2, 3, 2});
  CHECK(Values<int32_t>(p.at("int_tensor")) == std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2});
  CHECK(p.at("str_tensor").shape() == TensorShape{2, 2});
  CHECK(p.at("str_tensor").strings() == std::vector<std::string>{"foo", "bar", "baz", "bat"});
  const TensorValue& f = p.at("float_tensor");
  REQUIRE(f.shape() == TensorShape{2, 2});
  CHECK(f.data<float>()[0] == 1.0f);
  CHECK(std::isnan(f.data<float>()[1]));
  CHECK(f.data<float>()[2] == 2.0f);
  CHECK(f.data<float>()[3] == std::numeric_limits<float>::infinity());
  const TensorValue& d = p.at("dbl_tensor");
  REQUIRE(d.shape() == TensorShape{2, 1});
  CHECK(std::isnan(d.data<double>()[0]));
  CHECK(d.data<double>()[1] == 2.0);

  // {"b64": ...} is a value, not an instance naming an input called b64.
  p = One(R"({"instances": [{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}]})", tensorflow::DT_STRING);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{2});
  CHECK(p.at("v").strings() == std::vector<std::string>{"hello", "world"});
  p = One(R"({"instances": [[{"b64": "aGVsbG8="}], [{"b64": "d29ybGQ="}]]})", tensorflow::DT_STRING);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{2, 1});
  p = One(R"({"instances": [{"v": [[{"b64": "aGVsbG8="}], [{"b64": "d29ybGQ="}]]}]})", tensorflow::DT_STRING);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{1, 2, 1});
  CHECK(p.at("v").strings() == std::vector<std::string>{"hello", "world"});
}

TEST_CASE("serving json tensor: an input named twice in an instance keeps TF Serving's first values") {
  // TF Serving appends every value to the input's TensorProto and TensorFlow
  // reads the first [batch x shape] of them back: 1, 2 (the 3 is dropped).
  Parsed p = One(R"({"instances": [{"v": [1], "v": [2]}, {"v": [3]}]})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{2, 1});
  CHECK(Values<float>(p.at("v")) == std::vector<float>{1, 2});
  // A key cut at "\u0000" is the key before it (TF Serving reads a C string).
  p = One(R"({"instances": [{"v\u0000zz": 4}]})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(Values<float>(p.at("v")) == std::vector<float>{4});
}

TEST_CASE("serving json tensor: inputs (columnar) are whole tensors of any shape") {
  const Dtypes ints{{"int_tensor", tensorflow::DT_INT32}};
  Parsed p = Fill(R"({"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]]}})", ints);
  REQUIRE(p.status.ok());
  CHECK(p.format == JsonFormat::kColumnar);
  CHECK(p.at("int_tensor").shape() == TensorShape{1, 3, 2});
  CHECK(Values<int32_t>(p.at("int_tensor")) == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  p = Fill(R"({"inputs": [[[1,2],[3,4],[5,6]]]})", ints);  // the one input, unnamed
  REQUIRE(p.status.ok());
  CHECK(p.at("int_tensor").shape() == TensorShape{1, 3, 2});

  p = Fill(R"({"inputs": {"int_tensor": [[1], [2]], "str_tensor": ["foo", "bar", "baz"], "bin_tensor": {"b64": "aGVsbG8="},
              "ignored": true}})",
           {{"int_tensor", tensorflow::DT_INT32}, {"str_tensor", tensorflow::DT_STRING}, {"bin_tensor", tensorflow::DT_STRING}});
  REQUIRE(p.status.ok());
  CHECK(p.request.inputs.size() == 3);
  CHECK(p.at("int_tensor").shape() == TensorShape{2, 1});  // batch sizes need not agree
  CHECK(p.at("str_tensor").shape() == TensorShape{3});
  CHECK(p.at("bin_tensor").shape() == TensorShape{});  // a scalar
  CHECK(p.at("bin_tensor").strings() == std::vector<std::string>{"hello"});

  p = One(R"({"inputs": 3.5})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{});
  CHECK(p.at("v").data<float>()[0] == 3.5f);
  p = One(R"({"inputs": [[], []]})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").shape() == TensorShape{2, 0});
}

TEST_CASE("serving json tensor: b64 values decode as absl::Base64Unescape decodes them") {
  auto decoded = [](const std::string& b64) {
    Parsed p = One(R"({"inputs": {"b64": ")" + b64 + R"("}})", tensorflow::DT_STRING);
    INFO(b64 << ": " << p.status.message);
    REQUIRE(p.status.ok());
    return p.at("v").strings().at(0);
  };
  CHECK(decoded("aGVsbG8=") == "hello");
  CHECK(decoded("aGVsbG8") == "hello");            // padding may be left out
  CHECK(decoded("aGVs bG8=\\n") == "hello");        // whitespace is skipped
  CHECK(decoded("QQ==") == "A");
  CHECK(decoded("QQ") == "A");
  CHECK(decoded("QQ..") == "A");                   // '.' pads too
  CHECK(decoded("QUI=") == "AB");
  CHECK(decoded("QUJD") == "ABC");
  CHECK(decoded("") == "");
  CHECK(decoded("QR==") == "A");                   // the unused low bits are ignored
  CHECK(decoded("+/8=") == std::string("\xfb\xff", 2));  // the standard alphabet
  for (const char* bad : {"QQ=", "QUJD=", "Q", "QQ==QQ==", "QUJ-", "QUJ_", "QQ=a", "Q\\u0000Q=", "QQ*="}) {
    INFO(bad);
    CHECK(Refusal(R"({"inputs": {"b64": ")" + std::string(bad) + R"("}})", tensorflow::DT_STRING) ==
          "Unable to base64 decode");
  }
  // Inside a row-format request the element's error is wrapped.
  CHECK(Refusal(R"({"instances": [{"b64": "Q"}]})", tensorflow::DT_STRING) ==
        std::string(kRowPrefix) + "0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode");
  // An object that is not exactly {"b64": "<string>"}.
  CHECK(Refusal(R"({"instances": [[{"b64": 5}]]})", tensorflow::DT_STRING) ==
        std::string(kRowPrefix) +
            "0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: {\n    \"b64\": 5\n} not formatted correctly for "
            "base64 data");
}

TEST_CASE("serving json tensor: every dtype TF Serving converts and the ones it does not") {
  Parsed p = One(R"({"inputs": [1.5, 2]})", tensorflow::DT_DOUBLE);
  REQUIRE(p.status.ok());
  CHECK(Values<double>(p.at("v")) == std::vector<double>{1.5, 2.0});
  // int8, int16 and uint8 travel as a JSON int32 in TensorProto.int_val and
  // are cast to the narrower type.
  p = One(R"({"inputs": [127, -128, 200]})", tensorflow::DT_INT8);
  REQUIRE(p.status.ok());
  CHECK(Values<int8_t>(p.at("v")) == std::vector<int8_t>{127, -128, -56});
  p = One(R"({"inputs": [300, -1]})", tensorflow::DT_UINT8);
  REQUIRE(p.status.ok());
  CHECK(Values<uint8_t>(p.at("v")) == std::vector<uint8_t>{44, 255});
  p = One(R"({"inputs": [40000]})", tensorflow::DT_INT16);
  REQUIRE(p.status.ok());
  CHECK(Values<int16_t>(p.at("v")) == std::vector<int16_t>{-25536});
  p = One(R"({"inputs": [2147483647, -2147483648]})", tensorflow::DT_INT32);
  REQUIRE(p.status.ok());
  CHECK(Values<int32_t>(p.at("v")) == std::vector<int32_t>{2147483647, -2147483647 - 1});
  p = One(R"({"inputs": [9223372036854775807, -9223372036854775808]})", tensorflow::DT_INT64);
  REQUIRE(p.status.ok());
  CHECK(Values<int64_t>(p.at("v")) ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
  p = One(R"({"inputs": [4294967295, 0]})", tensorflow::DT_UINT32);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").dtype() == tensorflow::DT_UINT32);
  CHECK(Values<uint32_t>(p.at("v")) == std::vector<uint32_t>{4294967295u, 0});
  p = One(R"({"inputs": [18446744073709551615]})", tensorflow::DT_UINT64);
  REQUIRE(p.status.ok());
  CHECK(Values<uint64_t>(p.at("v")) == std::vector<uint64_t>{18446744073709551615ull});
  p = One(R"({"inputs": [true, false]})", tensorflow::DT_BOOL);
  REQUIRE(p.status.ok());
  CHECK(Values<bool>(p.at("v")) == std::vector<bool>{true, false});
  p = One(R"({"inputs": ["a", "", "\u00e9"]})", tensorflow::DT_STRING);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").strings() == std::vector<std::string>{"a", "", "\xc3\xa9"});

  // TF Serving has no JSON conversion for half, uint16, bfloat16...: 501.
  CHECK(Refusal(R"({"inputs": [1.5]})", tensorflow::DT_HALF, ErrorCode::kUnimplemented) ==
        "Conversion of JSON Value: 1.5 to type: half");
  CHECK(Refusal(R"({"inputs": [1]})", tensorflow::DT_UINT16, ErrorCode::kUnimplemented) ==
        "Conversion of JSON Value: 1 to type: uint16");
  CHECK(Refusal(R"({"instances": [1.5]})", tensorflow::DT_HALF) ==
        std::string(kRowPrefix) + "0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON Value: 1.5 to type: half");
  p = One(R"({"instances": [[]]})", tensorflow::DT_HALF);  // no value to convert
  REQUIRE(p.status.ok());
  CHECK(p.at("v").dtype() == tensorflow::DT_HALF);
  CHECK(p.at("v").shape() == TensorShape{1, 0});
}

TEST_CASE("serving json tensor: numbers must convert without loss of precision") {
  CHECK(Refusal(R"({"inputs": [1.7976931348623157e308]})", tensorflow::DT_FLOAT) ==
        "Cannot convert JSON value: 1.7976931348623157e+308 to float without loss of precision.");
  CHECK(Refusal(R"({"inputs": [3.5e38]})", tensorflow::DT_FLOAT) ==
        "Cannot convert JSON value: 3.5e+38 to float without loss of precision.");
  // Integers must be below 2^digits: 2^24 itself is refused, as TF Serving refuses it.
  CHECK(Refusal(R"({"inputs": [16777217]})", tensorflow::DT_FLOAT) ==
        "Cannot convert JSON value: 16777217 to float without loss of precision.");
  CHECK(Refusal(R"({"inputs": [-16777216]})", tensorflow::DT_FLOAT) ==
        "Cannot convert JSON value: -16777216 to float without loss of precision.");
  CHECK(Refusal(R"({"inputs": [9007199254740993]})", tensorflow::DT_DOUBLE) ==
        "Cannot convert JSON value: 9007199254740993 to double without loss of precision.");
  CHECK(Refusal(R"({"instances": [1, 16777217]})", tensorflow::DT_FLOAT) ==
        std::string(kRowPrefix) +
            "1 of 'instances' list. Error: INVALID_ARGUMENT: Cannot convert JSON value: 16777217 to float without loss of "
            "precision.");

  Parsed p = One(R"({"inputs": [16777215, 3.4e38, -9223372036854775808, NaN, Infinity, -Infinity]})", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  const std::vector<float> f = Values<float>(p.at("v"));
  CHECK(f[0] == 16777215.0f);
  CHECK(f[1] == 3.4e38f);
  CHECK(f[2] == -9223372036854775808.0f);  // TF Serving's std::abs(INT64_MIN) stays negative and passes
  CHECK(std::isnan(f[3]));
  CHECK(f[4] == std::numeric_limits<float>::infinity());
  CHECK(f[5] == -std::numeric_limits<float>::infinity());
  p = One(R"({"inputs": [9007199254740991, 1e300]})", tensorflow::DT_DOUBLE);
  REQUIRE(p.status.ok());
  CHECK(Values<double>(p.at("v")) == std::vector<double>{9007199254740991.0, 1e300});
}

TEST_CASE("serving json tensor: a value of the wrong JSON type is named with its type") {
  CHECK(Refusal(R"({"inputs": ["a"]})", tensorflow::DT_INT32) ==
        "JSON Value: \"a\" Type: String is not of expected type: int32");
  CHECK(Refusal(R"({"inputs": [1.0]})", tensorflow::DT_INT32) ==
        "JSON Value: 1.0 Type: Number is not of expected type: int32");
  CHECK(Refusal(R"({"inputs": [2147483648]})", tensorflow::DT_INT32) ==
        "JSON Value: 2147483648 Type: Number is not of expected type: int32");
  CHECK(Refusal(R"({"inputs": [-1]})", tensorflow::DT_UINT32) ==
        "JSON Value: -1 Type: Number is not of expected type: uint32");
  CHECK(Refusal(R"({"inputs": [1e3]})", tensorflow::DT_INT64) ==
        "JSON Value: 1000.0 Type: Number is not of expected type: int64");
  CHECK(Refusal(R"({"inputs": [null]})", tensorflow::DT_FLOAT) ==
        "JSON Value: null Type: Null is not of expected type: float");
  CHECK(Refusal(R"({"inputs": [true]})", tensorflow::DT_FLOAT) ==
        "JSON Value: true Type: True is not of expected type: float");
  CHECK(Refusal(R"({"inputs": [false]})", tensorflow::DT_STRING) ==
        "JSON Value: false Type: False is not of expected type: string");
  CHECK(Refusal(R"({"inputs": [1]})", tensorflow::DT_BOOL) == "JSON Value: 1 Type: Number is not of expected type: bool");
  CHECK(Refusal(R"({"inputs": [1]})", tensorflow::DT_STRING) ==
        "JSON Value: 1 Type: Number is not of expected type: string");
  CHECK(Refusal(R"({"inputs": [{"a": 1}]})", tensorflow::DT_FLOAT) ==
        "JSON Value: {\n    \"a\": 1\n} Type: Object is not of expected type: float");
  CHECK(Refusal(R"({"inputs": [{"b64": "aGk="}]})", tensorflow::DT_FLOAT) ==
        "JSON Value: {\n    \"b64\": \"aGk=\"\n} Type: Object is not of expected type: float");
  // RapidJSON's writer stops at a NaN inside a value, and so does the message.
  CHECK(Refusal(R"({"inputs": [{"a": [1.5, NaN]}]})", tensorflow::DT_FLOAT) ==
        "JSON Value: {\n    \"a\": [\n        1.5,\n         Type: Object is not of expected type: float");
}

TEST_CASE("serving json tensor: ragged lists and instances of different shapes are refused") {
  CHECK(Refusal(R"({"inputs": [[1,2],[3]]})", tensorflow::DT_INT32) ==
        "Encountered list at unexpected size: 1 at level: 1 expected size: 2");
  CHECK(Refusal(R"({"inputs": [[1,2],3]})", tensorflow::DT_INT32) ==
        "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
  CHECK(Refusal(R"({"inputs": [1,[2]]})", tensorflow::DT_INT32) == "Encountered list at unexpected level: 1 expected < 1");
  CHECK(Refusal(R"({"inputs": [[[1]],[2]]})", tensorflow::DT_INT32) ==
        "JSON Value: 2 found at incorrect level: 3 in the JSON DOM. Expected at level: 3");

  const std::string row = std::string(kRowPrefix) + "1 of 'instances' list. Error: INVALID_ARGUMENT: ";
  CHECK(Refusal(R"({"instances": [[1,2],[3,4,5]]})", tensorflow::DT_INT32) == row + "Expecting tensor size: 2 but got: 3");
  CHECK(Refusal(R"({"instances": [[1,2],[[3,4]]]})", tensorflow::DT_INT32) ==
        row + "Expecting shape [2] but got: [1,2]");
  CHECK(Refusal(R"({"instances": [1, [1]]})", tensorflow::DT_INT32) == row + "Expecting shape [] but got: [1]");
  CHECK(Refusal(R"({"instances": [[1,2],["a","b"]]})", tensorflow::DT_INT32) ==
        row + "JSON Value: \"a\" Type: String is not of expected type: int32");
  CHECK(Refusal(R"({"instances": [[1,2],[[3],4]]})", tensorflow::DT_INT32) ==
        row + "JSON Value: 4 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
  CHECK(Refusal(R"({"instances": [{"a": [1,2], "b": [1]}, {"a": [1,2,3], "b": [2]}]})",
                {{"a", tensorflow::DT_INT32}, {"b", tensorflow::DT_INT32}}) ==
        std::string(kRowPrefix) + "1 key: a of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3");
}

TEST_CASE("serving json tensor: malformed requests get TF Serving's words") {
  const Dtypes one{{"v", tensorflow::DT_FLOAT}};
  const Dtypes two{{"a", tensorflow::DT_FLOAT}, {"b", tensorflow::DT_FLOAT}};
  CHECK(Refusal("", one) == "JSON Parse error: The document is empty");
  CHECK(Refusal("   ", one) == "JSON Parse error: The document is empty. at offset: 3");
  CHECK(Refusal(R"({"instances": [1,})", one) == "JSON Parse error: Invalid value. at offset: 17");
  CHECK(Refusal(R"({"instances": [1]} x)", one) ==
        "JSON Parse error: The document root must not be followed by other values. at offset: 19");
  CHECK(Refusal("[1]", one) == "JSON Value: [\n    1\n] Is not object");
  CHECK(Refusal("5", one) == "JSON Value: 5 Is not object");
  CHECK(Refusal(R"({"signature_name": 5, "instances": [1]})", one) ==
        "JSON Value: {\n    \"signature_name\": 5,\n    \"instances\": [\n        1\n    ]\n} not formatted correctly. "
        "'signature_name' key must be a string value.");
  CHECK(Refusal(R"({"instances": [1], "inputs": [1]})", one) ==
        "JSON Value: {\n    \"instances\": [\n        1\n    ],\n    \"inputs\": [\n        1\n    ]\n} Not formatted "
        "correctly expecting only one of 'inputs' or 'instances' keys to exist ");
  CHECK(Refusal(R"({"instances": [NaN], "inputs": 1})", one) ==
        "JSON Value: {\n    \"instances\": [\n         Not formatted correctly expecting only one of 'inputs' or "
        "'instances' keys to exist ");
  CHECK(Refusal(R"({"instances": 5})", one) == "JSON Value: {\n    \"instances\": 5\n} Excepting 'instances' to be an list/array");
  CHECK(Refusal(R"({"instances": []})", one) == "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array");
  CHECK(Refusal(R"({"instance": [1]})", one) == "Missing 'inputs' or 'instances' key");

  // The callback's refusal is the answer; an empty input map is TF Serving's own.
  PredictRequest req;
  JsonFormat format;
  auto refuse = [](const std::string& name, Dtypes*) {
    return ServingStatus::Error(ErrorCode::kInvalidArgument, "Serving signature name: \"" + name + "\" not found in signature def");
  };
  ServingStatus st = FillPredictRequestFromJson(R"({"signature_name": "k", "instances": [1]})", refuse, &req, &format);
  CHECK(st.message == "Serving signature name: \"k\" not found in signature def");
  CHECK(Refusal(R"({"instances": [1]})", Dtypes{}) == "Failed to get input map for signature: DEFAULT");
  CHECK(Refusal(R"({"signature_name": "k", "instances": [1]})", Dtypes{}) == "Failed to get input map for signature: k");

  // Several inputs: row objects naming exactly the inputs; a columnar object.
  CHECK(Refusal(R"({"instances": [1, 2]})", two) ==
        "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map");
  CHECK(Refusal(R"({"instances": [{"a": 1, "b": 2}, [1]]})", two) == "Expecting object but got list at item 1 of input list");
  CHECK(Refusal(R"({"instances": [1, {"a": 1}]})", one) == "Expecting value/list but got object at item 1 of input list");
  CHECK(Refusal(R"({"instances": [{"a": 1}]})", two) ==
        std::string(kRowPrefix) + "0 of 'instances' list. JSON object: {\n    \"a\": 1\n} keys must be equal to: a,b");
  CHECK(Refusal(R"({"instances": [{"a": 1, "c": 2}]})", two) ==
        std::string(kRowPrefix) +
            "0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: c");
  CHECK(Refusal(R"({"inputs": {"a": 1}})", two) == "Missing named input: b in 'inputs' object.");
  CHECK(Refusal(R"({"inputs": [1]})", two) ==
        "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map");
}

TEST_CASE("serving json tensor: 100000-deep nesting is parsed or refused without a stack overflow") {
  const size_t depth = 100000;
  const std::string open(depth, '['), close(depth, ']');
  Parsed p = One("{\"instances\": " + open + "1" + close + "}", tensorflow::DT_FLOAT);
  REQUIRE(p.status.ok());
  CHECK(p.at("v").rank() == static_cast<int>(depth));  // [1, 1, ..., 1]: the instances list and 99,999 more
  CHECK(p.at("v").NumElements() == 1);

  std::string parse = Refusal("{\"instances\": " + open, tensorflow::DT_FLOAT);
  CHECK(parse.rfind("JSON Parse error: ", 0) == 0);

  // Messages quote the value, cut at 64 KiB: a PrettyWriter indents by depth.
  std::string deep_object;
  for (size_t i = 0; i < depth; ++i) deep_object += "{\"v\": ";
  deep_object += "1" + std::string(depth, '}');
  std::string msg = Refusal("{\"instances\": [" + deep_object + "]}", tensorflow::DT_FLOAT);
  CHECK(msg.rfind(std::string(kRowPrefix) + "0 key: v of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: {\n    \"v\": {",
                  0) == 0);
  CHECK(msg.find("... Type: Object is not of expected type: float") == msg.size() - 47);
  CHECK(msg.size() < (1u << 20));
  msg = Refusal(open + close, tensorflow::DT_FLOAT);
  CHECK(msg.rfind("JSON Value: [\n    [\n        [", 0) == 0);
  CHECK(msg.find("... Is not object") == msg.size() - 17);
  CHECK(msg.size() < (1u << 20));

  tensorflow::serving::ClassificationRequest c;
  ServingStatus st = FillClassificationRequestFromJson("{\"examples\": [{\"f\": [" + open + close + "]}]}", &c);
  CHECK(st.message == "Feature: f has element with unexpected JSON type: Array");
}

TEST_CASE("serving json tensor: a shape claimed along the first elements is checked before anything is allocated") {
  // [[1, 1, ... 1e6 ones], 1, 1, ...]: a [1e6, 1e6] tensor (4 TB of floats)
  // by its first elements, refused at its second; a 4 MB body.
  std::string ones;
  for (int i = 0; i < 1000000; ++i) ones += i ? ",1" : "1";
  const std::string claim = "[[" + ones + "]," + ones + "]";
  CHECK(Refusal("{\"inputs\": " + claim + "}", tensorflow::DT_FLOAT) ==
        "JSON Value: 1 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
  CHECK(Refusal("{\"instances\": [" + claim + "]}", tensorflow::DT_FLOAT) ==
        std::string(kRowPrefix) +
            "0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1 found at incorrect level: 2 in the JSON DOM. "
            "Expected at level: 2");
}

TEST_CASE("serving json tensor: classify and regress bodies become tf.Examples") {
  tensorflow::serving::ClassificationRequest req;
  req.mutable_model_spec()->set_name("m");  // what the REST handler sets: kept
  ServingStatus st = FillClassificationRequestFromJson(R"({
      "examples": [
        {"names": ["foo", "bar"], "ratings": [8.0, 9.0], "age": 20},
        {"names": ["baz"], "ratings": 6.0, "empty": []}
      ]})",
                                                       &req);
  REQUIRE(st.ok());
  CHECK(req.model_spec().name() == "m");
  CHECK(req.model_spec().signature_name() == "");
  REQUIRE(req.input().has_example_list());
  const auto& examples = req.input().example_list().examples();
  REQUIRE(examples.size() == 2);
  const auto& f0 = examples[0].features().feature();
  REQUIRE(f0.size() == 3);
  CHECK(f0.at("names").bytes_list().value_size() == 2);
  CHECK(f0.at("names").bytes_list().value(1) == "bar");
  CHECK(f0.at("ratings").float_list().value_size() == 2);
  CHECK(f0.at("ratings").float_list().value(0) == 8.0f);
  CHECK(f0.at("ratings").float_list().value(1) == 9.0f);
  REQUIRE(f0.at("age").has_int64_list());
  CHECK(f0.at("age").int64_list().value(0) == 20);
  const auto& f1 = examples[1].features().feature();
  CHECK(f1.at("ratings").float_list().value(0) == 6.0f);
  CHECK(f1.at("empty").kind_case() == tensorflow::Feature::KIND_NOT_SET);

  tensorflow::serving::RegressionRequest reg;
  st = FillRegressionRequestFromJson(R"({
      "signature_name": "custom_signature",
      "context": {"query": "pizza", "location": ["sfo"]},
      "examples": [
        {"ratings": [8.0, NaN, Infinity], "age": 20},
        {"names": ["baz", {"b64": "aGVsbG8="}], "intboolmix": [1, true, false]},
        {"ratings": -Infinity, "big": -9223372036854775808}
      ]})",
                                     &reg);
  REQUIRE(st.ok());
  CHECK(reg.model_spec().signature_name() == "custom_signature");
  REQUIRE(reg.input().has_example_list_with_context());
  const auto& list = reg.input().example_list_with_context();
  CHECK(list.context().features().feature().at("query").bytes_list().value(0) == "pizza");
  CHECK(list.context().features().feature().at("location").bytes_list().value(0) == "sfo");
  REQUIRE(list.examples_size() == 3);
  const auto& r0 = list.examples(0).features().feature().at("ratings").float_list();
  CHECK(r0.value(0) == 8.0f);
  CHECK(std::isnan(r0.value(1)));
  CHECK(r0.value(2) == std::numeric_limits<float>::infinity());
  const auto& e1 = list.examples(1).features().feature();
  CHECK(e1.at("names").bytes_list().value(1) == "hello");
  const auto& mix = e1.at("intboolmix").int64_list();
  CHECK(std::vector<int64_t>(mix.value().begin(), mix.value().end()) == std::vector<int64_t>{1, 1, 0});
  const auto& e2 = list.examples(2).features().feature();
  CHECK(e2.at("ratings").float_list().value(0) == -std::numeric_limits<float>::infinity());
  CHECK(e2.at("big").int64_list().value(0) == std::numeric_limits<int64_t>::min());
}

TEST_CASE("serving json tensor: classify and regress bodies are refused with TF Serving's words") {
  auto refusal = [](const std::string& json) {
    tensorflow::serving::ClassificationRequest c;
    ServingStatus st = FillClassificationRequestFromJson(json, &c);
    CHECK(st.code == ErrorCode::kInvalidArgument);
    tensorflow::serving::RegressionRequest r;
    CHECK(FillRegressionRequestFromJson(json, &r).message == st.message);  // one rule for both
    return st.message;
  };
  CHECK(refusal("") == "JSON Parse error: The document is empty");
  CHECK(refusal("[]") == "JSON Value: [] Is not object");
  CHECK(refusal(R"({"signature_name": 1})") ==
        "JSON Value: {\n    \"signature_name\": 1\n} not formatted correctly. 'signature_name' key must be a string value.");
  CHECK(refusal(R"({"context": [1], "examples": [{}]})") == "Example must be JSON object but got JSON Array");
  CHECK(refusal(R"({"context": {}})") ==
        "JSON Value: {\n    \"context\": {}\n} When method is classify, key 'examples' is expected and was not found");
  CHECK(refusal(R"({"examples": {"a": 1}})") ==
        "JSON Value: {\n    \"examples\": {\n        \"a\": 1\n    }\n} Expecting 'examples' value to be an list/array");
  CHECK(refusal(R"({"examples": []})") == "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty array");
  CHECK(refusal(R"({"examples": [[{"names": ["foo"]}]]})") == "Example must be JSON object but got JSON Array");
  CHECK(refusal(R"({"examples": ["x"]})") == "Example must be JSON object but got JSON String");
  CHECK(refusal(R"({"examples": [{"names": [10, null]}]})") == "Feature: names has element with unexpected JSON type: Null");
  CHECK(refusal(R"({"examples": [{"names": [10, {"test": 10}]}]})") ==
        "Feature: names has element with unexpected JSON type: Object");
  CHECK(refusal(R"({"examples": [{"names": [[10], 20]}]})") == "Feature: names has element with unexpected JSON type: Array");
  // One kind per feature: integers (and booleans), decimals, strings.
  CHECK(refusal(R"({"examples": [{"names": [10, 10.0]}]})") ==
        "Unexpected element type in feature: names expecting type: int64");
  CHECK(refusal(R"({"examples": [{"names": [1.5, 2]}]})") == "Unexpected element type in feature: names expecting type: float");
  CHECK(refusal(R"({"examples": [{"names": ["a", true]}]})") ==
        "Unexpected element type in feature: names expecting type: bytes");
  CHECK(refusal(R"({"examples": [{"names": [true, {"b64": "aGk="}]}]})") ==
        "Unexpected element type in feature: names expecting type: int64");
  CHECK(refusal(R"({"examples": [{"names": [20, 18446744073709551603]}]})") ==
        "Feature: names has uint64 element. Only int64 is supported.");
  CHECK(refusal(R"({"examples": [{"names": 1.7976931348623157e308}]})") ==
        "Cannot convert JSON value: 1.7976931348623157e+308 to float without loss of precision.");
  CHECK(refusal(R"({"examples": [{"names": {"b64": "Q"}}]})") == "Unable to base64 decode");
}

TEST_CASE("serving json tensor: classification and regression results are written as TF Serving writes them") {
  tensorflow::serving::ClassificationResult result;
  const std::vector<std::vector<std::pair<std::string, float>>> rows = {
      {{"car", 0.2f}, {"bike", 0.7f}, {"bus", 0.1f}}, {{"car", 0.7f}, {"bike", 0.1f}, {"bus", 1.0f / 3.0f}}};
  for (const auto& row : rows) {
    auto* c = result.add_classifications();
    for (const auto& [label, score] : row) {
      auto* cl = c->add_classes();
      cl->set_label(label);
      cl->set_score(score);
    }
  }
  std::string json;
  REQUIRE(MakeJsonFromClassificationResult(result, &json).ok());
  CHECK(json ==
        "{\n    \"results\": [[[\"car\", 0.2], [\"bike\", 0.7], [\"bus\", 0.1]], [[\"car\", 0.7], [\"bike\", 0.1], "
        "[\"bus\", 0.333333343]]\n    ]\n}");
  tensorflow::serving::ClassificationResult odd;
  odd.add_classifications();  // no classes
  auto* c = odd.add_classifications()->add_classes();
  c->set_label("\xff");  // ill-formed UTF-8 is replaced, as json_response.h writes strings
  c->set_score(std::nanf(""));
  REQUIRE(MakeJsonFromClassificationResult(odd, &json).ok());
  CHECK(json == "{\n    \"results\": [[], [[\"\xef\xbf\xbd\", NaN]]\n    ]\n}");

  tensorflow::serving::RegressionResult regression;
  for (float v : {0.2f, 0.9f, 1.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    regression.add_regressions()->set_value(v);
  REQUIRE(MakeJsonFromRegressionResult(regression, &json).ok());
  CHECK(json == "{\n    \"results\": [0.2, 0.9, 1.0, Infinity, -Infinity]\n}");

  ServingStatus st = MakeJsonFromClassificationResult({}, &json);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Cannot convert empty ClassificationResults to JSON");
  st = MakeJsonFromRegressionResult({}, &json);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Cannot convert empty RegressionResults to JSON");
}

TEST_CASE("serving json tensor: a 784-float instance parses into one [1 784] float tensor") {
  // What the REST API's batch-1 requests look like. Its speed is measured by
  // the serving benchmark (docs/serving.md), not here: timed unit tests fail
  // on shared or sanitized machines without telling anything.
  std::string json = "{\"instances\": [[";
  for (int i = 0; i < 784; ++i) json += (i ? ", " : "") + std::to_string((i % 256) / 255.0);
  json += "]]}";
  Source src{{{"x", tensorflow::DT_FLOAT}}};
  PredictRequest req;
  JsonFormat format;
  for (int i = 0; i < 3; ++i) REQUIRE(FillPredictRequestFromJson(json, src.Fn(), &req, &format).ok());  // reused request
  CHECK(req.inputs.size() == 1);
  CHECK(req.inputs.at("x").shape() == TensorShape{1, 784});
  CHECK(req.inputs.at("x").data<float>()[255] == 1.0f);
  CHECK(req.inputs.at("x").data<float>()[256] == 0.0f);
  CHECK(req.inputs.at("x").data<float>()[1] == static_cast<float>(std::strtod(std::to_string(1 / 255.0).c_str(), nullptr)));
}
