#include "server/metrics.h"

#include <cmath>
#include <cstdio>

#include "proto/serving_monitoring_config.pb.h"
#include "server/text_proto.h"

namespace pipeline::server {
namespace {

// Prometheus label values escape backslash, quote and newline.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

const char* ErrorCodeName(serving::ErrorCode code) {
  static const char* const names[] = {"OK",          "CANCELLED",         "UNKNOWN",           "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED", "NOT_FOUND",   "ALREADY_EXISTS",    "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",  "OUT_OF_RANGE",
                                      "UNIMPLEMENTED", "INTERNAL",        "UNAVAILABLE",       "DATA_LOSS",
                                      "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? names[i] : "UNKNOWN";
}

double ServerMetrics::BucketBound(int i) { return 10.0 * std::pow(1.8, i); }

void ServerMetrics::Record(const std::string& model, const char* api, const char* entrypoint, serving::ErrorCode code,
                           double micros) {
  int bucket = 0;
  while (bucket < kBuckets && micros > BucketBound(bucket)) ++bucket;
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{model, ErrorCodeName(code)}];
  Histogram& h = latency_[{model, api, entrypoint}];
  ++h.counts[static_cast<size_t>(bucket)];
  h.sum += micros;
  ++h.count;
}

std::string ServerMetrics::PrometheusText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# TYPE :tensorflow:serving:request_count counter\n";
  for (const auto& [key, n] : requests_) {
    out += ":tensorflow:serving:request_count{model_name=\"" + LabelValue(key.first) + "\",status=\"" + key.second +
           "\"} " + std::to_string(n) + "\n";
  }
  out += "# TYPE :tensorflow:serving:request_latency histogram\n";
  for (const auto& [key, h] : latency_) {
    const std::string labels = "model_name=\"" + LabelValue(std::get<0>(key)) + "\",API=\"" + std::get<1>(key) +
                               "\",entrypoint=\"" + std::get<2>(key) + "\"";
    uint64_t cumulative = 0;
    for (int i = 0; i < kBuckets; ++i) {
      cumulative += h.counts[static_cast<size_t>(i)];
      out += ":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"" + Number(BucketBound(i)) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += ":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += ":tensorflow:serving:request_latency_sum{" + labels + "} " + Number(h.sum) + "\n";
    out += ":tensorflow:serving:request_latency_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  return out;
}

Status ParseMonitoringConfigText(const std::string& text, const std::string& file, std::string* path) {
  tensorflow::serving::MonitoringConfig config;
  PIPELINE_RETURN_IF_ERROR(ParseTextProtoFile(text, file, "prometheus_config { enable: true }", &config));
  path->clear();
  if (!config.prometheus_config().enable()) return Status::Ok();
  *path = config.prometheus_config().path().empty() ? "/monitoring/prometheus/metrics" : config.prometheus_config().path();
  if ((*path)[0] != '/') return Status::InvalidArgument(file + ": prometheus_config.path must start with '/'");
  return Status::Ok();
}

}  // namespace pipeline::server
