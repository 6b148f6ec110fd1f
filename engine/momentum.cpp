// Momentum as TensorFlow's MomentumOptimizer: a = mu*a + g; w -= lr*a, or with
// Nesterov w -= lr*(g + mu*a).
#include <deque>

#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Momentum : public Optimizer {
 public:
  explicit Momentum(const OptimizerSpec& s) : mu_(static_cast<float>(s.momentum)), nesterov_(s.nesterov) {}

  void Build(const std::vector<Param*>& params, const dnnl::engine& e) override {
    for (Param* p : params) {
      auto& accum = accum_.emplace_back(p->size(), 0.0f);
      names_.push_back(p->name + "/momentum");
      update::Axpby(plan_, e, *p, mu_, accum.data(), 1.0f, p->grad.data(), accum.data(), "accumulate");
      if (nesterov_) {
        update::Axpby(plan_, e, *p, 1.0f, p->grad.data(), mu_, accum.data(), p->grad.data(), "nesterov");
      } else {
        // grad is scratch now: copy the accumulator into it (1*a + 0*g) to scale it.
        update::Axpby(plan_, e, *p, 1.0f, accum.data(), 0.0f, p->grad.data(), p->grad.data(), "direction");
      }
      update::ScaledAdd(plan_, e, *p, p->grad.data(), &scale_);
    }
  }

  std::vector<Slot> slots() override {
    std::vector<Slot> out;
    for (size_t i = 0; i < accum_.size(); ++i) out.push_back({names_[i], &accum_[i]});
    return out;
  }

 private:
  float mu_;
  bool nesterov_;
  std::deque<std::vector<float>> accum_;  // deque: stable addresses for the plan
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Optimizer> NewMomentum(const OptimizerSpec& s) { return std::make_unique<Momentum>(s); }

}  // namespace pipeline
