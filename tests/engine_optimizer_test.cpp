// Each optimizer's oneDNN update against a straightforward reference loop,
// equal to float rounding, over several steps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/strings.h"
#include "engine/optimizer.h"
#include "engine/runtime.h"

using namespace pipeline;

namespace {

struct Reference {
  std::vector<double> w, a, b;  // value and up to two state slots
};

// A parameter of `dims` whose elements repeat the same six values and
// gradients, so element i follows the reference's element i % 6 whichever
// worker's slice (UpdateSlices) holds it.
void RunShape(const OptimizerSpec& spec, float lr, std::vector<int64_t> dims, int workers,
              const std::function<void(Reference&, const std::vector<float>& g, int t)>& reference) {
  Runtime runtime(1);
  const std::vector<float> start = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.25f};
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  Param p{"p", dims, std::vector<float>(n), std::vector<float>(n)};
  for (int64_t i = 0; i < n; ++i) p.value[i] = start[i % 6];
  std::unique_ptr<Optimizer> opt;
  REQUIRE(CreateOptimizer(spec, &opt).ok());
  opt->Build({&p}, runtime.engine(), workers);
  REQUIRE(opt->workers() == workers);
  Reference ref{std::vector<double>(start.begin(), start.end()), std::vector<double>(6), std::vector<double>(6)};
  for (int t = 1; t <= 4; ++t) {
    // Element 4 always has a zero gradient, as dead ReLUs do: Adam's second
    // moment stays 0 there and only epsilon keeps 0/0 away.
    std::vector<float> g = {0.1f * t, -0.2f, 0.3f, -0.4f * t, 0.0f, 1.0f};
    for (int64_t i = 0; i < n; ++i) p.grad[i] = g[i % 6];
    opt->Apply(runtime.stream(), lr, 0.0);
    runtime.stream().wait();
    reference(ref, g, t);
    for (int64_t i = 0; i < n; ++i) {
      INFO(spec.type << " " << n << " elements on " << workers << " workers, step " << t << " element " << i);
      CHECK(std::isfinite(p.value[i]));
      CHECK(p.value[i] == doctest::Approx(ref.w[i % 6]).epsilon(1e-5));
    }
  }
}

// Kernel-shaped and bias-shaped parameters, whole and cut for 4 workers.
void Run(const OptimizerSpec& spec, float lr,
         const std::function<void(Reference&, const std::vector<float>& g, int t)>& reference) {
  RunShape(spec, lr, {2, 3}, 1, reference);
  RunShape(spec, lr, {6}, 1, reference);
  // Cut as worker threads update them: 48 elements in runs of 16, 16, 0
  // and 16; 6 elements all on one worker and none on the other three.
  RunShape(spec, lr, {8, 6}, 4, reference);
  RunShape(spec, lr, {48}, 4, reference);
  RunShape(spec, lr, {6}, 4, reference);
}

}  // namespace

TEST_CASE("engine: sgd update") {
  Run(OptimizerSpec{"sgd"}, 0.1f, [](Reference& r, const std::vector<float>& g, int) {
    for (int i = 0; i < 6; ++i) r.w[i] -= 0.1 * g[i];
  });
}

TEST_CASE("engine: momentum update / plain and nesterov") {
  OptimizerSpec spec{"momentum"};
  spec.momentum = 0.9;
  Run(spec, 0.1f, [](Reference& r, const std::vector<float>& g, int) {
    for (int i = 0; i < 6; ++i) {
      r.a[i] = 0.9 * r.a[i] + g[i];
      r.w[i] -= 0.1 * r.a[i];
    }
  });
  spec.nesterov = true;
  Run(spec, 0.1f, [](Reference& r, const std::vector<float>& g, int) {
    for (int i = 0; i < 6; ++i) {
      r.a[i] = 0.9 * r.a[i] + g[i];
      r.w[i] -= 0.1 * (g[i] + 0.9 * r.a[i]);
    }
  });
}

TEST_CASE("engine: adam update") {
  OptimizerSpec spec{"adam"};
  spec.epsilon = 1e-7;
  Run(spec, 0.01f, [](Reference& r, const std::vector<float>& g, int t) {
    const double lr_t = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 6; ++i) {
      r.a[i] = 0.9 * r.a[i] + 0.1 * g[i];
      r.b[i] = 0.999 * r.b[i] + 0.001 * g[i] * g[i];
      r.w[i] -= lr_t * r.a[i] / (std::sqrt(r.b[i]) + 1e-7);
    }
  });
}

