// The training objective over the last layer's outputs z [n, C] and float
// targets t [n, C] (a class's one-hot row, smoothed or not, or the numbers a
// regression predicts). A loss registers itself in its own file:
//   PIPELINE_REGISTER(LossRegistry, huber, 3, &NewHuber);
// Each loss is the mean over the batch of a per-example loss L_i; its
// gradient is built as primitives once per batch size (engine/plan.h) and
// scaled by a runtime scalar: 1/n for the mean, or -lr/n for a fused SGD step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "common/status.h"
#include "engine/plan.h"

namespace pipeline {

struct LossSpec {
  std::string type = "softmax_cross_entropy";
  float label_smoothing = 0.0f;      // softmax_cross_entropy
  float delta = 1.0f;                // huber
};

class Loss {
 public:
  virtual ~Loss() = default;
  // Appends z -> out [n, C]: what predictions read (log-probabilities for
  // softmax, probabilities for sigmoid, z itself for a regression).
  virtual void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) const = 0;
  // Appends z, t -> dz [n, C] = dL_i/dz * (*scale), *scale read at run time.
  virtual void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, const float* t,
                           float* dz, float* scale) const = 0;
  // The sum of L_i over n rows, from z, the forward's out and t, in double.
  // A non-finite output gives a non-finite sum (the divergence check reads it).
  virtual double Sum(const float* z, const float* out, const float* t, int64_t n, int64_t c) const = 0;
  // The target row of class `label` (classification losses): one-hot, or
  // with a single output (binary sigmoid) the label itself.
  virtual void FillTarget(int64_t label, float* t, int64_t c) const;
  // Whether targets are numbers rather than classes.
  virtual bool regression() const { return false; }
};

struct LossTag {
  static constexpr const char* kKind = "loss";
};
using LossFactory = std::unique_ptr<Loss> (*)(const LossSpec& spec);
using LossRegistry = Registry<LossTag, LossFactory>;

// "Unknown loss: X (known losses: ...)" for an unknown spec.type.
Status CreateLoss(const LossSpec& spec, std::unique_ptr<Loss>* out);

// dz = (a - t) * scale [* extra], where `a` is already in dz: the binary
// primitive every loss here ends with. `clip` > 0 clips a - t to [-clip, clip]
// first (huber); `extra` != 1 is a constant factor (2/C, 1/C).
void AddScaledDifference(Plan& plan, const dnnl::engine& e, const char* what, int64_t n, int64_t c,
                         const float* a, const float* t, float* dz, float* scale, float clip, float extra);

// out = z (a copy): regression losses predict the last layer's outputs as
// they are (engine/mean_squared_error.cpp).
void AddIdentityOutput(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out);

}  // namespace pipeline
