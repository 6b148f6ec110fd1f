// Mean softmax cross-entropy over a batch, computed from logits as TensorFlow's
// softmax_cross_entropy_with_logits does (through log-softmax, so huge logits
// from N(0,1) weights never produce log(0)), and its fused gradient:
//   logp   = logsoftmax(z)                      [n, C]
//   loss   = -1/n * sum_i logp[i, y_i]
//   dL/dz  = (exp(logp) - onehot(y)) / n        [n, C]
// The gradient is scaled by a runtime scalar instead of a fixed 1/n, so a
// caller can fold more into it (a fused SGD step: -lr/n, engine/network.h).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/plan.h"

namespace pipeline {

class SoftmaxCrossEntropy {
 public:
  // Appends logits [n,C] -> logp [n,C].
  static void AddForward(Plan& plan, const dnnl::engine& e, int64_t n, int64_t classes, float* logits,
                         float* logp);
  // Appends logits, onehot -> dlogits [n,C] = (softmax(logits) - onehot) * *scale,
  // with *scale read at run time (1/batch for the mean's gradient). The
  // caller fills onehot per batch. The softmax is computed from the logits,
  // not as exp(logp): log-softmax's last-bit error made exp(logp) of a
  // saturated example 1 - 1e-7 instead of exactly 1, a noise gradient that
  // Adam and RMSProp normalize into full steps (TF's softmax, like this one,
  // rounds it to 1: tests/tf/training_parity.py).
  static void AddGradient(Plan& plan, const dnnl::engine& e, int64_t n, int64_t classes, float* logits,
                          const float* onehot, float* dlogits, float* scale);

  // loss = -1/n sum_i logp[i, labels[i]], accumulated in double.
  static double Loss(const float* logp, const uint8_t* labels, int64_t n, int64_t classes);
};

}  // namespace pipeline
