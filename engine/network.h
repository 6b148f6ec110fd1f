// A sequential network ending in softmax cross-entropy. For each batch size it
// compiles a BatchPlan once: the buffers that flow between layers and the
// primitive lists over them.
//
// A batch is split across worker threads that each run single-threaded
// primitives: small GEMMs thread poorly, whole GEMMs per thread do not
// (docs/performance.md). Forward and the backward chain of dL/dz split by
// batch rows, which are independent. Parameter gradients split by parameters
// instead (Partition): each worker computes its share over the whole batch, so
// every gradient element has one writer, there are no per-worker copies and
// no reduction. The update is elementwise and waits for every gradient, so it
// splits by element count instead (UpdateSlices, engine/optimizer.h): a dense
// kernel that one worker's gradient share holds whole (the CNN's first dense
// layer, 90% of its parameters) is updated by all of them.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "common/status.h"
#include "engine/layer.h"
#include "engine/loss.h"
#include "engine/param_partition.h"
#include "engine/runtime.h"

namespace pipeline {

struct NetworkSpec {
  int64_t input = 0;                 // features per example
  Shape input_shape;                 // one example's shape ([h, w, c]); empty: [input]
  std::vector<LayerSpec> layers;     // the last layer's units are the classes (or the regressed numbers)
  LossSpec loss;
  // false: every activation plain NHWC, no blocked layout (the tests compare
  // the two; docs/performance.md measures them).
  bool blocked_layouts = true;
};

// Where a batch's input rows come from: uint8 examples that each worker
// converts (x * scale) into its own rows of the plan's input as it starts, so
// gathering runs in parallel and needs no reorder primitive.
struct BatchInput {
  const uint8_t* examples = nullptr;  // [*, features] row-major
  const int64_t* indices = nullptr;   // the batch's example indices; null: contiguous from `first`
  int64_t first = 0;
  float scale = 1.0f;
  // The next batch's indices (optional): TrainStep prefetches those rows into
  // cache while the other workers finish, instead of missing on them next time.
  const int64_t* next = nullptr;
  int64_t next_count = 0;
  // Float examples instead (CSV features, already encoded): copied as they are.
  const float* rows = nullptr;        // [*, features] row-major
  // Regression targets [*, classes()], indexed like the examples: the loss's
  // targets instead of one-hot rows of the labels (TrainStep, ForwardBackward).
  const float* targets = nullptr;
};

// What one thread runs: the batch rows [begin, begin + rows), then its share
// of the parameter gradients.
struct WorkerPlan {
  int64_t begin = 0, rows = 0;
  Plan forward;          // its rows: input -> logits -> the loss's output
  Plan backward;         // its rows: logits, target -> dL/dz of every layer
  Plan param_gradients;  // its Partition() share of Param::grad, over all rows
  Plan param_updates;    // the same GEMMs adding into Param::value: a fused SGD step
  RowRange input_t;      // the rows of BatchPlan::input_t it fills and reads
};

struct BatchPlan {
  int64_t n = 0;
  bool training = false;
  std::vector<float> input;                 // [n, input]
  // [input, n]: the input transposed, kept when workers share the first
  // kernel's gradient, whose row ranges read it as dense rows (training).
  std::vector<float> input_t;
  std::vector<std::vector<float>> act;      // act[i]: layer i's output [n, out_i]; act.back() = logits
  std::vector<std::vector<float>> dact;     // dL/d act[i] (training)
  // [n, classes] the loss's output: log-probabilities (softmax cross-entropy),
  // probabilities (sigmoid) or the logits themselves (regression).
  std::vector<float> output;
  std::vector<float> target;                // [n, classes] (training): one-hot rows or regression targets
  float loss_grad_scale = 0.0f;             // dL/dlogits = dL_i/dz * this: 1/n, or -lr/n fused
  std::vector<WorkerPlan> workers;
  std::vector<double> loss_sums;            // per worker: sum of its rows' losses
  std::vector<char> part_finite;            // per worker: its share is finite (gradients; weights if fused)
  std::vector<double> part_sum_squares;     // per worker: its gradient share's sum of squares (clipping)
  // A shard of a larger batch (TrainShard): these rows are rows [row_offset,
  // row_offset + n) of a batch of batch_rows, which dropout's masks follow. 0: the plan is the whole batch.
  int64_t row_offset = 0, batch_rows = 0;
};

struct TrainStepResult {
  double loss = 0.0;          // mean loss of the batch
  bool loss_finite = true;
  bool gradients_finite = true;
  bool applied() const { return loss_finite && gradients_finite; }
};

class Optimizer;

class Network {
 public:
  static Status Create(const NetworkSpec& spec, Runtime* runtime, std::unique_ptr<Network>* out);

