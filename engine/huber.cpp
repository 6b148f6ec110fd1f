// Huber loss, as Keras' Huber(delta): with d = z - t, each output costs
// d^2 / 2 where |d| <= delta and delta (|d| - delta / 2) beyond; L_i is the
// mean over the C outputs, so dL_i/dz = clip(d, -delta, delta) / C.
#include <cmath>

#include "engine/loss.h"

namespace pipeline {

namespace {

class Huber : public Loss {
 public:
  explicit Huber(float delta) : delta_(delta) {}
  void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) const override {
    AddIdentityOutput(plan, e, n, c, z, out);
  }
  void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, const float* t, float* dz,
                   float* scale) const override {
    AddScaledDifference(plan, e, "loss gradient", n, c, z, t, dz, scale, delta_, 1.0f / static_cast<float>(c));
  }
  double Sum(const float* z, const float*, const float* t, int64_t n, int64_t c) const override {
    const double delta = delta_;
    double sum = 0.0;
    for (int64_t i = 0; i < n * c; ++i) {
      const double d = std::abs(static_cast<double>(z[i]) - static_cast<double>(t[i]));
      // Written so a NaN d stays NaN (d <= delta is false for it: the second branch).
      sum += d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
    }
    return sum / static_cast<double>(c);
  }
  bool regression() const override { return true; }

 private:
  float delta_;
};

std::unique_ptr<Loss> NewHuber(const LossSpec& spec) { return std::make_unique<Huber>(spec.delta); }

}  // namespace

PIPELINE_REGISTER(LossRegistry, huber, 3, &NewHuber);

}  // namespace pipeline
