#include "engine/network.h"

#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cmath>

#include "engine/optimizer.h"
#include "engine/softmax_cross_entropy.h"

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
  if (spec.input < 1) return Status::InvalidArgument("model.input must be >= 1");
  if (spec.layers.empty()) return Status::InvalidArgument("model.layers is empty: a network needs a layer");
  std::unique_ptr<Network> net(new Network(spec, runtime));
  int64_t in = spec.input;
  for (const auto& layer_spec : spec.layers) {
    std::unique_ptr<Layer> layer;
    PIPELINE_RETURN_IF_ERROR(CreateLayer(layer_spec, in, &layer));
    in = layer->out_features();
    net->layers_.push_back(std::move(layer));
  }
  *out = std::move(net);
  return Status::Ok();
}

Status Network::Initialize(uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : layers_) PIPELINE_RETURN_IF_ERROR(layer->Initialize(rng));
  return Status::Ok();
}

std::vector<Param*> Network::params() {
  std::vector<Param*> out;
  for (auto& layer : layers_)
    for (Param* p : layer->params()) out.push_back(p);
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
  p.logp.assign(n * c, 0.0f);
  if (p.training) p.onehot.assign(n * c, 0.0f);

  const int workers = WorkersFor(n, runtime_->threads());
  p.workers.resize(workers);
  for (int k = 0; k < workers; ++k) {
    WorkerPlan& w = p.workers[k];
    w.begin = n * k / workers;
    w.rows = n * (k + 1) / workers - w.begin;
    CompileWorker(p, w, k == 0);
  }
  p.loss_sums.assign(workers, 0.0);
  p.slice_finite.assign(workers, 1);
  p.reduce.assign(workers, pipeline::Plan());
  if (!p.training || workers == 1) return;

  // Param::grad (worker 0's copy) += every other worker's copy, in worker
  // order, cut into the same element slices the optimizer uses.
  const auto& e = runtime_->engine();
  auto params = this->params();
  for (int k = 0; k < workers; ++k) {
    for (size_t i = 0; i < params.size(); ++i) {
      const int64_t n_i = params[i]->size();
      const int64_t begin = n_i * k / workers, len = n_i * (k + 1) / workers - begin;
      if (len == 0) continue;
      std::vector<dnnl::memory::desc> mds;
      ArgMap args;
      for (int src = 0; src < workers; ++src) {
        float* g = (src == 0 ? params[i]->grad.data() : p.workers[src].grads[i].data()) + begin;
        args[DNNL_ARG_MULTIPLE_SRC + src] = Wrap(e, {1, len}, g);
        mds.push_back(RowMajor({1, len}));
      }
      args[DNNL_ARG_DST] = args[DNNL_ARG_MULTIPLE_SRC];
      dnnl::sum::primitive_desc pd(RowMajor({1, len}), std::vector<float>(workers, 1.0f), mds, e);
      p.reduce[k].Add(params[i]->name + " gradient reduction", dnnl::sum(pd), std::move(args));
    }
  }
}

void Network::CompileWorker(BatchPlan& p, WorkerPlan& w, bool first) {
  const auto& e = runtime_->engine();
  const int64_t rows = w.rows, c = classes();
  // Row slices of the shared buffers: rows are contiguous in row-major storage.
  auto rows_of = [&](std::vector<float>& buffer, int64_t width) { return buffer.data() + w.begin * width; };

  float* x = rows_of(p.input, spec_.input);
  for (size_t i = 0; i < layers_.size(); ++i) {
    float* y = rows_of(p.act[i], layers_[i]->out_features());
    layers_[i]->AddForward(w.forward, e, rows, x, y);
    x = y;
  }
  SoftmaxCrossEntropy::AddForward(w.forward, e, rows, c, rows_of(p.act.back(), c), rows_of(p.logp, c));
  if (!p.training) return;

  SoftmaxCrossEntropy::AddGradient(w.backward, e, rows, p.n, c, rows_of(p.logp, c), rows_of(p.onehot, c),
                                   rows_of(p.dact.back(), c));
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer& layer = *layers_[i];
    std::vector<float*> grads;
    for (Param* param : layer.params()) {
      if (first) {
        grads.push_back(param->grad.data());
      } else {
        grads.push_back(w.grads.emplace_back(param->size(), 0.0f).data());
      }
    }
    float* layer_in = i == 0 ? rows_of(p.input, spec_.input) : rows_of(p.act[i - 1], layers_[i - 1]->out_features());
    float* dx = i == 0 ? nullptr : rows_of(p.dact[i - 1], layers_[i - 1]->out_features());
    layer.AddBackward(w.backward, e, rows, layer_in, rows_of(p.act[i], layer.out_features()),
                      rows_of(p.dact[i], layer.out_features()), dx, grads);
  }
  // Gradients were appended last layer first; index them in params() order.
  if (!first) {
    std::vector<std::vector<float>> ordered;
    size_t at = w.grads.size();
    for (size_t i = 0; i < layers_.size(); ++i) {
      const size_t count = layers_[i]->params().size();
      at -= count;
      for (size_t j = 0; j < count; ++j) ordered.push_back(std::move(w.grads[at + j]));
    }
    w.grads = std::move(ordered);
  }
}

