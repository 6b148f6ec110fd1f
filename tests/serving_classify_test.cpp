// TF Serving's Classify and Regress (serving/classify_api.h) against the
// golden SavedModels written by real TensorFlow (tests/data/golden/README.md:
// half_plus_two computes y = 0.5 x + 2), a classifier of our own exporter
// computed by hand, and signatures edited to break each of TF Serving's
// output checks. Expected texts are TF Serving's (classifier.cc, regressor.cc,
// util.cc), written out by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "data/idx.h"
#include "export/export.h"
#include "proto/saved_model.pb.h"
#include "serving/classify_api.h"
#include "serving/json_tensor.h"
#include "tests/support/export_testing.h"
#include "tests/support/fixtures.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;
using namespace pipeline::serving;
namespace fs = std::filesystem;
using tensorflow::serving::ClassificationRequest;
using tensorflow::serving::ClassificationResponse;
using tensorflow::serving::RegressionRequest;
using tensorflow::serving::RegressionResponse;

namespace {

std::string Golden(const std::string& rel) { return pipeline::test::Fixture("golden/" + rel); }

std::unique_ptr<Servable> LoadDir(const std::string& dir, const std::string& name) {
  std::unique_ptr<Servable> s;
  Status st = Servable::Load(dir, {}, name, &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

std::unique_ptr<Servable> HalfPlusTwo() {
  return LoadDir(Golden("saved_model_half_plus_two_cpu/00000123"), "half_plus_two");
}

tensorflow::Example FloatExample(const std::string& key, const std::vector<float>& values) {
  tensorflow::Example ex;
  auto* list = (*ex.mutable_features()->mutable_feature())[key].mutable_float_list();
  for (float v : values) list->add_value(v);
  return ex;
}

template <class Request>
Request WithExamples(const std::string& signature, const std::vector<tensorflow::Example>& examples) {
  Request req;
  req.mutable_model_spec()->set_name("half_plus_two");
  req.mutable_model_spec()->set_signature_name(signature);
  for (const auto& ex : examples) *req.mutable_input()->mutable_example_list()->add_examples() = ex;
  return req;
}

std::vector<tensorflow::Example> Xs(const std::vector<float>& xs) {
  std::vector<tensorflow::Example> out;
  for (float x : xs) out.push_back(FloatExample("x", {x}));
  return out;
}

std::vector<float> Regressions(const RegressionResponse& r) {
  std::vector<float> v;
  for (const auto& x : r.result().regressions()) v.push_back(x.value());
  return v;
}

}  // namespace

TEST_CASE("serving classify: half_plus_two classifies and regresses examples as y = 0.5x + 2") {
  auto s = HalfPlusTwo();
  ClassificationResponse c;
  ServingStatus st = Classify(*s, WithExamples<ClassificationRequest>("classify_x_to_y", Xs({1, 2, 6})), &c);
  INFO(st.message);
  REQUIRE(st.ok());
  CHECK(c.model_spec().name() == "half_plus_two");
  CHECK(c.model_spec().signature_name() == "classify_x_to_y");
  REQUIRE(c.model_spec().has_version());
  CHECK(c.model_spec().version().value() == 123);
  REQUIRE(c.result().classifications_size() == 3);
  const float expected[] = {2.5f, 3.0f, 5.0f};
  for (int i = 0; i < 3; ++i) {
    const auto& classes = c.result().classifications(i).classes();
    REQUIRE(classes.size() == 1);  // scores only: one unlabelled class
    CHECK(classes[0].label() == "");
    CHECK(classes[0].score() == expected[i]);
  }
  std::string json;
  REQUIRE(MakeJsonFromClassificationResult(c.result(), &json).ok());
  CHECK(json == "{\n    \"results\": [[[\"\", 2.5]], [[\"\", 3.0]], [[\"\", 5.0]]\n    ]\n}");

  RegressionResponse r;
  RegressionRequest rr = WithExamples<RegressionRequest>("regress_x_to_y", Xs({4, 0, -3}));
  rr.mutable_model_spec()->clear_name();  // no name: the servable's
  REQUIRE(Regress(*s, rr, &r).ok());
  CHECK(Regressions(r) == std::vector<float>{4.0f, 2.0f, 0.5f});
  CHECK(r.model_spec().name() == "half_plus_two");
  CHECK(r.model_spec().signature_name() == "regress_x_to_y");
  CHECK(r.model_spec().version().value() == 123);
  REQUIRE(MakeJsonFromRegressionResult(r.result(), &json).ok());
  CHECK(json == "{\n    \"results\": [4.0, 2.0, 0.5]\n}");

  REQUIRE(Regress(*s, WithExamples<RegressionRequest>("regress_x_to_y2", Xs({4})), &r).ok());
  CHECK(Regressions(r) == std::vector<float>{5.0f});  // y2 = 0.5x + 3

  // TF Serving's REST path end to end: body -> request -> answer -> body.
  ClassificationRequest from_json;
  from_json.mutable_model_spec()->set_name("half_plus_two");
  REQUIRE(FillClassificationRequestFromJson(R"({"signature_name": "classify_x_to_y", "examples": [{"x": 3.0}, {"x": -1.0}]})",
                                            &from_json)
              .ok());
  REQUIRE(Classify(*s, from_json, &c).ok());
  REQUIRE(MakeJsonFromClassificationResult(c.result(), &json).ok());
  CHECK(json == "{\n    \"results\": [[[\"\", 3.5]], [[\"\", 1.5]]\n    ]\n}");
}

TEST_CASE("serving classify: a context is merged into every example and the example's features win") {
  auto s = HalfPlusTwo();
  RegressionRequest req;
  req.mutable_model_spec()->set_signature_name("regress_x_to_y");
  auto* list = req.mutable_input()->mutable_example_list_with_context();
  *list->mutable_context() = FloatExample("x", {10});
  list->add_examples();                               // only the context's x
  *list->add_examples() = FloatExample("x", {2});      // its own x
  *list->add_examples() = FloatExample("unused", {5});
  RegressionResponse r;
  ServingStatus st = Regress(*s, req, &r);
  INFO(st.message);
  REQUIRE(st.ok());
  CHECK(Regressions(r) == std::vector<float>{7.0f, 3.0f, 7.0f});

  TensorValue t;
  REQUIRE(SerializedExamples(req.input(), &t).ok());
  REQUIRE(t.shape() == TensorShape{3});
  CHECK(t.strings()[1] == FloatExample("x", {10}).SerializeAsString() + FloatExample("x", {2}).SerializeAsString());

  tensorflow::serving::Input empty;
  st = SerializedExamples(empty, &t);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Input is empty.");
  empty.mutable_example_list_with_context()->mutable_context()->CopyFrom(FloatExample("x", {1}));
  CHECK(SerializedExamples(empty, &t).message == "Input is empty.");
}

TEST_CASE("serving classify: the MNIST tutorial's classify signature agrees with its predict signature") {
  const std::string mnist = pipeline::test::Fixture("mnist") + "/";
  IdxHeader h, lh;
  std::vector<uint8_t> pixels, labels;
  REQUIRE(ReadIdxFile(mnist + "t10k-images-idx3-ubyte.gz", IdxKind::kImages, &h, &pixels).ok());
  REQUIRE(ReadIdxFile(mnist + "t10k-labels-idx1-ubyte.gz", IdxKind::kLabels, &lh, &labels).ok());
  auto s = LoadDir(Golden("mnist_softmax_tfserving_tutorial/1"), "mnist");
  const int n = 3;
  ClassificationRequest req;  // serving_default: the tutorial's classify signature
  std::vector<float> rows;
  for (int i = 0; i < n; ++i) {
    std::vector<float> x(784);
    for (int p = 0; p < 784; ++p) x[p] = pixels[static_cast<size_t>(i) * 784 + p] / 255.0f;
    rows.insert(rows.end(), x.begin(), x.end());
    *req.mutable_input()->mutable_example_list()->add_examples() = FloatExample("x", x);
  }
  ClassificationResponse c;
  ServingStatus st = Classify(*s, req, &c);
  INFO(st.message);
  REQUIRE(st.ok());
  CHECK(c.model_spec().signature_name() == "serving_default");
  CHECK(c.model_spec().name() == "mnist");
  CHECK(c.model_spec().version().value() == 1);

  PredictRequest p;
  p.signature_name = "predict_images";
  p.inputs["images"] = TensorValue::From<float>({n, 784}, rows);
  PredictResponse pr;
  REQUIRE(Predict(*s, p, &pr).ok());
  const TensorValue& probs = pr.outputs.at("scores");
  REQUIRE(c.result().classifications_size() == n);
  for (int i = 0; i < n; ++i) {
    // TopK over the softmax: the digits by descending probability.
    std::vector<int> order(10);
    std::iota(order.begin(), order.end(), 0);
    const float* pi = probs.data<float>() + i * 10;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return pi[a] > pi[b]; });
    const auto& classes = c.result().classifications(i).classes();
    REQUIRE(classes.size() == 10);
    for (int k = 0; k < 10; ++k) {
      CHECK(classes[k].label() == std::to_string(order[k]));
      CHECK(classes[k].score() == doctest::Approx(pi[order[k]]).epsilon(1e-5));
    }
    CHECK(classes[0].label() == std::to_string(labels[static_cast<size_t>(i)]));  // 7, 2, 1: all three right
  }
}

