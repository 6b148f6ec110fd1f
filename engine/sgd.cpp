// Plain gradient descent: w -= lr * g.
#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Sgd : public Optimizer {
 public:
  std::vector<Slot> slots() override { return {}; }
  const float* PlainScale() const override { return &scale_; }

 protected:
  void AddUpdate(Plan& plan, const dnnl::engine& e, const ParamSlice& s) override {
    // The gradient buffer is scratch once backward is done, so it holds the scaled step.
    Param& p = *s.param;
    update::ScaledAdd(plan, e, s.name(), s.len, p.value.data() + s.offset, p.grad.data() + s.offset, &scale_);
  }
};

std::unique_ptr<Optimizer> NewSgd(const OptimizerSpec&) { return std::make_unique<Sgd>(); }

}  // namespace

PIPELINE_REGISTER(OptimizerRegistry, sgd, 0, NewSgd);

}  // namespace pipeline
