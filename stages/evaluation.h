// Scores of the model on one data split, in fixed-size batches whose plans
// are compiled once (the last partial batch has its own plan).
#pragma once

#include <cmath>
#include <vector>

#include "data/dataset.h"
#include "engine/network.h"

namespace pipeline {

struct SplitScore {
  double accuracy = NAN;      // classification
  double loss = 0.0;
  double auc = NAN;           // two classes: ROC AUC of the positive class's probability
  double rmse = NAN, r2 = NAN;  // regression
  int64_t examples = 0;
  double seconds = 0.0;
};

// With `predictions`, also returns each example's predicted class (argmax;
// one sigmoid output: p > 0.5), in split order; none for a regression.
SplitScore EvaluateSplit(Network& net, const Split& split, float scale, int64_t batch_size,
                         std::vector<int64_t>* predictions = nullptr);

// Index of the largest of n values (the first on ties, as tf.argmax).
int64_t ArgMax(const float* values, int64_t n);

// The area under the ROC curve of `scores` for `positive` labels: the
// probability that a random positive scores above a random negative, ties
// counting half (the Mann-Whitney U statistic, as sklearn's roc_auc_score).
// NaN when either class is absent.
double RocAuc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace pipeline
