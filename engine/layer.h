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

// One example's shape: [features] for a flat vector, [height, width,
// channels] for an image. Activations between layers are plain row-major
// buffers of n such examples: [n, h, w, c] is NHWC, TensorFlow's layout, and
// flattening it is free (the order dense and Reshape read).
using Shape = std::vector<int64_t>;
int64_t Elements(const Shape& s);
std::string LayerShapeString(const Shape& s);  // "[28, 28, 1]"

struct LayerSpec {
  std::string type = "dense";
  std::string name;
  int64_t units = 0;                  // dense
  std::string activation = "linear";  // dense, conv2d
  InitSpec kernel_init;
  InitSpec bias_init;
  int64_t filters = 0;                // conv2d
  std::vector<int64_t> kernel;        // conv2d: [kh, kw]
  std::vector<int64_t> pool;          // pools: [ph, pw]
  std::vector<int64_t> strides;       // conv2d, pools: [sh, sw]; empty: 1 (conv2d) or the pool size
  std::string padding = "valid";      // conv2d, pools: valid same (TensorFlow's rules)
  double rate = 0.5;                  // dropout: the fraction dropped
  double momentum = 0.99;             // batch_norm: moving = momentum * moving + (1 - momentum) * batch
  double epsilon = 1e-3;              // batch_norm
  double weight_decay = -1.0;         // dense, conv2d: the kernel's L2 (Network::WeightDecays); < 0: the optimizer's
};

// Where a worker's rows sit in the batch, and which pass the plan is for.
struct BatchRows {
  int64_t n = 0;       // the rows these primitives run over
  int64_t begin = 0;   // the first one's index in the batch
  int64_t batch = 0;   // the batch size
  bool training = false;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const LayerSpec& spec() const = 0;
  virtual const Shape& in_shape() const = 0;
  virtual const Shape& out_shape() const = 0;
  int64_t in_features() const { return Elements(in_shape()); }
  int64_t out_features() const { return Elements(out_shape()); }
  virtual std::vector<Param*> params() = 0;
  virtual Status Initialize(Rng& rng) = 0;

  // Tensors that are not trained but belong to the model (batch_norm's moving
  // statistics): exported and checkpointed with the parameters.
  virtual std::vector<Param*> state() { return {}; }
  // Whether its forward needs every row of the batch at once (batch
  // statistics): the network then runs one worker with oneDNN's own threads.
  virtual bool whole_batch() const { return false; }
  // Called by each worker before a training step's forward, for its rows, with
  // the network's step counter (dropout draws its masks here).
  virtual void BeginRows(uint64_t /*step*/, int64_t /*begin*/, int64_t /*rows*/, int64_t /*batch*/) {}

