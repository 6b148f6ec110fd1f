// batch_norm over the last axis (channels of NHWC, features of flat rows):
// y = gamma * (x - mean) / sqrt(var + epsilon) + beta.
//
// Training normalizes with the batch's statistics (over every row and
// position) and then moves the moving averages:
//   moving_mean = momentum * moving_mean + (1 - momentum) * mean
//   moving_variance = momentum * moving_variance + (1 - momentum) * var * m / (m - 1)
// with m values per channel: the unbiased variance, as TensorFlow's
// FusedBatchNorm hands Keras. Inference normalizes with the moving ones.
//
// Batch statistics need every row in one primitive, so a network with a
// batch_norm runs one worker whose primitives use oneDNN's own threads
// (whole_batch()). The backward primitive yields dL/dx together with
// dL/dgamma and dL/dbeta over the whole batch, straight into Param::grad;
// AddParamGradient then has nothing left to compute (a fused SGD step only
// adds the gradient, which already carries -lr/n, to the value).
#include <map>

#include "engine/layer.h"

namespace pipeline {
namespace {

using dnnl::memory;
using nf = dnnl::normalization_flags;

class BatchNormLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
    const std::string what = "layer " + spec.name + " (batch_norm)";
    if (!(spec.momentum >= 0.0 && spec.momentum < 1.0))
      return Status::InvalidArgument(what + ": momentum must be in [0, 1)");
    if (!(spec.epsilon > 0.0)) return Status::InvalidArgument(what + ": epsilon must be > 0");
    out->reset(new BatchNormLayer(spec, in));
    return Status::Ok();
  }
  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return shape_; }
  const Shape& out_shape() const override { return shape_; }
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Param*> state() override { return {&moving_mean_, &moving_var_}; }
  bool whole_batch() const override { return true; }
  Status Initialize(Rng&) override {
    // Keras' initializers: gamma ones, beta zeros, moving mean 0, variance 1.
    std::fill(gamma_.value.begin(), gamma_.value.end(), 1.0f);
    std::fill(beta_.value.begin(), beta_.value.end(), 0.0f);
    std::fill(moving_mean_.value.begin(), moving_mean_.value.end(), 0.0f);
    std::fill(moving_var_.value.begin(), moving_var_.value.end(), 1.0f);
    return Status::Ok();
  }

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override {
    const memory::desc data = Data(r.n);
    const auto pd = ForwardPd(e, r.n, r.training);
    auto c = [&](Param& p) { return Wrap(e, {channels_}, p.value.data()); };
    ArgMap args{{DNNL_ARG_SRC, memory(data, e, x)}, {DNNL_ARG_DST, memory(data, e, y)},
                {DNNL_ARG_SCALE, c(gamma_)},        {DNNL_ARG_SHIFT, c(beta_)},
                {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}};
    if (!r.training) {
      args[DNNL_ARG_MEAN] = c(moving_mean_);
      args[DNNL_ARG_VARIANCE] = c(moving_var_);
      plan.Add(spec_.name + " forward", dnnl::batch_normalization_forward(pd), std::move(args));
      return;
    }
    Stats& s = stats_[r.n];
    s.mean.assign(channels_, 0.0f);
    s.var.assign(channels_, 0.0f);
    auto mean = Wrap(e, {channels_}, s.mean.data()), var = Wrap(e, {channels_}, s.var.data());
    args[DNNL_ARG_MEAN] = mean;
    args[DNNL_ARG_VARIANCE] = var;
    plan.Add(spec_.name + " forward", dnnl::batch_normalization_forward(pd), std::move(args));
    const float mo = static_cast<float>(spec_.momentum);
    const int64_t m = r.n * positions_;
    const float bessel = m > 1 ? static_cast<float>(m) / static_cast<float>(m - 1) : 1.0f;
    Blend(plan, e, spec_.name + " moving mean", c(moving_mean_), mean, mo, 1.0f - mo);
    Blend(plan, e, spec_.name + " moving variance", c(moving_var_), var, mo, (1.0f - mo) * bessel);
  }

  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float*, float* dy,
                       float* dx) override {
    const memory::desc data = Data(r.n);
    const auto hint = ForwardPd(e, r.n, true);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::batch_normalization_backward::primitive_desc pd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, data, data,
                                                 static_cast<float>(spec_.epsilon), nf::use_scale | nf::use_shift),
        attr, e, hint);
    Stats& s = stats_.at(r.n);
    // The first layer's dL/dx is not needed, but the primitive writes it.
    if (dx == nullptr) {
      s.unused_dx.assign(r.n * Elements(shape_), 0.0f);
      dx = s.unused_dx.data();
    }
    auto c = [&](std::vector<float>& v) { return Wrap(e, {channels_}, v.data()); };
    plan.Add(spec_.name + " backward", dnnl::batch_normalization_backward(pd),
             {{DNNL_ARG_SRC, memory(data, e, x)},
              {DNNL_ARG_DIFF_DST, memory(data, e, dy)},
              {DNNL_ARG_MEAN, c(s.mean)},
              {DNNL_ARG_VARIANCE, c(s.var)},
              {DNNL_ARG_SCALE, c(gamma_.value)},
              {DNNL_ARG_SHIFT, c(beta_.value)},
              {DNNL_ARG_DIFF_SRC, memory(data, e, dx)},
              {DNNL_ARG_DIFF_SCALE, c(gamma_.grad)},
              {DNNL_ARG_DIFF_SHIFT, c(beta_.grad)},
              {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}});
  }

  void AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t, float*, float*, float*, size_t p,
                        const RowRange&, bool into_value) override {
    if (into_value) AddAccumulate(plan, e, spec_.name + (p == 0 ? " gamma update" : " beta update"), p == 0 ? gamma_ : beta_);
  }
  int64_t ParamGradientFlops(size_t) const override { return 2 * Elements(shape_); }
  int64_t ForwardFlops() const override { return 4 * Elements(shape_); }
  int64_t WeightGradFlops() const override { return 4 * Elements(shape_); }
  int64_t InputGradFlops() const override { return 6 * Elements(shape_); }

 private:
  struct Stats {
    std::vector<float> mean, var, unused_dx;
  };

  BatchNormLayer(const LayerSpec& spec, const Shape& in) : spec_(spec), shape_(in) {
    channels_ = in.back();
    positions_ = Elements(in) / channels_;
    auto make = [&](const std::string& name) {
      return Param{spec.name + "/" + name, {channels_}, std::vector<float>(channels_), std::vector<float>(channels_)};
    };
    gamma_ = make("gamma");
    beta_ = make("beta");
    moving_mean_ = make("moving_mean");
    moving_var_ = make("moving_variance");
  }
  // Every (row, position) is one sample of its channel.
  memory::desc Data(int64_t n) const { return RowMajor({n * positions_, channels_}); }

  dnnl::batch_normalization_forward::primitive_desc ForwardPd(const dnnl::engine& e, int64_t n, bool training) const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto flags = nf::use_scale | nf::use_shift | (training ? nf::none : nf::use_global_stats);
    return dnnl::batch_normalization_forward::primitive_desc(
        dnnl::batch_normalization_forward::desc(
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, Data(n),
            static_cast<float>(spec_.epsilon), flags),
        attr, e);
  }
  // into = a * into + b * from, in place.
  static void Blend(Plan& plan, const dnnl::engine& e, const std::string& what, const memory& into,
                    const memory& from, float a, float b) {
    dnnl::sum::primitive_desc pd({a, b}, {into.get_desc(), from.get_desc()}, e);
    plan.Add(what, dnnl::sum(pd), {{DNNL_ARG_MULTIPLE_SRC, into}, {DNNL_ARG_MULTIPLE_SRC + 1, from}, {DNNL_ARG_DST, into}});
  }

  LayerSpec spec_;
  Shape shape_;
  int64_t channels_ = 0, positions_ = 0;
  Param gamma_, beta_, moving_mean_, moving_var_;
  std::map<int64_t, Stats> stats_;  // per training batch size: the batch's mean and (biased) variance
};

}  // namespace

PIPELINE_REGISTER(LayerRegistry, batch_norm, 0, &BatchNormLayer::Create);

}  // namespace pipeline