void Network::RunWorker(BatchPlan& plan, int k, dnnl::stream& s, bool backward, const BatchInput* input) {
  FlushDenormals();
  WorkerPlan& w = plan.workers[k];
  if (input) {
    const int64_t f = spec_.input;
    for (int64_t r = w.begin; r < w.begin + w.rows; ++r) {
      const int64_t example = input->indices ? input->indices[r] : input->first + r;
      const uint8_t* src = input->examples + example * f;
      float* dst = plan.input.data() + r * f;
      for (int64_t j = 0; j < f; ++j) dst[j] = static_cast<float>(src[j]) * input->scale;
    }
  }
  w.forward.Execute(s);
  if (backward) w.backward.Execute(s);
  s.wait();
}

void Network::RunWorkers(BatchPlan& plan, bool backward, const BatchInput* input) {
  const int workers = static_cast<int>(plan.workers.size());
  if (workers == 1) {
    RunWorker(plan, 0, runtime_->stream(), backward, input);
    return;
  }
  // Inside the region oneDNN sees omp_in_parallel() and runs each primitive on
  // its calling thread.
#pragma omp parallel num_threads(workers)
  {
    const int k = omp_get_thread_num();
    RunWorker(plan, k, runtime_->worker_stream(k), backward, input);
  }
}

void Network::Forward(BatchPlan& plan, const BatchInput* input) { RunWorkers(plan, false, input); }

void Network::FillOneHot(BatchPlan& plan, const uint8_t* labels) {
  const int64_t c = classes();
  std::fill(plan.onehot.begin(), plan.onehot.end(), 0.0f);
  for (int64_t i = 0; i < plan.n; ++i) plan.onehot[i * c + labels[i]] = 1.0f;
}

void Network::PrefetchNext(const BatchInput& input, int64_t begin, int64_t end) const {
  if (input.next == nullptr) return;
  const int64_t f = spec_.input;
  for (int64_t r = begin; r < end; ++r) {
    const uint8_t* row = input.examples + input.next[r] * f;
    for (int64_t j = 0; j < f; j += 64) __builtin_prefetch(row + j);
  }
}

bool Network::SliceFinite(int k, int workers) {
  // g - g is exactly 0 for a finite g and NaN otherwise: the accumulation
  // never overflows and, being exact, may run in any order, so it vectorizes.
  float acc = 0.0f;
  for (const auto& layer : layers_) {
    for (const Param* p : layer->params()) {
      const int64_t n = p->size(), begin = n * k / workers, end = n * (k + 1) / workers;
      const float* g = p->grad.data();
#pragma omp simd reduction(+ : acc)
      for (int64_t i = begin; i < end; ++i) acc += g[i] - g[i];
    }
  }
  return acc == 0.0f;
}

double Network::ForwardBackward(BatchPlan& plan, const uint8_t* labels, const BatchInput* input) {
  FillOneHot(plan, labels);
  RunWorkers(plan, true, input);
  for (auto& slice : plan.reduce) slice.Execute(runtime_->stream());
  runtime_->stream().wait();
  return SoftmaxCrossEntropy::Loss(plan.logp.data(), labels, plan.n, classes());
}

TrainStepResult Network::TrainStep(BatchPlan& plan, const uint8_t* labels, const BatchInput& input, Optimizer& opt,
                                   float lr) {
  const int workers = static_cast<int>(plan.workers.size());
  const int64_t c = classes();
  TrainStepResult result;
  if (workers != opt.workers()) {
    // A batch too small to split as the optimizer is (a short last batch):
    // the same steps, one after another on this thread.
    result.loss = ForwardBackward(plan, labels, &input);
    result.loss_finite = std::isfinite(result.loss);
    for (int k = 0; k < opt.workers(); ++k) result.gradients_finite &= SliceFinite(k, opt.workers());
    if (result.applied()) opt.Apply(runtime_->stream(), lr);
    return result;
  }
  FillOneHot(plan, labels);
  opt.Prepare(lr);
  bool apply = false;
  auto step = [&](int k, dnnl::stream& s, auto barrier) {
    RunWorker(plan, k, s, true, &input);
    const WorkerPlan& w = plan.workers[k];
    PrefetchNext(input, w.begin, std::min(w.begin + w.rows, input.next_count));
    plan.loss_sums[k] = SoftmaxCrossEntropy::Loss(plan.logp.data() + w.begin * c, labels + w.begin, w.rows, c) *
                        static_cast<double>(w.rows);
    barrier();  // every worker's gradient copy is complete
    plan.reduce[k].Execute(s);
    s.wait();
    plan.slice_finite[k] = SliceFinite(k, workers);
    barrier();  // every slice is reduced and checked: all workers decide alike
    double sum = 0.0;
    bool finite = true;
    for (int j = 0; j < workers; ++j) sum += plan.loss_sums[j], finite = finite && plan.slice_finite[j];
    if (k == 0) {
      result.loss = sum / static_cast<double>(plan.n);
      result.loss_finite = std::isfinite(sum);
      result.gradients_finite = finite;
      apply = result.applied();
    }
    if (std::isfinite(sum) && finite) {
      opt.RunSlice(s, k);
      s.wait();
    }
  };
  if (workers == 1) {
    step(0, runtime_->stream(), [] {});
  } else {
#pragma omp parallel num_threads(workers)
    {
      const int k = omp_get_thread_num();
      step(k, runtime_->worker_stream(k), [] {
#pragma omp barrier
      });
    }
  }
  if (apply) opt.Commit();
  return result;
}

}  // namespace pipeline
