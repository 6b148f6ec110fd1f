// RMSProp as TensorFlow 1's RMSPropOptimizer (no momentum, epsilon inside the root):
//   ms = rho*ms + (1-rho)*g^2;  w -= lr * g / sqrt(ms + eps)
#include <deque>

#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Rmsprop : public Optimizer {
 public:
  explicit Rmsprop(const OptimizerSpec& s) : rho_(static_cast<float>(s.rho)), eps_(static_cast<float>(s.epsilon)) {}

  void Build(const std::vector<Param*>& params, const dnnl::engine& e) override {
    for (Param* p : params) {
      auto& ms = state_.emplace_back(p->size(), 0.0f);
      auto& tmp = scratch_.emplace_back(p->size(), 0.0f);
      names_.push_back(p->name + "/rms");
      update::Multiply(plan_, e, *p, p->grad.data(), p->grad.data(), tmp.data(), "gradient squared");
      update::Axpby(plan_, e, *p, rho_, ms.data(), 1.0f - rho_, tmp.data(), ms.data(), "mean square");
      update::DivideBySqrt(plan_, e, *p, p->grad.data(), ms.data(), eps_, update::EpsilonPlace::kInsideRoot,
                           tmp.data(), "direction");
      update::ScaledAdd(plan_, e, *p, tmp.data(), &scale_);
    }
  }

  std::vector<Slot> slots() override {
    std::vector<Slot> out;
    for (size_t i = 0; i < state_.size(); ++i) out.push_back({names_[i], &state_[i]});
    return out;
  }

 private:
  float rho_, eps_;
  std::deque<std::vector<float>> state_, scratch_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Optimizer> NewRmsprop(const OptimizerSpec& s) { return std::make_unique<Rmsprop>(s); }

}  // namespace pipeline
