#include <doctest/doctest.h>

#include <cmath>

#include "engine/loss.h"
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

namespace {

// Runs a registered loss's forward and gradient plans on [n, c] logits and
// targets; returns the mean loss (Sum / n) and fills out and grad.
double RunLoss(const LossSpec& spec, int64_t n, int64_t c, std::vector<float> z, const std::vector<float>& t,
               std::vector<float>* out, std::vector<float>* grad) {
  Runtime runtime(1);
  std::unique_ptr<Loss> loss;
  REQUIRE(CreateLoss(spec, &loss).ok());
  out->assign(n * c, 0.0f);
  grad->assign(n * c, 0.0f);
  Plan plan;
  float scale = 1.0f / static_cast<float>(n);
  loss->AddForward(plan, runtime.engine(), n, c, z.data(), out->data());
  loss->AddGradient(plan, runtime.engine(), n, c, z.data(), t.data(), grad->data(), &scale);
  plan.Execute(runtime.stream());
  runtime.stream().wait();
  return loss->Sum(z.data(), out->data(), t.data(), n, c) / static_cast<double>(n);
}

}  // namespace

TEST_CASE("engine: softmax cross-entropy with label smoothing by hand") {
  std::unique_ptr<Loss> loss;
  REQUIRE(CreateLoss(LossSpec{"softmax_cross_entropy", 0.3f, 1.0f}, &loss).ok());
  std::vector<float> t(3);
  loss->FillTarget(2, t.data(), 3);  // 0.3/3 = 0.1 each, plus 0.7 on the label
  CHECK(t[0] == doctest::Approx(0.1f));
  CHECK(t[1] == doctest::Approx(0.1f));
  CHECK(t[2] == doctest::Approx(0.8f));
  std::vector<float> out, grad;
  const double l = RunLoss(LossSpec{"softmax_cross_entropy", 0.3f, 1.0f}, 1, 3, {1, 2, 3}, t, &out, &grad);
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  // -sum t_c (z_c - lse) = lse - (0.1*1 + 0.1*2 + 0.8*3)
  CHECK(l == doctest::Approx(lse - 2.7).epsilon(1e-5));  // float32 log-softmax
  CHECK(grad[0] == doctest::Approx(std::exp(1.0 - lse) - 0.1).epsilon(1e-5));
  CHECK(grad[2] == doctest::Approx(std::exp(3.0 - lse) - 0.8).epsilon(1e-5));
}

TEST_CASE("engine: sigmoid cross-entropy by hand - huge logits without log(0)") {
  std::vector<float> out, grad;
  // Example 0: z = 0, t = 1: log 2. Example 1: z = -100, t = 1: 100 (+log1p(e^-100)).
  // Two rows, one output each; the mean over rows.
  const double l = RunLoss(LossSpec{"sigmoid_cross_entropy", 0, 1}, 2, 1, {0.0f, -100.0f}, {1.0f, 1.0f}, &out, &grad);
  CHECK(l == doctest::Approx((std::log(2.0) + 100.0) / 2).epsilon(1e-9));
  CHECK(out[0] == doctest::Approx(0.5f));
  CHECK(grad[0] == doctest::Approx((0.5 - 1.0) / 2).epsilon(1e-6));
  CHECK(grad[1] == doctest::Approx(-0.5).epsilon(1e-6));
  // Two outputs: the mean over them (Keras' BinaryCrossentropy), so dz carries 1/C.
  const double l2 = RunLoss(LossSpec{"sigmoid_cross_entropy", 0, 1}, 1, 2, {0.0f, 2.0f}, {0.0f, 0.0f}, &out, &grad);
  CHECK(l2 == doctest::Approx((std::log(2.0) + 2.0 + std::log1p(std::exp(-2.0))) / 2).epsilon(1e-9));
  CHECK(grad[1] == doctest::Approx(1.0 / (1.0 + std::exp(-2.0)) / 2).epsilon(1e-5));
}

TEST_CASE("engine: mean squared error by hand") {
  std::vector<float> out, grad;
  // Rows (1, 3) vs (0, 0): (1 + 9) / 2 = 5; (2, 2) vs (2, 4): 4 / 2 = 2; mean over rows 3.5.
  const double l = RunLoss(LossSpec{"mean_squared_error", 0, 1}, 2, 2, {1, 3, 2, 2}, {0, 0, 2, 4}, &out, &grad);
  CHECK(l == doctest::Approx(3.5));
  CHECK(out == std::vector<float>{1, 3, 2, 2});  // the predictions are the outputs
  // 2 (z - t) / C / n
  CHECK(grad == std::vector<float>{0.5f, 1.5f, 0.0f, -1.0f});
}

TEST_CASE("engine: huber by hand on both sides of delta") {
  std::vector<float> out, grad;
  // delta 1: d = 0.5 -> 0.125; d = -3 -> 1 * (3 - 0.5) = 2.5; one row of two outputs: mean 1.3125.
  const double l = RunLoss(LossSpec{"huber", 0, 1.0f}, 1, 2, {0.5f, -3.0f}, {0.0f, 0.0f}, &out, &grad);
  CHECK(l == doctest::Approx(1.3125));
  // clip(d, -1, 1) / C
  CHECK(grad[0] == doctest::Approx(0.25f));
  CHECK(grad[1] == doctest::Approx(-0.5f));
}

TEST_CASE("engine: an unknown loss names the closest known one") {
  std::unique_ptr<Loss> loss;
  const Status st = CreateLoss(LossSpec{"hubber", 0, 1}, &loss);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("did you mean huber?") != std::string::npos);
}
