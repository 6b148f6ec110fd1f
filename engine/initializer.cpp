#include "engine/initializer.h"

#include <cmath>
#include <functional>
#include <map>

#include "common/strings.h"

namespace pipeline {
namespace {

struct Fans {
  double in, out;
};
using InitFn = std::function<void(const InitSpec&, Fans, Rng&, float*, int64_t)>;

// Truncated normal as TensorFlow defines it: redraw values beyond 2 stddev.
double TruncatedNormal(Rng& rng) {
  for (;;) {
    double x = rng.Normal();
    if (std::fabs(x) <= 2.0) return x;
  }
}

const std::map<std::string, InitFn>& Registry() {
  static const std::map<std::string, InitFn> registry = {
      {"random_normal",
       [](const InitSpec& s, Fans, Rng& r, float* d, int64_t n) {
         for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s.mean + s.stddev * r.Normal());
       }},
      {"truncated_normal",
       [](const InitSpec& s, Fans, Rng& r, float* d, int64_t n) {
         for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s.mean + s.stddev * TruncatedNormal(r));
       }},
      {"glorot_uniform",
       [](const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
         const double limit = std::sqrt(6.0 / (f.in + f.out));
         for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>((2.0 * r.Uniform() - 1.0) * limit);
       }},
      {"glorot_normal",
       [](const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
         // Keras scales by 1/0.87962566 so the truncated draw keeps variance 2/(in+out).
         const double stddev = std::sqrt(2.0 / (f.in + f.out)) / 0.87962566103423978;
         for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(stddev * TruncatedNormal(r));
       }},
      {"he_normal",
       [](const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
         const double stddev = std::sqrt(2.0 / f.in) / 0.87962566103423978;
         for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(stddev * TruncatedNormal(r));
       }},
      {"zeros", [](const InitSpec&, Fans, Rng&, float* d, int64_t n) { std::fill(d, d + n, 0.0f); }},
  };
  return registry;
}

}  // namespace

const std::vector<std::string>& InitializerNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, fn] : Registry()) v.push_back(name);
    return v;
  }();
  return names;
}

Status Initialize(const InitSpec& spec, int64_t fan_in, int64_t fan_out, Rng& rng, float* data,
                  int64_t count) {
  auto it = Registry().find(spec.type);
  if (it == Registry().end()) {
    return Status::InvalidArgument("Unknown initializer type: " + spec.type +
                                   " (known types: " + Join(InitializerNames(), ", ") + ")");
  }
  it->second(spec, Fans{static_cast<double>(fan_in), static_cast<double>(fan_out)}, rng, data, count);
  return Status::Ok();
}

}  // namespace pipeline
