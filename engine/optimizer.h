// Optimizers, one file per solver as Caffe keeps them, keyed by config name.
// Each builds its update steps once as oneDNN primitives. The updates are
// elementwise, so the parameters' elements are cut into one equal run per
// worker thread, whatever share of the gradients that worker computed, and the
// worker applies its run inside the batch's parallel region once every
// gradient is complete (engine/network.h). The learning rate
// lives in a one-element runtime tensor, so schedules and Adam's bias
// correction change it without re-creating any primitive.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "common/status.h"
#include "engine/layer.h"
#include "engine/optimizer_config.h"
#include "engine/param_partition.h"
#include "engine/plan.h"

namespace pipeline {

// A solver reads its hyperparameters straight from engine/optimizer_config.h's
// struct, which config/schema.cpp's rows fill.
using OptimizerSpec = OptimizerConfig;

// A named per-parameter state tensor, e.g. "dense_0/kernel/m" for Adam.
struct Slot {
  std::string name;
  std::vector<float>* values;
};

// `len` elements of one parameter starting at `offset`: what one worker updates.
struct ParamSlice {
  Param* param;
  size_t index;    // the parameter's position in the list Build was given
  int64_t offset, len;
  std::string name() const { return param->name; }
};

// The parameters' elements, in order, as `workers` contiguous runs of equal
// length, each cut at a multiple of 16 floats into its parameter (one cache
// line of a line-aligned buffer, so the workers share at most the lines at the
// cuts): slices[k] is what worker k updates; a run may be empty. An update's
// cost is its element count, and in the CNN one dense kernel holds 90% of them.
std::vector<std::vector<ParamSlice>> UpdateSlices(const std::vector<Param*>& params, int workers);

// What becomes of the gradients before the solver's step, in Caffe's order
// (and PyTorch's, clip_grad_norm_ then the optimizer's weight_decay): first
// g *= min(1, clip_global_norm / ||g||), the norm over every parameter's
// gradient, as Keras' global_clipnorm; then g += weight_decay * w, i.e. the
// gradient of a loss plus weight_decay / 2 * sum(w^2). Both are one fused pass.
struct GradientRules {
  double clip_global_norm = 0.0;    // 0: no clipping
  std::vector<float> weight_decay;  // per parameter, in Build's order; empty: none
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Builds the updates of `params`, one run of elements per worker (see
  // UpdateSlices); called once.
  void Build(const std::vector<Param*>& params, const dnnl::engine& e, int workers,
             const GradientRules& rules = GradientRules());
  // Whether the step needs the gradients' sum of squares (clipping).
  bool clips() const { return clip_global_norm_ > 0.0; }

  // One step in three parts, for callers that spread it over threads:
  // Prepare(lr) before, RunSlice(k) by each worker k, Commit() after.
  // `grad_sum_squares`: the sum of every gradient element's square, which
  // clipping reads (any value when !clips()).
  void Prepare(float lr) { scale_ = StepScale(lr, steps_ + 1); }
  void RunSlice(dnnl::stream& s, int k, double grad_sum_squares);
  void Commit() { ++steps_; }
  // All three on the calling thread.
  void Apply(dnnl::stream& s, float lr, double grad_sum_squares);

  int workers() const { return static_cast<int>(slices_.size()); }
  // For a solver whose step is value += scale * grad and nothing else (SGD
  // with no clipping or decay): the runtime scale, so the step can be fused
  // into the gradient's computation (Network::set_fuse_sgd). Null otherwise.
  const float* PlainStepScale() const { return gradient_rules_ ? nullptr : PlainScale(); }
  virtual std::vector<Slot> slots() = 0;
  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 protected:
  // Creates the solver's state tensors for `params` (zeros).
  virtual void AllocateState(const std::vector<Param*>& params) {}
  // Appends the update of one slice (of the parameter and its state) to plan.
  virtual void AddUpdate(Plan& plan, const dnnl::engine& e, const ParamSlice& s) = 0;
  // The multiplier of the final update direction for step t (1-based) at lr;
  // SGD's is -lr, Adam's folds in its bias correction.
  virtual float StepScale(float lr, int64_t t) const { return -lr; }
  // The runtime scale of a solver whose step is value += scale * grad.
  virtual const float* PlainScale() const { return nullptr; }

  float scale_ = 0.0f;  // the runtime scalar every update step reads

 private:
  std::vector<Plan> slices_;
  int64_t steps_ = 0;
  double clip_global_norm_ = 0.0;
  bool gradient_rules_ = false;     // some slice clips or decays its gradient
  std::vector<float> clip_scales_;  // per worker: each sets its own, the slices read it
};

// A solver registers itself in its own file:
//   PIPELINE_REGISTER(OptimizerRegistry, adam, 2, NewAdam);
struct OptimizerTag {
  static constexpr const char* kKind = "optimizer";
};
using OptimizerFactory = std::unique_ptr<Optimizer> (*)(const OptimizerSpec&);
using OptimizerRegistry = Registry<OptimizerTag, OptimizerFactory>;

// Alphabetical.
const std::vector<std::string>& OptimizerTypes();
Status CreateOptimizer(const OptimizerSpec& spec, std::unique_ptr<Optimizer>* out);

// Per-parameter state tensors with stable addresses, named "<param>/<suffix>".
class StateTensors {
 public:
  void Add(const Param& p, const std::string& suffix, float initial = 0.0f) {
    values_.emplace_back(p.size(), initial);
    names_.push_back(p.name + "/" + suffix);
  }
  float* at(size_t i, int64_t offset) { return values_[i].data() + offset; }
  std::vector<Slot> slots() {
    std::vector<Slot> out;
    for (size_t i = 0; i < values_.size(); ++i) out.push_back({names_[i], &values_[i]});
    return out;
  }

 private:
  std::deque<std::vector<float>> values_;  // deque: plans keep pointers into them
  std::vector<std::string> names_;
};

// Steps shared by the solvers (engine/optimizer_steps.cpp): elementwise oneDNN
// primitives over `len` contiguous floats, viewed as a [1, len] tensor.
namespace update {
// dst = a*x + b*y (dst may alias x).
void Axpby(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float a, float* x, float b,
           float* y, float* dst);
// dst = a*dst + b*g*g.
void AddScaledSquare(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float a, float* dst,
                     float b, float* g);
// value += scale * direction, with `scale` read at run time.
void ScaledAdd(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* value,
               float* direction, float* scale);
// dst = sqrt(y + eps) (RMSProp) or sqrt(y) + eps (Adam).
enum class EpsilonPlace { kInsideRoot, kOutsideRoot };
void RootDenominator(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* y, float eps,
                     EpsilonPlace place, float* dst);
// g = clip * g + decay * w (clip: a runtime scale, or null for 1).
void ClipAndDecay(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* g, float* w,
                  float decay, float* clip);
// value += scale * x / denominator, with `scale` read at run time.
void AddScaledQuotient(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* value,
                       float* x, float* denominator, float* scale);
}  // namespace update

}  // namespace pipeline
