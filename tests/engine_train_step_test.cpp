// Network::TrainStep: forward, backward, parameter gradients, finiteness check and the
// optimizer update in one parallel region must equal the plain sequence.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "engine/network.h"
#include "engine/optimizer.h"

using namespace pipeline;

namespace {

struct Trainer {
  Runtime runtime;
  std::unique_ptr<Network> net;
  std::unique_ptr<Optimizer> opt;
  std::vector<uint8_t> images, labels;
  std::vector<int64_t> indices;

  Trainer(int threads, const std::string& optimizer, const GradientRules& rules = GradientRules()) : runtime(threads) {
    NetworkSpec spec;
    spec.input = 30;
    spec.layers = {LayerSpec{"dense", "a", 20, "relu", {"random_normal", 0, 0.3}, {"zeros"}},
                   LayerSpec{"dense", "b", 4, "linear", {"random_normal", 0, 0.3}, {"zeros"}}};
    REQUIRE(Network::Create(spec, &runtime, &net).ok());
    REQUIRE(net->Initialize(3).ok());
    REQUIRE(CreateOptimizer(OptimizerSpec{optimizer}, &opt).ok());
    opt->Build(net->params(), runtime.engine(), threads, rules);
    Rng rng(9);
    images.resize(200 * 30);
    for (auto& x : images) x = static_cast<uint8_t>(rng.Below(256));
    for (int i = 0; i < 64; ++i) labels.push_back(static_cast<uint8_t>(rng.Below(4)));
    for (int i = 0; i < 64; ++i) indices.push_back(static_cast<int64_t>(rng.Below(200)));
  }

  std::vector<float> Weights() {
    std::vector<float> all;
    for (Param* p : net->params()) all.insert(all.end(), p->value.begin(), p->value.end());
    return all;
  }
};

// Five steps of `plain` (forward/backward, then the optimizer on one thread)
// against five TrainSteps of `stepped`: equal losses and weights.
void CheckSameSteps(Trainer& plain, Trainer& stepped, const std::string& what) {
  BatchPlan& p1 = plain.net->Plan(64, true);
  BatchPlan& p2 = stepped.net->Plan(64, true);
  const BatchInput input{plain.images.data(), plain.indices.data(), 0, 1.0f / 255.0f};
  for (int step = 0; step < 5; ++step) {
    const double l1 = plain.net->ForwardBackward(p1, plain.labels.data(), &input);
    // Clipping's norm, summed here from the gradients themselves.
    double sum_squares = 0.0;
    for (Param* p : plain.net->params())
      for (float g : p->grad) sum_squares += static_cast<double>(g) * g;
    plain.opt->Apply(plain.runtime.stream(), 0.05f, sum_squares);
    const TrainStepResult r2 = stepped.net->TrainStep(p2, stepped.labels.data(), input, *stepped.opt, 0.05f);
    CHECK(r2.applied());
    CHECK(r2.loss == doctest::Approx(l1).epsilon(1e-6));
  }
  CHECK(plain.opt->steps() == 5);
  CHECK(stepped.opt->steps() == 5);
  const auto w1 = plain.Weights(), w2 = stepped.Weights();
  for (size_t i = 0; i < w1.size(); ++i) {
    INFO(what << " weight " << i);
    CHECK(w2[i] == doctest::Approx(w1[i]).epsilon(1e-4).scale(1e-3));
  }
}

}  // namespace

// TrainStep's own path: forward, backward, check and update in one parallel
// region with the optimizer's update split across the workers (not the fused
// SGD step, set_fuse_sgd, which has its own case below).
TEST_CASE("engine: a train step in one parallel region on two workers equals forward/backward then update on one") {
  for (const std::string optimizer : {"sgd", "momentum", "adam", "rmsprop"}) {
    Trainer one(1, optimizer), two(2, optimizer);
    REQUIRE(two.net->Plan(64, true).workers.size() == 2);
    // As many update slices as workers: TrainStep runs the parallel path, not
    // its fallback for a batch split differently from the optimizer.
    REQUIRE(two.opt->workers() == 2);
    CheckSameSteps(one, two, optimizer);
  }
}

