#include "engine/schedule.h"

#include <cmath>

namespace pipeline {

double LearningRateAt(const ScheduleSpec& s, double base, int64_t epoch, int64_t horizon) {
  const double e = static_cast<double>(epoch);
  if (s.type == "step") return base * std::pow(s.decay_rate, std::floor(e / s.decay_epochs));
  if (s.type == "exponential") return base * std::pow(s.decay_rate, e / s.decay_epochs);
  if (s.type == "cosine") {
    const double progress = horizon > 0 ? e / static_cast<double>(horizon) : 0.0;
    return s.min_learning_rate + (base - s.min_learning_rate) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  return base;
}

bool ScheduleDependsOnHorizon(const std::string& type) { return type == "cosine"; }

int64_t ScheduleHorizon(int64_t schedule_epochs, int64_t train_epochs) {
  return schedule_epochs > 0 ? schedule_epochs : train_epochs;
}

}  // namespace pipeline
