#include "engine/activation.h"

#include "common/registry.h"

namespace pipeline {
namespace {

using dnnl::algorithm;
using Kind = Activation::Kind;

struct ActivationTag {
  static constexpr const char* kKind = "activation";
};
using ActivationRegistry = Registry<ActivationTag, Activation>;

Activation Eltwise(const char* name, algorithm forward, algorithm backward, float alpha = 0.0f,
                   bool backward_from_input = false) {
  return Activation{name, Kind::kEltwise, forward, backward, alpha, backward_from_input};
}

// One line per activation; the rank is its place in the config's documented list.
PIPELINE_REGISTER(ActivationRegistry, relu, 0,
                  Eltwise("relu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd));
PIPELINE_REGISTER(ActivationRegistry, sigmoid, 1,
                  Eltwise("sigmoid", algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd));
PIPELINE_REGISTER(ActivationRegistry, tanh, 2,
                  Eltwise("tanh", algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd));
PIPELINE_REGISTER(ActivationRegistry, linear, 3, (Activation{"linear", Kind::kLinear}));
// relu with a slope below zero; from dst works for a positive slope (y and z
// have the same sign).
PIPELINE_REGISTER(ActivationRegistry, leaky_relu, 4,
                  Eltwise("leaky_relu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd,
                          kLeakyReluAlpha));
// alpha * (exp(z) - 1) below zero, alpha 1 (tf.nn.elu, Keras).
PIPELINE_REGISTER(ActivationRegistry, elu, 5,
                  Eltwise("elu", algorithm::eltwise_elu, algorithm::eltwise_elu_use_dst_for_bwd, 1.0f));
// Keras' default gelu (approximate=False): 0.5 z (1 + erf(z / sqrt(2))).
PIPELINE_REGISTER(ActivationRegistry, gelu, 6,
                  Eltwise("gelu", algorithm::eltwise_gelu_erf, algorithm::eltwise_gelu_erf, 0.0f, true));
// log(1 + exp(z)) (oneDNN's soft_relu; 2.6 ignores its alpha).
PIPELINE_REGISTER(ActivationRegistry, softplus, 7,
                  Eltwise("softplus", algorithm::eltwise_soft_relu, algorithm::eltwise_soft_relu, 0.0f, true));
PIPELINE_REGISTER(ActivationRegistry, softmax, 8, (Activation{"softmax", Kind::kSoftmax}));

// The last axis of an example: a dense row's units; a conv output's
// channels, axis 1 of oneDNN's logical [n, c, h, w] whatever its layout.
constexpr int kSoftmaxAxis = 1;

dnnl::eltwise_forward::primitive_desc EltwiseForwardPd(const Activation& a, const dnnl::engine& e,
                                                       const dnnl::memory::desc& md) {
  return dnnl::eltwise_forward::primitive_desc(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, a.forward, md, a.alpha, 0.0f), e);
}

dnnl::softmax_forward::primitive_desc SoftmaxForwardPd(const dnnl::engine& e, const dnnl::memory::desc& md) {
  return dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, kSoftmaxAxis), e);
}

}  // namespace

const std::vector<std::string>& ActivationNames() {
  static const std::vector<std::string> names = ActivationRegistry::Names();
  return names;
}

bool LookupActivation(const std::string& name, Activation* out) {
  const Activation* found = ActivationRegistry::Find(name);
  if (!found) return false;
  *out = *found;
  return true;
}

bool KeepsPreActivation(const Activation& act) { return act.kind == Kind::kEltwise && act.backward_from_input; }

namespace {
bool KeepsInput(const Activation& act, bool training) { return training && KeepsPreActivation(act); }
}  // namespace

dnnl::primitive_attr WithPostOp(const Activation& act, bool training, dnnl::primitive_attr attr) {
  if (act.kind == Kind::kEltwise && !KeepsInput(act, training)) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, act.forward, act.alpha, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

ActivationSteps::ActivationSteps(const Activation& act, const dnnl::engine& e, const dnnl::memory::desc& y_md,
                                 float* y, bool training)
    : act_(act), md_(y_md), y_(y_md, e, y), training_(training), kept_z_(KeepsInput(act, training)) {
  if (kept_z_) z_ = dnnl::memory(y_md, e);  // allocated now, with the plan; reused by every batch
}

void ActivationSteps::AddForward(Plan& plan, const dnnl::engine& e, const std::string& layer) const {
  if (kept_z_) {
    plan.Add(layer + " activation", dnnl::eltwise_forward(EltwiseForwardPd(act_, e, md_)),
             {{DNNL_ARG_SRC, z_}, {DNNL_ARG_DST, y_}});
  } else if (act_.kind == Kind::kSoftmax) {
    plan.Add(layer + " softmax", dnnl::softmax_forward(SoftmaxForwardPd(e, md_)),
             {{DNNL_ARG_SRC, y_}, {DNNL_ARG_DST, y_}});
  }
}

void ActivationSteps::AddBackward(Plan& plan, const dnnl::engine& e, const std::string& layer, float* dy) const {
  dnnl::memory d(md_, e, dy);
  if (act_.kind == Kind::kEltwise) {
    dnnl::eltwise_backward::primitive_desc pd(
        dnnl::eltwise_backward::desc(act_.backward, md_, md_, act_.alpha, 0.0f), e, EltwiseForwardPd(act_, e, md_));
    plan.Add(layer + " activation backward", dnnl::eltwise_backward(pd),
             {{DNNL_ARG_DIFF_DST, d},
              {act_.backward_from_input ? DNNL_ARG_SRC : DNNL_ARG_DST, act_.backward_from_input ? z_ : y_},
              {DNNL_ARG_DIFF_SRC, d}});
  } else if (act_.kind == Kind::kSoftmax) {
    dnnl::softmax_backward::primitive_desc pd(dnnl::softmax_backward::desc(md_, md_, kSoftmaxAxis), e,
                                              SoftmaxForwardPd(e, md_));
    plan.Add(layer + " softmax backward", dnnl::softmax_backward(pd),
             {{DNNL_ARG_DIFF_DST, d}, {DNNL_ARG_DST, y_}, {DNNL_ARG_DIFF_SRC, d}});
  }
}

}  // namespace pipeline
