// 2-D convolution over NHWC examples: y = act(conv(x, W) + b), W in
// TensorFlow's HWIO layout [kh, kw, in_channels, filters], b [filters].
//
// Formats: the activations are NHWC (what TensorFlow feeds) or, between two
// image layers, oneDNN's blocked layout (Network::ChooseLayouts; on AVX-512
// the direct kernels on nChw16c beat NHWC's brgconv: docs/performance.md).
// The weights' master copy stays HWIO (what the
// optimizer, checkpoints, export and the gradient checks see), but every
// primitive takes its weights in the layout oneDNN picks for format_tag::any:
// with plain HWIO weights oneDNN 2.6 falls back to its `gemm:jit`
// convolutions (im2col plus sgemm, mallocs per call), with its own blocked
// layout it runs the direct `jit:` kernels. Each worker's forward therefore
// starts with one reorder of the weights into its blocked copy (per step, a
// few thousand floats), the weight gradient comes out blocked and is reordered
// into Param::grad. docs/performance.md has the measurements. Each primitive
// is created once per batch shape in the plan.
//
// The kernel and bias gradients are computed per worker, over its own rows,
// in its backward as soon as dL/dz is there (still in cache), by one
// weight-gradient primitive (diff_bias too: a blocked dz is no [positions,
// filters] matrix for a ones-vector matmul) into that worker's buffers; the
// worker that owns each parameter (engine/param_partition.h) then sums the
// buffers in worker order into Param::grad. One worker over the whole
// batch took 2.6 ms of fashion_cnn's step while the other waited. The sum's
// order is fixed by the worker count, so results are the same for the same
// thread count (what determinism promises), not across thread counts.
#include <map>

#include "common/strings.h"
#include "engine/activation.h"
#include "engine/layer.h"

