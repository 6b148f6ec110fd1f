// The reader against SavedModels written by real TensorFlow
// (tests/data/golden, see its README.md for what each computes).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "data/idx.h"
#include "tfformat/example_codec.h"
#include "serving/reader.h"
#include "tests/support/fixtures.h"

using namespace pipeline;

namespace {

std::string Models() { return pipeline::test::Fixture("golden") + "/"; }
std::string Mnist() { return pipeline::test::Fixture("mnist") + "/"; }

std::unique_ptr<SavedModelReader> LoadModel(const std::string& rel) {
  std::unique_ptr<SavedModelReader> r;
  Status st = SavedModelReader::Load(Models() + rel, {}, &r);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return r;
}

std::vector<std::string> FloatExamples(const std::string& feature, const std::vector<float>& xs) {
  std::vector<std::string> out;
  for (float x : xs) out.push_back(EncodeFloatExample(feature, &x, 1));
  return out;
}

int64_t Argmax(const float* row, int64_t n) {
  int64_t b = 0;
  for (int64_t j = 1; j < n; ++j)
    if (row[j] > row[b]) b = j;
  return b;
}

}  // namespace

TEST_CASE("reader: mnist tutorial model reproduces 0.9092 through predict_images and serving_default") {
  auto model = LoadModel("mnist_softmax_tfserving_tutorial/1");
  IdxHeader ih, lh;
  std::vector<uint8_t> pixels, labels;
  REQUIRE(ReadIdxFile(Mnist() + "t10k-images-idx3-ubyte.gz", IdxKind::kImages, &ih, &pixels).ok());
  REQUIRE(ReadIdxFile(Mnist() + "t10k-labels-idx1-ubyte.gz", IdxKind::kLabels, &lh, &labels).ok());
  REQUIRE(ih.count == 10000);
  REQUIRE(ih.item_size == 784);

  // The restored variables are exactly the checkpoint's bytes.
  TensorValue W, b;
  REQUIRE(model->ReadVariable("Variable", &W).ok());
  REQUIRE(model->ReadVariable("Variable_1", &b).ok());
  CHECK(W.shape() == TensorShape{784, 10});
  CHECK(b.shape() == TensorShape{10});
  const BundleTensor& wc = model->checkpoint().at("Variable");
  CHECK(std::string(W.raw(), W.raw_size()) == wc.bytes);

  int correct_predict = 0, correct_classify = 0, agree = 0;
  const int64_t batch = 1000;
  for (int64_t begin = 0; begin < ih.count; begin += batch) {
    std::vector<float> x(static_cast<size_t>(batch * 784));
    for (size_t i = 0; i < x.size(); ++i) x[i] = pixels[static_cast<size_t>(begin * 784) + i] / 255.0f;
    std::map<std::string, TensorValue> out_p, out_c;
    Status st = model->RunSignature("predict_images", {{"images", TensorValue::From<float>({batch, 784}, x)}}, {}, &out_p);
    REQUIRE(st.ok());
    std::vector<std::string> ex;
    for (int64_t r = 0; r < batch; ++r) ex.push_back(EncodeFloatExample("x", x.data() + r * 784, 784));
    st = model->RunSignature("serving_default", {{"inputs", TensorValue::Strings({batch}, ex)}}, {}, &out_c);
    INFO(st.ToString());
    REQUIRE(st.ok());
    const TensorValue& scores = out_p.at("scores");
    const TensorValue& classes = out_c.at("classes");
    const TensorValue& top = out_c.at("scores");
    REQUIRE(scores.shape() == TensorShape{batch, 10});
    REQUIRE(classes.shape() == TensorShape{batch, 10});
    REQUIRE(top.shape() == TensorShape{batch, 10});
    for (int64_t r = 0; r < batch; ++r) {
      const int label = labels[static_cast<size_t>(begin + r)];
      const int64_t p = Argmax(scores.data<float>() + r * 10, 10);
      const std::string& c = classes.strings()[static_cast<size_t>(r * 10)];
      correct_predict += p == label;
      correct_classify += c == std::to_string(label);
      agree += c == std::to_string(p);
      // classify's scores are the predict scores sorted descending.
      CHECK(top.data<float>()[r * 10] == scores.data<float>()[r * 10 + p]);
      for (int j = 1; j < 10; ++j) CHECK(top.data<float>()[r * 10 + j - 1] >= top.data<float>()[r * 10 + j]);
    }
    if (begin == 0) {
      // Independent double-precision softmax(x W + b) for a few examples.
      for (int64_t r = 0; r < 5; ++r) {
        double z[10], mx = -1e300, sum = 0;
        for (int j = 0; j < 10; ++j) {
          z[j] = b.data<float>()[j];
          for (int k = 0; k < 784; ++k) z[j] += double(x[static_cast<size_t>(r * 784 + k)]) * W.data<float>()[k * 10 + j];
          mx = std::max(mx, z[j]);
        }
        for (double& v : z) sum += (v = std::exp(v - mx));
        for (int j = 0; j < 10; ++j) CHECK(scores.data<float>()[r * 10 + j] == doctest::Approx(z[j] / sum).epsilon(1e-4));
      }
    }
  }
  CHECK(correct_predict == 9092);
  CHECK(correct_classify == 9092);
  CHECK(agree == 10000);
}