TEST_CASE("serving classify: a classifier of our own exporter answers what its weights give by hand") {
  pipeline::test::ScopedTempDir tmp("classify-own");
  auto m = pipeline::export_testing::MakeModel({4, 3, 2}, tmp / "export");
  m->request.options.class_names = {"cat", "dog"};
  ExportResult exported;
  Status es = ExportSavedModel(m->request, &exported);
  REQUIRE_MESSAGE(es.ok(), es.ToString());
  auto s = LoadDir(exported.version_dir, "own");

  const std::vector<std::vector<float>> xs = {{1.0f, -2.0f, 0.5f, 3.0f}, {0.0f, 0.0f, 0.0f, 0.0f}, {-4.0f, 1.0f, 2.0f, -1.0f}};
  ClassificationRequest req;
  for (const auto& x : xs) *req.mutable_input()->mutable_example_list()->add_examples() = FloatExample("x", x);
  ClassificationResponse c;
  ServingStatus st = Classify(*s, req, &c);
  INFO(st.message);
  REQUIRE(st.ok());
  REQUIRE(c.result().classifications_size() == 3);
  for (size_t i = 0; i < xs.size(); ++i) {
    // h = relu(x W0 + b0), z = h W1 + b1 (kernels [in, out], row-major), softmax.
    std::vector<double> h(3), z(2);
    for (int j = 0; j < 3; ++j) {
      double a = m->biases[0][j];
      for (int k = 0; k < 4; ++k) a += xs[i][k] * static_cast<double>(m->kernels[0][k * 3 + j]);
      h[j] = std::max(a, 0.0);
    }
    for (int j = 0; j < 2; ++j) {
      z[j] = m->biases[1][j];
      for (int k = 0; k < 3; ++k) z[j] += h[k] * m->kernels[1][k * 2 + j];
    }
    const double mx = std::max(z[0], z[1]);
    const double e0 = std::exp(z[0] - mx), e1 = std::exp(z[1] - mx);
    const double p[2] = {e0 / (e0 + e1), e1 / (e0 + e1)};
    const int top = p[1] > p[0] ? 1 : 0;
    const auto& classes = c.result().classifications(static_cast<int>(i)).classes();
    REQUIRE(classes.size() == 2);
    CHECK(classes[0].label() == (top ? "dog" : "cat"));
    CHECK(classes[1].label() == (top ? "cat" : "dog"));
    CHECK(classes[0].score() == doctest::Approx(p[top]).epsilon(1e-5));
    CHECK(classes[1].score() == doctest::Approx(p[1 - top]).epsilon(1e-5));
  }
}

