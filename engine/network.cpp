#include "engine/network.h"

#include <algorithm>

#include "engine/softmax_cross_entropy.h"

namespace pipeline {

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
  const auto& e = runtime_->engine();
  const int64_t n = p.n, c = classes();
  p.input.assign(n * spec_.input, 0.0f);
  for (const auto& layer : layers_) {
    p.act.emplace_back(n * layer->out_features(), 0.0f);
    if (p.training) p.dact.emplace_back(n * layer->out_features(), 0.0f);
  }
  p.logp.assign(n * c, 0.0f);
  if (p.training) p.onehot.assign(n * c, 0.0f);

  float* x = p.input.data();
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->AddForward(p.forward, e, n, x, p.act[i].data());
    x = p.act[i].data();
  }
  SoftmaxCrossEntropy::AddForward(p.forward, e, n, c, p.act.back().data(), p.logp.data());
  if (!p.training) return;

  SoftmaxCrossEntropy::AddGradient(p.backward, e, n, c, p.logp.data(), p.onehot.data(), p.dact.back().data());
  for (size_t i = layers_.size(); i-- > 0;) {
    float* layer_in = i == 0 ? p.input.data() : p.act[i - 1].data();
    float* dx = i == 0 ? nullptr : p.dact[i - 1].data();
    layers_[i]->AddBackward(p.backward, e, n, layer_in, p.act[i].data(), p.dact[i].data(), dx);
  }
}

void Network::Forward(BatchPlan& plan) {
  plan.forward.Execute(runtime_->stream());
  runtime_->stream().wait();
}

double Network::ForwardBackward(BatchPlan& plan, const uint8_t* labels) {
  const int64_t c = classes();
  std::fill(plan.onehot.begin(), plan.onehot.end(), 0.0f);
  for (int64_t i = 0; i < plan.n; ++i) plan.onehot[i * c + labels[i]] = 1.0f;
  plan.forward.Execute(runtime_->stream());
  plan.backward.Execute(runtime_->stream());
  runtime_->stream().wait();
  return SoftmaxCrossEntropy::Loss(plan.logp.data(), labels, plan.n, c);
}

}  // namespace pipeline
