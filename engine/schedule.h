// Learning-rate schedules, evaluated once per epoch (0-based).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

struct ScheduleSpec {
  std::string type = "constant";  // constant step exponential cosine
  double decay_rate = 0.1;
  int64_t decay_epochs = 10;
  double min_learning_rate = 0.0;
};

// constant: base; step: base * rate^floor(epoch/decay_epochs);
// exponential: base * rate^(epoch/decay_epochs);
// cosine: min + (base-min) * (1 + cos(pi * epoch/epochs)) / 2.
double LearningRateAt(const ScheduleSpec& spec, double base, int64_t epoch, int64_t epochs);

}  // namespace pipeline
