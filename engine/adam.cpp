// Adam as TensorFlow's AdamOptimizer computes it:
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
#include <cmath>

#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Adam : public Optimizer {
 public:
  explicit Adam(const OptimizerSpec& s) : b1_(s.beta1), b2_(s.beta2), eps_(static_cast<float>(s.epsilon)) {}
  std::vector<Slot> slots() override { return state_.slots(); }

 protected:
  void AllocateState(const std::vector<Param*>& params) override {
    for (Param* p : params) {
      state_.Add(*p, "m");
      state_.Add(*p, "v");
      scratch_.Add(*p, "scratch");
    }
  }

  void AddUpdate(Plan& plan, const dnnl::engine& e, const ParamSlice& s) override {
    float* m = state_.at(2 * s.index, s.offset);
    float* v = state_.at(2 * s.index + 1, s.offset);
    float* tmp = scratch_.at(s.index, s.offset);
    float* g = s.param->grad.data() + s.offset;
    const float b1 = static_cast<float>(b1_), b2 = static_cast<float>(b2_);
    update::Axpby(plan, e, s.name(), s.len, b1, m, 1.0f - b1, g, m);
    update::AddScaledSquare(plan, e, s.name(), s.len, b2, v, 1.0f - b2, g);
    update::RootDenominator(plan, e, s.name(), s.len, v, eps_, update::EpsilonPlace::kOutsideRoot, tmp);
    update::AddScaledQuotient(plan, e, s.name(), s.len, s.param->value.data() + s.offset, m, tmp, &scale_);
  }

  float StepScale(float lr, int64_t t) const override {
    const double td = static_cast<double>(t);
    return static_cast<float>(-lr * std::sqrt(1.0 - std::pow(b2_, td)) / (1.0 - std::pow(b1_, td)));
  }

 private:
  double b1_, b2_;
  float eps_;
  StateTensors state_, scratch_;
};

std::unique_ptr<Optimizer> NewAdam(const OptimizerSpec& s) { return std::make_unique<Adam>(s); }

}  // namespace

PIPELINE_REGISTER(OptimizerRegistry, adam, 2, NewAdam);

}  // namespace pipeline
