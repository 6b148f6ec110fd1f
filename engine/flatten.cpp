// flatten: [h, w, c] -> [h*w*c]. The NHWC row-major buffer already is the
// flat row (TensorFlow's Reshape order), so forward and backward are copies
// (a reorder each; the network keeps one buffer per layer). From a blocked
// image (engine/layer.h) the same reorders convert to and from NHWC: this is
// where the blocked layout meets the flat one.
#include "engine/layer.h"

namespace pipeline {
namespace {

class FlattenLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
    out->reset(new FlattenLayer(spec, in));
    return Status::Ok();
  }
  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return in_shape_; }
  const Shape& out_shape() const override { return out_shape_; }
  std::vector<Param*> params() override { return {}; }
  Status Initialize(Rng&) override { return Status::Ok(); }

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override {
    Copy(plan, e, spec_.name + " forward", In(r.n), x, Flat(r.n), y);
  }
  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float*, float*, float* dy,
                       float* dx) override {
    if (dx) Copy(plan, e, spec_.name + " input gradient", Flat(r.n), dy, In(r.n), dx);
  }
  bool takes_blocked() const override { return in_shape_.size() == 3; }
  void AddParamGradient(Plan&, const dnnl::engine&, int64_t, float*, float*, float*, size_t, const RowRange&,
                        bool) override {}
  int64_t ParamGradientFlops(size_t) const override { return 0; }
  int64_t ForwardFlops() const override { return 0; }
  int64_t WeightGradFlops() const override { return 0; }
  int64_t InputGradFlops() const override { return 0; }

 private:
  FlattenLayer(const LayerSpec& spec, const Shape& in) : spec_(spec), in_shape_(in), out_shape_{Elements(in)} {}
  // Its input as an image in its layout, else flat rows; its output: flat rows
  // (as the same image's NHWC when the input is blocked).
  dnnl::memory::desc In(int64_t n) const {
    return IsBlockedLayout(in_layout()) ? ImageDesc(n, in_shape_, in_layout(), in_layout()) : Flat(n);
  }
  dnnl::memory::desc Flat(int64_t n) const {
    return IsBlockedLayout(in_layout()) ? ImageDesc(n, in_shape_, dnnl::memory::format_tag::nhwc, in_layout())
                                        : RowMajor({n, out_shape_[0]});
  }
  void Copy(Plan& plan, const dnnl::engine& e, const std::string& what, const dnnl::memory::desc& from_md, float* from,
            const dnnl::memory::desc& to_md, float* to) {
    dnnl::memory a(from_md, e, from), b(to_md, e, to);
    plan.Add(what, dnnl::reorder(a, b), {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}});
  }

  LayerSpec spec_;
  Shape in_shape_, out_shape_;
};

}  // namespace

PIPELINE_REGISTER(LayerRegistry, flatten, 0, &FlattenLayer::Create);

}  // namespace pipeline
