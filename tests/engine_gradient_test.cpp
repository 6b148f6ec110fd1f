// Gradient check, Caffe-style: for every layer type and activation, the
// backward pass must agree with central finite differences of the loss.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/network.h"
#include "engine/softmax_cross_entropy.h"

using namespace pipeline;

namespace {

double LossAt(Network& net, BatchPlan& plan, const std::vector<uint8_t>& labels) {
  net.Forward(plan);
  return SoftmaxCrossEntropy::Loss(plan.output.data(), labels.data(), plan.n, net.classes());
}

void CheckGradients(const std::string& activation, int threads = 1, int64_t n = 4) {
  Runtime runtime(threads);
  NetworkSpec spec;
  spec.input = 5;
  InitSpec init{"random_normal", 0.0, 0.5};
  spec.layers = {LayerSpec{"dense", "hidden", 4, activation, init, init},
                 LayerSpec{"dense", "out", 3, "linear", init, init}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  REQUIRE(net->Initialize(7).ok());

  BatchPlan& train = net->Plan(n, true);
  CHECK(static_cast<int64_t>(train.workers.size()) == WorkersFor(n, threads));
  BatchPlan& infer = net->Plan(n, false);
  Rng rng(3);
  for (auto& v : train.input) v = static_cast<float>(rng.Normal());
  infer.input = train.input;
  std::vector<uint8_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>((i * 7 + 1) % 3);
  net->ForwardBackward(train, labels.data());

  const float eps = 1e-2f;
  int checked = 0;
  for (Param* p : net->params()) {
    for (int64_t i = 0; i < p->size(); ++i) {
      const float saved = p->value[i];
      p->value[i] = saved + eps;
      const double up = LossAt(*net, infer, labels);
      p->value[i] = saved - eps;
      const double down = LossAt(*net, infer, labels);
      p->value[i] = saved;
      const double numeric = (up - down) / (2.0 * eps);
      const double analytic = p->grad[i];
      INFO(activation << " " << p->name << "[" << i << "] numeric " << numeric << " analytic " << analytic);
      CHECK(std::fabs(numeric - analytic) <= 2e-3 + 2e-2 * std::fabs(numeric));
      ++checked;
    }
  }
  CHECK(checked == 5 * 4 + 4 + 4 * 3 + 3);
}

// Every registered loss through the whole network: the gradient the plan
// builds must agree with central differences of the loss's own Sum, over
// float targets (classification: the loss's target rows; regression: numbers).
void CheckLossGradients(const LossSpec& loss, int64_t outputs, int threads = 1, int64_t n = 4) {
  Runtime runtime(threads);
  NetworkSpec spec;
  spec.input = 5;
  spec.loss = loss;
  InitSpec init{"random_normal", 0.0, 0.5};
  spec.layers = {LayerSpec{"dense", "hidden", 4, "tanh", init, init},
                 LayerSpec{"dense", "out", outputs, "linear", init, init}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  REQUIRE(net->Initialize(11).ok());
  BatchPlan& train = net->Plan(n, true);
  BatchPlan& infer = net->Plan(n, false);
  Rng rng(5);
  std::vector<float> rows(n * 5), targets(n * outputs);
  for (auto& v : rows) v = static_cast<float>(rng.Normal());
  std::vector<uint8_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>((i * 7 + 1) % std::max<int64_t>(outputs, 2));
    if (net->loss().regression()) {
      // Spread so huber sees both its quadratic and its linear part.
      for (int64_t j = 0; j < outputs; ++j) targets[i * outputs + j] = static_cast<float>(3.0 * rng.Normal());
    } else {
      net->loss().FillTarget(labels[i], targets.data() + i * outputs, outputs);
    }
  }
  BatchInput input{nullptr, nullptr, 0, 1.0f};
  input.rows = rows.data();
  input.targets = net->loss().regression() ? targets.data() : nullptr;
  net->ForwardBackward(train, labels.data(), &input);
  auto loss_at = [&] {
    net->Forward(infer, &input);
    return net->loss().Sum(infer.act.back().data(), infer.output.data(), targets.data(), n, outputs) /
           static_cast<double>(n);
  };
  const float eps = 1e-2f;
  int checked = 0;
  for (Param* p : net->params()) {
    for (int64_t i = 0; i < p->size(); ++i) {
      const float saved = p->value[i];
      p->value[i] = saved + eps;
      const double up = loss_at();
      p->value[i] = saved - eps;
      const double down = loss_at();
      p->value[i] = saved;
      const double numeric = (up - down) / (2.0 * eps);
      const double analytic = p->grad[i];
      INFO(loss.type << " " << p->name << "[" << i << "] numeric " << numeric << " analytic " << analytic);
      CHECK(std::fabs(numeric - analytic) <= 2e-3 + 2e-2 * std::fabs(numeric));
      ++checked;
    }
  }
  CHECK(checked == 5 * 4 + 4 + 4 * outputs + outputs);
}

}  // namespace

TEST_CASE("engine: loss gradient check / softmax_cross_entropy with label_smoothing") {
  CheckLossGradients(LossSpec{"softmax_cross_entropy", 0.2f, 1.0f}, 3);
}
TEST_CASE("engine: loss gradient check / sigmoid_cross_entropy binary and multi-output") {
  CheckLossGradients(LossSpec{"sigmoid_cross_entropy", 0.0f, 1.0f}, 1);
  CheckLossGradients(LossSpec{"sigmoid_cross_entropy", 0.0f, 1.0f}, 3);
}
TEST_CASE("engine: loss gradient check / mean_squared_error") {
  CheckLossGradients(LossSpec{"mean_squared_error", 0.0f, 1.0f}, 1);
  CheckLossGradients(LossSpec{"mean_squared_error", 0.0f, 1.0f}, 2, 2, 36);
}
TEST_CASE("engine: loss gradient check / huber") {
  CheckLossGradients(LossSpec{"huber", 0.0f, 1.5f}, 1);
  CheckLossGradients(LossSpec{"huber", 0.0f, 0.5f}, 2, 2, 36);
}

TEST_CASE("engine: dense gradient check / linear") { CheckGradients("linear"); }
TEST_CASE("engine: dense gradient check / relu") { CheckGradients("relu"); }
TEST_CASE("engine: dense gradient check / sigmoid") { CheckGradients("sigmoid"); }
TEST_CASE("engine: dense gradient check / tanh") { CheckGradients("tanh"); }
TEST_CASE("engine: dense gradient check / leaky_relu") { CheckGradients("leaky_relu"); }
TEST_CASE("engine: dense gradient check / elu") { CheckGradients("elu"); }
TEST_CASE("engine: dense gradient check / gelu") { CheckGradients("gelu"); }
TEST_CASE("engine: dense gradient check / softplus") { CheckGradients("softplus"); }
// softmax over the hidden layer's 4 units, then a linear layer of logits.
TEST_CASE("engine: dense gradient check / softmax") { CheckGradients("softmax"); }
// 36 rows on 2 threads and 48 on 3: the workers split the batch rows, then
// each computes its share of the parameter gradients over the whole batch:
// row ranges of the first kernel (from the transposed input) and whole other
// parameters (engine/param_partition.h). Finite
// differences on smooth activations (with 144 ReLU inputs some sit within eps
// of the kink), and ReLU by agreement with one worker.
TEST_CASE("engine: gradient check with the batch split across two or three workers") {
  CHECK(WorkersFor(36, 2) == 2);
  CheckGradients("tanh", 2, 36);
  CheckGradients("sigmoid", 2, 36);
  CHECK(WorkersFor(48, 3) == 3);
  CheckGradients("tanh", 3, 48);
  // Each worker's own pre-activation buffer (gelu, softplus) and softmax rows.
  for (const char* act : {"gelu", "softplus", "softmax", "elu"}) CheckGradients(act, 2, 36);
}

TEST_CASE("engine: split-batch gradients equal single-worker gradients") {
  auto grads = [](int threads) {
    Runtime runtime(threads);
    NetworkSpec spec;
    spec.input = 20;
    spec.layers = {LayerSpec{"dense", "a", 16, "relu"}, LayerSpec{"dense", "b", 5, "linear"}};
    std::unique_ptr<Network> net;
    REQUIRE(Network::Create(spec, &runtime, &net).ok());
    REQUIRE(net->Initialize(11).ok());
    BatchPlan& plan = net->Plan(64, true);
    Rng rng(5);
    for (auto& v : plan.input) v = static_cast<float>(rng.Uniform());
    std::vector<uint8_t> labels(64);
    for (auto& l : labels) l = static_cast<uint8_t>(rng.Below(5));
    const double loss = net->ForwardBackward(plan, labels.data());
    std::vector<float> all{static_cast<float>(loss)};
    for (Param* p : net->params()) all.insert(all.end(), p->grad.begin(), p->grad.end());
    return std::make_pair(plan.workers.size(), all);
  };
  const auto [w1, one] = grads(1);
  const auto [w2, two] = grads(2);
  CHECK(w1 == 1);
  CHECK(w2 == 2);
  REQUIRE(one.size() == two.size());
  CHECK(one[0] == doctest::Approx(two[0]).epsilon(1e-6));
  for (size_t i = 1; i < one.size(); ++i) {
    INFO("gradient element " << i);
    CHECK(one[i] == doctest::Approx(two[i]).epsilon(1e-4).scale(1e-3));
  }
}

TEST_CASE("engine: dense forward matches a hand computation") {
  Runtime runtime(1);
  NetworkSpec spec;
  spec.input = 3;
  spec.layers = {LayerSpec{"dense", "d", 2, "relu", InitSpec{"zeros"}, InitSpec{"zeros"}}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  auto params = net->params();
  // W [3,2] row-major, b [2]
  params[0]->value = {1, -1, 2, 0.5f, -3, 1};
  params[1]->value = {0.5f, -10};
  BatchPlan& plan = net->Plan(2, false);
  plan.input = {1, 2, 3, -1, 0, 1};
  net->Forward(plan);
  // row 0: [1*1+2*2+3*-3+0.5, 1*-1+2*0.5+3*1-10] = [-3.5, -7] -> relu [0, 0]
  // row 1: [-1+0-3+0.5, 1+0+1-10] = [-3.5, -8] -> relu [0, 0]; check a positive case too
  CHECK(plan.act[0] == std::vector<float>{0, 0, 0, 0});
  plan.input = {3, 1, 0, 0, 0, 0};
  net->Forward(plan);
  // row 0: [3+2+0.5, -3+0.5-10] = [5.5, -12.5] -> [5.5, 0]; row 1: bias only [0.5, -10] -> [0.5, 0]
  CHECK(plan.act[0] == std::vector<float>{5.5f, 0, 0.5f, 0});
}

TEST_CASE("engine: unknown layer type lists the known ones") {
  Runtime runtime(1);
  NetworkSpec spec;
  spec.input = 3;
  spec.layers = {LayerSpec{"conv", "c", 2}};
  std::unique_ptr<Network> net;
  Status st = Network::Create(spec, &runtime, &net);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() ==
        "Unknown layer type: conv (known types: avg_pool2d, batch_norm, conv2d, dense, dropout, flatten, max_pool2d)");
}

TEST_CASE("engine: FLOP and parameter counts of the tutorial MLP") {
  Runtime runtime(1);
  NetworkSpec spec;
  spec.input = 784;
  spec.layers = {LayerSpec{"dense", "a", 256, "relu"}, LayerSpec{"dense", "b", 256, "relu"},
                 LayerSpec{"dense", "c", 10, "linear"}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  CHECK(net->ParameterCount() == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
  // forward + weight grads for all three, input grads for layers 2 and 3: 1.21 MFLOP
  CHECK(net->TrainingFlopsPerExample() == 2 * (2 * (784 * 256 + 256 * 256 + 256 * 10)) + 2 * (256 * 256 + 256 * 10));
  CHECK(net->TrainingFlopsPerExample() == 1211392);
}
