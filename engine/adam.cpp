// Adam as TensorFlow's AdamOptimizer computes it:
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
#include <cmath>
#include <deque>

#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Adam : public Optimizer {
 public:
  explicit Adam(const OptimizerSpec& s) : b1_(s.beta1), b2_(s.beta2), eps_(static_cast<float>(s.epsilon)) {}

  void Build(const std::vector<Param*>& params, const dnnl::engine& e) override {
    for (Param* p : params) {
      auto& m = state_.emplace_back(p->size(), 0.0f);
      auto& v = state_.emplace_back(p->size(), 0.0f);
      auto& tmp = scratch_.emplace_back(p->size(), 0.0f);
      names_.push_back(p->name + "/m");
      names_.push_back(p->name + "/v");
      const float b1 = static_cast<float>(b1_), b2 = static_cast<float>(b2_);
      update::Axpby(plan_, e, *p, b1, m.data(), 1.0f - b1, p->grad.data(), m.data(), "first moment");
      update::Multiply(plan_, e, *p, p->grad.data(), p->grad.data(), tmp.data(), "gradient squared");
      update::Axpby(plan_, e, *p, b2, v.data(), 1.0f - b2, tmp.data(), v.data(), "second moment");
      update::DivideBySqrt(plan_, e, *p, m.data(), v.data(), eps_, update::EpsilonPlace::kOutsideRoot, tmp.data(),
                           "direction");
      update::ScaledAdd(plan_, e, *p, tmp.data(), &scale_);
    }
  }

  std::vector<Slot> slots() override {
    std::vector<Slot> out;
    for (size_t i = 0; i < state_.size(); ++i) out.push_back({names_[i], &state_[i]});
    return out;
  }

 protected:
  float StepScale(float lr, int64_t t) const override {
    const double td = static_cast<double>(t);
    return static_cast<float>(-lr * std::sqrt(1.0 - std::pow(b2_, td)) / (1.0 - std::pow(b1_, td)));
  }

 private:
  double b1_, b2_;
  float eps_;
  std::deque<std::vector<float>> state_, scratch_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Optimizer> NewAdam(const OptimizerSpec& s) { return std::make_unique<Adam>(s); }

}  // namespace pipeline
