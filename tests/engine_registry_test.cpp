// The self-registering registries (common/registry.h): what registered is
// what the engine creates, and an unknown schedule is an error, not a constant.
#include <doctest/doctest.h>

#include <cmath>

#include "common/registry.h"
#include "engine/schedule.h"

using namespace pipeline;

TEST_CASE("engine: an unknown schedule is an error and never a silent constant") {
  ScheduleSpec s;
  s.type = "cos";
  const Status st = CheckSchedule(s);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() == "Unknown schedule type: cos (known types: constant, cosine, exponential, step)");
  CHECK(std::isnan(LearningRateAt(s, 0.1, 3, 10)));
  for (const auto& type : ScheduleTypes()) {
    s.type = type;
    CHECK_MESSAGE(CheckSchedule(s).ok(), type);
    CHECK(std::isfinite(LearningRateAt(s, 0.1, 3, 10)));
  }
  CHECK(ScheduleTypes().size() == 4);
}

TEST_CASE("engine: registries list names in rank order for the config and alphabetically for the engine") {
  CHECK(NameRegistry::Names("optimizer") == std::vector<std::string>{"sgd", "momentum", "adam", "rmsprop"});
  CHECK(NameRegistry::Names("activation") == std::vector<std::string>{"relu", "sigmoid", "tanh", "linear", "leaky_relu",
                                                                       "elu", "gelu", "softplus", "softmax"});
  CHECK(NameRegistry::Names("schedule") == std::vector<std::string>{"constant", "step", "exponential", "cosine"});
  CHECK(NameRegistry::Names("layer") == std::vector<std::string>{"avg_pool2d", "batch_norm", "conv2d", "dense",
                                                                  "dropout", "flatten", "max_pool2d"});
  CHECK(NameRegistry::Names("initializer") ==
        std::vector<std::string>{"random_normal", "truncated_normal", "glorot_uniform", "glorot_normal", "he_normal",
                                 "zeros"});
  CHECK(NameRegistry::Names("no such kind").empty());
}
