// A seeded random source whose streams are identical on every platform:
// xoshiro256** seeded through splitmix64, with our own normal sampler
// (std::normal_distribution's algorithm is implementation-defined).
#pragma once

#include <cstdint>

namespace pipeline {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  double Uniform();                 // [0, 1)
  double Normal();                  // N(0, 1), Box-Muller
  uint64_t Below(uint64_t bound);   // [0, bound), unbiased

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Fisher-Yates shuffle of `n` indices.
void Shuffle(int64_t* indices, int64_t n, Rng& rng);

}  // namespace pipeline
