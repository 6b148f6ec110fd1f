// Momentum as TensorFlow's MomentumOptimizer: a = mu*a + g; w -= lr*a, or with
// Nesterov w -= lr*(g + mu*a).
#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Momentum : public Optimizer {
 public:
  explicit Momentum(const OptimizerSpec& s) : mu_(static_cast<float>(s.momentum)), nesterov_(s.nesterov) {}
  std::vector<Slot> slots() override { return accum_.slots(); }

 protected:
  void AllocateState(const std::vector<Param*>& params) override {
    for (Param* p : params) accum_.Add(*p, "momentum");
  }

  void AddUpdate(Plan& plan, const dnnl::engine& e, const ParamSlice& s) override {
    float* a = accum_.at(s.index, s.offset);
    float* g = s.param->grad.data() + s.offset;
    update::Axpby(plan, e, s.name(), s.len, mu_, a, 1.0f, g, a);
    // Nesterov steps along g + mu*a (grad is scratch now, so it holds that),
    // plain momentum along the accumulator itself.
    if (nesterov_) update::Axpby(plan, e, s.name(), s.len, 1.0f, g, mu_, a, g);
    update::ScaledAdd(plan, e, s.name(), s.len, s.param->value.data() + s.offset, nesterov_ ? g : a, &scale_);
  }

 private:
  float mu_;
  bool nesterov_;
  StateTensors accum_;
};

std::unique_ptr<Optimizer> NewMomentum(const OptimizerSpec& s) { return std::make_unique<Momentum>(s); }

}  // namespace

PIPELINE_REGISTER(OptimizerRegistry, momentum, 1, NewMomentum);

}  // namespace pipeline
