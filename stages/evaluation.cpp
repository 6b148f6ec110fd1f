#include "stages/evaluation.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "engine/softmax_cross_entropy.h"

namespace pipeline {

int64_t ArgMax(const float* values, int64_t n) {
  return std::max_element(values, values + n) - values;
}

SplitScore EvaluateSplit(Network& net, const Split& split, float scale, int64_t batch_size,
                         std::vector<int64_t>* predictions) {
  if (predictions) predictions->clear();
  SplitScore score;
  if (split.count == 0) return score;
  const auto start = std::chrono::steady_clock::now();
  const int64_t c = net.classes();
  const int64_t full = std::min(batch_size, split.count);
  const int64_t tail = split.count % full;
  // One plan per distinct batch size, compiled before the loop.
  BatchPlan& full_plan = net.Plan(full, false);
  BatchPlan* tail_plan = tail ? &net.Plan(tail, false) : nullptr;

  int64_t correct = 0;
  double loss_sum = 0.0;
  for (int64_t first = 0; first < split.count;) {
    const int64_t n = std::min(full, split.count - first);
    BatchPlan& plan = n == full ? full_plan : *tail_plan;
    const BatchInput input{split.images.data(), nullptr, first, scale};
    net.Forward(plan, &input);
    const uint8_t* labels = split.labels.data() + first;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t predicted = ArgMax(plan.logp.data() + i * c, c);
      correct += predicted == labels[i];
      if (predictions) predictions->push_back(predicted);
    }
    loss_sum += SoftmaxCrossEntropy::Loss(plan.logp.data(), labels, n, c) * static_cast<double>(n);
    first += n;
  }
  score.examples = split.count;
  score.accuracy = static_cast<double>(correct) / static_cast<double>(split.count);
  score.loss = loss_sum / static_cast<double>(split.count);
  score.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return score;
}

}  // namespace pipeline
