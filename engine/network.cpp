#include "engine/network.h"

#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cmath>

#include "engine/optimizer.h"

namespace pipeline {

void FlushDenormals() {
  // MXCSR is per thread: flush-to-zero and denormals-are-zero for every thread
  // that runs primitives (TensorFlow's CPU kernels do the same).
  constexpr unsigned kFtzDaz = 0x8040;
  const unsigned csr = _mm_getcsr();
  if ((csr & kFtzDaz) != kFtzDaz) _mm_setcsr(csr | kFtzDaz);
}

int WorkersFor(int64_t n, int threads) {
  constexpr int64_t kMinRows = 16;
  return static_cast<int>(std::clamp<int64_t>(n / kMinRows, 1, threads));
}

Status Network::Create(const NetworkSpec& spec, Runtime* runtime, std::unique_ptr<Network>* out) {
  if (spec.input < 1 && spec.input_shape.empty()) return Status::InvalidArgument("model.input must be >= 1");
  if (spec.layers.empty()) return Status::InvalidArgument("model.layers is empty: a network needs a layer");
  std::unique_ptr<Network> net(new Network(spec, runtime));
  PIPELINE_RETURN_IF_ERROR(CreateLoss(spec.loss, &net->loss_));
  if (net->spec_.input_shape.empty()) net->spec_.input_shape = {spec.input};
  for (int64_t d : net->spec_.input_shape)
    if (d < 1) return Status::InvalidArgument("model.input " + LayerShapeString(net->spec_.input_shape) + " must be >= 1");
  net->spec_.input = Elements(net->spec_.input_shape);
  Shape in = net->spec_.input_shape;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& layer_spec = spec.layers[i];
    std::unique_ptr<Layer> layer;
    PIPELINE_RETURN_IF_ERROR(CreateLayer(layer_spec, in, &layer));
    in = layer->out_shape();
    for (Param* p : layer->params()) net->params_.push_back(p);
    net->layers_.push_back(std::move(layer));
  }
  for (size_t i = 1; i < net->layers_.size(); ++i) {
    Layer& below = *net->layers_[i - 1];
    if (net->layers_[i]->TakesReluGradient() && below.HandOverReluGradient()) net->layers_[i]->ApplyReluGradientOfBelow();
  }
  net->ChooseLayouts();
  *out = std::move(net);
  return Status::Ok();
}

void Network::ChooseLayouts() {
  using tag = dnnl::memory::format_tag;
  const tag blocked = BlockedImageLayout();
  const int64_t block = blocked == tag::nChw16c ? 16 : 8;
  // out_blocked[i]: layer i's output is blocked; a channel count the block
  // does not divide would pad the buffer, so it stays plain.
  const size_t count = layers_.size();
  std::vector<bool> out_blocked(count, false);
  for (size_t i = 0; i + 1 < count; ++i) {
    const Shape& shape = layers_[i]->out_shape();
    out_blocked[i] = spec_.blocked_layouts && layers_[i]->produces_blocked() && layers_[i + 1]->takes_blocked() &&
                     shape.size() == 3 && shape[2] % block == 0;
  }
  auto apply = [&] {
    for (size_t i = 0; i < count; ++i)
      layers_[i]->set_layouts(i > 0 && out_blocked[i - 1] ? blocked : tag::nhwc, out_blocked[i] ? blocked : tag::nhwc);
  };
  apply();
  // A layer that would land on one of oneDNN's reference kernels with a
  // blocked side keeps both sides plain (oneDNN 2.6 without AVX-512: a
  // 1-channel conv's weight gradient into nChw8c).
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < count; ++i) {
      const bool touches_blocked = (i > 0 && out_blocked[i - 1]) || out_blocked[i];
      if (!touches_blocked || !layers_[i]->ReferenceKernels(runtime_->engine(), i > 0)) continue;
      if (i > 0) out_blocked[i - 1] = false;
      out_blocked[i] = false;
      changed = true;
      apply();
    }
  }
}

Status Network::Initialize(uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : layers_) PIPELINE_RETURN_IF_ERROR(layer->Initialize(rng));
  return Status::Ok();
}

