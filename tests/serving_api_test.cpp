// The serving API (serving/servable.h, predict_api.h, json_response.h,
// predict_run.h) against the golden SavedModels written by real TensorFlow
// (tests/data/golden/README.md says what each computes).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "data/idx.h"
#include "serving/json_response.h"
#include "serving/predict_api.h"
#include "serving/predict_run.h"
#include "serving/servable.h"
#include "tfformat/example_codec.h"
#include "tests/support/fixtures.h"

using namespace pipeline;
using namespace pipeline::serving;

namespace {

std::string Golden(const std::string& rel) { return pipeline::test::Fixture("golden/" + rel); }

std::unique_ptr<Servable> LoadServable(const std::string& rel, const std::string& name = "m") {
  std::unique_ptr<Servable> s;
  Status st = Servable::Load(Golden(rel), {}, name, &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

std::unique_ptr<Servable> HalfPlusTwo() { return LoadServable("saved_model_half_plus_two_cpu/00000123", "half_plus_two"); }

TensorValue Column(const std::vector<float>& xs) {
  return TensorValue::From<float>({static_cast<int64_t>(xs.size()), 1}, xs);
}

}  // namespace

TEST_CASE("serving api: a servable names its version and its signatures") {
  auto s = HalfPlusTwo();
  CHECK(s->name() == "half_plus_two");
  CHECK(s->version() == 123);
  CHECK(s->SignatureKeys() == std::vector<std::string>{"classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y",
                                                       "regress_x_to_y2", "serving_default"});
  TensorSpec in;
  REQUIRE(s->FirstInput("serving_default", &in).ok());
  CHECK(in.alias == "x");
  CHECK(in.tensor == "x:0");
  CHECK(in.dtype == tensorflow::DT_FLOAT);
  CHECK(s->FirstInput("nope", &in).IsInvalidArgument());

  std::unique_ptr<Servable> slashed;
  REQUIRE(Servable::Open(pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1") + "/", {}, "", &slashed).ok());
  CHECK(slashed->version() == 1);  // "dir/1/": the trailing slash does not hide the version
}

TEST_CASE("serving api: a signature's input dtype is the graph's and its warnings are its own") {
  // half_plus_three's regress TensorInfo says DT_FLOAT for the DT_STRING tf_example:0.
  std::unique_ptr<Servable> s;
  REQUIRE(Servable::Open(Golden("saved_model_half_plus_three/00000123"), {}, "", &s).ok());
  TensorSpec in;
  REQUIRE(s->FirstInput("tensorflow/serving/regress", &in).ok());
  CHECK(in.alias == "inputs");
  CHECK(in.dtype == tensorflow::DT_STRING);
  const auto regress = s->Warnings("tensorflow/serving/regress");
  REQUIRE(regress.size() == 1);
  CHECK(regress[0].find("TensorInfo says DT_FLOAT but tf_example:0 (Placeholder) is DT_STRING") != std::string::npos);
  CHECK(s->Warnings("serving_default").empty());
}

TEST_CASE("serving api: class names come from an index->string table of constants") {
  tensorflow::GraphDef g;
  auto* keys = g.add_node();
  keys->set_name("keys");
  keys->set_op("Const");
  auto* kt = (*keys->mutable_attr())["value"].mutable_tensor();
  kt->set_dtype(tensorflow::DT_INT64);
  for (int64_t k : {2, 0, 1}) kt->add_int64_val(k);
  auto* values = g.add_node();
  values->set_name("values");
  values->set_op("Const");
  auto* vt = (*values->mutable_attr())["value"].mutable_tensor();
  vt->set_dtype(tensorflow::DT_STRING);
  for (const char* v : {"emu", "cat", "dog"}) vt->add_string_val(v);
  auto* init = g.add_node();
  init->set_name("init");
  init->set_op("InitializeTableV2");
  for (const char* i : {"table", "keys:0", "values"}) init->add_input(i);
  CHECK(TableClassNames(g) == std::vector<std::string>{"cat", "dog", "emu"});
  kt->set_int64_val(0, 3);  // keys 3, 0, 1: not an index of 3 names
  CHECK(TableClassNames(g).empty());
  // TensorFlow's tutorial builds its keys with Range: no constant keys, no names.
  auto mnist = LoadServable("mnist_softmax_tfserving_tutorial/1");
  CHECK(mnist->ClassNames().empty());
}

TEST_CASE("serving api: Predict runs a signature (serving_default when none is named)") {
  auto s = HalfPlusTwo();
  PredictRequest req;
  req.inputs["x"] = Column({1.0f, 6.0f, -2.0f});
  PredictResponse resp;
  ServingStatus st = Predict(*s, req, &resp);
  INFO(st.message);
  REQUIRE(st.ok());
  CHECK(resp.model_name == "half_plus_two");
  CHECK(resp.version == 123);
  CHECK(resp.signature_name == "serving_default");
  REQUIRE(resp.outputs.size() == 1);
  const TensorValue& y = resp.outputs.at("y");
  REQUIRE(y.shape() == TensorShape{3, 1});
  CHECK(y.data<float>()[0] == 2.5f);  // y = 0.5 x + 2
  CHECK(y.data<float>()[1] == 5.0f);
  CHECK(y.data<float>()[2] == 1.0f);

  PredictRequest regress;
  regress.signature_name = "regress_x_to_y";
  std::vector<std::string> examples;
  for (float x : {4.0f, 0.0f}) examples.push_back(EncodeFloatExample("x", &x, 1));
  regress.inputs["inputs"] = TensorValue::Strings({2}, examples);
  regress.output_filter = {"outputs"};
  REQUIRE(Predict(*s, regress, &resp).ok());
  REQUIRE(resp.outputs.count("outputs"));
  CHECK(resp.outputs.at("outputs").AsDouble(0) == 4.0);
  CHECK(resp.outputs.at("outputs").AsDouble(1) == 2.0);
}

TEST_CASE("serving api: Predict refuses bad requests with TF Serving's words and codes") {
  auto s = HalfPlusTwo();
  PredictResponse resp;
  auto predict = [&](PredictRequest req) { return Predict(*s, req, &resp); };
  PredictRequest req;
  req.signature_name = "nope";
  req.inputs["x"] = Column({1.0f});
  ServingStatus st = predict(req);
  CHECK(st.code == ErrorCode::kFailedPrecondition);
  CHECK(st.message == "Serving signature key \"nope\" not found.");
  CHECK(HttpStatusCode(st.code) == 400);

  req.signature_name = "";
  req.inputs["z"] = Column({1.0f});
  st = predict(req);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message ==
        "input size does not match signature: 2!=1 len({x,z}) != len({x}). Sent extra: {z}. Missing but required: {}.");

  req.inputs.erase("x");
  st = predict(req);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message ==
        "Signature input alias: x(feed name: x:0) not found in request and no default value provided. Inputs expected "
        "to be in the request {z}, or default input alias set: ");

  req.inputs.clear();
  req.inputs["x"] = Column({1.0f});
  req.output_filter = {"q"};
  st = predict(req);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "output tensor alias not found in signature: q Outputs expected to be in the set {y}.");
  req.output_filter = {"y", "y"};
  CHECK(predict(req).message == "duplicate output tensor alias: y");
  CHECK(HttpStatusCode(ErrorCode::kInvalidArgument) == 400);

  // A run that fails in the graph: TensorFlow reports bad input shapes as INVALID_ARGUMENT.
  req.output_filter.clear();
  req.inputs["x"] = TensorValue::Strings({1}, {"not a float"});
  st = predict(req);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message.find("signature 'serving_default'") == 0);
  CHECK(HttpStatusCode(ErrorCode::kNotFound) == 404);
  CHECK(HttpStatusCode(ErrorCode::kUnimplemented) == 501);
  CHECK(HttpStatusCode(ErrorCode::kInternal) == 500);
  CHECK(ServingStatus::From(Status::Corruption("x")).code == ErrorCode::kInternal);
  CHECK(ServingStatus::From(Status::NotFound("x")).code == ErrorCode::kNotFound);
}

