#include "engine/layer.h"

#include <algorithm>

#include "common/strings.h"

namespace pipeline {

RowRange Rows(const Param& p, int64_t row_begin, int64_t rows) {
  const int64_t leading = p.dims.empty() ? 1 : p.dims[0];
  const int64_t row_size = leading == 0 ? 0 : p.size() / leading;
  return RowRange{row_begin, rows, row_begin * row_size, rows * row_size};
}

RowRange AllRows(const Param& p) { return Rows(p, 0, p.dims.empty() ? 1 : p.dims[0]); }

const std::vector<std::string>& LayerTypes() {
  static const std::vector<std::string> names = LayerRegistry::Names();
  return names;
}

int64_t Elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string LayerShapeString(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool WindowOutput(int64_t in, int64_t window, int64_t stride, bool same, int64_t* out, int64_t* pad_before,
                  int64_t* pad_after) {
  if (window < 1 || stride < 1) return false;
  if (same) {
    // TensorFlow: out = ceil(in / stride), the padding split with the odd
    // element after.
    *out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((*out - 1) * stride + window - in, 0);
    *pad_before = total / 2;
    *pad_after = total - total / 2;
    return *out >= 1;
  }
  if (in < window) return false;
  *out = (in - window) / stride + 1;
  // (in - window) / stride + 1 == out with floor division, as oneDNN checks it.
  *pad_before = 0;
  *pad_after = 0;
  return true;
}

Status RequireImageInput(const std::string& what, const Shape& in) {
  if (in.size() == 3) return Status::Ok();
  return Status::InvalidArgument(what + " cannot follow input of shape " + LayerShapeString(in) +
                                 ": it needs [height, width, channels]");
}

Status WindowOutputs2d(const std::string& what, const Shape& in, const std::string& window_name,
                       const std::vector<int64_t>& window, const std::vector<int64_t>& strides,
                       const std::string& padding, int64_t out_hw[2], int64_t pad_before[2], int64_t pad_after[2]) {
  for (int d = 0; d < 2; ++d) {
    if (!WindowOutput(in[d], window[d], strides[d], padding == "same", &out_hw[d], &pad_before[d], &pad_after[d])) {
      return Status::InvalidArgument(what + " cannot follow input of shape " + LayerShapeString(in) + ": its " +
                                     window_name + " " + LayerShapeString(window) + " with strides " +
                                     LayerShapeString(strides) + " and padding " + padding + " does not fit");
    }
  }
  return Status::Ok();
}

void AddAccumulate(Plan& plan, const dnnl::engine& e, const std::string& what, Param& p) {
  const dnnl::memory::dims dims{p.size()};
  auto g = Wrap(e, dims, p.grad.data());
  auto v = Wrap(e, dims, p.value.data());
  dnnl::sum::primitive_desc pd({1.0f, 1.0f}, {v.get_desc(), g.get_desc()}, e);
  plan.Add(what, dnnl::sum(pd), {{DNNL_ARG_MULTIPLE_SRC, v}, {DNNL_ARG_MULTIPLE_SRC + 1, g}, {DNNL_ARG_DST, v}});
}

Status CreateLayer(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
  const LayerFactory* factory = LayerRegistry::Find(spec.type);
  if (!factory) {
    return Status::InvalidArgument("Unknown layer type: " + spec.type + " (known types: " +
                                   Join(LayerTypes(), ", ") + ")");
  }
  return (*factory)(spec, in, out);
}

bool IsBlockedLayout(dnnl::memory::format_tag layout) {
  return layout == dnnl::memory::format_tag::nChw16c || layout == dnnl::memory::format_tag::nChw8c;
}

dnnl::memory::format_tag BlockedImageLayout() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512) == avx512 ? dnnl::memory::format_tag::nChw16c : dnnl::memory::format_tag::nChw8c;
}

bool IsReferenceKernel(const char* impl) { return std::string(impl).rfind("ref", 0) == 0; }

dnnl::memory::desc Layer::ImageDesc(int64_t n, const Shape& hwc, dnnl::memory::format_tag layout,
                                    dnnl::memory::format_tag other_side) {
  using tag = dnnl::memory::format_tag;
  if (layout == tag::nhwc && hwc[2] == 1 && IsBlockedLayout(other_side)) layout = tag::nchw;
  return dnnl::memory::desc({n, hwc[2], hwc[0], hwc[1]}, dnnl::memory::data_type::f32, layout);
}

}  // namespace pipeline