std::vector<Param*> Network::SavedTensors() const {
  std::vector<Param*> out = params_;
  for (const auto& layer : layers_)
    for (Param* p : layer->state()) out.push_back(p);
  return out;
}

int64_t Network::ParameterCount() const {
  int64_t count = 0;
  for (const auto& layer : layers_)
    for (const Param* p : layer->params()) count += p->size();
  return count;
}

int64_t Network::InferenceFlopsPerExample() const {
  int64_t flops = 0;
  for (const auto& layer : layers_) flops += layer->ForwardFlops();
  return flops;
}

int64_t Network::TrainingFlopsPerExample() const {
  int64_t flops = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    flops += layers_[i]->ForwardFlops() + layers_[i]->WeightGradFlops();
    if (i > 0) flops += layers_[i]->InputGradFlops();
  }
  return flops;
}

const ParamPartition& Network::Partition(int parts) {
  auto it = partitions_.find(parts);
  if (it != partitions_.end()) return it->second;
  std::vector<ParamWork> work;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto layer_params = layers_[l]->params();
    for (size_t j = 0; j < layer_params.size(); ++j) {
      // A matrix of the first layer has one row per input feature, which
      // the transposed input serves as dense rows; other row ranges would
      // be strided views (see DenseLayer::AddParamGradient).
      const bool divisible = l == 0 && layer_params[j]->dims.size() == 2;
      work.push_back({static_cast<double>(layers_[l]->ParamGradientFlops(j)), divisible});
    }
  }
  return partitions_.emplace(parts, PartitionParams(params(), work, parts)).first->second;
}

BatchPlan& Network::Plan(int64_t n, bool training) {
  auto& slot = plans_[{n, training}];
  if (!slot) {
    slot = std::make_unique<BatchPlan>();
    slot->n = n;
    slot->training = training;
    Compile(*slot);
  }
  return *slot;
}

void Network::Compile(BatchPlan& p) {
  const int64_t n = p.n, c = classes();
  p.input.assign(n * spec_.input, 0.0f);
  for (const auto& layer : layers_) {
    p.act.emplace_back(n * layer->out_features(), 0.0f);
    if (p.training) p.dact.emplace_back(n * layer->out_features(), 0.0f);
  }
  p.output.assign(n * c, 0.0f);
  if (p.training) p.target.assign(n * c, 0.0f);

  // Batch statistics need every row in one primitive: one worker, whose
  // primitives then use oneDNN's own threads.
  const int workers = WholeBatch() ? 1 : WorkersFor(n, runtime_->threads());
  p.workers.resize(workers);
  // Several workers run their primitives inside one OpenMP region, where
  // oneDNN runs each on its calling thread: created seeing one thread.
  const OneOmpThreadWhileCreating one_thread(workers > 1);
  for (int k = 0; k < workers; ++k) {
    p.workers[k].begin = n * k / workers;
    p.workers[k].rows = n * (k + 1) / workers - p.workers[k].begin;
    CompileWorkerRows(p, k);
  }
  // After every worker's rows: a parameter's gradient may sum partials that
  // each worker's backward computes (conv2d).
  if (p.training)
    for (int k = 0; k < workers; ++k) CompileWorkerParams(p, k);
  p.loss_sums.assign(workers, 0.0);
  p.part_finite.assign(workers, 1);
  p.part_sum_squares.assign(workers, 0.0);
}

bool Network::WholeBatch() const {
  for (const auto& layer : layers_)
    if (layer->whole_batch()) return true;
  return false;
}

void Network::CompileWorkerRows(BatchPlan& p, int k) {
  const auto& e = runtime_->engine();
  WorkerPlan& w = p.workers[k];
  const int64_t rows = w.rows, c = classes();
  // Row slices of the shared buffers: rows are contiguous in row-major storage.
  auto rows_of = [&](std::vector<float>& buffer, int64_t width) { return buffer.data() + w.begin * width; };

  const BatchRows br{rows, w.begin, p.n, p.training};
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->AddForward(w.forward, e, br, rows_of(*LayerInput(p, i), layers_[i]->in_features()),
                           rows_of(p.act[i], layers_[i]->out_features()));
  }
  loss_->AddForward(w.forward, e, rows, c, rows_of(p.act.back(), c), rows_of(p.output, c));
  if (!p.training) return;

  loss_->AddGradient(w.backward, e, rows, c, rows_of(p.act.back(), c), rows_of(p.target, c),
                     rows_of(p.dact.back(), c), &p.loss_grad_scale);
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer& layer = *layers_[i];
    float* dx = i == 0 ? nullptr : rows_of(p.dact[i - 1], layer.in_features());
    layer.AddBackwardData(w.backward, e, br, rows_of(*LayerInput(p, i), layer.in_features()),
                          rows_of(p.act[i], layer.out_features()),
                          rows_of(p.dact[i], layer.out_features()), dx);
  }
}

