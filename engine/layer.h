// Layers, keyed by the config's `type` string as Caffe does. A layer owns its
// parameters and appends its oneDNN steps to a Plan for a given batch size;
// the Network owns the activations that flow between layers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/initializer.h"
#include "engine/plan.h"
#include "engine/rng.h"

namespace pipeline {

// A trainable tensor and its gradient, both dense row-major.
struct Param {
  std::string name;               // "<layer>/kernel", "<layer>/bias"
  std::vector<int64_t> dims;      // kernel [in, out] (TensorFlow's MatMul layout), bias [out]
  std::vector<float> value;
  std::vector<float> grad;
  int64_t size() const { return static_cast<int64_t>(value.size()); }
};

struct LayerSpec {
  std::string type = "dense";
  std::string name;
  int64_t units = 0;
  std::string activation = "linear";
  InitSpec kernel_init;
  InitSpec bias_init;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const LayerSpec& spec() const = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  virtual std::vector<Param*> params() = 0;
  virtual Status Initialize(Rng& rng) = 0;

  // Appends y[n,out] = layer(x[n,in]).
  virtual void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* y) = 0;
  // Appends the backward pass given the forward's x and y and dL/dy (which it
  // may overwrite): writes dL/dparam into grads[i] (one buffer per params()[i],
  // so batch slices can each have their own) and, when dx is not null, dL/dx.
  virtual void AddBackward(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* y, float* dy, float* dx,
                           const std::vector<float*>& grads) = 0;

  // Multiply-adds x2 per example: forward, weight gradient, input gradient.
  virtual int64_t ForwardFlops() const = 0;
  virtual int64_t WeightGradFlops() const = 0;
  virtual int64_t InputGradFlops() const = 0;
};

const std::vector<std::string>& LayerTypes();

// "Unknown layer type: X (known types: ...)" for an unknown spec.type;
// InvalidArgument too for a bad activation or units.
Status CreateLayer(const LayerSpec& spec, int64_t in_features, std::unique_ptr<Layer>* out);

}  // namespace pipeline
