#include "engine/batch_gather.h"

#include <cstring>

namespace pipeline {

using dnnl::memory;

BatchGather::BatchGather(Runtime& runtime, int64_t n, int64_t features, float scale, float* dst)
    : runtime_(runtime), n_(n), features_(features), staging_(n * features) {
  const auto& e = runtime.engine();
  src_ = memory({{n, features}, memory::data_type::u8, memory::format_tag::ab}, e, staging_.data());
  dst_ = memory({{n, features}, memory::data_type::f32, memory::format_tag::ab}, e, dst);
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {scale});
  reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(e, src_.get_desc(), e, dst_.get_desc(), attr));
}

void BatchGather::Gather(const uint8_t* rows, const int64_t* indices) {
  for (int64_t i = 0; i < n_; ++i)
    std::memcpy(staging_.data() + i * features_, rows + indices[i] * features_, features_);
  Convert();
}

void BatchGather::GatherRange(const uint8_t* rows, int64_t first) {
  std::memcpy(staging_.data(), rows + first * features_, n_ * features_);
  Convert();
}

void BatchGather::Convert() {
  reorder_.execute(runtime_.stream(), src_, dst_);
  runtime_.stream().wait();
}

}  // namespace pipeline
