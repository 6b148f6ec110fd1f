#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <numeric>

#include "engine/batch_gather.h"
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

TEST_CASE("engine: batch gather scales uint8 rows into floats") {
  Runtime runtime(1);
  std::vector<uint8_t> rows = {0, 255, 51, 102, 204, 1};  // 3 rows of 2
  std::vector<float> out(4);
  BatchGather g(runtime, 2, 2, 1.0f / 255.0f, out.data());
  const int64_t idx[] = {2, 0};
  g.Gather(rows.data(), idx);
  CHECK(out[0] == doctest::Approx(0.8f));
  CHECK(out[1] == doctest::Approx(1.0f / 255));
  CHECK(out[2] == 0.0f);
  CHECK(out[3] == 1.0f);
  g.GatherRange(rows.data(), 1);
  CHECK(out[0] == doctest::Approx(0.2f));
  CHECK(out[1] == doctest::Approx(0.4f));
}
