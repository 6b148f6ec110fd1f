// An optimizer's hyperparameters and its learning-rate schedule: plain values the
// engine owns. config/ binds YAML keys to these members (config/schema.cpp) and
// the solvers read them as they are, so a new hyperparameter is a member here and
// a row there, never a third restatement.
#pragma once

#include <cstdint>
#include <string>

namespace pipeline {

struct ScheduleConfig {
  std::string type = "constant";
  double decay_rate = 0.1;             // step, exponential
  int64_t decay_epochs = 10;           // step: every N epochs; exponential: rate^(epoch/N)
  double min_learning_rate = 0.0;      // cosine floor
  int64_t epochs = 0;                  // cosine: the horizon it decays over; 0: train.epochs
};

struct OptimizerConfig {
  std::string type = "sgd";
  double learning_rate = 0.01;
  double momentum = 0.9;               // momentum
  bool nesterov = false;               // momentum
  double beta1 = 0.9, beta2 = 0.999;   // adam
  double rho = 0.9;                    // rmsprop
  double epsilon = 1e-7;               // adam rmsprop
  // Before any solver's step (Caffe's order: clip, then decay):
  double clip_global_norm = 0.0;       // 0: off; else g *= min(1, clip / ||all g||)
  double weight_decay = 0.0;           // L2 on kernels: g += weight_decay * w (a layer may override)
  ScheduleConfig schedule;
};

}  // namespace pipeline
