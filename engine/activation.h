// Activation names -> oneDNN primitives, and the steps that run them for one
// layer's rows in a plan (dense and conv2d share them).
//
// An eltwise activation runs as a post-op of the layer's matmul or conv.
// Its backward uses the *_use_dst_for_bwd variant where oneDNN has one (relu,
// leaky_relu, sigmoid, tanh, elu), so only the layer's output is kept. gelu
// and softplus have none: in training their layer's primitive writes the
// pre-activation z into a buffer of the plan (allocated when the plan is
// compiled) and an eltwise forward makes y from it; their backward reads z.
// softmax is no eltwise (no post-op): a softmax primitive over the last axis
// (a dense layer's units, a conv's channels) runs in place on y, and its
// backward reads y.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <vector>

#include "engine/plan.h"

namespace pipeline {

struct Activation {
  enum class Kind { kLinear, kEltwise, kSoftmax };
  std::string name;                 // linear relu sigmoid tanh leaky_relu elu gelu softplus softmax
  Kind kind = Kind::kLinear;
  dnnl::algorithm forward = dnnl::algorithm::undef;   // eltwise (post-op) algorithm
  dnnl::algorithm backward = dnnl::algorithm::undef;  // eltwise backward algorithm
  float alpha = 0.0f;               // eltwise alpha: leaky_relu's slope below 0, elu's scale
  bool backward_from_input = false; // backward reads z (gelu, softplus), else y
  bool is_linear() const { return kind == Kind::kLinear; }
};

// leaky_relu's slope below zero: fixed, tf.nn.leaky_relu's and Keras'
// default (docs/config.md).
constexpr float kLeakyReluAlpha = 0.2f;

const std::vector<std::string>& ActivationNames();

// Returns false when `name` is unknown.
bool LookupActivation(const std::string& name, Activation* out);

// Whether a training plan keeps the pre-activation z of a layer with `act`
// (one more buffer as large as its output: gelu, softplus).
bool KeepsPreActivation(const Activation& act);

// `attr` with the activation's post-op when a primitive of this pass fuses it:
// an eltwise activation, unless training keeps z for it.
dnnl::primitive_attr WithPostOp(const Activation& act, bool training, dnnl::primitive_attr attr);

// One layer's activation over the rows of one worker's plan. The layer
// creates it for its output `y` (described by `y_md`, the layout its
// primitive writes) as it appends its forward, and keeps it for its backward.
class ActivationSteps {
 public:
  ActivationSteps() = default;
  ActivationSteps(const Activation& act, const dnnl::engine& e, const dnnl::memory::desc& y_md, float* y,
                  bool training);

  // The post-ops the layer's primitive takes (none when the activation runs
  // as steps of its own).
  dnnl::primitive_attr Fused(dnnl::primitive_attr attr) const { return WithPostOp(act_, training_, attr); }
  // Where the layer's primitive writes: y, or z when z is kept.
  dnnl::memory primitive_dst() const { return kept_z_ ? z_ : y_; }
  // Appends what runs after the layer's primitive: y from z, or softmax in place.
  void AddForward(Plan& plan, const dnnl::engine& e, const std::string& layer) const;
  // Appends dz = dy * act'(z), in place of dy (same layout as y).
  void AddBackward(Plan& plan, const dnnl::engine& e, const std::string& layer, float* dy) const;

 private:
  Activation act_;
  dnnl::memory::desc md_;
  dnnl::memory y_, z_;
  bool training_ = false, kept_z_ = false;
};

}  // namespace pipeline
