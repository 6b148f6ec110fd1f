#include "engine/initializer.h"

#include <cmath>
#include <algorithm>

#include "common/registry.h"
#include "common/strings.h"

namespace pipeline {
namespace {

struct Fans {
  double in, out;
};
using InitFn = void (*)(const InitSpec&, Fans, Rng&, float*, int64_t);

// Truncated normal as TensorFlow defines it: redraw values beyond 2 stddev.
double TruncatedNormal(Rng& rng) {
  for (;;) {
    double x = rng.Normal();
    if (std::fabs(x) <= 2.0) return x;
  }
}

// One function and one registration line per initializer; the rank is its
// place in the config's documented list.
void RandomNormal(const InitSpec& s, Fans, Rng& r, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s.mean + s.stddev * r.Normal());
}
void TruncatedNormalInit(const InitSpec& s, Fans, Rng& r, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s.mean + s.stddev * TruncatedNormal(r));
}
void GlorotUniform(const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
  const double limit = std::sqrt(6.0 / (f.in + f.out));
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>((2.0 * r.Uniform() - 1.0) * limit);
}
void GlorotNormal(const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
  // Keras scales by 1/0.87962566 so the truncated draw keeps variance 2/(in+out).
  const double stddev = std::sqrt(2.0 / (f.in + f.out)) / 0.87962566103423978;
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(stddev * TruncatedNormal(r));
}
void HeNormal(const InitSpec&, Fans f, Rng& r, float* d, int64_t n) {
  const double stddev = std::sqrt(2.0 / f.in) / 0.87962566103423978;
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(stddev * TruncatedNormal(r));
}
void Zeros(const InitSpec&, Fans, Rng&, float* d, int64_t n) { std::fill(d, d + n, 0.0f); }

struct InitializerTag {
  static constexpr const char* kKind = "initializer";
};
using InitializerRegistry = Registry<InitializerTag, InitFn>;

PIPELINE_REGISTER(InitializerRegistry, random_normal, 0, &RandomNormal);
PIPELINE_REGISTER(InitializerRegistry, truncated_normal, 1, &TruncatedNormalInit);
PIPELINE_REGISTER(InitializerRegistry, glorot_uniform, 2, &GlorotUniform);
PIPELINE_REGISTER(InitializerRegistry, glorot_normal, 3, &GlorotNormal);
PIPELINE_REGISTER(InitializerRegistry, he_normal, 4, &HeNormal);
PIPELINE_REGISTER(InitializerRegistry, zeros, 5, &Zeros);

}  // namespace

const std::vector<std::string>& InitializerNames() {
  static const std::vector<std::string> names = InitializerRegistry::Names();
  return names;
}

Status Initialize(const InitSpec& spec, int64_t fan_in, int64_t fan_out, Rng& rng, float* data,
                  int64_t count) {
  const InitFn* fn = InitializerRegistry::Find(spec.type);
  if (!fn) {
    return Status::InvalidArgument("Unknown initializer type: " + spec.type +
                                   " (known types: " + Join(InitializerNames(), ", ") + ")");
  }
  (*fn)(spec, Fans{static_cast<double>(fan_in), static_cast<double>(fan_out)}, rng, data, count);
  return Status::Ok();
}

}  // namespace pipeline
