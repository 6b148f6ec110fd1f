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
  ArgMap args;             // keeps the memory objects alive
  std::vector<dnnl_exec_arg_t> c_args;  // the same arguments, flattened once
};

class Plan {
 public:
  void Add(std::string what, dnnl::primitive p, ArgMap args) {
    std::vector<dnnl_exec_arg_t> c_args;
    for (const auto& [arg, mem] : args) c_args.push_back({arg, mem.get()});
    steps_.push_back(Step{std::move(what), std::move(p), std::move(args), std::move(c_args)});
  }
  // Through the C API with the prebuilt argument arrays: the C++ wrapper's
  // execute() builds a fresh vector from the map on every call.
  void Execute(dnnl::stream& s) const {
    for (const auto& step : steps_) {
      dnnl::error::wrap_c_api(dnnl_primitive_execute(step.primitive.get(), s.get(),
                                                     static_cast<int>(step.c_args.size()), step.c_args.data()),
                              "could not execute a primitive");
    }
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
