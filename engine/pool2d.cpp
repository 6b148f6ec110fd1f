// max_pool2d and avg_pool2d over NHWC (or blocked, engine/layer.h) examples, with TensorFlow's VALID and
// SAME windows: a padded position never counts (max ignores it, the average
// divides by the positions inside the image, as TF's AvgPool does).
// One oneDNN pooling primitive each way, created once per batch shape; max
// pooling's training forward keeps a workspace (the argmax) for its backward.
#include <map>

#include "engine/activation.h"
#include "engine/layer.h"

namespace pipeline {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

class Pool2dLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, bool max, std::unique_ptr<Layer>* out) {
    const std::string what = "layer " + spec.name + " (" + spec.type + ")";
    PIPELINE_RETURN_IF_ERROR(RequireImageInput(what, in));
    if (spec.pool.size() != 2) return Status::InvalidArgument(what + ": pool_size must be [height, width]");
    std::unique_ptr<Pool2dLayer> l(new Pool2dLayer(spec, in, max));
    l->window_ = spec.pool;
    // Keras: strides default to the pool size.
    l->strides_ = spec.strides.empty() ? spec.pool : spec.strides;
    int64_t hw[2];
    PIPELINE_RETURN_IF_ERROR(WindowOutputs2d(what, in, "pool", l->window_, l->strides_, spec.padding, hw, l->pad_l_, l->pad_r_));
    l->out_shape_ = {hw[0], hw[1], in[2]};
    *out = std::move(l);
    return Status::Ok();
  }

  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return in_shape_; }
  const Shape& out_shape() const override { return out_shape_; }
  std::vector<Param*> params() override { return {}; }
  Status Initialize(Rng&) override { return Status::Ok(); }

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override {
    auto pd = ForwardPd(e, r.n, r.training);
    ArgMap args{{DNNL_ARG_SRC, memory(Src(r.n), e, x)},
                {DNNL_ARG_DST, memory(Dst(r.n), e, y)},
                {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}};
    if (max_ && r.training) {
      // The argmax, shared with this worker's backward (keyed by its rows).
      auto ws = memory(pd.workspace_desc(), e);
      workspaces_[x] = ws;
      args[DNNL_ARG_WORKSPACE] = ws;
    }
    plan.Add(spec_.name + " forward", dnnl::pooling_forward(pd), std::move(args));
  }

  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y, float* dy,
                       float* dx) override {
    if (dx == nullptr) return;  // nothing to train below
    if (relu_below_) {
      // dy = relu'(y) * dy in place: y, the pooled relu(z), is positive
      // exactly where the window's argmax is (engine/layer.h).
      Activation relu;
      LookupActivation("relu", &relu);
      ActivationSteps(relu, e, Dst(r.n), y, true).AddBackward(plan, e, spec_.name + " (the ReLU below)", dy);
    }
    auto pd = BackwardPd(e, r.n);
    ArgMap args{{DNNL_ARG_DIFF_DST, memory(Dst(r.n), e, dy)},
                {DNNL_ARG_DIFF_SRC, memory(Src(r.n), e, dx)},
                {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}};
    if (max_) args[DNNL_ARG_WORKSPACE] = workspaces_.at(x);
    plan.Add(spec_.name + " input gradient", dnnl::pooling_backward(pd), std::move(args));
  }

  void AddParamGradient(Plan&, const dnnl::engine&, int64_t, float*, float*, float*, size_t, const RowRange&,
                        bool) override {}
  int64_t ParamGradientFlops(size_t) const override { return 0; }
  int64_t ForwardFlops() const override { return Elements(out_shape_) * window_[0] * window_[1]; }
  int64_t WeightGradFlops() const override { return 0; }
  int64_t InputGradFlops() const override { return ForwardFlops(); }
  bool TakesReluGradient() const override { return max_; }
  void ApplyReluGradientOfBelow() override { relu_below_ = true; }
  bool produces_blocked() const override { return true; }
  bool takes_blocked() const override { return true; }
  bool ReferenceKernels(const dnnl::engine& e, bool input_gradient) const override {
    constexpr int64_t n = 2;
    return IsReferenceKernel(ForwardPd(e, n, true).impl_info_str()) ||
           (input_gradient && IsReferenceKernel(BackwardPd(e, n).impl_info_str()));
  }

 private:
  Pool2dLayer(const LayerSpec& spec, const Shape& in, bool max) : spec_(spec), in_shape_(in), max_(max) {}

  dnnl::algorithm Alg() const {
    return max_ ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  memory::desc Src(int64_t n) const { return ImageDesc(n, in_shape_, in_layout(), out_layout()); }
  memory::desc Dst(int64_t n) const { return ImageDesc(n, out_shape_, out_layout(), in_layout()); }
  dnnl::pooling_backward::primitive_desc BackwardPd(const dnnl::engine& e, int64_t n) const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return dnnl::pooling_backward::primitive_desc(
        dnnl::pooling_backward::desc(Alg(), Src(n), Dst(n), Dims(strides_), Dims(window_), Dims(pad_l_), Dims(pad_r_)),
        attr, e, ForwardPd(e, n, true));
  }
  template <typename T>
  static memory::dims Dims(const T& v) { return {v[0], v[1]}; }

  dnnl::pooling_forward::primitive_desc ForwardPd(const dnnl::engine& e, int64_t n, bool training) const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return dnnl::pooling_forward::primitive_desc(
        dnnl::pooling_forward::desc(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                    Alg(), Src(n), Dst(n), Dims(strides_), Dims(window_), Dims(pad_l_), Dims(pad_r_)),
        attr, e);
  }

  LayerSpec spec_;
  Shape in_shape_, out_shape_;
  bool max_;
  std::vector<int64_t> window_, strides_;
  int64_t pad_l_[2] = {0, 0}, pad_r_[2] = {0, 0};
  std::map<float*, memory> workspaces_;
  bool relu_below_ = false;  // applies the ReLU gradient of the conv below (engine/layer.h)
};

Status CreateMax(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
  return Pool2dLayer::Create(spec, in, true, out);
}
Status CreateAvg(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
  return Pool2dLayer::Create(spec, in, false, out);
}

}  // namespace

PIPELINE_REGISTER(LayerRegistry, max_pool2d, 0, &CreateMax);
PIPELINE_REGISTER(LayerRegistry, avg_pool2d, 0, &CreateAvg);

}  // namespace pipeline
