// The compiled serving path (serving/compiled_signature.h) against the
// interpreter, which stays the reference: on our exports (several
// activations, top_k, class names) and on TensorFlow's own tutorial graph
// (tests/data/golden), every output of every signature agrees, for several
// batch sizes and from concurrent threads; graphs it cannot compile, and
// requests it was not compiled for, go to the interpreter.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "serving/servable.h"
#include "tests/support/export_testing.h"
#include "tests/support/fixtures.h"
#include "tfformat/example_codec.h"

using namespace pipeline;
using namespace pipeline::serving;
using pipeline::export_testing::MakeModel;
using pipeline::export_testing::ScratchDir;

namespace {

std::unique_ptr<Servable> Load(const std::string& dir) {
  std::unique_ptr<Servable> s;
  Status st = Servable::Load(dir, {}, "m", &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

// `rows` x `width` floats in [0, 1), different for every row and seed.
TensorValue Images(int64_t rows, int64_t width, int seed = 0) {
  std::vector<float> v(static_cast<size_t>(rows * width));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::fmod(0.618034 * (i + 1) * (seed + 3), 1.0));
  return TensorValue::From<float>({rows, width}, v);
}

// The same images as serialized tf.Examples with float feature `feature`.
TensorValue Examples(const TensorValue& images, const std::string& feature = "x") {
  std::vector<std::string> out;
  const int64_t width = images.dim(1);
  for (int64_t r = 0; r < images.dim(0); ++r) {
    const float* row = images.data<float>() + r * width;
    tensorflow::Example e;
    auto& list = *(*e.mutable_features()->mutable_feature())[feature].mutable_float_list();
    for (int64_t j = 0; j < width; ++j) list.add_value(row[j]);
    out.push_back(e.SerializeAsString());
  }
  return TensorValue::Strings({images.dim(0)}, out);
}

double MaxAbsDiff(const TensorValue& a, const TensorValue& b) {
  REQUIRE(a.dtype() == b.dtype());
  REQUIRE(a.shape() == b.shape());
  double d = 0;
  for (int64_t i = 0; i < a.NumElements(); ++i) d = std::max(d, std::abs(a.AsDouble(i) - b.AsDouble(i)));
  return d;
}

// Runs `key` both ways and checks every output agrees: floats to `tolerance`,
// strings and integers exactly.
void CheckAgrees(Servable& s, const std::string& key, const std::map<std::string, TensorValue>& inputs,
                 double tolerance = 1e-6) {
  std::map<std::string, TensorValue> compiled, interpreted;
  INFO(s.ExecutionPath(key));
  Status st = s.RunInterpreted(key, inputs, {}, &interpreted);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(s.Run(key, inputs, {}, &compiled).ok());
  REQUIRE(compiled.size() == interpreted.size());
  for (const auto& entry : interpreted) {
    // Not a structured binding: doctest's INFO captures it in a lambda, which clang refuses.
    const std::string& alias = entry.first;
    const TensorValue& want = entry.second;
    INFO(key << " output " << alias);
    REQUIRE(compiled.count(alias));
    const TensorValue& got = compiled.at(alias);
    if (want.dtype() == tensorflow::DT_STRING) CHECK(got.SameAs(want));
    else if (want.dtype() == tensorflow::DT_FLOAT) CHECK(MaxAbsDiff(got, want) <= tolerance);
    else CHECK(got.SameAs(want));
  }
}

struct Exported {
  ScratchDir dir;
  std::string version_dir;
};

std::unique_ptr<Exported> ExportMlp(const std::vector<int64_t>& sizes, const std::string& hidden_activation,
                                    int64_t top_k = 0, std::vector<std::string> class_names = {}) {
  auto e = std::make_unique<Exported>();
  auto m = MakeModel(sizes, e->dir / "export");
  for (size_t l = 0; l + 1 < m->request.layers.size(); ++l) m->request.layers[l].activation = hidden_activation;
  for (auto& sig : m->request.options.signatures)
    if (sig.method == "classify") sig.top_k = top_k;
  m->request.options.class_names = std::move(class_names);
  ExportResult result;
  Status st = ExportSavedModel(m->request, &result);
  INFO(st.ToString());
  REQUIRE(st.ok());
  e->version_dir = result.version_dir;
  return e;
}

}  // namespace

TEST_CASE("compiled serving: our exports run compiled and agree with the interpreter") {
  const std::map<std::string, std::string> ops = {
      {"relu", "Relu"},      {"sigmoid", "Sigmoid"},   {"tanh", "Tanh"},       {"leaky_relu", "LeakyRelu"},
      {"elu", "Elu"},        {"softplus", "Softplus"}, {"softmax", "Softmax"}, {"gelu", "Mul, Neg, Mul, Erfc, Mul"}};
  for (const auto& entry : ops) {
    // Named copies: INFO captures by reference, and clang refuses a structured binding there (C++17).
    const std::string activation = entry.first, op = entry.second;
    INFO("hidden activation " << activation);
    auto e = ExportMlp({784, 64, 32, 10}, activation);
    auto s = Load(e->version_dir);
    CHECK(s->ExecutionPath("predict_images").rfind("compiled: ", 0) == 0);
    CHECK(s->ExecutionPath("serving_default").rfind("compiled: ", 0) == 0);
    // Each layer fuses its bias; the activations are the interpreter's kernels.
    CHECK(s->ExecutionPath("predict_images").find("MatMul 784x64 + BiasAdd, " + op + ", MatMul 64x32 + BiasAdd, " + op +
                                                  ", MatMul 32x10 + BiasAdd, Softmax") != std::string::npos);
    for (int64_t batch : {1, 7, 100}) {
      INFO("batch " << batch);
      const TensorValue images = Images(batch, 784, static_cast<int>(batch));
      CheckAgrees(*s, "predict_images", {{"inputs", images}});
      CheckAgrees(*s, "serving_default", {{"inputs", Examples(images)}});
    }
    // The runs above took the compiled path: one plan per batch size.
    REQUIRE(s->Compiled("predict_images") != nullptr);
    REQUIRE(s->Compiled("serving_default") != nullptr);
    CHECK(s->Compiled("predict_images")->CachedBatchSizes() == 3);
    CHECK(s->Compiled("serving_default")->CachedBatchSizes() == 3);
  }
}

TEST_CASE("compiled serving: top_k and class names come out as the interpreter gives them") {
  auto e = ExportMlp({20, 16, 5}, "relu", 3, {"a", "b", "c", "d", "e"});
  auto s = Load(e->version_dir);
  REQUIRE(s->ExecutionPath("serving_default").rfind("compiled: ", 0) == 0);
  const TensorValue images = Images(9, 20);
  std::map<std::string, TensorValue> out;
  REQUIRE(s->Run("serving_default", {{"inputs", Examples(images)}}, {}, &out).ok());
  REQUIRE(out.at("classes").shape() == TensorShape{9, 3});
  for (const auto& c : out.at("classes").strings()) CHECK((c.size() == 1 && c[0] >= 'a' && c[0] <= 'e'));
  CheckAgrees(*s, "serving_default", {{"inputs", Examples(images)}});
  // An output filter returns just what it names.
  REQUIRE(s->Run("serving_default", {{"inputs", Examples(images)}}, {"scores"}, &out).ok());
  CHECK(out.size() == 1);
  CHECK(out.count("scores") == 1);
}

TEST_CASE("compiled serving: TensorFlow's own tutorial graph compiles and agrees") {
  // TF1's mnist_saved_model.py: ParseExample, MatMul + Add of ref variables,
  // Softmax, TopKV2 and an index-to-string table.
  auto s = Load(pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"));
  INFO(s->ExecutionPath("predict_images"));
  REQUIRE(s->ExecutionPath("predict_images").rfind("compiled: ", 0) == 0);
  REQUIRE(s->ExecutionPath("serving_default").rfind("compiled: ", 0) == 0);
  for (int64_t batch : {1, 33}) {
    const TensorValue images = Images(batch, 784, 5);
    CheckAgrees(*s, "predict_images", {{"images", images}});
    CheckAgrees(*s, "serving_default", {{"inputs", Examples(images)}});
  }
  CHECK(s->Compiled("serving_default")->CachedBatchSizes() == 2);
}

TEST_CASE("compiled serving: a graph outside the compiled ops runs on the interpreter") {
  // half_plus_two is y = a * x + b: a Mul, no MatMul.
  auto s = Load(pipeline::test::Fixture("golden/saved_model_half_plus_two_cpu/00000123"));
  CHECK(s->ExecutionPath("serving_default").rfind("interpreter: ", 0) == 0);
  std::map<std::string, TensorValue> out;
  REQUIRE(s->Run("serving_default", {{"x", TensorValue::From<float>({2, 1}, {1.0f, 4.0f})}}, {}, &out).ok());
  CHECK(out.at("y").data<float>()[0] == 2.5f);
  CHECK(out.at("y").data<float>()[1] == 4.0f);
}

TEST_CASE("compiled serving: a request it was not compiled for gets the interpreter's answer and error") {
  auto e = ExportMlp({784, 32, 10}, "relu");
  auto s = Load(e->version_dir);
  std::map<std::string, TensorValue> out;
  // Width 783: the interpreter's MatMul error, word for word.
  Status compiled = s->Run("predict_images", {{"inputs", Images(2, 783)}}, {}, &out);
  Status interpreted = s->RunInterpreted("predict_images", {{"inputs", Images(2, 783)}}, {}, &out);
  REQUIRE_FALSE(interpreted.ok());
  CHECK(compiled.ToString() == interpreted.ToString());
  // A malformed tf.Example: ParseExample's error, as the interpreter words it.
  const TensorValue junk = TensorValue::Strings({1}, {"\xff\xff not a proto"});
  compiled = s->Run("serving_default", {{"inputs", junk}}, {}, &out);
  interpreted = s->RunInterpreted("serving_default", {{"inputs", junk}}, {}, &out);
  REQUIRE_FALSE(interpreted.ok());
  CHECK(compiled.ToString() == interpreted.ToString());
  // Batch 0 and a double input: the interpreter decides.
  CHECK(s->Run("predict_images", {{"inputs", TensorValue(tensorflow::DT_FLOAT, {0, 784})}}, {}, &out).ok());
  CHECK(out.at("outputs").shape() == TensorShape{0, 10});
  compiled = s->Run("predict_images", {{"inputs", TensorValue(tensorflow::DT_DOUBLE, {1, 784})}}, {}, &out);
  interpreted = s->RunInterpreted("predict_images", {{"inputs", TensorValue(tensorflow::DT_DOUBLE, {1, 784})}}, {}, &out);
  REQUIRE_FALSE(interpreted.ok());
  CHECK(compiled.ToString() == interpreted.ToString());
}

TEST_CASE("compiled serving: concurrent runs of many batch sizes agree and the cache stays bounded") {
  auto e = ExportMlp({784, 48, 10}, "relu");
  auto s = Load(e->version_dir);
  // Reference answers by the interpreter, one per batch size 1..80.
  const int kSizes = 80;
  std::vector<TensorValue> inputs, expected;
  for (int b = 1; b <= kSizes; ++b) {
    inputs.push_back(Images(b, 784, b));
    std::map<std::string, TensorValue> out;
    REQUIRE(s->RunInterpreted("predict_images", {{"inputs", inputs.back()}}, {}, &out).ok());
    expected.push_back(out.at("outputs"));
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3 * kSizes; ++i) {
        const size_t b = static_cast<size_t>((i * 7 + t * 13) % kSizes);
        std::map<std::string, TensorValue> out;
        if (!s->Run("predict_images", {{"inputs", inputs[b]}}, {}, &out).ok()) ++failures;
        else if (MaxAbsDiff(out.at("outputs"), expected[b]) > 1e-6) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(mismatches == 0);
  REQUIRE(s->Compiled("predict_images") != nullptr);
  CHECK(s->Compiled("predict_images")->CachedBatchSizes() == CompiledSignature::kMaxBatchSizes);
}

TEST_CASE("compiled serving: a NaN input gives NaN outputs as TensorFlow's kernels do") {
  // oneDNN's relu post-op would turn NaN into 0: the activations stay kernels.
  for (const std::string activation : {"relu", "sigmoid", "tanh"}) {
    INFO(activation);
    auto e = ExportMlp({784, 16, 10}, activation);
    auto s = Load(e->version_dir);
    TensorValue images = Images(2, 784);
    images.mutable_data<float>()[784 + 5] = std::nanf("");
    std::map<std::string, TensorValue> out;
    REQUIRE(s->Run("predict_images", {{"inputs", images}}, {}, &out).ok());
    CHECK(s->Compiled("predict_images")->CachedBatchSizes() == 1);
    const float* p = out.at("outputs").data<float>();
    for (int j = 0; j < 10; ++j) {
      CHECK(std::isfinite(p[j]));
      CHECK(std::isnan(p[10 + j]));
    }
  }
}
