#include "stages/evaluation.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>

namespace pipeline {

int64_t ArgMax(const float* values, int64_t n) {
  return std::max_element(values, values + n) - values;
}

double RocAuc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks, tied scores sharing their mean rank.
  double rank_sum = 0.0;
  int64_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (positive[order[k]]) rank_sum += mean_rank, ++positives;
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(n) - positives;
  if (positives == 0 || negatives == 0) return NAN;
  const double p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

SplitScore EvaluateSplit(Network& net, const Split& split, float scale, int64_t batch_size,
                         std::vector<int64_t>* predictions) {
  if (predictions) predictions->clear();
  SplitScore score;
  if (split.count == 0) return score;
  const auto start = std::chrono::steady_clock::now();
  const Loss& loss = net.loss();
  const bool regression = loss.regression();
  const int64_t c = net.classes();
  const int64_t full = std::min(batch_size, split.count);
  const int64_t tail = split.count % full;
  // One plan per distinct batch size, compiled before the loop.
  BatchPlan& full_plan = net.Plan(full, false);
  BatchPlan* tail_plan = tail ? &net.Plan(tail, false) : nullptr;
  std::vector<float> targets(static_cast<size_t>(full * c));
  std::vector<double> positive_scores;  // two classes: each example's score for class 1
  std::vector<bool> positive;

  int64_t correct = 0;
  double loss_sum = 0.0, squared_error = 0.0;
  for (int64_t first = 0; first < split.count;) {
    const int64_t n = std::min(full, split.count - first);
    BatchPlan& plan = n == full ? full_plan : *tail_plan;
    BatchInput input{split.images.data(), nullptr, first, scale};
    input.rows = split.rows.empty() ? nullptr : split.rows.data();
    net.Forward(plan, &input);
    const float* out = plan.output.data();
    if (regression) {
      std::copy(split.targets.begin() + first * c, split.targets.begin() + (first + n) * c, targets.begin());
      for (int64_t i = 0; i < n * c; ++i) {
        const double d = static_cast<double>(out[i]) - static_cast<double>(targets[i]);
        squared_error += d * d;
      }
    } else {
      const uint8_t* labels = split.labels.data() + first;
      for (int64_t i = 0; i < n; ++i) {
        loss.FillTarget(labels[i], targets.data() + i * c, c);
        const int64_t predicted = c == 1 ? (out[i] > 0.5f ? 1 : 0) : ArgMax(out + i * c, c);
        correct += predicted == labels[i];
        if (predictions) predictions->push_back(predicted);
        if (c <= 2) {
          // One output is a sigmoid's probability of class 1; of two, the
          // second is its log-softmax or sigmoid probability: either ranks
          // the examples as the probability does, which is all AUC reads.
          positive_scores.push_back(c == 1 ? out[i] : out[i * c + 1]);
          positive.push_back(labels[i] == 1);
        }
      }
    }
    loss_sum += loss.Sum(plan.act.back().data(), out, targets.data(), n, c);
    first += n;
  }
  const double count = static_cast<double>(split.count);
  score.examples = split.count;
  score.loss = loss_sum / count;
  if (regression) {
    score.rmse = std::sqrt(squared_error / (count * static_cast<double>(c)));
    double mean = 0.0, total = 0.0;
    for (float t : split.targets) mean += t;
    mean /= static_cast<double>(split.targets.size());
    for (float t : split.targets) total += (t - mean) * (t - mean);
    score.r2 = 1.0 - squared_error / total;
  } else {
    score.accuracy = static_cast<double>(correct) / count;
    if (!positive.empty()) score.auc = RocAuc(positive_scores, positive);
  }
  score.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return score;
}

}  // namespace pipeline