  // Draws every parameter from its initializer, in layer order, from `seed`.
  Status Initialize(uint64_t seed);

  const NetworkSpec& spec() const { return spec_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  const std::vector<Param*>& params() const { return params_; }  // in layer order
  // What a checkpoint keeps: params(), then every layer's state() (batch_norm's
  // moving statistics), in layer order.
  std::vector<Param*> SavedTensors() const;
  // Training steps run, which seed dropout's masks; a resumed run sets it to
  // the checkpoint's step so its masks continue the uninterrupted run's.
  uint64_t steps() const { return steps_; }
  void set_steps(uint64_t steps) { steps_ = steps; }
  int64_t input_features() const { return spec_.input; }
  const Shape& input_shape() const { return spec_.input_shape; }
  int64_t classes() const { return layers_.back()->out_features(); }
  const Loss& loss() const { return *loss_; }
  int64_t ParameterCount() const;
  int64_t InferenceFlopsPerExample() const;
  // Forward, weight gradients, and input gradients of all layers but the first.
  int64_t TrainingFlopsPerExample() const;

  // Per parameter (params() order): the L2 coefficient of its gradient,
  // g += decay * w. Kernels (rank >= 2) take their layer's
  // LayerSpec::weight_decay, or `optimizer_decay` when that is negative;
  // biases and batch_norm's scale and offset take none, as Keras' kernel
  // regularizers and the usual practice leave them.
  std::vector<float> WeightDecays(double optimizer_decay) const;

  // Who computes which parameter gradients when `parts` workers share a
  // step: the first layer's kernel is cut into row ranges (the plan keeps its
  // input transposed for them), the other parameters go whole.
  const ParamPartition& Partition(int parts);

  // The compiled plan for batch size n, created on first use.
  BatchPlan& Plan(int64_t n, bool training);

  // Runs the forward plan; logits in plan.act.back(), the loss's output in plan.output.
  // With `input`, the rows are first gathered into plan.input.
  void Forward(BatchPlan& plan, const BatchInput* input = nullptr);
  // Forward + backward for one batch (labels < classes, or input->targets);
  // fills every grad and returns the mean loss. Parameters are not changed.
  double ForwardBackward(BatchPlan& plan, const uint8_t* labels, const BatchInput* input = nullptr);

  // One training step in a single parallel region: forward and backward by
  // batch rows, then each worker computes, checks and updates its own share
  // of the parameters. The update is applied (and counted as an optimizer step)
  // only when the loss and every gradient are finite. `opt` must have been
  // built over params() for runtime().threads() workers.
  TrainStepResult TrainStep(BatchPlan& plan, const uint8_t* labels, const BatchInput& input, Optimizer& opt, float lr);

  // Data parallelism: forward and backward over this process's shard of a
  // batch of `batch_rows` rows (plan.n of them, from row `row_offset`). Every
  // Param::grad becomes the sum over the shard of dL_i/dparam / batch_rows, so
  // summing them over the shards gives the batch's mean gradient exactly as one
  // process would. Returns the shard's loss sum; nothing is updated. A null
  // plan is an empty shard: zero gradients, loss 0 (the step still counts).
  double TrainShard(BatchPlan* plan, const uint8_t* labels, const BatchInput& input, int64_t batch_rows,
                    int64_t row_offset);
  // After TrainShard and the sum over shards: applies `opt` (built over
  // params() for runtime().threads() workers) when every gradient is
  // finite, and returns whether it did.
  bool ApplyGradients(Optimizer& opt, float lr);

  // Lets TrainStep fuse a plain SGD step into the weight-gradient GEMMs: the
  // loss gradient carries -lr/n, and the GEMMs add x^T dz straight into the
  // weights (a sum post-op), with no gradient buffers and no update pass. A
  // non-finite step is still caught, in the updated weights, and reported as
  // not applied, but the weights are then damaged: only for callers that stop
  // on it (train.on_nan: stop). Off by default.
  void set_fuse_sgd(bool on) { fuse_sgd_ = on; }

  Runtime& runtime() { return *runtime_; }

 private:
  Network(const NetworkSpec& spec, Runtime* runtime) : spec_(spec), runtime_(runtime) {}
  void Compile(BatchPlan& plan);
  // The activation layouts between layers (Layer::set_layouts): blocked
  // between image layers that take it, plain NHWC elsewhere.
  void ChooseLayouts();
  // Worker k's forward and backward over its rows, then (after every
  // worker's rows are compiled) its share of the parameter gradients.
  void CompileWorkerRows(BatchPlan& plan, int k);
  // Layer i's input buffer: the network input or the previous layer's output.
  static std::vector<float>* LayerInput(BatchPlan& plan, size_t i) {
    return i == 0 ? &plan.input : &plan.act[i - 1];
  }
  void CompileWorkerParams(BatchPlan& plan, int k);
  // Gathers worker k's input rows (when `input` is given), then runs its
  // forward and, with `backward`, its backward plan.
  void RunRows(BatchPlan& plan, int k, dnnl::stream& s, bool backward, const BatchInput* input);
  // Whether some layer needs the whole batch at once (one worker).
  bool WholeBatch() const;
  // Fills worker k's rows of plan.input_t from plan.input, then computes its
  // share of the parameter gradients, or with `fused` adds them into the
  // parameters (param_updates). Needs every row's dL/dz.
  void RunParamGradients(BatchPlan& plan, int k, dnnl::stream& s, bool fused);
  // ForwardBackward's body with the loss gradient scaled by 1/batch_rows; returns the loss sum.
  double ForwardBackwardSum(BatchPlan& plan, const uint8_t* labels, const BatchInput* input, int64_t batch_rows);
  // Runs step(k, stream, barrier) on every worker k of the plan at once.
  template <typename Step>
  void RunWorkers(BatchPlan& plan, Step step);
  // plan.target: input->targets' rows when given, else the loss's row of each label.
  void FillTargets(BatchPlan& plan, const uint8_t* labels, const BatchInput* input);
  void PrefetchNext(const BatchInput& input, int64_t begin, int64_t end) const;
  // Whether worker k's share (of Partition(parts)) of every gradient, or with
  // `values` of every parameter, is finite; with `sum_squares`, also the sum
  // of the share's squares (gradient clipping's norm), in the same pass.
  bool ShareFinite(int k, int parts, bool values, double* sum_squares = nullptr);
  // Every gradient finite, and the sum of all their squares when `opt` clips.
  bool GradientsFinite(const Optimizer& opt, double* sum_squares);

  NetworkSpec spec_;
  Runtime* runtime_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::unique_ptr<Loss> loss_;
  std::vector<Param*> params_;
  std::map<std::pair<int64_t, bool>, std::unique_ptr<BatchPlan>> plans_;
  std::map<int, ParamPartition> partitions_;
  uint64_t steps_ = 0;  // training steps run: dropout's masks are drawn per (seed, step, row)
  bool fuse_sgd_ = false;
};

// Sets flush-to-zero and denormals-are-zero on the calling thread. With N(0,1)
// weights the logits reach the thousands and exp(logp) yields subnormals that
// then feed the backward GEMMs, where each costs a microcode assist.
void FlushDenormals();

// Worker threads for a batch of n rows: one per thread, at least 16 rows each.
int WorkersFor(int64_t n, int threads);

}  // namespace pipeline