void Network::CompileWorkerParams(BatchPlan& p, int k) {
  const auto& e = runtime_->engine();
  WorkerPlan& w = p.workers[k];
  // Its share of the parameter gradients, over all n rows.
  std::vector<std::pair<size_t, size_t>> owner;  // params() index -> (layer, its param)
  for (size_t i = 0; i < layers_.size(); ++i)
    for (size_t j = 0; j < layers_[i]->params().size(); ++j) owner.emplace_back(i, j);
  for (const ParamShare& share : Partition(static_cast<int>(p.workers.size()))[k]) {
    const auto [i, j] = owner[share.param];
    float* xt = nullptr;
    // Only a cut of the first kernel reads the transposed input (a conv
    // kernel is never cut: its dims are not [in, out]).
    if (i == 0 && j == 0 && share.range.rows < layers_[0]->params()[0]->dims[0]) {
      if (p.input_t.empty()) p.input_t.assign(spec_.input * p.n, 0.0f);
      w.input_t = share.range;
      xt = p.input_t.data();
    }
    for (bool into_value : {false, true}) {
      layers_[i]->AddParamGradient(into_value ? w.param_updates : w.param_gradients, e, p.n, LayerInput(p, i)->data(), xt,
                                   p.dact[i].data(), j, share.range, into_value);
    }
  }
}

void Network::RunRows(BatchPlan& plan, int k, dnnl::stream& s, bool backward, const BatchInput* input) {
  FlushDenormals();
  WorkerPlan& w = plan.workers[k];
  if (backward)
    for (auto& layer : layers_)
      layer->BeginRows(steps_, plan.row_offset + w.begin, w.rows, plan.batch_rows ? plan.batch_rows : plan.n);
  if (input) {
    const int64_t f = spec_.input;
    for (int64_t r = w.begin; r < w.begin + w.rows; ++r) {
      const int64_t example = input->indices ? input->indices[r] : input->first + r;
      float* dst = plan.input.data() + r * f;
      if (input->rows) {
        std::copy(input->rows + example * f, input->rows + (example + 1) * f, dst);
        continue;
      }
      const uint8_t* src = input->examples + example * f;
      for (int64_t j = 0; j < f; ++j) dst[j] = static_cast<float>(src[j]) * input->scale;
    }
  }
  w.forward.Execute(s);
  if (backward) w.backward.Execute(s);
  s.wait();
}

void Network::RunParamGradients(BatchPlan& plan, int k, dnnl::stream& s, bool fused) {
  WorkerPlan& w = plan.workers[k];
  const int64_t n = plan.n, f = spec_.input;
  // input_t[r, :] = input[:, r] for its rows r, in 16 x 16 tiles.
  constexpr int64_t kTile = 16;
  const int64_t r_end = w.input_t.row_begin + w.input_t.rows;
  for (int64_t i0 = 0; i0 < n; i0 += kTile) {
    for (int64_t r0 = w.input_t.row_begin; r0 < r_end; r0 += kTile) {
      for (int64_t r = r0; r < std::min(r0 + kTile, r_end); ++r) {
        for (int64_t i = i0; i < std::min(i0 + kTile, n); ++i) plan.input_t[r * n + i] = plan.input[i * f + r];
      }
    }
  }
  (fused ? w.param_updates : w.param_gradients).Execute(s);
  s.wait();
}

