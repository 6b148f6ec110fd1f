// RMSProp as TensorFlow 1's RMSPropOptimizer (no momentum, epsilon inside the root):
//   ms = rho*ms + (1-rho)*g^2;  w -= lr * g / sqrt(ms + eps)
// with ms starting at 1, as TF1 initializes its "rms" slot (rmsprop.py:
// init_ops.ones_initializer), not at 0 as Keras' RMSprop does: from 0 the first
// step is lr * g / sqrt((1-rho) g^2), about 3.2 lr * sign(g) whatever the
// gradient's size. tests/tf/training_parity.py found the difference.
#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Rmsprop : public Optimizer {
 public:
  explicit Rmsprop(const OptimizerSpec& s) : rho_(static_cast<float>(s.rho)), eps_(static_cast<float>(s.epsilon)) {}
  std::vector<Slot> slots() override { return state_.slots(); }

 protected:
  void AllocateState(const std::vector<Param*>& params) override {
    for (Param* p : params) {
      state_.Add(*p, "rms", 1.0f);
      scratch_.Add(*p, "scratch");
    }
  }

  void AddUpdate(Plan& plan, const dnnl::engine& e, const ParamSlice& s) override {
    float* ms = state_.at(s.index, s.offset);
    float* tmp = scratch_.at(s.index, s.offset);
    float* g = s.param->grad.data() + s.offset;
    update::AddScaledSquare(plan, e, s.name(), s.len, rho_, ms, 1.0f - rho_, g);
    update::RootDenominator(plan, e, s.name(), s.len, ms, eps_, update::EpsilonPlace::kInsideRoot, tmp);
    update::AddScaledQuotient(plan, e, s.name(), s.len, s.param->value.data() + s.offset, g, tmp, &scale_);
  }

 private:
  float rho_, eps_;
  StateTensors state_, scratch_;
};

std::unique_ptr<Optimizer> NewRmsprop(const OptimizerSpec& s) { return std::make_unique<Rmsprop>(s); }

}  // namespace

PIPELINE_REGISTER(OptimizerRegistry, rmsprop, 3, NewRmsprop);

}  // namespace pipeline