TEST_CASE("serving api: decimals are written as TF Serving writes them") {
  CHECK(TfServingDecimal(2.5, true) == "2.5");
  CHECK(TfServingDecimal(3.0, true) == "3.0");
  CHECK(TfServingDecimal(-0.0, true) == "-0.0");
  CHECK(TfServingDecimal(0.1f, true) == "0.1");  // %.6g reads back as the same float
  CHECK(TfServingDecimal(1.0f / 3.0f, true) == "0.333333343");  // it does not: %.9g
  CHECK(TfServingDecimal(1.0 / 3.0, false) == "0.33333333333333331");  // %.17g for a double
  CHECK(TfServingDecimal(1e-7f, true) == "1e-07");
  CHECK(TfServingDecimal(123456789.0, false) == "123456789.0");
  CHECK(TfServingDecimal(std::nan(""), true) == "NaN");
  CHECK(TfServingDecimal(-std::numeric_limits<double>::infinity(), true) == "-Infinity");
  CHECK(TfServingDecimal(std::numeric_limits<double>::infinity(), false) == "Infinity");
}

TEST_CASE("serving api: output tensors become TF Serving's predictions and outputs JSON") {
  std::string json;
  std::map<std::string, TensorValue> y{{"y", Column({2.5f, 3.0f, 4.5f})}};
  REQUIRE(MakeJsonFromTensors(y, JsonFormat::kRow, &json).ok());
  CHECK(json == "{\n    \"predictions\": [[2.5], [3.0], [4.5]\n    ]\n}");
  std::map<std::string, TensorValue> flat{{"y", TensorValue::From<float>({3}, {2.5f, 3.0f, 4.5f})}};
  REQUIRE(MakeJsonFromTensors(flat, JsonFormat::kRow, &json).ok());
  CHECK(json == "{\n    \"predictions\": [2.5, 3.0, 4.5\n    ]\n}");  // TF Serving's README answer
  REQUIRE(MakeJsonFromTensors(flat, JsonFormat::kColumnar, &json).ok());
  CHECK(json == "{\n    \"outputs\": [\n        2.5,\n        3.0,\n        4.5\n    ]\n}");

  std::map<std::string, TensorValue> two{{"classes", TensorValue::Strings({2, 1}, {"a", "b"})},
                                         {"scores", TensorValue::From<float>({2, 1}, {0.5f, NAN})}};
  REQUIRE(MakeJsonFromTensors(two, JsonFormat::kRow, &json).ok());
  CHECK(json ==
        "{\n    \"predictions\": [\n        {\n            \"classes\": [\"a\"],\n            \"scores\": [0.5]\n"
        "        },\n        {\n            \"classes\": [\"b\"],\n            \"scores\": [NaN]\n        }\n    ]\n}");
  std::map<std::string, TensorValue> bytes{{"img_bytes", TensorValue::Strings({1}, {"hi!?"})}};
  REQUIRE(MakeJsonFromTensors(bytes, JsonFormat::kColumnar, &json).ok());
  CHECK(json == "{\n    \"outputs\": [\n        {\n            \"b64\": \"aGkhPw==\"\n        }\n    ]\n}");

  CHECK(MakeJsonFromTensors({}, JsonFormat::kRow, &json).message == "Cannot convert empty tensor map to JSON");
  std::map<std::string, TensorValue> ragged{{"a", Column({1.0f, 2.0f})}, {"b", Column({1.0f})}};
  ServingStatus st = MakeJsonFromTensors(ragged, JsonFormat::kRow, &json);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Tensor name: b has inconsistent batch size: 1 expecting: 2");
  CHECK(MakeJsonFromTensors(ragged, JsonFormat::kColumnar, &json).ok());
  std::map<std::string, TensorValue> scalar{{"s", TensorValue::Scalar<float>(1.0f)}};
  CHECK(MakeJsonFromTensors(scalar, JsonFormat::kRow, &json).message == "Tensor name: s has no shape information ");
  REQUIRE(MakeJsonFromTensors(scalar, JsonFormat::kColumnar, &json).ok());
  CHECK(json == "{\n    \"outputs\": 1.0\n}");
  CHECK(MakeJsonFromStatus(ServingStatus::Error(ErrorCode::kInvalidArgument, "bad \"x\"")) ==
        "{\n    \"error\": \"bad \\\"x\\\"\"\n}");
}

