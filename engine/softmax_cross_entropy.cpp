#include "engine/softmax_cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "engine/loss.h"

namespace pipeline {

void SoftmaxCrossEntropy::AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t classes,
                                     float* logits, float* logp) {
  auto z_m = Wrap(e, {n, classes}, logits);
  auto logp_m = Wrap(e, {n, classes}, logp);
  dnnl::logsoftmax_forward::primitive_desc ls_pd(
      dnnl::logsoftmax_forward::desc(dnnl::prop_kind::forward_inference, z_m.get_desc(), 1), e);
  plan.Add("loss log-softmax", dnnl::logsoftmax_forward(ls_pd), {{DNNL_ARG_SRC, z_m}, {DNNL_ARG_DST, logp_m}});
}

void SoftmaxCrossEntropy::AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t classes, float* logits,
                                      const float* onehot, float* dlogits, float* scale) {
  auto z_m = Wrap(e, {n, classes}, logits);
  // p = softmax(z), then dz = (p - onehot) * scale with the scale a binary
  // post-op reading the runtime scalar.
  auto dz_m = Wrap(e, {n, classes}, dlogits);
  dnnl::softmax_forward::primitive_desc sm_pd(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, z_m.get_desc(), 1), e);
  plan.Add("loss softmax", dnnl::softmax_forward(sm_pd), {{DNNL_ARG_SRC, z_m}, {DNNL_ARG_DST, dz_m}});

  auto onehot_m = Wrap(e, {n, classes}, const_cast<float*>(onehot));
  auto scale_m = Wrap(e, {1, 1}, scale);
  dnnl::post_ops ops;
  ops.append_binary(dnnl::algorithm::binary_mul, scale_m.get_desc());
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::binary::primitive_desc sub_pd(
      dnnl::binary::desc(dnnl::algorithm::binary_sub, dz_m.get_desc(), onehot_m.get_desc(), dz_m.get_desc()),
      attr, e);
  plan.Add("loss gradient", dnnl::binary(sub_pd),
           {{DNNL_ARG_SRC_0, dz_m},
            {DNNL_ARG_SRC_1, onehot_m},
            {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, scale_m},
            {DNNL_ARG_DST, dz_m}});
}

double SoftmaxCrossEntropy::Loss(const float* logp, const uint8_t* labels, int64_t n, int64_t classes) {
  // Each example's loss is -logp >= 0; log-softmax rounding can leave a fully
  // confident example's logp at +1e-7, which would print as a negative loss.
  // Not std::max(0.0, l): that returns 0 for a NaN l, and a diverged batch
  // would report a loss of 0 (the divergence check reads this sum).
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double l = -static_cast<double>(logp[i * classes + labels[i]]);
    sum += l < 0.0 ? 0.0 : l;
  }
  return sum / static_cast<double>(n);
}

}  // namespace pipeline

namespace pipeline {
namespace {

// The registered loss: targets are one-hot rows, or with label_smoothing s
// onehot * (1 - s) + s / C (Keras' CategoricalCrossentropy(label_smoothing));
// L_i = -sum_c t_c logp_c and dL_i/dz = softmax(z) - t either way.
class SoftmaxCrossEntropyLoss : public Loss {
 public:
  explicit SoftmaxCrossEntropyLoss(float smoothing) : smoothing_(smoothing) {}
  void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) const override {
    SoftmaxCrossEntropy::AddForward(plan, e, n, c, z, out);
  }
  void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, const float* t, float* dz,
                   float* scale) const override {
    SoftmaxCrossEntropy::AddGradient(plan, e, n, c, z, t, dz, scale);
  }
  double Sum(const float*, const float* logp, const float* t, int64_t n, int64_t c) const override {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      double l = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        const float tj = t[i * c + j];
        // Skipped when 0: 0 * -inf would be NaN for a class the target gives no
        // weight. A NaN logit makes every logp NaN, so a NaN still shows.
        if (tj != 0.0f) l -= static_cast<double>(tj) * static_cast<double>(logp[i * c + j]);
      }
      sum += l < 0.0 ? 0.0 : l;  // as Loss(): rounding, never a NaN hidden
    }
    return sum;
  }
  void FillTarget(int64_t label, float* t, int64_t c) const override {
    for (int64_t j = 0; j < c; ++j) t[j] = (j == label ? 1.0f - smoothing_ : 0.0f) + smoothing_ / static_cast<float>(c);
  }

 private:
  float smoothing_;
};

std::unique_ptr<Loss> NewSoftmaxCrossEntropy(const LossSpec& spec) {
  return std::make_unique<SoftmaxCrossEntropyLoss>(spec.label_smoothing);
}

}  // namespace

PIPELINE_REGISTER(LossRegistry, softmax_cross_entropy, 0, &NewSoftmaxCrossEntropy);

}  // namespace pipeline
