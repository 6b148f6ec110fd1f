// Plain gradient descent: w -= lr * g.
#include "engine/optimizer.h"

namespace pipeline {
namespace {

class Sgd : public Optimizer {
 public:
  void Build(const std::vector<Param*>& params, const dnnl::engine& e) override {
    // The gradient buffer is scratch once backward is done, so it holds the scaled step.
    for (Param* p : params) update::ScaledAdd(plan_, e, *p, p->grad.data(), &scale_);
  }
  std::vector<Slot> slots() override { return {}; }
};

}  // namespace

std::unique_ptr<Optimizer> NewSgd(const OptimizerSpec&) { return std::make_unique<Sgd>(); }

}  // namespace pipeline
