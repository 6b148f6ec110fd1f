#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <numeric>

#include "engine/network.h"
#include "engine/initializer.h"
#include "engine/schedule.h"

using namespace pipeline;

TEST_CASE("engine: rng streams are fixed by the seed") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    CHECK(x == b.Next());
    CHECK(x != c.Next());
  }
  std::vector<int64_t> idx(10);
  std::iota(idx.begin(), idx.end(), 0);
  Rng s(1);
  Shuffle(idx.data(), 10, s);
  std::vector<int64_t> sorted = idx;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 10; ++i) CHECK(sorted[i] == i);  // a permutation
}

TEST_CASE("engine: initializers have the documented statistics") {
  const int64_t n = 200000;
  std::vector<float> v(n);
  Rng rng(5);
  REQUIRE(Initialize(InitSpec{"random_normal", 0.0, 1.0}, 784, 256, rng, v.data(), n).ok());
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / n, var = 0;
  for (float x : v) var += (x - mean) * (x - mean);
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::sqrt(var / n) == doctest::Approx(1.0).epsilon(0.01));

  REQUIRE(Initialize(InitSpec{"glorot_uniform"}, 784, 256, rng, v.data(), n).ok());
  const double limit = std::sqrt(6.0 / (784 + 256));
  CHECK(*std::max_element(v.begin(), v.end()) <= limit);
  CHECK(*std::min_element(v.begin(), v.end()) >= -limit);
  CHECK(*std::max_element(v.begin(), v.end()) > 0.99 * limit);

  REQUIRE(Initialize(InitSpec{"truncated_normal", 1.0, 0.5}, 1, 1, rng, v.data(), n).ok());
  CHECK(*std::max_element(v.begin(), v.end()) <= 2.0f);
  CHECK(*std::min_element(v.begin(), v.end()) >= 0.0f);

  REQUIRE(Initialize(InitSpec{"he_normal"}, 100, 10, rng, v.data(), n).ok());
  var = 0;
  for (float x : v) var += x * x;
  CHECK(var / n == doctest::Approx(2.0 / 100).epsilon(0.03));  // He: variance 2/fan_in

  REQUIRE(Initialize(InitSpec{"zeros"}, 1, 1, rng, v.data(), n).ok());
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));
  CHECK(Initialize(InitSpec{"ones"}, 1, 1, rng, v.data(), n).message().find("known types: glorot_normal") !=
        std::string::npos);
}

TEST_CASE("engine: learning-rate schedules by hand") {
  ScheduleSpec s;
  CHECK(LearningRateAt(s, 0.1, 7, 10) == 0.1);
  s = {"step", 0.5, 3};
  CHECK(LearningRateAt(s, 0.1, 2, 10) == doctest::Approx(0.1));
  CHECK(LearningRateAt(s, 0.1, 3, 10) == doctest::Approx(0.05));
  CHECK(LearningRateAt(s, 0.1, 7, 10) == doctest::Approx(0.025));
  s = {"exponential", 0.5, 2};
  CHECK(LearningRateAt(s, 0.1, 1, 10) == doctest::Approx(0.1 * std::sqrt(0.5)));
  s = {"cosine", 0, 0, 0.01};
  CHECK(LearningRateAt(s, 0.1, 0, 10) == doctest::Approx(0.1));
  CHECK(LearningRateAt(s, 0.1, 5, 10) == doctest::Approx(0.055));
}

TEST_CASE("engine: each worker gathers and scales its own uint8 rows") {
  Runtime runtime(2);
  NetworkSpec spec;
  spec.input = 2;
  spec.layers = {LayerSpec{"dense", "d", 2, "linear", InitSpec{"zeros"}, InitSpec{"zeros"}}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  BatchPlan& plan = net->Plan(32, false);  // 2 workers of 16 rows
  REQUIRE(plan.workers.size() == 2);
  std::vector<uint8_t> rows(64 * 2);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>(i);
  std::vector<int64_t> idx(32);
  for (int64_t i = 0; i < 32; ++i) idx[i] = 63 - 2 * i;  // rows 63, 61, ..., 1
  const BatchInput input{rows.data(), idx.data(), 0, 0.5f};
  net->Forward(plan, &input);
  for (int64_t i = 0; i < 32; ++i) {
    CHECK(plan.input[2 * i] == 0.5f * static_cast<float>(2 * idx[i]));
    CHECK(plan.input[2 * i + 1] == 0.5f * static_cast<float>(2 * idx[i] + 1));
  }
  const BatchInput range{rows.data(), nullptr, 10, 1.0f};
  net->Forward(plan, &range);
  CHECK(plan.input[0] == 20.0f);
  CHECK(plan.input[63] == 83.0f);
}