TEST_CASE("serving api: a predict run adds up batch shapes and rows and non-finite outputs") {
  auto s = HalfPlusTwo();
  PredictInputs in;
  in.floats = {1.0f, 3.0f, -2.0f, NAN, 10.0f};
  in.row_shape = {1};
  in.count = in.available = 5;
  PredictRunOptions opt;
  opt.batch = 2;
  opt.collect_rows = true;
  std::vector<int64_t> begins;
  PredictSummary sum;
  Status st = RunPredictBatches(*s, "serving_default", "x", in, opt, [&](const BatchOutputs& b) {
    begins.push_back(b.begin);
    CHECK_FALSE(b.instance);
  }, &sum);
  REQUIRE(st.ok());
  CHECK(begins == std::vector<int64_t>{0, 2, 4});
  CHECK(sum.shapes.at("y") == TensorShape{5, 1});
  CHECK(sum.dtypes.at("y") == tensorflow::DT_FLOAT);
  CHECK(sum.non_finite_rows == 1);
  CHECK(sum.rows.at("y") == std::vector<std::string>{"[2.5]", "[3.5]", "[1]", "[null]", "[7]"});

  // Object instances run one by one, each its own shape.
  PredictInputs objects;
  objects.per_instance = {{{"x", Column({4.0f})}}, {{"x", Column({0.0f})}}};
  objects.count = objects.available = 2;
  PredictSummary one;
  int instances = 0;
  REQUIRE(RunPredictBatches(*s, "serving_default", "x", objects, {}, [&](const BatchOutputs& b) {
    instances += b.instance;
  }, &one).ok());
  CHECK(instances == 2);
  CHECK(one.shapes.at("y") == TensorShape{1, 1});
  CHECK(one.rows.empty());  // not asked for
}

