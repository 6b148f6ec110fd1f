// Accuracy and loss of the model on one data split, in fixed-size batches
// whose plans are compiled once (the last partial batch has its own plan).
#pragma once

#include <vector>

#include "data/dataset.h"
#include "engine/network.h"

namespace pipeline {

struct SplitScore {
  double accuracy = 0.0;
  double loss = 0.0;
  int64_t examples = 0;
  double seconds = 0.0;
};

// With `predictions`, also returns each example's predicted class (argmax), in split order.
SplitScore EvaluateSplit(Network& net, const Split& split, float scale, int64_t batch_size,
                         std::vector<int64_t>* predictions = nullptr);

// Index of the largest of n values (the first on ties, as tf.argmax).
int64_t ArgMax(const float* values, int64_t n);

}  // namespace pipeline