namespace pipeline {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

class Conv2dLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
    const std::string what = "layer " + spec.name + " (conv2d)";
    PIPELINE_RETURN_IF_ERROR(RequireImageInput(what, in));
    if (spec.filters < 1) return Status::InvalidArgument(what + ": filters must be >= 1");
    if (spec.kernel.size() != 2) return Status::InvalidArgument(what + ": kernel must be [height, width]");
    Activation act;
    if (!LookupActivation(spec.activation, &act)) {
      return Status::InvalidArgument(what + ": Unknown activation: " + spec.activation + " (known: " +
                                     Join(ActivationNames(), ", ") + ")");
    }
    std::unique_ptr<Conv2dLayer> l(new Conv2dLayer(spec, in, act));
    PIPELINE_RETURN_IF_ERROR(
        WindowOutputs2d(what, in, "kernel", l->kernel_, l->strides_, spec.padding, l->out_hw_, l->pad_l_, l->pad_r_));
    l->out_shape_ = {l->out_hw_[0], l->out_hw_[1], spec.filters};
    l->kernel_p_ = {spec.name + "/kernel", {l->kernel_[0], l->kernel_[1], in[2], spec.filters}, {}, {}};
    l->kernel_p_.value.assign(Elements(l->kernel_p_.dims), 0.0f);
    l->kernel_p_.grad.assign(l->kernel_p_.value.size(), 0.0f);
    l->bias_ = {spec.name + "/bias", {spec.filters}, std::vector<float>(spec.filters), std::vector<float>(spec.filters)};
    *out = std::move(l);
    return Status::Ok();
  }

  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return in_shape_; }
  const Shape& out_shape() const override { return out_shape_; }
  std::vector<Param*> params() override { return {&kernel_p_, &bias_}; }

  Status Initialize(Rng& rng) override {
    // Keras' fans for a conv kernel: receptive field x channels.
    const int64_t field = kernel_[0] * kernel_[1];
    const int64_t fan_in = field * in_shape_[2], fan_out = field * spec_.filters;
    PIPELINE_RETURN_IF_ERROR(
        pipeline::Initialize(spec_.kernel_init, fan_in, fan_out, rng, kernel_p_.value.data(), kernel_p_.size()));
    return pipeline::Initialize(spec_.bias_init, fan_in, fan_out, rng, bias_.value.data(), bias_.size());
  }

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override {
    auto pd = ForwardPd(e, r.n, r.training);
    // This worker's copy of the weights in the primitive's layout, refreshed
    // from the master copy as its forward starts; its backward reads it too.
    memory w = BlockedWeights(plan, e, pd.weights_desc());
    weights_[x] = w;
    // The activation: fused as a post-op (ForwardPd), or steps of its own
    // after the conv, kept for the backward of these rows.
    const ActivationSteps& act = act_steps_[x] = ActivationSteps(act_, e, Dst(r.n), y, r.training);
    plan.Add(spec_.name + " forward", dnnl::convolution_forward(pd),
             {{DNNL_ARG_SRC, memory(Src(r.n), e, x)},
              {DNNL_ARG_WEIGHTS, w},
              {DNNL_ARG_BIAS, memory(Bias(), e, bias_.value.data())},
              {DNNL_ARG_DST, act.primitive_dst()},
              {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}});
    act.AddForward(plan, e, spec_.name);
  }

  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* /*y*/, float* dy,
                       float* dx) override {
    const int64_t n = r.n;
    auto dy_m = memory(Dst(n), e, dy);
    // dz = dy * act'(z), in place of dy, unless a max pool above applied the ReLU's.
    if (!relu_handed_over_) act_steps_.at(x).AddBackward(plan, e, spec_.name, dy);
    AddRowsGradients(plan, e, n, x, dy);
    if (dx == nullptr) return;
    auto pd = InputGradientPd(e, n);
    // The forward's copy when the layouts agree (the weights have not changed
    // since: updates wait for every worker's backward), else one of its own.
    memory w = weights_.at(x);
    if (pd.weights_desc() != w.get_desc()) w = BlockedWeights(plan, e, pd.weights_desc());
    plan.Add(spec_.name + " input gradient", dnnl::convolution_backward_data(pd),
             {{DNNL_ARG_DIFF_DST, dy_m},
              {DNNL_ARG_WEIGHTS, w},
              {DNNL_ARG_DIFF_SRC, memory(Src(n), e, dx)},
              {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}});
  }

  void AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* /*xt*/, float* /*dz*/,
                        size_t p, const RowRange& /*r: always all rows*/, bool into_value) override {
    const std::string what = spec_.name + (p == 0 ? " weight" : " bias") + (into_value ? " update" : " gradient");
    Param& param = p == 0 ? kernel_p_ : bias_;
    // The workers' partial gradients over their rows (AddRowsGradients) of
    // this batch: those whose input lies in x's n rows, in row order.
    auto grad = p == 0 ? Master(e, kernel_p_.grad.data()) : memory(Bias(), e, bias_.grad.data());
    const float* x_end = x + n * Elements(in_shape_);
    bool first = true;
    for (const auto& [rows_x, partial] : rows_grads_) {
      if (rows_x < x || rows_x >= x_end) continue;
      const memory& from = p == 0 ? partial.first : partial.second;
      dnnl::primitive_attr attr;
      if (!first) {
        dnnl::post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
      }
      dnnl::reorder::primitive_desc pd(e, from.get_desc(), e, grad.get_desc(), attr);
      plan.Add(what + (first ? " of the first rows" : " plus the next rows"), dnnl::reorder(pd),
               {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, grad}});
      first = false;
    }
    if (into_value) AddAccumulate(plan, e, what, param);
  }

  // A share is only the sum of the workers' partials (the gradients
  // themselves run in every worker's backward): a few passes over it.
  int64_t ParamGradientFlops(size_t p) const override {
    return 2 * static_cast<int64_t>(p == 0 ? kernel_p_.size() : bias_.size());
  }
  int64_t ForwardFlops() const override { return 2 * Elements(out_shape_) * kernel_[0] * kernel_[1] * in_shape_[2]; }
  bool produces_blocked() const override { return true; }
  bool takes_blocked() const override { return true; }
  bool ReferenceKernels(const dnnl::engine& e, bool input_gradient) const override {
    constexpr int64_t n = 2;
    return IsReferenceKernel(ForwardPd(e, n, true).impl_info_str()) ||
           IsReferenceKernel(WeightGradientPd(e, n).impl_info_str()) ||
           (input_gradient && IsReferenceKernel(InputGradientPd(e, n).impl_info_str()));
  }
  int64_t WeightGradFlops() const override { return ForwardFlops(); }
  int64_t InputGradFlops() const override { return ForwardFlops(); }
  bool HandOverReluGradient() override {
    relu_handed_over_ = act_.name == "relu";
    return relu_handed_over_;
  }

 private:
  Conv2dLayer(const LayerSpec& spec, const Shape& in, const Activation& act)
      : spec_(spec), in_shape_(in), act_(act) {
    kernel_ = spec.kernel;
    strides_ = spec.strides.empty() ? std::vector<int64_t>{1, 1} : spec.strides;
  }

  memory::desc Src(int64_t n) const { return ImageDesc(n, in_shape_, in_layout(), out_layout()); }
  memory::desc Dst(int64_t n) const { return ImageDesc(n, out_shape_, out_layout(), in_layout()); }
  memory::desc Weights() const {
    return memory::desc({spec_.filters, in_shape_[2], kernel_[0], kernel_[1]}, f32, tag::hwio);
  }
  // The layout oneDNN picks for its kernels (blocked).
  memory::desc AnyWeights() const {
    return memory::desc({spec_.filters, in_shape_[2], kernel_[0], kernel_[1]}, f32, tag::any);
  }
  memory Master(const dnnl::engine& e, float* data) const { return memory(Weights(), e, data); }
  // A buffer of the weights in layout `md`, filled from the master copy by a
  // reorder appended to `plan`; the master copy itself when it already is `md`.
  memory BlockedWeights(Plan& plan, const dnnl::engine& e, const memory::desc& md) {
    auto master = Master(e, kernel_p_.value.data());
    if (md == master.get_desc()) return master;
    memory w(md, e);
    plan.Add(spec_.name + " weights to blocked", dnnl::reorder(master, w),
             {{DNNL_ARG_FROM, master}, {DNNL_ARG_TO, w}});
    return w;
  }
  // dL/dW and dL/db over one worker's n rows, into buffers of the layouts
  // the primitive picks, kept for the owners' sums (AddParamGradient).
  void AddRowsGradients(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* dz) {
    auto pd = WeightGradientPd(e, n);
    memory dw(pd.diff_weights_desc(), e), db(pd.diff_bias_desc(), e);
    rows_grads_[x] = {dw, db};
    plan.Add(spec_.name + " parameter gradients of its rows", dnnl::convolution_backward_weights(pd),
             {{DNNL_ARG_SRC, memory(Src(n), e, x)},
              {DNNL_ARG_DIFF_DST, memory(Dst(n), e, dz)},
              {DNNL_ARG_DIFF_WEIGHTS, dw},
              {DNNL_ARG_DIFF_BIAS, db},
              {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), e)}});
  }
  dnnl::convolution_backward_weights::primitive_desc WeightGradientPd(const dnnl::engine& e, int64_t n) const {
    return dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, Src(n), AnyWeights(), Bias(),
                                                 Dst(n), Strides(), PadL(), PadR()),
        Attr(), e, ForwardPd(e, n, true));
  }
  dnnl::convolution_backward_data::primitive_desc InputGradientPd(const dnnl::engine& e, int64_t n) const {
    return dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, Src(n), AnyWeights(), Dst(n),
                                              Strides(), PadL(), PadR()),
        Attr(), e, ForwardPd(e, n, true));
  }
  memory::desc Bias() const { return memory::desc({spec_.filters}, f32, tag::a); }
  memory::dims Strides() const { return {strides_[0], strides_[1]}; }
  memory::dims PadL() const { return {pad_l_[0], pad_l_[1]}; }
  memory::dims PadR() const { return {pad_r_[0], pad_r_[1]}; }
  // A user scratchpad, allocated with the plan: oneDNN's own would be
  // allocated on the hot path.
  static dnnl::primitive_attr Attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  }

  dnnl::convolution_forward::primitive_desc ForwardPd(const dnnl::engine& e, int64_t n, bool training) const {
    // The activation's post-op, as ActivationSteps::Fused gives it.
    const dnnl::primitive_attr attr = WithPostOp(act_, training, Attr());
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::convolution_direct, Src(n), AnyWeights(), Bias(), Dst(n),
                                        Strides(), PadL(), PadR()),
        attr, e);
  }

  LayerSpec spec_;
  Shape in_shape_, out_shape_;
  Activation act_;
  bool relu_handed_over_ = false;  // a max pool above applies the ReLU's gradient
  std::vector<int64_t> kernel_, strides_;
  int64_t out_hw_[2] = {0, 0}, pad_l_[2] = {0, 0}, pad_r_[2] = {0, 0};
  Param kernel_p_, bias_;
  std::map<float*, memory> weights_;  // per forward input (a worker's rows): its weights in the forward's layout
  std::map<const float*, ActivationSteps> act_steps_;  // per forward input: its activation's steps
  // Per worker's input rows: dL/dW (blocked) and dL/db over them.
  std::map<const float*, std::pair<memory, memory>> rows_grads_;
};

}  // namespace

PIPELINE_REGISTER(LayerRegistry, conv2d, 0, &Conv2dLayer::Create);

}  // namespace pipeline
