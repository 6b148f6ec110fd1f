// Request batching (server/batching.h) on real models written by
// TensorFlow (tests/data/golden/README.md): TF Serving's half_plus_two
// (y = 0.5 x + 2, elementwise, so a row's answer cannot depend on the rows
// beside it: batched answers equal unbatched ones bit for bit), the MNIST
// tutorial's softmax regression (predict_images: float [-1,784]; its
// serving_default classifies serialized tf.Examples into string classes and
// float scores), and our own export with warmup records through the model
// manager. The MNIST matmul runs compiled (oneDNN), whose kernel for one row
// sums in another order than its kernel for 16: there a batched answer is
// the merged run's rows bit for bit, and within 1e-5 of a run on its own. No
// assertion depends on timing: batches are made full (or a run is held at a
// gate) so that what merges is decided by counts, and waits are on
// conditions.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "export/export.h"
#include "server/batching.h"
#include "server/model_manager.h"
#include "serving/classify_api.h"
#include "serving/predict_api.h"
#include "tests/support/export_testing.h"
#include "tests/support/fixtures.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;
using namespace pipeline::server;
using pipeline::serving::ErrorCode;
using pipeline::serving::PredictRequest;
using pipeline::serving::PredictResponse;
using pipeline::serving::Servable;
using pipeline::serving::ServingStatus;

