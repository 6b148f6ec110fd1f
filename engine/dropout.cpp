// dropout: in training, y = x * mask with mask 0 (probability `rate`) or
// 1 / (1 - rate) (inverted dropout, as Keras: inference is the identity).
//
// The mask of batch row r at training step t is drawn from its own stream,
// seeded by (the layer's seed from the network's initializer stream, t, r):
// each worker fills its own rows before its forward, and the masks do not
// depend on which worker draws them, so runs with the same seed agree
// (with any thread count, as far as dropout goes).
#include <map>

#include "engine/layer.h"

namespace pipeline {
namespace {

using dnnl::memory;

class DropoutLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
    if (!(spec.rate >= 0.0 && spec.rate < 1.0)) {
      return Status::InvalidArgument("layer " + spec.name + " (dropout): rate must be in [0, 1), got " +
                                     std::to_string(spec.rate));
    }
    out->reset(new DropoutLayer(spec, in));
    return Status::Ok();
  }
  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return shape_; }
  const Shape& out_shape() const override { return shape_; }
  std::vector<Param*> params() override { return {}; }
  Status Initialize(Rng& rng) override {
    seed_ = rng.Next();
    return Status::Ok();
  }

  void BeginRows(uint64_t step, int64_t begin, int64_t rows, int64_t batch) override {
    auto it = masks_.find(batch);
    if (it == masks_.end()) return;  // no training plan of this size
    const int64_t f = Elements(shape_);
    const float keep = static_cast<float>(1.0 / (1.0 - spec_.rate));
    const uint64_t threshold = static_cast<uint64_t>(spec_.rate * 18446744073709551616.0);
    for (int64_t r = begin; r < begin + rows; ++r) {
      Rng rng(seed_ ^ (step * 0x9E3779B97F4A7C15ull) ^ (static_cast<uint64_t>(r) * 0xC2B2AE3D27D4EB4Full));
      float* m = it->second.data() + r * f;
      for (int64_t j = 0; j < f; ++j) m[j] = rng.Next() < threshold ? 0.0f : keep;
    }
  }

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override {
    const int64_t f = Elements(shape_);
    auto x_m = Wrap(e, {r.n, f}, x);
    auto y_m = Wrap(e, {r.n, f}, y);
    if (!r.training) {
      plan.Add(spec_.name + " forward (identity)", dnnl::reorder(x_m, y_m), {{DNNL_ARG_FROM, x_m}, {DNNL_ARG_TO, y_m}});
      return;
    }
    auto& mask = masks_[r.batch];
    if (mask.empty()) mask.assign(r.batch * f, 0.0f);
    Mul(plan, e, spec_.name + " forward", x_m, Wrap(e, {r.n, f}, mask.data() + r.begin * f), y_m);
  }
  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float*, float*, float* dy,
                       float* dx) override {
    if (dx == nullptr) return;
    const int64_t f = Elements(shape_);
    Mul(plan, e, spec_.name + " input gradient", Wrap(e, {r.n, f}, dy),
        Wrap(e, {r.n, f}, masks_.at(r.batch).data() + r.begin * f), Wrap(e, {r.n, f}, dx));
  }
  void AddParamGradient(Plan&, const dnnl::engine&, int64_t, float*, float*, float*, size_t, const RowRange&,
                        bool) override {}
  int64_t ParamGradientFlops(size_t) const override { return 0; }
  int64_t ForwardFlops() const override { return Elements(shape_); }
  int64_t WeightGradFlops() const override { return 0; }
  int64_t InputGradFlops() const override { return Elements(shape_); }

 private:
  DropoutLayer(const LayerSpec& spec, const Shape& in) : spec_(spec), shape_(in) {}
  static void Mul(Plan& plan, const dnnl::engine& e, const std::string& what, const memory& a, const memory& b,
                  const memory& c) {
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_mul, a.get_desc(), b.get_desc(), c.get_desc()), e);
    plan.Add(what, dnnl::binary(pd), {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, c}});
  }

  LayerSpec spec_;
  Shape shape_;
  uint64_t seed_ = 0;
  std::map<int64_t, std::vector<float>> masks_;  // per training batch size: [batch, features]
};

}  // namespace

PIPELINE_REGISTER(LayerRegistry, dropout, 0, &DropoutLayer::Create);

}  // namespace pipeline
