// Sigmoid cross-entropy: each output is an independent binary logit (binary
// classification with one output, or multi-label), as Keras'
// BinaryCrossentropy(from_logits=True) computes it: the mean over the C
// outputs of max(z, 0) - z t + log(1 + exp(-|z|)), which never takes log(0).
// dL_i/dz = (sigmoid(z) - t) / C.
#include <cmath>

#include "engine/loss.h"

namespace pipeline {
namespace {

class SigmoidCrossEntropy : public Loss {
 public:
  void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) const override {
    auto z_m = Wrap(e, {n, c}, z);
    auto out_m = Wrap(e, {n, c}, out);
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_logistic,
                                    z_m.get_desc(), 0.0f, 0.0f),
        e);
    plan.Add("loss sigmoid", dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, z_m}, {DNNL_ARG_DST, out_m}});
  }
  void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, const float* t, float* dz,
                   float* scale) const override {
    AddForward(plan, e, n, c, z, dz);  // dz = sigmoid(z), then (dz - t) * scale / C in place
    AddScaledDifference(plan, e, "loss gradient", n, c, dz, t, dz, scale, 0.0f, 1.0f / static_cast<float>(c));
  }
  double Sum(const float* z, const float*, const float* t, int64_t n, int64_t c) const override {
    double sum = 0.0;
    for (int64_t i = 0; i < n * c; ++i) {
      const double x = z[i];
      sum += std::max(x, 0.0) - x * static_cast<double>(t[i]) + std::log1p(std::exp(-std::abs(x)));
    }
    return sum / static_cast<double>(c);
  }
};

std::unique_ptr<Loss> NewSigmoidCrossEntropy(const LossSpec&) { return std::make_unique<SigmoidCrossEntropy>(); }

}  // namespace

PIPELINE_REGISTER(LossRegistry, sigmoid_cross_entropy, 1, &NewSigmoidCrossEntropy);

}  // namespace pipeline