TEST_CASE("reader: half_plus_two cpu computes 0.5x+2 through predict / regress and classify") {
  auto model = LoadModel("saved_model_half_plus_two_cpu/00000123");
  CHECK(model->init_op() == "group_deps");
  const std::vector<float> xs = {0.f, 1.f, 2.f, 5.f, -3.5f};
  const int64_t n = static_cast<int64_t>(xs.size());
  std::map<std::string, TensorValue> out;
  REQUIRE(model->RunSignature("serving_default", {{"x", TensorValue::From<float>({n, 1}, xs)}}, {}, &out).ok());
  for (int64_t i = 0; i < n; ++i) CHECK(out["y"].data<float>()[i] == 0.5f * xs[i] + 2);

  auto ex = TensorValue::Strings({n}, FloatExamples("x", xs));
  REQUIRE(model->RunSignature("regress_x_to_y", {{"inputs", ex}}, {}, &out).ok());
  CHECK(out["outputs"].shape() == TensorShape{n, 1});
  for (int64_t i = 0; i < n; ++i) CHECK(out["outputs"].data<float>()[i] == 0.5f * xs[i] + 2);
  REQUIRE(model->RunSignature("regress_x_to_y2", {{"inputs", ex}}, {}, &out).ok());
  for (int64_t i = 0; i < n; ++i) CHECK(out["outputs"].data<float>()[i] == 0.5f * xs[i] + 3);
  REQUIRE(model->RunSignature("classify_x_to_y", {{"inputs", ex}}, {}, &out).ok());
  CHECK(out.size() == 1);
  for (int64_t i = 0; i < n; ++i) CHECK(out["scores"].data<float>()[i] == 0.5f * xs[i] + 2);
  REQUIRE(model->RunSignature("regress_x2_to_y3", {{"inputs", TensorValue::From<float>({n, 1}, xs)}}, {}, &out).ok());
  for (int64_t i = 0; i < n; ++i) CHECK(out["outputs"].data<float>()[i] == 0.5f * xs[i] + 3);

  // A required feature missing from an Example is a clear error.
  Status st = model->RunSignature("regress_x_to_y", {{"inputs", TensorValue::Strings({1}, FloatExamples("z", {1.f}))}}, {}, &out);
  CHECK(!st.ok());
  CHECK(st.message().find("Feature: x (data type: float) is required") != std::string::npos);
  // The regress-with-float-input signature is flagged.
  bool flagged = false;
  for (const auto& w : model->warnings()) flagged |= w.find("regress_x2_to_y3") != std::string::npos;
  CHECK(flagged);
}

TEST_CASE("reader: half_plus_three computes 0.5x+3 and its regress TensorInfo dtype defect is reported") {
  auto model = LoadModel("saved_model_half_plus_three/00000123");
  CHECK(model->init_op() == "group_deps");  // named by collection legacy_init_op
  std::map<std::string, TensorValue> out;
  REQUIRE(model->RunSignature("serving_default", {{"x", TensorValue::From<float>({3}, {1.f, 2.f, 4.f})}}, {}, &out).ok());
  CHECK(out["y"].data<float>()[0] == 3.5f);
  CHECK(out["y"].data<float>()[1] == 4.0f);
  CHECK(out["y"].data<float>()[2] == 5.0f);
  REQUIRE(model->RunSignature("tensorflow/serving/regress",
                              {{"inputs", TensorValue::Strings({2}, FloatExamples("x", {2.f, 10.f}))}}, {}, &out)
              .ok());
  CHECK(out["outputs"].data<float>()[0] == 4.0f);
  CHECK(out["outputs"].data<float>()[1] == 8.0f);
  bool found = false;
  for (const auto& w : model->warnings())
    found |= w.find("tensorflow/serving/regress") != std::string::npos && w.find("DT_FLOAT") != std::string::npos &&
             w.find("DT_STRING") != std::string::npos;
  CHECK(found);
}

