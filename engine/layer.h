// Layers, keyed by the config's `type` string as Caffe does. A layer owns its
// parameters and appends its oneDNN steps to a Plan for a given batch size;
// the Network owns the activations that flow between layers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
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

// Rows [row_begin, row_begin + rows) of a parameter's leading dimension, and
// the same range in elements of its row-major storage.
struct RowRange {
  int64_t row_begin = 0, rows = 0;
  int64_t offset = 0, len = 0;
};
RowRange Rows(const Param& p, int64_t row_begin, int64_t rows);
RowRange AllRows(const Param& p);

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
  // Appends the backward pass through n independent rows, given the forward's
  // y and dL/dy: dy becomes dL/dz in place (z: before the activation) and,
  // when dx is not null, dL/dx [n,in] is written. Each worker runs its rows.
  virtual void AddBackwardData(Plan& plan, const dnnl::engine& e, int64_t n, float* y, float* dy, float* dx) = 0;
  // Appends the gradient of the rows `r` of params()[p] over a batch of n
  // rows, given the forward's input x [n,in] and dL/dz [n,out], into
  // Param::grad, or with `into_value` added to Param::value instead (a fused
  // SGD step, when dz carries the step's scale). `xt`, when not null, is x
  // transposed [in,n]: a kernel row range then reads it as dense rows.
  // Workers own disjoint ranges (engine/param_partition.h), so nothing needs
  // reducing.
  virtual void AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* xt, float* dz,
                                size_t p, const RowRange& r, bool into_value) = 0;
  // Multiply-adds x2 per example of params()[p]'s gradient.
  virtual int64_t ParamGradientFlops(size_t p) const = 0;

  // Multiply-adds x2 per example: forward, weight gradient, input gradient.
  virtual int64_t ForwardFlops() const = 0;
  virtual int64_t WeightGradFlops() const = 0;
  virtual int64_t InputGradFlops() const = 0;
};

// A layer type registers its factory in its own file:
//   PIPELINE_REGISTER(LayerRegistry, dense, 0, &DenseLayer::Create);
struct LayerTag {
  static constexpr const char* kKind = "layer";
};
using LayerFactory = Status (*)(const LayerSpec& spec, int64_t in_features, std::unique_ptr<Layer>* out);
using LayerRegistry = Registry<LayerTag, LayerFactory>;

// Alphabetical.
const std::vector<std::string>& LayerTypes();

// "Unknown layer type: X (known types: ...)" for an unknown spec.type;
// InvalidArgument too for a bad activation or units.
Status CreateLayer(const LayerSpec& spec, int64_t in_features, std::unique_ptr<Layer>* out);

}  // namespace pipeline