template <typename Step>
void Network::RunWorkers(BatchPlan& plan, Step step) {
  const int workers = static_cast<int>(plan.workers.size());
  if (workers == 1) {
    step(0, runtime_->stream(), [] {});
    return;
  }
  // Inside the region oneDNN sees omp_in_parallel() and runs each primitive on
  // its calling thread.
#pragma omp parallel num_threads(workers)
  {
    const int k = omp_get_thread_num();
    step(k, runtime_->worker_stream(k), [] {
#pragma omp barrier
    });
  }
}

void Network::Forward(BatchPlan& plan, const BatchInput* input) {
  RunWorkers(plan, [&](int k, dnnl::stream& s, auto) { RunRows(plan, k, s, false, input); });
}

void Network::FillTargets(BatchPlan& plan, const uint8_t* labels, const BatchInput* input) {
  const int64_t c = classes();
  for (int64_t i = 0; i < plan.n; ++i) {
    float* t = plan.target.data() + i * c;
    if (input && input->targets) {
      const int64_t example = input->indices ? input->indices[i] : input->first + i;
      std::copy(input->targets + example * c, input->targets + (example + 1) * c, t);
    } else {
      loss_->FillTarget(labels[i], t, c);
    }
  }
}

void Network::PrefetchNext(const BatchInput& input, int64_t begin, int64_t end) const {
  if (input.next == nullptr) return;
  const int64_t f = spec_.input;
  for (int64_t r = begin; r < end; ++r) {
    if (input.rows) {
      const float* row = input.rows + input.next[r] * f;
      for (int64_t j = 0; j < f; j += 16) __builtin_prefetch(row + j);
      continue;
    }
    const uint8_t* row = input.examples + input.next[r] * f;
    for (int64_t j = 0; j < f; j += 64) __builtin_prefetch(row + j);
  }
}

bool Network::ShareFinite(int k, int parts, bool values, double* sum_squares) {
  // g - g is exactly 0 for a finite g and NaN otherwise: the accumulation
  // never overflows and, being exact, may run in any order, so it vectorizes.
  float acc = 0.0f;
  double squares = 0.0;  // in double: no overflow, and a fixed order per build
  for (const ParamShare& share : Partition(parts)[k]) {
    const Param& p = *params_[share.param];
    const float* g = (values ? p.value.data() : p.grad.data()) + share.range.offset;
    if (sum_squares) {
#pragma omp simd reduction(+ : acc, squares)
      for (int64_t i = 0; i < share.range.len; ++i) {
        acc += g[i] - g[i];
        squares += static_cast<double>(g[i]) * g[i];
      }
      continue;
    }
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < share.range.len; ++i) acc += g[i] - g[i];
  }
  if (sum_squares) *sum_squares = squares;
  return acc == 0.0f;
}

bool Network::GradientsFinite(const Optimizer& opt, double* sum_squares) {
  bool finite = true;
  *sum_squares = 0.0;
  for (int k = 0; k < opt.workers(); ++k) {
    double part = 0.0;
    finite = ShareFinite(k, opt.workers(), false, opt.clips() ? &part : nullptr) && finite;
    *sum_squares += part;
  }
  return finite;
}

std::vector<float> Network::WeightDecays(double optimizer_decay) const {
  std::vector<float> decays;
  for (const auto& layer : layers_) {
    const double own = layer->spec().weight_decay;
    for (const Param* p : layer->params())
      decays.push_back(p->dims.size() >= 2 ? static_cast<float>(own >= 0.0 ? own : optimizer_decay) : 0.0f);
  }
  return decays;
}

double Network::ForwardBackwardSum(BatchPlan& plan, const uint8_t* labels, const BatchInput* input,
                                   int64_t batch_rows) {
  ++steps_;
  FillTargets(plan, labels, input);
  plan.loss_grad_scale = 1.0f / static_cast<float>(batch_rows);
  RunWorkers(plan, [&](int k, dnnl::stream& s, auto barrier) {
    RunRows(plan, k, s, true, input);
    barrier();  // every row's dL/dz is complete
    RunParamGradients(plan, k, s, false);
  });
  return loss_->Sum(plan.act.back().data(), plan.output.data(), plan.target.data(), plan.n, classes());
}

