// A Plan is a fixed list of oneDNN primitives with their argument maps,
// built once per batch size and executed as-is every batch: no primitive
// creation, no memory-object creation and no allocation on the hot path.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>
#include <vector>

namespace pipeline {

using ArgMap = std::unordered_map<int, dnnl::memory>;

struct Step {
  std::string what;        // e.g. "dense_0 forward", for diagnostics
  dnnl::primitive primitive;
  ArgMap args;
};

class Plan {
 public:
  void Add(std::string what, dnnl::primitive p, ArgMap args) {
    steps_.push_back(Step{std::move(what), std::move(p), std::move(args)});
  }
  void Execute(dnnl::stream& s) const {
    for (const auto& step : steps_) step.primitive.execute(s, step.args);
  }
  size_t size() const { return steps_.size(); }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

// Plain row-major f32 descriptor of the given dims.
inline dnnl::memory::desc RowMajor(const dnnl::memory::dims& dims) {
  using tag = dnnl::memory::format_tag;
  static const tag tags[] = {tag::undef, tag::a, tag::ab, tag::abc, tag::abcd};
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tags[dims.size()]);
}

// Wraps caller-owned storage; the memory object never owns or copies it.
inline dnnl::memory Wrap(const dnnl::engine& e, const dnnl::memory::dims& dims, float* data) {
  return dnnl::memory(RowMajor(dims), e, data);
}

}  // namespace pipeline
