// Weight initializers, keyed by the name a config uses. Their definitions
// follow Keras/TensorFlow: fan_in/fan_out of a [in, out] kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/rng.h"

namespace pipeline {

struct InitSpec {
  std::string type = "random_normal";
  double mean = 0.0;
  double stddev = 1.0;
};

// Names the registry knows, for error messages and validation.
const std::vector<std::string>& InitializerNames();

// Fills data[0..count) drawn per `spec`. InvalidArgument for an unknown type.
Status Initialize(const InitSpec& spec, int64_t fan_in, int64_t fan_out, Rng& rng, float* data,
                  int64_t count);

}  // namespace pipeline