double Network::ForwardBackward(BatchPlan& plan, const uint8_t* labels, const BatchInput* input) {
  plan.row_offset = plan.batch_rows = 0;
  return ForwardBackwardSum(plan, labels, input, plan.n) / static_cast<double>(plan.n);
}

double Network::TrainShard(BatchPlan* plan, const uint8_t* labels, const BatchInput& input, int64_t batch_rows,
                           int64_t row_offset) {
  if (plan == nullptr) {
    ++steps_;
    for (Param* p : params_) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
    return 0.0;
  }
  plan->row_offset = row_offset;
  plan->batch_rows = batch_rows;
  const double sum = ForwardBackwardSum(*plan, labels, &input, batch_rows);
  plan->row_offset = plan->batch_rows = 0;
  return sum;
}

bool Network::ApplyGradients(Optimizer& opt, float lr) {
  double sum_squares = 0.0;
  const bool finite = GradientsFinite(opt, &sum_squares);
  if (finite) opt.Apply(runtime_->stream(), lr, sum_squares);
  return finite;
}

TrainStepResult Network::TrainStep(BatchPlan& plan, const uint8_t* labels, const BatchInput& input, Optimizer& opt,
                                   float lr) {
  const int workers = static_cast<int>(plan.workers.size());
  const int64_t c = classes();
  TrainStepResult result;
  if (workers != opt.workers()) {
    // A batch too small to split as the optimizer is (a short last batch):
    // the same steps, with the check and update after the gradients.
    result.loss = ForwardBackward(plan, labels, &input);
    result.loss_finite = std::isfinite(result.loss);
    double sum_squares = 0.0;
    result.gradients_finite = GradientsFinite(opt, &sum_squares);
    if (result.applied()) opt.Apply(runtime_->stream(), lr, sum_squares);
    return result;
  }
  ++steps_;
  FillTargets(plan, labels, &input);
  opt.Prepare(lr);
  // Fused: dz carries the SGD step's -lr/n and the GEMMs add it to the weights.
  const float* sgd_scale = fuse_sgd_ ? opt.PlainStepScale() : nullptr;
  const bool fused = sgd_scale != nullptr;
  plan.loss_grad_scale = (fused ? *sgd_scale : 1.0f) / static_cast<float>(plan.n);
  RunWorkers(plan, [&](int k, dnnl::stream& s, auto barrier) {
    RunRows(plan, k, s, true, &input);
    const WorkerPlan& w = plan.workers[k];
    plan.loss_sums[k] = loss_->Sum(plan.act.back().data() + w.begin * c, plan.output.data() + w.begin * c,
                                   plan.target.data() + w.begin * c, w.rows, c);
    PrefetchNext(input, w.begin, std::min(w.begin + w.rows, input.next_count));
    barrier();  // every row's dL/dz is complete, and no one reads the weights any more
    double sum = 0.0;
    for (int j = 0; j < workers; ++j) sum += plan.loss_sums[j];
    if (k == 0) {
      result.loss = sum / static_cast<double>(plan.n);
      result.loss_finite = std::isfinite(sum);
    }
    if (fused) {
      // A finite step leaves finite weights; a NaN or Inf gradient does not.
      plan.part_finite[k] = 1;
      if (std::isfinite(sum)) {
        RunParamGradients(plan, k, s, true);
        plan.part_finite[k] = ShareFinite(k, workers, true);
      }
      return;
    }
    RunParamGradients(plan, k, s, false);
    plan.part_finite[k] = ShareFinite(k, workers, false, opt.clips() ? &plan.part_sum_squares[k] : nullptr);
    barrier();  // every share is computed and checked: all workers decide alike
    bool finite = true;
    double sum_squares = 0.0;  // every worker adds the parts in the same order
    for (int j = 0; j < workers; ++j) {
      finite = finite && plan.part_finite[j];
      sum_squares += plan.part_sum_squares[j];
    }
    if (std::isfinite(sum) && finite) {
      opt.RunSlice(s, k, sum_squares);
      s.wait();
    }
  });
  for (int j = 0; j < workers; ++j) result.gradients_finite = result.gradients_finite && plan.part_finite[j];
  if (result.applied()) opt.Commit();
  return result;
}

}  // namespace pipeline
