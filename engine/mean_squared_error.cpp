// Mean squared error, as Keras' MeanSquaredError: L_i = mean over the C
// outputs of (z - t)^2, so dL_i/dz = 2 (z - t) / C. The outputs are the
// predictions themselves (the forward copies z).
#include "engine/loss.h"

namespace pipeline {

// out = z: regression losses predict the last layer's outputs as they are.
void AddIdentityOutput(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) {
  auto z_m = Wrap(e, {n, c}, z);
  auto out_m = Wrap(e, {n, c}, out);
  dnnl::reorder::primitive_desc pd(e, z_m.get_desc(), e, out_m.get_desc());
  plan.Add("loss output", dnnl::reorder(pd), {{DNNL_ARG_FROM, z_m}, {DNNL_ARG_TO, out_m}});
}

namespace {

class MeanSquaredError : public Loss {
 public:
  void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, float* out) const override {
    AddIdentityOutput(plan, e, n, c, z, out);
  }
  void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t c, float* z, const float* t, float* dz,
                   float* scale) const override {
    AddScaledDifference(plan, e, "loss gradient", n, c, z, t, dz, scale, 0.0f, 2.0f / static_cast<float>(c));
  }
  double Sum(const float* z, const float*, const float* t, int64_t n, int64_t c) const override {
    double sum = 0.0;
    for (int64_t i = 0; i < n * c; ++i) {
      const double d = static_cast<double>(z[i]) - static_cast<double>(t[i]);
      sum += d * d;
    }
    return sum / static_cast<double>(c);
  }
  bool regression() const override { return true; }
};

std::unique_ptr<Loss> NewMeanSquaredError(const LossSpec&) { return std::make_unique<MeanSquaredError>(); }

}  // namespace

PIPELINE_REGISTER(LossRegistry, mean_squared_error, 2, &NewMeanSquaredError);

}  // namespace pipeline