namespace {

constexpr int64_t kForever = int64_t{600} * 1000 * 1000;  // a timeout no batch in these tests waits out

std::unique_ptr<Servable> LoadMnist() {
  std::unique_ptr<Servable> s;
  Status st = Servable::Load(pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"), {}, "mnist", &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

std::unique_ptr<Servable> LoadHalfPlusTwo() {
  std::unique_ptr<Servable> s;
  Status st =
      Servable::Load(pipeline::test::Fixture("golden/saved_model_half_plus_two_cpu/00000123"), {}, "hp2", &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

// serving_default of half_plus_two: x float [rows, 1], distinct for every (seed, row).
PredictRequest XRequest(int64_t rows, int seed) {
  std::vector<float> x(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) x[static_cast<size_t>(r)] = 0.37f * static_cast<float>(seed * 100 + r) - 11.0f;
  PredictRequest req;
  req.inputs["x"] = TensorValue::From<float>({rows, 1}, x);
  return req;
}

std::shared_ptr<BatchScheduler> Scheduler(const BatchingOptions& o, BatchScheduler::Runner runner = nullptr) {
  std::shared_ptr<BatchScheduler> s;
  Status st = BatchScheduler::Create(o, &s, std::move(runner));
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

BatchingOptions Options(int64_t max_batch_size, int64_t timeout_micros, int64_t threads = 2) {
  BatchingOptions o;
  o.max_batch_size = max_batch_size;
  o.batch_timeout_micros = timeout_micros;
  o.num_batch_threads = threads;
  return o;
}

// `rows` images of 784 pixels in [0, 1], different for every (seed, row).
TensorValue Images(int64_t rows, int seed) {
  std::vector<float> v(static_cast<size_t>(rows * 784));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<float>((seed * 7919 + static_cast<int>(i) * 31) % 256) / 255.0f;
  }
  return TensorValue::From<float>({rows, 784}, v);
}

PredictRequest ImagesRequest(const TensorValue& images) {
  PredictRequest r;
  r.signature_name = "predict_images";
  r.inputs["images"] = images;
  return r;
}

// Same dtype, shape and bytes (a float compare would call -0 and 0 equal).
bool BitIdentical(const TensorValue& a, const TensorValue& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == tensorflow::DT_STRING) return a.strings() == b.strings();
  return a.raw_size() == b.raw_size() && std::memcmp(a.raw(), b.raw(), a.raw_size()) == 0;
}

bool SameOutputs(const std::map<std::string, TensorValue>& a, const std::map<std::string, TensorValue>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [alias, t] : a) {
    auto it = b.find(alias);
    if (it == b.end() || !BitIdentical(t, it->second)) return false;
  }
  return true;
}

// Waits for a condition another thread makes true; fails the test (rather
// than hanging) if it never does.
void WaitFor(const std::function<bool()>& done, const char* what) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!done() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  REQUIRE_MESSAGE(done(), what);
}

// Holds every merged run that reaches the runner while armed until opened,
// and counts the runs that reached it; records the merged inputs.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool armed = true;
  bool open = false;
  int entered = 0;
  std::vector<std::map<std::string, TensorValue>> merged;

  BatchScheduler::Runner Runner() {
    return [this](Servable& s, const std::string& key, const std::map<std::string, TensorValue>& inputs,
                  const std::vector<std::string>& aliases, std::map<std::string, TensorValue>* outputs) {
      {
        std::unique_lock<std::mutex> lock(mu);
        merged.push_back(inputs);
        ++entered;
        cv.notify_all();
        if (armed) cv.wait(lock, [this] { return open; });
      }
      return s.RunUnbatched(key, inputs, aliases, outputs);
    };
  }
  // Fails the test (rather than hanging) if the runs never come.
  void WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE_MESSAGE(cv.wait_for(lock, std::chrono::minutes(2), [&] { return entered >= n; }),
                    n << " merged runs never reached the runner");
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

tensorflow::Example ImageExample(int seed) {
  const TensorValue image = Images(1, seed);
  tensorflow::Example ex;
  auto* list = (*ex.mutable_features()->mutable_feature())["x"].mutable_float_list();
  for (int i = 0; i < 784; ++i) list->add_value(image.data<float>()[i]);
  return ex;
}

}  // namespace

TEST_CASE("server batching: 16 concurrent 1-row predicts merge and equal unbatched runs bit for bit") {
  auto servable = LoadHalfPlusTwo();
  constexpr int kRequests = 16;
  std::vector<PredictResponse> expected(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    ServingStatus st = serving::Predict(*servable, XRequest(1, i), &expected[i]);
    REQUIRE_MESSAGE(st.ok(), st.message);
  }
  // A batch runs when it holds 16 rows: every request joins the first one.
  auto scheduler = Scheduler(Options(kRequests, kForever));
  servable->set_batcher(scheduler->NewBatcher());
  std::vector<PredictResponse> got(kRequests);
  std::vector<ServingStatus> status(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] { status[i] = serving::Predict(*servable, XRequest(1, i), &got[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kRequests; ++i) {
    INFO("request " << i << ": " << status[i].message);
    REQUIRE(status[i].ok());
    CHECK(got[i].outputs.at("y").shape() == TensorShape{1, 1});
    CHECK(SameOutputs(got[i].outputs, expected[i].outputs));
  }
  const BatchingStats stats = scheduler->stats();
  CHECK(stats.runs < kRequests);
  CHECK(stats.runs == 1);
  CHECK(stats.tasks == kRequests);
  CHECK(stats.rows == kRequests);
  CHECK(stats.padded_rows == 0);
  CHECK(stats.unbatched == 0);
  CHECK(stats.enqueued == 0);
  CHECK(stats.queues == 0);  // an emptied queue is dropped
}

TEST_CASE("server batching: 16 concurrent MNIST predicts get the merged run's rows bit for bit") {
  auto servable = LoadMnist();
  constexpr int kRequests = 16;
  std::vector<PredictResponse> alone(kRequests);
  for (int i = 0; i < kRequests; ++i) REQUIRE(serving::Predict(*servable, ImagesRequest(Images(1, i)), &alone[i]).ok());
  Gate gate;
  gate.armed = false;  // records the merged inputs, holds nothing
  auto scheduler = Scheduler(Options(kRequests, kForever), gate.Runner());
  servable->set_batcher(scheduler->NewBatcher());
  std::vector<PredictResponse> got(kRequests);
  std::vector<ServingStatus> status(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] { status[i] = serving::Predict(*servable, ImagesRequest(Images(1, i)), &got[i]); });
  }
  for (auto& t : threads) t.join();
  REQUIRE(gate.merged.size() == 1);
  const TensorValue& merged = gate.merged[0].at("images");
  REQUIRE(merged.shape() == TensorShape{kRequests, 784});
  std::map<std::string, TensorValue> reference;
  REQUIRE(servable->RunUnbatched("predict_images", gate.merged[0], {}, &reference).ok());
  for (int i = 0; i < kRequests; ++i) {
    INFO("request " << i << ": " << status[i].message);
    REQUIRE(status[i].ok());
    int64_t row = -1;  // where the batch put this request
    for (int64_t r = 0; r < kRequests; ++r)
      if (BitIdentical(SliceRows(merged, r, 1), Images(1, i))) row = r;
    REQUIRE(row >= 0);
    const TensorValue& scores = got[i].outputs.at("scores");
    CHECK(BitIdentical(scores, SliceRows(reference.at("scores"), row, 1)));
    for (int k = 0; k < 10; ++k) {
      CHECK(scores.data<float>()[k] == doctest::Approx(alone[i].outputs.at("scores").data<float>()[k]).epsilon(1e-5));
    }
  }
  CHECK(scheduler->stats().runs == 1);
}

TEST_CASE("server batching: requests of 1 to 7 rows share one run and each gets its own rows back") {
  auto servable = LoadHalfPlusTwo();
  std::vector<PredictResponse> expected(8);
  for (int rows = 1; rows <= 7; ++rows) {
    ServingStatus st = serving::Predict(*servable, XRequest(rows, rows), &expected[rows]);
    REQUIRE_MESSAGE(st.ok(), st.message);
  }
  auto scheduler = Scheduler(Options(28, kForever));  // 1 + 2 + ... + 7 rows: full when all have joined
  servable->set_batcher(scheduler->NewBatcher());
  std::vector<PredictResponse> got(8);
  std::vector<ServingStatus> status(8);
  std::vector<std::thread> threads;
  for (int rows = 1; rows <= 7; ++rows) {
    threads.emplace_back([&, rows] { status[rows] = serving::Predict(*servable, XRequest(rows, rows), &got[rows]); });
  }
  for (auto& t : threads) t.join();
  for (int rows = 1; rows <= 7; ++rows) {
    INFO("the " << rows << "-row request: " << status[rows].message);
    REQUIRE(status[rows].ok());
    CHECK(got[rows].outputs.at("y").shape() == TensorShape{rows, 1});
    CHECK(SameOutputs(got[rows].outputs, expected[rows].outputs));
  }
  const BatchingStats stats = scheduler->stats();
  CHECK(stats.runs == 1);
  CHECK(stats.tasks == 7);
  CHECK(stats.rows == 28);
}

TEST_CASE("server batching: allowed_batch_sizes pads with the last request's first row and drops the padding") {
  auto servable = LoadHalfPlusTwo();
  BatchingOptions o = Options(8, 0, 1);
  o.allowed_batch_sizes = {2, 4, 8};
  Gate gate;
  gate.armed = false;  // nothing held here: the gate records the merged inputs
  auto scheduler = Scheduler(o, gate.Runner());

  // One request of 3 rows runs as 4; one of 5 as 8.
  for (int64_t rows : {3, 5}) {
    const PredictRequest req = XRequest(rows, 7);
    const TensorValue& x = req.inputs.at("x");
    PredictResponse unbatched, batched;
    REQUIRE(serving::Predict(*servable, req, &unbatched).ok());
    servable->set_batcher(scheduler->NewBatcher());
    ServingStatus st = serving::Predict(*servable, req, &batched);
    servable->set_batcher(nullptr);
    INFO(rows << " rows: " << st.message);
    REQUIRE(st.ok());
    CHECK(batched.outputs.at("y").shape() == TensorShape{rows, 1});
    CHECK(SameOutputs(batched.outputs, unbatched.outputs));
    const TensorValue& merged = gate.merged.back().at("x");
    const int64_t padded = rows == 3 ? 4 : 8;
    REQUIRE(merged.shape() == TensorShape{padded, 1});
    CHECK(BitIdentical(SliceRows(merged, 0, rows), x));
    for (int64_t r = rows; r < padded; ++r) CHECK(BitIdentical(SliceRows(merged, r, 1), SliceRows(x, 0, 1)));
  }
  CHECK(scheduler->stats().padded_rows == 1 + 3);
  CHECK(scheduler->stats().rows == 3 + 5);
}

TEST_CASE("server batching: two requests padded together take the padding from the last one") {
  auto servable = LoadMnist();
  BatchingOptions o = Options(8, 0, 1);
  o.allowed_batch_sizes = {4, 8};
  Gate gate;
  auto scheduler = Scheduler(o, gate.Runner());
  servable->set_batcher(scheduler->NewBatcher());
  // The one batch thread is held with request A, so B (1 row) and C (2 rows) wait in one open batch.
  PredictResponse ra, rb, rc;
  ServingStatus sa, sb, sc;
  std::thread a([&] { sa = serving::Predict(*servable, ImagesRequest(Images(1, 1)), &ra); });
  gate.WaitEntered(1);
  std::thread b([&] { sb = serving::Predict(*servable, ImagesRequest(Images(1, 2)), &rb); });
  WaitFor([&] { return scheduler->stats().enqueued == 1; }, "B waits in the queue");
  std::thread c([&] { sc = serving::Predict(*servable, ImagesRequest(Images(2, 3)), &rc); });
  WaitFor([&] { return scheduler->stats().enqueued == 2; }, "C waits in the queue");
  gate.Open();
  a.join();
  b.join();
  c.join();
  REQUIRE(sa.ok());
  REQUIRE(sb.ok());
  REQUIRE(sc.ok());
  REQUIRE(gate.merged.size() == 2);
  const TensorValue& merged = gate.merged[1].at("images");  // B's row, C's two, one padding row
  REQUIRE(merged.shape() == TensorShape{4, 784});
  CHECK(BitIdentical(SliceRows(merged, 0, 1), Images(1, 2)));
  CHECK(BitIdentical(SliceRows(merged, 1, 2), Images(2, 3)));
  CHECK(BitIdentical(SliceRows(merged, 3, 1), SliceRows(Images(2, 3), 0, 1)));
  CHECK(rb.outputs.at("scores").shape() == TensorShape{1, 10});
  CHECK(rc.outputs.at("scores").shape() == TensorShape{2, 10});
  const BatchingStats stats = scheduler->stats();
  CHECK(stats.runs == 2);
  CHECK(stats.padded_rows == 3 + 1);  // A: 1 -> 4; B + C: 3 -> 4
}

TEST_CASE("server batching: a request larger than max_batch_size gets TF Serving's error") {
  auto servable = LoadMnist();
  auto scheduler = Scheduler(Options(8, 0));
  servable->set_batcher(scheduler->NewBatcher());
  PredictResponse r;
  ServingStatus st = serving::Predict(*servable, ImagesRequest(Images(9, 1)), &r);
  CHECK(st.code == ErrorCode::kInvalidArgument);
  CHECK(st.message == "Task size 9 is larger than maximum input batch size 8");
  st = serving::Predict(*servable, ImagesRequest(Images(8, 1)), &r);
  CHECK_MESSAGE(st.ok(), st.message);
  CHECK(scheduler->stats().rejected == 1);
  CHECK(scheduler->stats().runs == 1);
}

TEST_CASE("server batching: a full queue refuses with TF Serving's UNAVAILABLE text") {
  auto servable = LoadMnist();
  BatchingOptions o = Options(1, 0, 1);
  o.max_enqueued_batches = 1;
  Gate gate;
  auto scheduler = Scheduler(o, gate.Runner());
  servable->set_batcher(scheduler->NewBatcher());
  PredictResponse ra, rb, rc;
  ServingStatus sa, sb;
  std::thread a([&] { sa = serving::Predict(*servable, ImagesRequest(Images(1, 1)), &ra); });
  gate.WaitEntered(1);  // A runs (held); its queue's one batch slot takes B
  std::thread b([&] { sb = serving::Predict(*servable, ImagesRequest(Images(1, 2)), &rb); });
  WaitFor([&] { return scheduler->stats().enqueued == 1; }, "B waits in the queue");
  const ServingStatus sc = serving::Predict(*servable, ImagesRequest(Images(1, 3)), &rc);
  CHECK(sc.code == ErrorCode::kUnavailable);
  CHECK(serving::HttpStatusCode(sc.code) == 503);
  CHECK(sc.message ==
        "The batch scheduling queue to which this task was submitted is full; currently 1 batches enqueued and "
        "max_enqueued_batches is 1");
  gate.Open();
  a.join();
  b.join();
  CHECK(sa.ok());
  CHECK(sb.ok());
  const BatchingStats stats = scheduler->stats();
  CHECK(stats.rejected == 1);
  CHECK(stats.runs == 2);
}

TEST_CASE("server batching: serialized tf.Example strings concatenate and string classes split back") {
  // Classify's serving_default of the MNIST tutorial: [n] serialized examples
  // in, [n,10] classes (strings) and scores out.
  auto mnist = LoadMnist();
  auto request = [](int n, int seed) {
    tensorflow::serving::ClassificationRequest req;
    req.mutable_model_spec()->set_name("mnist");
    for (int i = 0; i < n; ++i) *req.mutable_input()->mutable_example_list()->add_examples() = ImageExample(seed + i);
    return req;
  };
  Gate gate;
  gate.armed = false;  // records the merged inputs
  auto scheduler = Scheduler(Options(10, kForever), gate.Runner());  // 1 + 2 + 3 + 4 examples
  mnist->set_batcher(scheduler->NewBatcher());
  std::vector<tensorflow::serving::ClassificationResponse> got(5);
  std::vector<ServingStatus> status(5);
  std::vector<std::thread> threads;
  for (int n = 1; n <= 4; ++n) {
    threads.emplace_back([&, n] { status[n] = serving::Classify(*mnist, request(n, 10 * n), &got[n]); });
  }
  for (auto& t : threads) t.join();
  REQUIRE(gate.merged.size() == 1);
  const TensorValue& merged = gate.merged[0].at("inputs");
  REQUIRE(merged.dtype() == tensorflow::DT_STRING);
  REQUIRE(merged.shape() == TensorShape{10});
  std::map<std::string, TensorValue> reference;
  REQUIRE(mnist->RunUnbatched("serving_default", gate.merged[0], {}, &reference).ok());
  const TensorValue& classes = reference.at("classes");
  const TensorValue& scores = reference.at("scores");
  REQUIRE(classes.shape() == TensorShape{10, 10});
  for (int n = 1; n <= 4; ++n) {
    INFO(n << " examples: " << status[n].message);
    REQUIRE(status[n].ok());
    REQUIRE(got[n].result().classifications_size() == n);
    for (int i = 0; i < n; ++i) {
      int64_t row = -1;  // where the batch put example i of this request
      for (int64_t r = 0; r < 10; ++r)
        if (merged.strings()[static_cast<size_t>(r)] == ImageExample(10 * n + i).SerializeAsString()) row = r;
      REQUIRE(row >= 0);
      const auto& answer = got[n].result().classifications(i).classes();
      REQUIRE(answer.size() == 10);
      for (int k = 0; k < 10; ++k) {
        CHECK(answer[k].label() == classes.strings()[static_cast<size_t>(row * 10 + k)]);
        CHECK(answer[k].score() == scores.data<float>()[row * 10 + k]);  // float == float: the same bits here
      }
    }
  }
  CHECK(scheduler->stats().runs == 1);
  CHECK(scheduler->stats().rows == 10);

  // half_plus_two's classify_x_to_y (scores = 0.5 x + 2): equal to unbatched responses, byte for byte.
  auto hp2 = LoadHalfPlusTwo();
  auto xs = [](int n, int seed) {
    tensorflow::serving::ClassificationRequest req;
    req.mutable_model_spec()->set_name("hp2");
    req.mutable_model_spec()->set_signature_name("classify_x_to_y");
    for (int i = 0; i < n; ++i) {
      tensorflow::Example ex;
      auto* x = (*ex.mutable_features()->mutable_feature())["x"].mutable_float_list();
      x->add_value(1.5f * static_cast<float>(seed + i));
      *req.mutable_input()->mutable_example_list()->add_examples() = ex;
    }
    return req;
  };
  std::vector<tensorflow::serving::ClassificationResponse> expected(5);
  for (int n = 1; n <= 4; ++n) REQUIRE(serving::Classify(*hp2, xs(n, 10 * n), &expected[n]).ok());
  auto scheduler2 = Scheduler(Options(10, kForever));
  hp2->set_batcher(scheduler2->NewBatcher());
  threads.clear();
  for (int n = 1; n <= 4; ++n) {
    threads.emplace_back([&, n] { status[n] = serving::Classify(*hp2, xs(n, 10 * n), &got[n]); });
  }
  for (auto& t : threads) t.join();
  for (int n = 1; n <= 4; ++n) {
    INFO(n << " examples: " << status[n].message);
    REQUIRE(status[n].ok());
    CHECK(got[n].SerializeAsString() == expected[n].SerializeAsString());
  }
  CHECK(scheduler2->stats().runs == 1);
}

TEST_CASE("server batching: every TensorValue dtype concatenates and splits by rows") {
  const std::vector<tensorflow::DataType> numeric = {
      tensorflow::DT_FLOAT, tensorflow::DT_DOUBLE, tensorflow::DT_INT32, tensorflow::DT_INT64,
      tensorflow::DT_INT16, tensorflow::DT_INT8,   tensorflow::DT_UINT8, tensorflow::DT_UINT16,
      tensorflow::DT_BOOL,  tensorflow::DT_HALF,   tensorflow::DT_BFLOAT16, tensorflow::DT_UINT32,
      tensorflow::DT_UINT64, tensorflow::DT_COMPLEX64, tensorflow::DT_COMPLEX128};
  for (tensorflow::DataType dtype : numeric) {
    INFO(DataTypeName(dtype));
    // [2,3] and [1,3] with distinct bytes, then 2 padding rows.
    TensorValue a(dtype, {2, 3}), b(dtype, {1, 3});
    for (size_t i = 0; i < a.raw_size(); ++i) a.mutable_raw()[i] = static_cast<char>(i + 1);
    for (size_t i = 0; i < b.raw_size(); ++i) b.mutable_raw()[i] = static_cast<char>(100 + i);
    TensorValue merged;
    REQUIRE(ConcatRows({a, b}, 2, &merged).ok());
    REQUIRE(merged.shape() == TensorShape{5, 3});
    CHECK(BitIdentical(SliceRows(merged, 0, 2), a));
    CHECK(BitIdentical(SliceRows(merged, 2, 1), b));
    CHECK(BitIdentical(SliceRows(merged, 3, 1), b));
    CHECK(BitIdentical(SliceRows(merged, 4, 1), b));
  }
  const TensorValue a = TensorValue::Strings({2, 2}, {"a0", "a1", "", std::string("\0x", 2)});
  const TensorValue b = TensorValue::Strings({1, 2}, {"b0", "b1"});
  TensorValue merged;
  REQUIRE(ConcatRows({a, b}, 1, &merged).ok());
  CHECK(merged.strings() == std::vector<std::string>{"a0", "a1", "", std::string("\0x", 2), "b0", "b1", "b0", "b1"});
  CHECK(BitIdentical(SliceRows(merged, 0, 2), a));
  CHECK(BitIdentical(SliceRows(merged, 2, 1), b));
  CHECK(!ConcatRows({a, TensorValue::Strings({1, 3}, {"x", "y", "z"})}, 0, &merged).ok());  // dims after the 0th differ
  CHECK(!ConcatRows({a, TensorValue::From<float>({1, 2}, {1, 2})}, 0, &merged).ok());      // dtypes differ

  // pad_variable_length_inputs: grown after the existing elements with the first one.
  TensorValue padded;
  REQUIRE(PadToShape(TensorValue::From<int32_t>({2, 2}, {5, 6, 7, 8}), {2, 3}, &padded).ok());
  CHECK(BitIdentical(padded, TensorValue::From<int32_t>({2, 3}, {5, 6, 5, 7, 8, 5})));
  REQUIRE(PadToShape(TensorValue::Strings({1, 1}, {"s"}), {1, 3}, &padded).ok());
  CHECK(padded.strings() == std::vector<std::string>{"s", "s", "s"});
  Status st = PadToShape(TensorValue(tensorflow::DT_FLOAT, {1, 0}), {1, 2}, &padded);
  CHECK(st.message() == "Got empty tensor in batch of non-empty tensors.");
}

TEST_CASE("server batching: unbatchable runs go alone and unsplittable outputs get TF Serving's errors") {
  auto servable = LoadMnist();
  auto scheduler = Scheduler(Options(8, 0));
  servable->set_batcher(scheduler->NewBatcher());
  std::map<std::string, TensorValue> out;
  // A scalar input and no input at all cannot be batched: each runs on its own (and fails there).
  CHECK(!servable->Run("predict_images", {{"images", TensorValue::Scalar(1.0f)}}, {}, &out).ok());
  CHECK(!servable->Run("predict_images", {}, {}, &out).ok());
  CHECK(scheduler->stats().unbatched == 2);
  CHECK(scheduler->stats().runs == 0);

  // A runner whose outputs have the wrong 0th dimension, or none.
  for (const bool scalar : {false, true}) {
    auto wrong_rows = [scalar](Servable&, const std::string&, const std::map<std::string, TensorValue>&,
                               const std::vector<std::string>&, std::map<std::string, TensorValue>* o) {
      (*o)["scores"] = scalar ? TensorValue::Scalar(1.0f) : TensorValue::From<float>({3}, {1, 2, 3});
      return Status::Ok();
    };
    auto bad = Scheduler(Options(8, 0), wrong_rows);
    servable->set_batcher(bad->NewBatcher());
    PredictResponse r;
    ServingStatus st = serving::Predict(*servable, ImagesRequest(Images(2, 1)), &r);
    CHECK(st.code == ErrorCode::kFailedPrecondition);
    CHECK(st.message == (scalar ? "Batched output tensor has 0 dimensions"
                                : "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension "
                                  "sizes of the input tensors"));
  }
}

TEST_CASE("server batching: a run that throws answers its batch with an internal error and the threads go on") {
  auto servable = LoadHalfPlusTwo();
  std::atomic<int> calls{0};
  auto scheduler = Scheduler(Options(8, 0, 1), [&calls](Servable& s, const std::string& key,
                                                       const std::map<std::string, TensorValue>& inputs,
                                                       const std::vector<std::string>& aliases,
                                                       std::map<std::string, TensorValue>* outputs) -> Status {
    if (calls++ == 0) throw std::runtime_error("could not execute a primitive");
    return s.RunUnbatched(key, inputs, aliases, outputs);
  });
  servable->set_batcher(scheduler->NewBatcher());
  PredictResponse r;
  ServingStatus st = serving::Predict(*servable, XRequest(2, 1), &r);
  CHECK(st.code == ErrorCode::kInternal);
  CHECK(st.message == "internal error: could not execute a primitive");
  st = serving::Predict(*servable, XRequest(2, 1), &r);  // the one batch thread still serves
  CHECK_MESSAGE(st.ok(), st.message);
  CHECK(scheduler->stats().runs == 2);
}

TEST_CASE("server batching: the parameters file with TF Serving's defaults and checks") {
  BatchingOptions o;
  Status st = ParseBatchingParametersText(
      "max_batch_size { value: 32 }\n"
      "batch_timeout_micros { value: 5000 }\n"
      "max_enqueued_batches { value: 100 }\n"
      "num_batch_threads { value: 3 }\n"
      "thread_pool_name { value: \"mine\" }\n"
      "allowed_batch_sizes: 8\n"
      "allowed_batch_sizes: 16\n"
      "allowed_batch_sizes: 32\n"
      "pad_variable_length_inputs: true\n",
      "batching.config", &o);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(o.max_batch_size == 32);
  CHECK(o.batch_timeout_micros == 5000);
  CHECK(o.max_enqueued_batches == 100);
  CHECK(o.num_batch_threads == 3);
  CHECK(o.thread_pool_name == "mine");
  CHECK(o.allowed_batch_sizes == std::vector<int64_t>{8, 16, 32});
  CHECK(o.pad_variable_length_inputs);

  // Absent fields: SharedBatchScheduler's defaults; --enable_batching alone names the pool.
  REQUIRE(ParseBatchingParametersText("", "empty.config", &o).ok());
  CHECK(o.max_batch_size == 1000);
  CHECK(o.batch_timeout_micros == 0);
  CHECK(o.max_enqueued_batches == 10);
  CHECK(o.num_batch_threads == DefaultNumBatchThreads());
  CHECK(o.thread_pool_name == "batch_threads");
  CHECK(o.allowed_batch_sizes.empty());
  CHECK(!o.pad_variable_length_inputs);
  CHECK(DefaultServerBatchingOptions().thread_pool_name == "model_server_batch_threads");
  CHECK(DefaultServerBatchingOptions().max_batch_size == 1000);
  REQUIRE(ParseBatchingParametersText("max_enqueued_batches { value: 0 }", "f", &o).ok());
  CHECK(o.max_enqueued_batches == 1);  // TF's AddQueue rewrites 0 to 1

  const auto error = [](const std::string& text) {
    BatchingOptions unused;
    Status s = ParseBatchingParametersText(text, "batching.config", &unused);
    CHECK(s.IsInvalidArgument());
    return s.message();
  };
  CHECK(error("max_batch_size { value: 8 }\nmax_batch_sizes { value: 8 }\n")
            .rfind("batching.config: line 2, column 17: Message type \"tensorflow.serving.BatchingParameters\" has no "
                   "field named \"max_batch_sizes\".",
                   0) == 0);
  CHECK(error("max_batch_size: 8").rfind("batching.config: line 1, column ", 0) == 0);  // a wrapper, not a number
  CHECK(error("max_batch_size { value: 32 } allowed_batch_sizes: 16 allowed_batch_sizes: 8 allowed_batch_sizes: 32") ==
        "batching.config: allowed_batch_sizes entries must be monotonically increasing");
  CHECK(error("max_batch_size { value: 32 } allowed_batch_sizes: 8 allowed_batch_sizes: 16") ==
        "batching.config: Last entry in allowed_batch_sizes must match max_batch_size; last entry was 16; expected 32");
  CHECK(error("allowed_batch_sizes: 32") ==
        "batching.config: Last entry in allowed_batch_sizes must match max_batch_size; last entry was 32; expected 1000");
  CHECK(error("num_batch_threads { value: 0 }") == "batching.config: num_batch_threads must be positive; was 0");
  CHECK(error("max_batch_size { value: 0 }") == "batching.config: input_batch_size_limit must be positive; was 0");
  CHECK(error("batch_timeout_micros { value: -1 }") ==
        "batching.config: batch_timeout_micros must be non-negative; was -1");
  CHECK(error("max_enqueued_batches { value: -2 }") == "batching.config: max_enqueued_batches must be positive; was -2");
}

TEST_CASE("server batching: the manager warms up through the batcher and an unloaded version's run still finishes") {
  pipeline::test::ScopedTempDir dir("batching");
  const std::string base = dir / "m";
  auto model = pipeline::export_testing::MakeModel({4, 3, 2}, base);
  model->request.options.warmup = true;  // one predict and one classify record
  auto publish = [&](const std::string& version) {
    model->request.options.version = version;
    ExportResult exported;
    Status es = ExportSavedModel(model->request, &exported);
    REQUIRE_MESSAGE(es.ok(), es.ToString());
  };
  publish("1");
  Gate gate;
  gate.armed = false;  // the warmup passes
  ModelManagerOptions mo;
  mo.file_system_poll_wait_seconds = 0;
  mo.batch_scheduler = Scheduler(Options(8, 0, 2), gate.Runner());
  auto scheduler = mo.batch_scheduler;
  ModelManager manager(mo);
  tensorflow::serving::ModelConfigList config;
  auto* m = config.add_config();
  m->set_name("m");
  m->set_base_path(base);
  REQUIRE(manager.Start(config).ok());
  REQUIRE(scheduler->stats().runs == 2);  // the two warmup records, through the batcher

  tensorflow::serving::ModelSpec spec;
  spec.set_name("m");
  std::shared_ptr<Servable> v1;
  REQUIRE(manager.Find(spec, &v1).ok());
  std::weak_ptr<Servable> v1_alive = v1;
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.armed = true;
  }
  PredictRequest req;
  req.signature_name = "predict_images";
  req.inputs["inputs"] = TensorValue::From<float>({1, 4}, {1, 2, 3, 4});
  PredictResponse held_answer;
  ServingStatus held;
  std::thread request([&, v1 = std::move(v1)]() mutable {
    held = serving::Predict(*v1, req, &held_answer);
    v1.reset();  // the last reference: version 1 dies here, after its run
  });
  gate.WaitEntered(3);  // version 1's request is in its run, held on one of the two threads
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.armed = false;  // version 2's warmup passes on the other
  }
  publish("2");
  manager.PollNow();  // version 2 loads (2 warmup runs), version 1 unloads while its run is held
  std::shared_ptr<Servable> v2;
  REQUIRE(manager.Find(spec, &v2).ok());
  CHECK(v2->version() == 2);
  CHECK(!v1_alive.expired());  // the request still holds it
  gate.Open();
  request.join();
  CHECK_MESSAGE(held.ok(), held.message);
  CHECK(held_answer.outputs.at("outputs").shape() == TensorShape{1, 2});
  CHECK(v1_alive.expired());
  PredictResponse r2;
  CHECK(serving::Predict(*v2, req, &r2).ok());
  const BatchingStats stats = scheduler->stats();
  CHECK(stats.runs == 2 + 1 + 2 + 1);
  CHECK(stats.queues == 0);
}

