// Activation names -> oneDNN eltwise algorithms. Forward runs as a post-op of
// the layer's matmul; backward uses the *_use_dst_for_bwd variants, so only the
// layer's output needs keeping.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <vector>

namespace pipeline {

struct Activation {
  std::string name;                 // relu sigmoid tanh linear
  bool is_linear = true;
  dnnl::algorithm forward;          // post-op algorithm
  dnnl::algorithm backward;         // eltwise backward algorithm, from dst
};

const std::vector<std::string>& ActivationNames();

// Returns false when `name` is unknown.
bool LookupActivation(const std::string& name, Activation* out);

}  // namespace pipeline