TEST_CASE("reader: counter model increments / adds and resets its ref variable") {
  auto model = LoadModel("saved_model_counter/00000123");
  std::map<std::string, TensorValue> out;
  REQUIRE(model->RunSignature("get_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 0.f);
  REQUIRE(model->RunSignature("incr_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 1.f);
  REQUIRE(model->RunSignature("incr_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 2.f);
  REQUIRE(model->RunSignature("get_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 2.f);
  REQUIRE(model->RunSignature("incr_counter_by", {{"delta", TensorValue::Scalar<float>(5.f)}}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 7.f);
  REQUIRE(model->RunSignature("reset_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 0.f);
  REQUIRE(model->RunSignature("get_counter", {}, {}, &out).ok());
  CHECK(out["output"].data<float>()[0] == 0.f);
}

TEST_CASE("reader: mkl model's re-initializing main op is warned about and skipped") {
  auto model = LoadModel("saved_model_half_plus_two_mkl/00000123");
  bool warned = false;
  for (const auto& w : model->warnings()) warned |= w.find("re-initializes") != std::string::npos;
  CHECK(warned);
  CHECK(model->skipped_init_nodes().count("conv2d/kernel/Assign") == 1);
  // The resource variables keep their checkpoint values.
  TensorValue k;
  REQUIRE(model->ReadVariable("conv2d/kernel", &k).ok());
  const BundleTensor& kc = model->checkpoint().at("conv2d/kernel");
  CHECK(std::string(k.raw(), k.raw_size()) == kc.bytes);
  TensorValue a;
  REQUIRE(model->ReadVariable("a", &a).ok());
  CHECK(a.data<float>()[0] == 0.5f);
  // serving_default = 0.5x + 2 (+ a conv of zeros with zero bias).
  std::map<std::string, TensorValue> out;
  REQUIRE(model->RunSignature("serving_default", {{"x", TensorValue::From<float>({3, 1}, {1.f, 2.f, 10.f})}}, {}, &out).ok());
  CHECK(out["y"].data<float>()[0] == 2.5f);
  CHECK(out["y"].data<float>()[2] == 7.0f);
  // regress_x_to_y2 only works with batch size 1 (README): its output broadcasts to [1,10,10,1].
  REQUIRE(model->RunSignature("regress_x_to_y2", {{"inputs", TensorValue::Strings({1}, FloatExamples("x", {4.f}))}}, {},
                              &out).ok());
  CHECK(out["outputs"].shape() == TensorShape{1, 10, 10, 1});
  CHECK(out["outputs"].data<float>()[57] == 5.0f);
  CHECK(!model->RunSignature("regress_x_to_y2", {{"inputs", TensorValue::Strings({2}, FloatExamples("x", {4.f, 5.f}))}},
                             {}, &out).ok());
}

TEST_CASE("reader: the TF2 model runs - its signatures call into the function library and so does its restore") {
  // TF Serving's saved_model_half_plus_two.py, TF2 branch: a = 0.5, b = 2,
  // c = 3; y = a*x + b, y2 = a*x + c, y3 = a*x2 + c. Every signature and the
  // SaverDef's restore op are StatefulPartitionedCalls into the library; the
  // variables exist only as VarHandleOps and reach the bodies as resource
  // handles. Expected values by hand, confirmed by TF 2.21's
  // tf.saved_model.load on the same file.
  std::unique_ptr<SavedModelReader> model;
  Status st = SavedModelReader::Load(Models() + "saved_model_half_plus_two_tf2_cpu/00000123", {}, &model);
  INFO(st.ToString());
  REQUIRE(st.ok());
  const auto& ck = model->checkpoint();
  REQUIRE(ck.count("_CHECKPOINTABLE_OBJECT_GRAPH") == 1);
  CHECK(ck.at("_CHECKPOINTABLE_OBJECT_GRAPH").dtype == tensorflow::DT_STRING);
  CHECK(ck.at("a/.ATTRIBUTES/VARIABLE_VALUE").FloatAt(0) == 0.5f);
  CHECK(ck.at("b/.ATTRIBUTES/VARIABLE_VALUE").FloatAt(0) == 2.0f);
  CHECK(model->init_op() == "NoOp");
  CHECK(!model->Functions().empty());
  // The restore function wrote the variables (RestoreV2 + AssignVariableOp inside it).
  CHECK(model->restored_variables().size() >= 3);

  std::map<std::string, TensorValue> out;
  auto run = [&](const std::string& sig, const std::string& input, TensorValue value) {
    Status rs = model->RunSignature(sig, {{input, std::move(value)}}, {}, &out);
    INFO(sig << ": " << rs.ToString());
    REQUIRE(rs.ok());
  };
  run("serving_default", "x", TensorValue::From<float>({1}, {3.f}));
  CHECK(out["y"].data<float>()[0] == 3.5f);
  run("classify_x2_to_y3", "inputs", TensorValue::From<float>({1}, {3.f}));
  CHECK(out["scores"].data<float>()[0] == 4.5f);
  run("regress_x2_to_y3", "inputs", TensorValue::From<float>({1}, {3.f}));
  CHECK(out["outputs"].data<float>()[0] == 4.5f);
  run("classify_x_to_y", "inputs", TensorValue::Strings({2}, FloatExamples("x", {4.f, 5.f})));
  CHECK(out["scores"].data<float>()[0] == 4.0f);
  CHECK(out["scores"].data<float>()[1] == 4.5f);
  run("regress_x_to_y2", "inputs", TensorValue::Strings({2}, FloatExamples("x", {4.f, 5.f})));
  CHECK(out["outputs"].data<float>()[0] == 5.0f);
  CHECK(out["outputs"].data<float>()[1] == 5.5f);
  // A feed the placeholder refuses is still refused at the outer graph.
  CHECK(!model->RunSignature("serving_default", {{"x", TensorValue::From<float>({3, 1}, {1.f, 2.f, 3.f})}}, {}, &out).ok());
}
