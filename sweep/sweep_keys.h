// A sweep file's keys, allowed values and minimums: one home for the reader
// (sweep/spec.cpp) and the JSON Schema editors use (sweep/json_schema.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline::sweep::keys {

inline const std::vector<std::string> kTop = {"base",      "name",      "overrides", "grid", "random", "sets",
                                              "objective", "scheduler", "export",    "jobs"};
inline const std::vector<std::string> kRandom = {"samples", "seed", "params"};
inline const std::vector<std::string> kDistributions = {"uniform", "loguniform", "int", "choice"};
inline const std::vector<std::string> kObjective = {"metric", "mode"};
inline const std::vector<std::string> kMetrics = {"validation_accuracy", "test_accuracy", "test_loss", "final_loss"};
inline const std::vector<std::string> kModes = {"max", "min"};
inline const std::vector<std::string> kScheduler = {"type", "min_epochs", "max_epochs", "reduction_factor"};
inline const std::vector<std::string> kSchedulerTypes = {"none", "asha"};
inline const std::vector<std::string> kExportPolicies = {"best", "all", "none"};
inline constexpr const char* kJobsAuto = "auto";  // jobs: auto = one per core

inline constexpr int64_t kMinSamples = 1;
inline constexpr int64_t kMinSeed = 0;
inline constexpr int64_t kMinEpochs = 1;  // min_epochs and max_epochs
inline constexpr int64_t kMinReductionFactor = 2;
inline constexpr int64_t kMinJobs = 1;

}  // namespace pipeline::sweep::keys