// Clipping reads every worker's share of the gradients' sum of squares, and
// decay each kernel's weights: the same step on one worker or two. The norm
// is checked to exceed the clip, so the step clips.
TEST_CASE("engine: a clipped and decayed train step on two workers equals forward/backward then update on one") {
  for (const std::string optimizer : {"sgd", "adam"}) {
    GradientRules rules;
    rules.clip_global_norm = 0.05;
    rules.weight_decay = {0.1f, 0.0f, 0.2f, 0.0f};  // a/kernel, a/bias, b/kernel, b/bias
    Trainer one(1, optimizer, rules), two(2, optimizer, rules);
    BatchPlan& plan = one.net->Plan(64, true);
    const BatchInput input{one.images.data(), one.indices.data(), 0, 1.0f / 255.0f};
    one.net->ForwardBackward(plan, one.labels.data(), &input);
    double sum_squares = 0.0;
    for (Param* p : one.net->params())
      for (float g : p->grad) sum_squares += static_cast<double>(g) * g;
    REQUIRE(std::sqrt(sum_squares) > 2 * rules.clip_global_norm);
    Trainer again(1, optimizer, rules);  // a fresh start for the comparison
    CHECK(two.opt->PlainStepScale() == nullptr);  // SGD with rules is not fused
    CheckSameSteps(again, two, optimizer + " clipped and decayed");
  }
}

TEST_CASE("engine: a non-finite train step changes no parameter and counts no step") {
  Trainer t(2, "adam");
  BatchPlan& plan = t.net->Plan(64, true);
  const BatchInput input{t.images.data(), t.indices.data(), 0, 1.0f / 255.0f};
  REQUIRE(t.net->TrainStep(plan, t.labels.data(), input, *t.opt, 0.01f).applied());
  // A NaN output bias reaches every logit (one in the first layer would not:
  // ReLU maps NaN to 0).
  Param* out_bias = t.net->params().back();
  out_bias->value[1] = std::numeric_limits<float>::quiet_NaN();
  const size_t poisoned = t.Weights().size() - out_bias->value.size() + 1;
  const auto before = t.Weights();
  const auto m_before = *t.opt->slots()[0].values;
  const TrainStepResult r = t.net->TrainStep(plan, t.labels.data(), input, *t.opt, 0.01f);
  CHECK_FALSE(r.applied());
  CHECK_FALSE(r.loss_finite);
  CHECK(t.opt->steps() == 1);
  CHECK(*t.opt->slots()[0].values == m_before);
  const auto after = t.Weights();
  for (size_t i = 0; i < before.size(); ++i) {
    if (i == poisoned) continue;  // NaN != NaN
    CHECK(after[i] == before[i]);
  }
}

TEST_CASE("engine: a short last batch on fewer workers than the optimizer still trains") {
  Trainer t(2, "momentum");
  BatchPlan& tail = t.net->Plan(8, true);  // 8 rows: one worker, optimizer has two slices
  REQUIRE(tail.workers.size() == 1);
  const BatchInput input{t.images.data(), t.indices.data(), 0, 1.0f / 255.0f};
  const auto before = t.Weights();
  CHECK(t.net->TrainStep(tail, t.labels.data(), input, *t.opt, 0.1f).applied());
  CHECK(t.opt->steps() == 1);
  CHECK(t.Weights() != before);
}

TEST_CASE("engine: a fused SGD step equals gradients then update") {
  for (int threads : {1, 2}) {
    Trainer plain(1, "sgd"), fused(threads, "sgd");
    fused.net->set_fuse_sgd(true);
    CheckSameSteps(plain, fused, std::to_string(threads) + " threads");
  }
}

TEST_CASE("engine: a fused SGD step that is not finite is reported and not counted") {
  Trainer t(2, "sgd");
  t.net->set_fuse_sgd(true);
  BatchPlan& plan = t.net->Plan(64, true);
  const BatchInput input{t.images.data(), t.indices.data(), 0, 1.0f / 255.0f};
  REQUIRE(t.net->TrainStep(plan, t.labels.data(), input, *t.opt, 0.01f).applied());
  // The loss is finite but the step is not (an infinite learning rate here:
  // the fused path never materializes the gradient, so it checks the weights).
  const TrainStepResult r =
      t.net->TrainStep(plan, t.labels.data(), input, *t.opt, std::numeric_limits<float>::infinity());
  CHECK(r.loss_finite);
  CHECK_FALSE(r.gradients_finite);
  CHECK_FALSE(r.applied());
  CHECK(t.opt->steps() == 1);
  // A NaN loss: nothing runs past the forward pass and nothing changes.
  Trainer u(2, "sgd");
  u.net->set_fuse_sgd(true);
  BatchPlan& up = u.net->Plan(64, true);
  u.net->params().back()->value[0] = std::numeric_limits<float>::quiet_NaN();
  const auto before = u.Weights();
  const TrainStepResult nan = u.net->TrainStep(up, u.labels.data(), input, *u.opt, 0.01f);
  CHECK_FALSE(nan.loss_finite);
  CHECK(u.opt->steps() == 0);
  const auto after = u.Weights();
  for (size_t i = 0; i + 4 < before.size(); ++i) CHECK(after[i] == before[i]);  // all but the output bias
}