TEST_CASE("serving classify: signatures of the wrong kind are refused with TF Serving's words") {
  auto s = HalfPlusTwo();
  ClassificationResponse c;
  RegressionResponse r;
  const auto classify = [&](const std::string& sig, const ClassifyOptions& o = {}) {
    c.Clear();
    return Classify(*s, WithExamples<ClassificationRequest>(sig, Xs({1})), &c, o);
  };
  const auto regress = [&](const std::string& sig, const ClassifyOptions& o = {}) {
    r.Clear();
    return Regress(*s, WithExamples<RegressionRequest>(sig, Xs({1})), &r, o);
  };
  ServingStatus st = classify("nope");
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "No signature was found with the name: nope");
  CHECK(regress("nope").message == "No signature was found with the name: nope");
  CHECK_FALSE(c.has_model_spec());

  // serving_default (when none is named) is half_plus_two's predict signature: x -> y.
  const tensorflow::SignatureDef& predict = *s->FindSignature("serving_default");
  st = classify("");
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "No classification inputs found in SignatureDef: " + predict.DebugString());
  CHECK(st.message.find("method_name: \"tensorflow/serving/predict\"") != std::string::npos);
  CHECK(regress("").message == "No regression inputs found in SignatureDef: " + predict.DebugString());
  st = classify("regress_x_to_y");
  CHECK(st.message ==
        "Expected classification signature outputs to contain at least one of \"classes\" or \"scores\". Signature was: " +
            s->FindSignature("regress_x_to_y")->DebugString());
  CHECK(regress("classify_x_to_y").message ==
        "No regression outputs found in SignatureDef: " + s->FindSignature("classify_x_to_y")->DebugString());
  CHECK_FALSE(c.has_model_spec());  // refused before the answer is begun

  // --enable_signature_method_name_check: the method name decides.
  ClassifyOptions check;
  check.signature_method_name_check = true;
  CHECK(classify("regress_x_to_y", check).message ==
        "Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/regress");
  CHECK(regress("classify_x_to_y", check).message ==
        "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/classify");
  CHECK(regress("", check).message ==
        "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict");
  CHECK(classify("classify_x_to_y", check).ok());

  // No examples; examples the graph cannot parse (a run error, TensorFlow's INVALID_ARGUMENT).
  ClassificationRequest none = WithExamples<ClassificationRequest>("classify_x_to_y", {});
  st = Classify(*s, none, &c);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Input is empty.");
  CHECK(c.model_spec().signature_name() == "classify_x_to_y");  // TF Serving fills it before it runs
  st = Classify(*s, WithExamples<ClassificationRequest>("classify_x_to_y", {FloatExample("y", {1})}), &c);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(st.message.empty());
}

