// Dense (fully connected) layer: y = act(x W + b), W [in, out], b [out].
// oneDNN matmul does every product; the bias and an eltwise activation are
// fused into the forward matmul (bias + eltwise post-op), except where the
// activation runs steps of its own (engine/activation.h: gelu and softplus in
// training, softmax).
#pragma once

#include <map>

#include "engine/activation.h"
#include "engine/layer.h"

namespace pipeline {

class DenseLayer : public Layer {
 public:
  static Status Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out);

  const LayerSpec& spec() const override { return spec_; }
  const Shape& in_shape() const override { return in_shape_; }
  const Shape& out_shape() const override { return out_shape_; }
  std::vector<Param*> params() override { return {&kernel_, &bias_}; }
  Status Initialize(Rng& rng) override;

  void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) override;
  void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y, float* dy,
                       float* dx) override;
  void AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* xt, float* dz, size_t p,
                        const RowRange& r, bool into_value) override;
  int64_t ParamGradientFlops(size_t p) const override { return p == 0 ? WeightGradFlops() : 2 * out_; }

  int64_t ForwardFlops() const override { return 2 * in_ * out_; }
  int64_t WeightGradFlops() const override { return 2 * in_ * out_; }
  int64_t InputGradFlops() const override { return 2 * in_ * out_; }

 private:
  DenseLayer(const LayerSpec& spec, int64_t in, const Activation& act);

  LayerSpec spec_;
  int64_t in_, out_;
  Shape in_shape_, out_shape_;
  Activation act_;
  Param kernel_, bias_;
  std::map<const float*, ActivationSteps> act_steps_;  // per forward input (a worker's rows)
  std::map<int64_t, std::vector<float>> ones_;  // [1, n] of 1.0, per batch size, for db = 1^T dz
};

}  // namespace pipeline
