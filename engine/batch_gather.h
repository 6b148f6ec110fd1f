// Gathers uint8 example rows by index into a float batch, scaling on the way:
// rows are copied into a uint8 staging buffer, then one oneDNN reorder
// converts u8 -> f32 with the scale as its output scale.
#pragma once

#include <cstdint>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/runtime.h"

namespace pipeline {

class BatchGather {
 public:
  // dst: [n, features] floats that stay valid while this object lives.
  BatchGather(Runtime& runtime, int64_t n, int64_t features, float scale, float* dst);
  // dst[i] = scale * rows[indices[i]] for i < n.
  void Gather(const uint8_t* rows, const int64_t* indices);
  // dst[i] = scale * rows[first + i] for i < n.
  void GatherRange(const uint8_t* rows, int64_t first);

 private:
  void Convert();
  Runtime& runtime_;
  int64_t n_, features_;
  std::vector<uint8_t> staging_;
  dnnl::memory src_, dst_;
  dnnl::reorder reorder_;
};

}  // namespace pipeline