namespace {

// half_plus_two with constant tensors and signatures over them added, each
// breaking one of TF Serving's checks. The examples still go to tf_example:0.
struct EditedModel {
  pipeline::test::ScopedTempDir tmp{"classify-edited"};
  std::string dir;
  tensorflow::MetaGraphDef* meta = nullptr;
  tensorflow::SavedModel sm;

  EditedModel() {
    dir = tmp / "00000007";
    fs::copy(Golden("saved_model_half_plus_two_cpu/00000123"), dir, fs::copy_options::recursive);
    std::ifstream in(dir + "/saved_model.pb", std::ios::binary);
    REQUIRE(sm.ParseFromString(std::string(std::istreambuf_iterator<char>(in), {})));
    meta = sm.mutable_meta_graphs(0);
  }
  void Const(const std::string& name, tensorflow::DataType dtype, const TensorShape& shape,
             const std::function<void(tensorflow::TensorProto*)>& values) {
    auto* n = meta->mutable_graph_def()->add_node();
    n->set_name(name);
    n->set_op("Const");
    (*n->mutable_attr())["dtype"].set_type(dtype);
    auto* t = (*n->mutable_attr())["value"].mutable_tensor();
    t->set_dtype(dtype);
    for (int64_t d : shape) t->mutable_tensor_shape()->add_dim()->set_size(d);
    values(t);
  }
  static tensorflow::TensorInfo Info(const std::string& tensor, tensorflow::DataType dtype) {
    tensorflow::TensorInfo i;
    i.set_name(tensor);
    i.set_dtype(dtype);
    return i;
  }
  // A signature `key` of `method` with inputs {"inputs": tf_example:0} (plus
  // `extra_inputs`) and the outputs alias -> (const node, dtype).
  void Signature(const std::string& key, const std::string& method,
                 const std::vector<std::tuple<std::string, std::string, tensorflow::DataType>>& outputs,
                 const std::vector<std::string>& input_aliases = {"inputs"}) {
    tensorflow::SignatureDef sig;
    sig.set_method_name(method);
    for (const auto& alias : input_aliases) (*sig.mutable_inputs())[alias] = Info("tf_example:0", tensorflow::DT_STRING);
    for (const auto& [alias, node, dtype] : outputs) (*sig.mutable_outputs())[alias] = Info(node + ":0", dtype);
    (*meta->mutable_signature_def())[key] = sig;
  }
  std::unique_ptr<Servable> Load() {
    std::string bytes;
    REQUIRE(sm.SerializeToString(&bytes));
    fs::permissions(dir + "/saved_model.pb", fs::perms::owner_write, fs::perm_options::add);
    std::ofstream(dir + "/saved_model.pb", std::ios::binary | std::ios::trunc) << bytes;
    return LoadDir(dir, "edited");
  }
};

void Floats(tensorflow::TensorProto* t, std::vector<float> v) {
  for (float x : v) t->add_float_val(x);
}
void Strings(tensorflow::TensorProto* t, std::vector<std::string> v) {
  for (auto& x : v) t->add_string_val(x);
}

}  // namespace