TEST_CASE("server batching: Stop runs what is queued and later runs go unbatched") {
  auto servable = LoadMnist();
  auto scheduler = Scheduler(Options(100, kForever, 1));  // a batch would wait for 100 rows
  servable->set_batcher(scheduler->NewBatcher());
  PredictResponse r;
  ServingStatus st;
  std::thread waiting([&] { st = serving::Predict(*servable, ImagesRequest(Images(1, 1)), &r); });
  WaitFor([&] { return scheduler->stats().enqueued == 1; }, "the request waits for its batch to fill");
  scheduler->Stop();  // runs it now, joins the thread
  waiting.join();
  CHECK_MESSAGE(st.ok(), st.message);
  CHECK(scheduler->stats().runs == 1);
  CHECK(serving::Predict(*servable, ImagesRequest(Images(1, 2)), &r).ok());
  CHECK(scheduler->stats().unbatched == 1);
}

TEST_CASE("server batching: pipeline serve's batching flags and their usage errors") {
  pipeline::test::ScopedTempDir dir("batching-cli");
  const std::string models = dir / "models";
  std::filesystem::create_directories(models);
  const std::string file = dir / "batching.config";
  std::ofstream(file) << "max_batch_size { value: 8 }\nallowed_batch_sizes: 4\n";
  auto serve = [&](std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"serve", "--model_base_path=" + models, "--port=0", "--rest_api_port=0"});
    return pipeline::test::RunPipeline(flags);
  };
  auto r = serve({"--batching_parameters_file=" + file});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--batching_parameters_file is set without setting --enable_batching to true.") != std::string::npos);
  r = serve({"--enable_batching", "--batching_parameters_file=" + file});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(file + ": Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8") !=
        std::string::npos);
  std::ofstream(file) << "max_batch_size { value: 8 }\nmax_batch { value: 8 }\n";
  r = serve({"--enable_batching=true", "--batching_parameters_file", file});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(file + ": line 2, column ") != std::string::npos);
  r = serve({"--enable_batching", "--batching_parameters_file=" + dir / "missing.config"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--batching_parameters_file: ") != std::string::npos);
  r = serve({"--enable_batchin"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown flag --enable_batchin (did you mean --enable_batching?)") != std::string::npos);
  r = serve({"--enable_batching=maybe"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--enable_batching=maybe: expected true or false") != std::string::npos);
}
