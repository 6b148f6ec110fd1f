// The model server's request metrics, exported as Prometheus text on the
// REST port when --monitoring_config_file enables it (TF Serving's
// PrometheusExporter). TF Serving's metric names and labels, with its
// name mangling ('/' -> ':'):
//   :tensorflow:serving:request_count{model_name, status}   counter
//   :tensorflow:serving:request_latency{model_name, API, entrypoint}
//       histogram of microseconds, buckets 10 * 1.8^k (k < 33), as TF Serving's
// Recording takes one short lock; a scrape copies the counts under it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "common/status.h"
#include "serving/predict_api.h"

namespace pipeline::server {

// "OK", "INVALID_ARGUMENT", ...: TensorFlow's names of the codes.
const char* ErrorCodeName(serving::ErrorCode code);

class ServerMetrics {
 public:
  static constexpr int kBuckets = 33;

  // One answered request. `api`: "predict", "classify", "regress",
  // "multi_inference", "get_model_metadata", "get_model_status";
  // `entrypoint`: "REST" or "GRPC".
  void Record(const std::string& model, const char* api, const char* entrypoint, serving::ErrorCode code,
              double micros);

  // The Prometheus text exposition format (version 0.0.4).
  std::string PrometheusText() const;

  // The upper bound of bucket i (microseconds).
  static double BucketBound(int i);

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets + 1> counts{};  // the last: above every bound
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;                 // (model, status)
  std::map<std::tuple<std::string, std::string, std::string>, Histogram> latency_;  // (model, API, entrypoint)
};

// --monitoring_config_file: a MonitoringConfig text proto. Sets *path to the
// Prometheus path ("" when prometheus_config.enable is false).
// InvalidArgument naming the file and line.
Status ParseMonitoringConfigText(const std::string& text, const std::string& file, std::string* path);

}  // namespace pipeline::server