TEST_CASE("serving classify: outputs of the wrong shape or type are refused with TF Serving's words") {
  using tensorflow::DT_FLOAT;
  using tensorflow::DT_INT64;
  using tensorflow::DT_STRING;
  EditedModel e;
  e.Const("str_2x2", DT_STRING, {2, 2}, [](auto* t) { Strings(t, {"a", "b", "c", "d"}); });
  e.Const("str_2x3", DT_STRING, {2, 3}, [](auto* t) { Strings(t, {"a", "b", "c", "d", "e", "f"}); });
  e.Const("str_3x2", DT_STRING, {3, 2}, [](auto* t) { Strings(t, {"a", "b", "c", "d", "e", "f"}); });
  e.Const("float_2x2", DT_FLOAT, {2, 2}, [](auto* t) { Floats(t, {0.75f, 0.25f, 0.5f, 1.5f}); });
  e.Const("float_3x2", DT_FLOAT, {3, 2}, [](auto* t) { Floats(t, {1, 2, 3, 4, 5, 6}); });
  e.Const("float_3", DT_FLOAT, {3}, [](auto* t) { Floats(t, {1, 2, 3}); });
  e.Const("float_2", DT_FLOAT, {2}, [](auto* t) { Floats(t, {-1.5f, 8.25f}); });
  e.Const("float_2x1", DT_FLOAT, {2, 1}, [](auto* t) { Floats(t, {0.125f, 64.0f}); });
  e.Const("int_2", DT_INT64, {2}, [](auto* t) {
    t->add_int64_val(1);
    t->add_int64_val(2);
  });
  const std::string kC = "tensorflow/serving/classify", kR = "tensorflow/serving/regress";
  e.Signature("both", kC, {{"classes", "str_2x2", DT_STRING}, {"scores", "float_2x2", DT_FLOAT}});
  e.Signature("classes_only", kC, {{"classes", "str_2x3", DT_STRING}});
  e.Signature("two_inputs", kC, {{"scores", "float_2x2", DT_FLOAT}}, {"inputs", "other"});
  e.Signature("three_outputs", kC,
              {{"classes", "str_2x2", DT_STRING}, {"scores", "float_2x2", DT_FLOAT}, {"extra", "float_2", DT_FLOAT}});
  e.Signature("no_inputs_alias", kC, {{"scores", "float_2x2", DT_FLOAT}}, {"examples"});
  e.Signature("rank1_scores", kC, {{"scores", "float_2", DT_FLOAT}});
  e.Signature("float_classes", kC, {{"classes", "float_2x2", DT_FLOAT}});
  e.Signature("string_scores", kC, {{"scores", "str_2x2", DT_STRING}});
  e.Signature("batch3_scores", kC, {{"scores", "float_3x2", DT_FLOAT}});
  e.Signature("batch3_classes", kC, {{"classes", "str_3x2", DT_STRING}});
  e.Signature("mismatch", kC, {{"classes", "str_2x3", DT_STRING}, {"scores", "float_2x2", DT_FLOAT}});
  e.Signature("r_vector", kR, {{"outputs", "float_2", DT_FLOAT}});
  e.Signature("r_column", kR, {{"outputs", "float_2x1", DT_FLOAT}});
  e.Signature("r_two_outputs", kR, {{"outputs", "float_2", DT_FLOAT}, {"extra", "float_2", DT_FLOAT}});
  e.Signature("r_rank2", kR, {{"outputs", "float_2x2", DT_FLOAT}});
  e.Signature("r_batch3", kR, {{"outputs", "float_3", DT_FLOAT}});
  e.Signature("r_int", kR, {{"outputs", "int_2", DT_INT64}});
  auto s = e.Load();

  ClassificationResponse c;
  auto classify = [&](const std::string& sig, const ClassifyOptions& o = {}) {
    c.Clear();
    return Classify(*s, WithExamples<ClassificationRequest>(sig, Xs({1, 2})), &c, o);
  };
  RegressionResponse r;
  auto regress = [&](const std::string& sig, const ClassifyOptions& o = {}) {
    r.Clear();
    return Regress(*s, WithExamples<RegressionRequest>(sig, Xs({1, 2})), &r, o);
  };

  ServingStatus st = classify("both");
  INFO(st.message);
  REQUIRE(st.ok());
  CHECK(c.model_spec().version().value() == 7);
  std::string json;
  REQUIRE(MakeJsonFromClassificationResult(c.result(), &json).ok());
  CHECK(json == "{\n    \"results\": [[[\"a\", 0.75], [\"b\", 0.25]], [[\"c\", 0.5], [\"d\", 1.5]]\n    ]\n}");
  REQUIRE(classify("classes_only").ok());  // labels without scores: score 0
  REQUIRE(MakeJsonFromClassificationResult(c.result(), &json).ok());
  CHECK(json ==
        "{\n    \"results\": [[[\"a\", 0.0], [\"b\", 0.0], [\"c\", 0.0]], [[\"d\", 0.0], [\"e\", 0.0], [\"f\", 0.0]]\n    ]\n}");

  CHECK(classify("two_inputs").message == "Expected one input Tensor.");
  CHECK(classify("three_outputs").message == "Expected one or two output Tensors, found 3");
  CHECK(classify("no_inputs_alias").message ==
        "No classification inputs found in SignatureDef: " + s->FindSignature("no_inputs_alias")->DebugString());
  CHECK(classify("rank1_scores").message == "Expected Tensor shape: [batch_size num_classes] but got [2]");
  CHECK(classify("float_classes").message == "Expected classes Tensor of DT_STRING. Got: DT_FLOAT");
  CHECK(classify("string_scores").message == "Expected scores Tensor of DT_FLOAT. Got: DT_STRING");
  CHECK(classify("batch3_scores").message == "Expected scores output batch size of 2. Got: 3");
  CHECK(classify("batch3_classes").message == "Expected classes output batch size of 2. Got: 3");
  CHECK(classify("mismatch").message == "Tensors class and score should match in dim_size(1). Got 3 vs. 2");
  CHECK(classify("mismatch").code == ErrorCode::kInvalidArgument);

  REQUIRE(regress("r_vector").ok());
  CHECK(Regressions(r) == std::vector<float>{-1.5f, 8.25f});
  REQUIRE(regress("r_column").ok());
  CHECK(Regressions(r) == std::vector<float>{0.125f, 64.0f});
  CHECK(regress("r_two_outputs").message == "Expected one output Tensor.");
  CHECK_FALSE(r.has_model_spec());
  ClassifyOptions check;
  check.signature_method_name_check = true;
  CHECK(regress("r_two_outputs", check).message == "Expected one output Tensor.");
  CHECK(r.model_spec().signature_name() == "r_two_outputs");  // with the check on, shapes are checked later
  CHECK(regress("two_inputs").message == "Expected one input Tensor.");
  CHECK(regress("r_rank2").message ==
        "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [2,2]");
  CHECK(regress("r_batch3").message == "Input batch size did not match output batch size: 2 vs. 3");
  CHECK(regress("r_int").message == "Expected output Tensor of DT_FLOAT.  Got: DT_INT64");
}