TEST_CASE("serving api: inputs from pixels and examples") {
  const std::vector<uint8_t> pixels = {0, 255, 51, 102, 0, 0};  // three images of two pixels
  PredictInputs rows = InputsFromPixels(pixels, 3, 2, false, "x", 2);
  CHECK(rows.available == 3);
  CHECK(rows.count == 2);
  CHECK(rows.row_shape == TensorShape{2});
  CHECK(rows.floats == std::vector<float>{0.0f, 1.0f, 0.2f, 0.4f});
  PredictInputs ex = InputsFromPixels(pixels, 3, 2, true, "px", -1);
  CHECK(ex.examples);
  REQUIRE(ex.serialized.size() == 3);
  const float second[] = {0.2f, 0.4f};
  CHECK(ex.serialized[1] == EncodeFloatExample("px", second, 2));

  const float nan = NAN, one = 1.0f;
  PredictInputs records = InputsFromExamples({EncodeFloatExample("x", &one, 1), EncodeFloatExample("x", &nan, 1),
                                              EncodeFloatExample("x", &one, 1)}, 2);
  CHECK(records.available == 3);
  CHECK(records.count == 2);
  CHECK(records.non_finite == std::vector<int64_t>{1});
}

TEST_CASE("serving api: mnist accuracy 0.9092 through both signatures by argmax and by top class") {
  const std::string mnist = pipeline::test::Fixture("mnist") + "/";
  IdxHeader h, lh;
  std::vector<uint8_t> pixels, labels;
  REQUIRE(ReadIdxFile(mnist + "t10k-images-idx3-ubyte.gz", IdxKind::kImages, &h, &pixels).ok());
  REQUIRE(ReadIdxFile(mnist + "t10k-labels-idx1-ubyte.gz", IdxKind::kLabels, &lh, &labels).ok());
  auto s = LoadServable("mnist_softmax_tfserving_tutorial/1");
  for (const std::string key : {"predict_images", "serving_default"}) {
    INFO(key);
    TensorSpec input;
    REQUIRE(s->FirstInput(key, &input).ok());
    const PredictInputs in =
        InputsFromPixels(pixels, h.count, h.item_size, input.dtype == tensorflow::DT_STRING, "x", -1);
    PredictRunOptions opt;
    opt.labels = &labels;
    PredictSummary sum;
    REQUIRE(RunPredictBatches(*s, key, input.alias, in, opt, nullptr, &sum).ok());
    CHECK(sum.correct == 9092);
    CHECK(sum.scored_by.score_alias == "scores");
    CHECK(sum.scored_by.class_alias == (key == "serving_default" ? "classes" : ""));
  }
}
