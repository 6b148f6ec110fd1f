// Optimizers, one file per solver as Caffe keeps them, keyed by config name.
// Each builds its update steps once as oneDNN primitives over the parameters;
// the learning rate lives in a one-element runtime tensor, so schedules and
// Adam's bias correction change it without re-creating any primitive.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/layer.h"
#include "engine/plan.h"

namespace pipeline {

struct OptimizerSpec {
  std::string type = "sgd";
  double momentum = 0.9;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999;
  double rho = 0.9;
  double epsilon = 1e-7;
};

// A named per-parameter state tensor, e.g. "dense_0/kernel/m" for Adam.
struct Slot {
  std::string name;
  std::vector<float>* values;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Appends the update steps for `params`; called once.
  virtual void Build(const std::vector<Param*>& params, const dnnl::engine& e) = 0;
  // Applies one update at learning rate lr (step count advances by one).
  void Apply(dnnl::stream& s, float lr);
  virtual std::vector<Slot> slots() = 0;
  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 protected:
  // The multiplier of the final update direction for step t (1-based) at lr;
  // SGD's is -lr, Adam's folds in its bias correction.
  virtual float StepScale(float lr, int64_t t) const { return -lr; }

  Plan plan_;
  float scale_ = 0.0f;  // the runtime scalar every update step reads
  int64_t steps_ = 0;
};

const std::vector<std::string>& OptimizerTypes();
Status CreateOptimizer(const OptimizerSpec& spec, std::unique_ptr<Optimizer>* out);

// Steps shared by the solvers (engine/optimizer_steps.cpp). All are
// elementwise oneDNN primitives over whole parameter tensors.
namespace update {
// The parameter as the 2-D tensor every update step uses.
dnnl::memory::dims Dims(const Param& p);
// dst = a*x + b*y (sum primitive; dst may alias x).
void Axpby(Plan& plan, const dnnl::engine& e, const Param& p, float a, float* x, float b, float* y, float* dst,
           const std::string& what);
// dst = x * y elementwise.
void Multiply(Plan& plan, const dnnl::engine& e, const Param& p, float* x, float* y, float* dst,
              const std::string& what);
// value += scale * direction, with `scale` read at run time; clobbers direction.
void ScaledAdd(Plan& plan, const dnnl::engine& e, Param& p, float* direction, float* scale);
// dst = x / sqrt(y + eps) (RMSProp) or x / (sqrt(y) + eps) (Adam).
enum class EpsilonPlace { kInsideRoot, kOutsideRoot };
void DivideBySqrt(Plan& plan, const dnnl::engine& e, const Param& p, float* x, float* y, float eps,
                  EpsilonPlace place, float* dst, const std::string& what);
}  // namespace update

}  // namespace pipeline
