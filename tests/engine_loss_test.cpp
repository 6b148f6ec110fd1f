#include <doctest/doctest.h>

#include <cmath>

#include "engine/runtime.h"
#include "engine/softmax_cross_entropy.h"

using namespace pipeline;

TEST_CASE("engine: softmax cross-entropy loss and gradient by hand") {
  Runtime runtime(1);
  const int64_t n = 2, c = 3;
  std::vector<float> logits = {1, 2, 3, 0, 1000, -1000}, logp(6), onehot = {0, 0, 1, 1, 0, 0}, grad(6);
  Plan plan;
  SoftmaxCrossEntropy::AddForward(plan, runtime.engine(), n, c, logits.data(), logp.data());
  float scale = 1.0f / n;
  SoftmaxCrossEntropy::AddGradient(plan, runtime.engine(), n, c, logits.data(), onehot.data(), grad.data(), &scale);
  plan.Execute(runtime.stream());
  runtime.stream().wait();
  const std::vector<uint8_t> labels = {2, 0};
  // Example 0: -log(e^3 / (e+e^2+e^3)) = log(1 + e^-1 + e^-2); example 1: 1000 - 0 exactly, no log(0).
  const double l0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
  CHECK(SoftmaxCrossEntropy::Loss(logp.data(), labels.data(), n, c) == doctest::Approx((l0 + 1000.0) / 2).epsilon(1e-6));
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(grad[0] == doctest::Approx(std::exp(1.0) / z / 2).epsilon(1e-5));
  CHECK(grad[1] == doctest::Approx(std::exp(2.0) / z / 2).epsilon(1e-5));
  CHECK(grad[2] == doctest::Approx((std::exp(3.0) / z - 1) / 2).epsilon(1e-5));
  CHECK(grad[3] == doctest::Approx(-0.5).epsilon(1e-6));
  CHECK(grad[4] == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(grad[5] == 0.0f);
}

TEST_CASE("engine: a rounding-positive log-probability never makes the loss negative") {
  const std::vector<float> logp = {1e-7f, -20.0f, -0.5f, -0.9f};
  const std::vector<uint8_t> labels = {0, 0};
  // example 0: -1e-7 -> 0; example 1: 0.5
  CHECK(SoftmaxCrossEntropy::Loss(logp.data(), labels.data(), 2, 2) == doctest::Approx(0.25));
}

TEST_CASE("engine: a NaN or -Inf log-probability makes the loss NaN or Inf - never 0") {
  // The divergence check (train.on_nan) reads this loss: once std::max(0.0, NaN)
  // turned a diverged batch's loss into 0.
  const float nan = std::nanf(""), inf = INFINITY;
  const std::vector<float> with_nan = {-0.5f, -0.9f, nan, -0.1f};
  const std::vector<uint8_t> labels = {0, 0};
  CHECK(std::isnan(SoftmaxCrossEntropy::Loss(with_nan.data(), labels.data(), 2, 2)));
  const std::vector<float> with_inf = {-inf, -0.1f, -0.5f, -0.9f};
  CHECK(SoftmaxCrossEntropy::Loss(with_inf.data(), labels.data(), 2, 2) == inf);
}

TEST_CASE("engine: a saturated example's softmax gradient is exactly 0 for its class") {
  // Confident, correct examples: p of the label rounds to 1 in float32, as
  // TensorFlow's softmax rounds it, so dz there is 0, not the 1e-7 that
  // exp(log-softmax) left (Adam turned that into a full step on weights whose
  // exact gradient is 1e-41: tests/tf/training_parity.py).
  Runtime runtime(1);
  const int64_t n = 4, c = 10;
  std::vector<float> logits(n * c), logp(n * c), onehot(n * c, 0.0f), grad(n * c);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < c; ++j) logits[i * c + j] = std::sin(1.0f + i * c + j) * 3.0f;
    logits[i * c + i] = 40.0f + 7.0f * i;  // label i, about 20 nats above the rest
    onehot[i * c + i] = 1.0f;
  }
  Plan plan;
  SoftmaxCrossEntropy::AddForward(plan, runtime.engine(), n, c, logits.data(), logp.data());
  float scale = 1.0f;
  SoftmaxCrossEntropy::AddGradient(plan, runtime.engine(), n, c, logits.data(), onehot.data(), grad.data(), &scale);
  plan.Execute(runtime.stream());
  runtime.stream().wait();
  for (int64_t i = 0; i < n; ++i) {
    INFO("example " << i);
    CHECK(grad[i * c + i] == 0.0f);
    for (int64_t j = 0; j < c; ++j)
      if (j != i) CHECK(grad[i * c + j] == doctest::Approx(std::exp(double(logits[i * c + j]) - logits[i * c + i])).epsilon(1e-3));
  }
}