  // Appends y[n,out] = layer(x[n,in]) for rows r.
  virtual void AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) = 0;
  // Appends the backward pass through the rows r, given the forward's x, y
  // and dL/dy: dy becomes dL/dz in place (z: before the activation) and,
  // when dx is not null, dL/dx [n,in] is written. Each worker runs its rows.
  virtual void AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y, float* dy,
                               float* dx) = 0;
  // A ReLU that ends the layer below a max pool may have its gradient applied
  // by the pool, on the pool's output gradient (a quarter of the values for a
  // 2x2 pool): relu(max(window)) = max(relu(window)), and the pool's gradient
  // reaches only each window's argmax, where relu' is 1 exactly when the
  // pooled output is positive. Bit-identical, since the ReLU's gradient only
  // selects (dy or 0). Network::Create pairs adjacent layers through these:
  // Whether its backward can apply the gradient of a ReLU below it (max_pool2d).
  virtual bool TakesReluGradient() const { return false; }
  // For a layer that ends in a ReLU: stop applying its gradient, the layer
  // above does; false (and nothing changes) for any other layer.
  virtual bool HandOverReluGradient() { return false; }
  // From now on, apply the ReLU gradient of the layer below.
  virtual void ApplyReluGradientOfBelow() {}

  // Appends the gradient of the rows `r` of params()[p] over a batch of n
  // rows, given the forward's input x [n,in] and dL/dz [n,out], into
  // Param::grad, or with `into_value` added to Param::value instead (a fused
  // SGD step, when dz carries the step's scale). `xt`, when not null, is x
  // transposed [in,n]: a kernel row range then reads it as dense rows.
  // Workers own disjoint ranges (engine/param_partition.h), so nothing needs
  // reducing across workers here, except what a layer sums itself: conv2d
  // computes each worker's rows' kernel gradient in AddBackwardData and its
  // owner adds those partials up here.
  virtual void AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* xt, float* dz,
                                size_t p, const RowRange& r, bool into_value) = 0;
  // Multiply-adds x2 per example of params()[p]'s gradient.
  virtual int64_t ParamGradientFlops(size_t p) const = 0;

  // Multiply-adds x2 per example: forward, weight gradient, input gradient.
  virtual int64_t ForwardFlops() const = 0;
  virtual int64_t WeightGradFlops() const = 0;
  virtual int64_t InputGradFlops() const = 0;

  // Activation layouts. Between layers an image is plain NHWC unless both
  // sides take oneDNN's blocked layout (nChw16c, or nChw8c without AVX-512):
  // conv2d and the pools produce and take it, flatten takes it (and reorders
  // to the flat NHWC row: the model's edge). Network::Create picks them.
  virtual bool produces_blocked() const { return false; }
  virtual bool takes_blocked() const { return false; }
  // Whether, with the layouts set, one of its primitives would run one of
  // oneDNN's reference kernels (the network then keeps it plain).
  // `input_gradient`: whether its input gradient is needed (not for layer 0).
  virtual bool ReferenceKernels(const dnnl::engine& /*e*/, bool /*input_gradient*/) const { return false; }
  void set_layouts(dnnl::memory::format_tag in, dnnl::memory::format_tag out) {
    in_layout_ = in;
    out_layout_ = out;
  }
  dnnl::memory::format_tag in_layout() const { return in_layout_; }
  dnnl::memory::format_tag out_layout() const { return out_layout_; }

 protected:
  // An image [n, h, w, c] in `layout` (c == 1 and NHWC: spelled NCHW, the
  // same bytes, when the other side is blocked: oneDNN 2.6 has jit kernels
  // for that pair and only reference ones for NHWC with blocked).
  static dnnl::memory::desc ImageDesc(int64_t n, const Shape& hwc, dnnl::memory::format_tag layout,
                                      dnnl::memory::format_tag other_side);

 private:
  dnnl::memory::format_tag in_layout_ = dnnl::memory::format_tag::nhwc;
  dnnl::memory::format_tag out_layout_ = dnnl::memory::format_tag::nhwc;
};

// Whether `layout` is one of the blocked image layouts.
bool IsBlockedLayout(dnnl::memory::format_tag layout);
// The blocked image layout for this CPU: oneDNN's direct convolutions block
// channels by the vector width (nChw16c with AVX-512, else nChw8c).
dnnl::memory::format_tag BlockedImageLayout();
// Whether a primitive's implementation (impl_info_str) is one of oneDNN's
// reference kernels ("ref:any", ...).
bool IsReferenceKernel(const char* impl);

// A layer type registers its factory in its own file:
//   PIPELINE_REGISTER(LayerRegistry, dense, 0, &DenseLayer::Create);
struct LayerTag {
  static constexpr const char* kKind = "layer";
};
using LayerFactory = Status (*)(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out);
using LayerRegistry = Registry<LayerTag, LayerFactory>;

// Alphabetical.
const std::vector<std::string>& LayerTypes();

// "Unknown layer type: X (known types: ...)" for an unknown spec.type;
// InvalidArgument too for a bad activation or units, or an input shape the
// layer cannot follow.
Status CreateLayer(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out);

// The output size of a window over `in` (TensorFlow's VALID and SAME), and
// the padding before it; false when the window does not fit.
bool WindowOutput(int64_t in, int64_t window, int64_t stride, bool same, int64_t* out, int64_t* pad_before,
                  int64_t* pad_after);

// For layers over images (conv2d, the pools), whose errors name the layer
// (`what`, "layer conv2d_0 (conv2d)") and the input shape:
// InvalidArgument unless `in` is [height, width, channels].
Status RequireImageInput(const std::string& what, const Shape& in);
// The [height, width] output of the 2-D `window` (a kernel or a pool, named
// `window_name` in the error) moved by `strides` over image `in` with
// `padding` (valid or same), and the padding before and after each dimension;
// InvalidArgument when it does not fit.
Status WindowOutputs2d(const std::string& what, const Shape& in, const std::string& window_name,
                       const std::vector<int64_t>& window, const std::vector<int64_t>& strides,
                       const std::string& padding, int64_t out_hw[2], int64_t pad_before[2], int64_t pad_after[2]);

// The parameters' gradient of a layer whose gradient primitive writes all of
// one parameter (conv weights): into Param::grad, or for a fused SGD step
// into grad and then value += grad (the step's scale is already in dz).
void AddAccumulate(Plan& plan, const dnnl::engine& e, const std::string& what, Param& p);

}  // namespace pipeline
