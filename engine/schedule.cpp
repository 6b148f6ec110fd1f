#include "engine/schedule.h"

#include <cmath>
#include <limits>

#include "common/registry.h"
#include "common/strings.h"

namespace pipeline {
namespace {

using ScheduleFn = double (*)(const ScheduleSpec& s, double base, double epoch, int64_t horizon);

double Constant(const ScheduleSpec&, double base, double, int64_t) { return base; }
double Step(const ScheduleSpec& s, double base, double e, int64_t) {
  return base * std::pow(s.decay_rate, std::floor(e / s.decay_epochs));
}
double Exponential(const ScheduleSpec& s, double base, double e, int64_t) {
  return base * std::pow(s.decay_rate, e / s.decay_epochs);
}
double Cosine(const ScheduleSpec& s, double base, double e, int64_t horizon) {
  const double progress = horizon > 0 ? e / static_cast<double>(horizon) : 0.0;
  return s.min_learning_rate + (base - s.min_learning_rate) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

struct ScheduleTag {
  static constexpr const char* kKind = "schedule";
};
using ScheduleRegistry = Registry<ScheduleTag, ScheduleFn>;

PIPELINE_REGISTER(ScheduleRegistry, constant, 0, &Constant);
PIPELINE_REGISTER(ScheduleRegistry, step, 1, &Step);
PIPELINE_REGISTER(ScheduleRegistry, exponential, 2, &Exponential);
PIPELINE_REGISTER(ScheduleRegistry, cosine, 3, &Cosine);

}  // namespace

const std::vector<std::string>& ScheduleTypes() {
  static const std::vector<std::string> names = ScheduleRegistry::Names();
  return names;
}

Status CheckSchedule(const ScheduleSpec& spec) {
  if (ScheduleRegistry::Find(spec.type)) return Status::Ok();
  return Status::InvalidArgument("Unknown schedule type: " + spec.type + " (known types: " +
                                 Join(ScheduleTypes(), ", ") + ")");
}

double LearningRateAt(const ScheduleSpec& s, double base, int64_t epoch, int64_t horizon) {
  const ScheduleFn* fn = ScheduleRegistry::Find(s.type);
  if (!fn) return std::numeric_limits<double>::quiet_NaN();
  return (*fn)(s, base, static_cast<double>(epoch), horizon);
}

bool ScheduleDependsOnHorizon(const std::string& type) { return type == "cosine"; }

int64_t ScheduleHorizon(int64_t schedule_epochs, int64_t train_epochs) {
  return schedule_epochs > 0 ? schedule_epochs : train_epochs;
}

}  // namespace pipeline