TEST_CASE("engine: rmsprop update") {
  OptimizerSpec spec{"rmsprop"};
  spec.rho = 0.9;
  spec.epsilon = 1e-7;
  Run(spec, 0.01f, [](Reference& r, const std::vector<float>& g, int t) {
    for (int i = 0; i < 6; ++i) {
      if (t == 1) r.a[i] = 1.0;  // TF1's RMSPropOptimizer starts its mean square at 1
      r.a[i] = 0.9 * r.a[i] + 0.1 * g[i] * g[i];
      r.w[i] -= 0.01 * g[i] / std::sqrt(r.a[i] + 1e-7);
    }
  });
}

// g = min(1, clip / ||g||) * g + decay * w before the solver's step, the
// norm over both parameters, here on 4 workers that cut the kernel.
TEST_CASE("engine: gradient clipping to a global norm and weight decay before each solver's step") {
  for (const std::string type : {"sgd", "adam"}) {
    for (const double clip : {0.5, 100.0}) {  // clips, and a clip above the norm that does nothing
      Runtime runtime(1);
      Param kernel{"k", {8, 6}, std::vector<float>(48), std::vector<float>(48)};
      Param bias{"b", {6}, std::vector<float>(6), std::vector<float>(6)};
      std::vector<Param*> params = {&kernel, &bias};
      for (Param* p : params)
        for (size_t i = 0; i < p->value.size(); ++i) p->value[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
      GradientRules rules;
      rules.clip_global_norm = clip;
      rules.weight_decay = {0.2f, 0.0f};  // the kernel's, none on the bias
      OptimizerSpec spec{type};
      std::unique_ptr<Optimizer> opt;
      REQUIRE(CreateOptimizer(spec, &opt).ok());
      opt->Build(params, runtime.engine(), 4, rules);
      CHECK(opt->clips());
      std::vector<std::vector<double>> w, m(2), v(2);
      for (Param* p : params) w.emplace_back(p->value.begin(), p->value.end());
      for (int i = 0; i < 2; ++i) m[i].assign(w[i].size(), 0.0), v[i].assign(w[i].size(), 0.0);
      const float lr = 0.01f;
      for (int t = 1; t <= 3; ++t) {
        double sum_squares = 0.0;
        for (Param* p : params)
          for (size_t i = 0; i < p->grad.size(); ++i) {
            p->grad[i] = 0.05f * t * static_cast<float>(static_cast<int>(i % 5) - 2);
            sum_squares += static_cast<double>(p->grad[i]) * p->grad[i];
          }
        const double scale = std::min(1.0, clip / std::sqrt(sum_squares));
        if (clip < 1.0) CHECK(scale < 1.0);
        const double lr_t = lr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
        for (size_t j = 0; j < 2; ++j)
          for (size_t i = 0; i < w[j].size(); ++i) {
            const double g = scale * params[j]->grad[i] + rules.weight_decay[j] * w[j][i];
            if (type == "sgd") {
              w[j][i] -= lr * g;
            } else {
              m[j][i] = 0.9 * m[j][i] + 0.1 * g;
              v[j][i] = 0.999 * v[j][i] + 0.001 * g * g;
              w[j][i] -= lr_t * m[j][i] / (std::sqrt(v[j][i]) + 1e-7);
            }
          }
        opt->Apply(runtime.stream(), lr, sum_squares);
        for (size_t j = 0; j < 2; ++j)
          for (size_t i = 0; i < w[j].size(); ++i) {
            INFO(type << " clip " << clip << " step " << t << " " << params[j]->name << "[" << i << "]");
            CHECK(params[j]->value[i] == doctest::Approx(w[j][i]).epsilon(1e-5));
          }
      }
    }
  }
}

TEST_CASE("engine: unknown optimizer lists the known ones") {
  std::unique_ptr<Optimizer> opt;
  Status st = CreateOptimizer(OptimizerSpec{"adagrad"}, &opt);
  // Every registered optimizer, alphabetical, read back from the registry so
  // that adding one touches no test; the four the tutorial's peers use must be there.
  const std::vector<std::string> known = OptimizerRegistry::Names();
  CHECK(std::is_sorted(known.begin(), known.end()));
  for (const char* name : {"adam", "momentum", "rmsprop", "sgd"})
    CHECK(std::find(known.begin(), known.end(), name) != known.end());
  CHECK(st.message() == "Unknown optimizer type: adagrad (known types: " + Join(known, ", ") + ")");
}
