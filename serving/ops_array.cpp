// Shape-manipulating kernels: Reshape, Shape, Fill, Pack, ExpandDims,
// Squeeze, ConcatV2, GatherV2, StridedSlice (simple begin/end/stride form),
// OneHot.
#include <algorithm>

#include "serving/interpreter.h"

namespace pipeline {
namespace {

using tensorflow::DataType;

// Copies `count` elements of src starting at src_off into dst at dst_off.
void CopyElements(const TensorValue& src, int64_t src_off, TensorValue* dst, int64_t dst_off, int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == tensorflow::DT_STRING) {
    auto& d = dst->mutable_strings();
    std::copy_n(src.strings().begin() + src_off, count, d.begin() + dst_off);
  } else {
    const size_t es = DataTypeSize(src.dtype());
    std::memcpy(dst->mutable_raw() + dst_off * static_cast<int64_t>(es), src.raw() + src_off * static_cast<int64_t>(es),
                static_cast<size_t>(count) * es);
  }
}

Status IntVector(OpContext& c, int i, std::vector<int64_t>* out) {
  const TensorValue& t = c.input(i);
  if (t.dtype() != tensorflow::DT_INT32 && t.dtype() != tensorflow::DT_INT64) {
    return c.Error("input " + std::to_string(i) + " must be int32 or int64, got " + DataTypeName(t.dtype()));
  }
  if (t.rank() > 1) return c.Error("input " + std::to_string(i) + " must be a vector or scalar");
  out->resize(static_cast<size_t>(t.NumElements()));
  for (int64_t k = 0; k < t.NumElements(); ++k) (*out)[static_cast<size_t>(k)] = static_cast<int64_t>(t.AsDouble(k));
  if (t.dtype() == tensorflow::DT_INT64) out->assign(t.data<int64_t>(), t.data<int64_t>() + t.NumElements());
  return Status::Ok();
}

Status ReshapeOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  std::vector<int64_t> shape;
  PIPELINE_RETURN_IF_ERROR(IntVector(c, 1, &shape));
  int64_t known = 1;
  int unknown = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown >= 0) return c.Error("only one input size may be -1");
      unknown = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return c.Error("size " + std::to_string(i) + " must be non-negative");
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = x.NumElements();
  if (unknown >= 0) {
    if (known == 0 || n % known != 0) {
      return c.Error("Input to reshape is a tensor with " + std::to_string(n) +
                     " values, but the requested shape requires a multiple of " + std::to_string(known));
    }
    shape[static_cast<size_t>(unknown)] = n / known;
  } else if (known != n) {
    return c.Error("Input to reshape is a tensor with " + std::to_string(n) + " values, but the requested shape has " +
                   std::to_string(known));
  }
  c.set_output(0, x.Reshaped(shape));
  return Status::Ok();
}

Status ShapeOp(OpContext& c) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  DataType ot = tensorflow::DT_INT32;
  (void)c.GetAttr("out_type", &ot);
  const TensorShape& s = c.input(0).shape();
  const TensorShape dims{static_cast<int64_t>(s.size())};
  if (ot == tensorflow::DT_INT64) {
    c.set_output(0, TensorValue::From<int64_t>(dims, s));
  } else {
    c.set_output(0, TensorValue::From<int32_t>(dims, std::vector<int32_t>(s.begin(), s.end())));
  }
  return Status::Ok();
}

Status FillOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  std::vector<int64_t> dims;
  PIPELINE_RETURN_IF_ERROR(IntVector(c, 0, &dims));
  const TensorValue& v = c.input(1);
  if (v.NumElements() != 1 || v.rank() != 0) return c.Error("value must be a scalar");
  for (int64_t d : dims)
    if (d < 0) return c.Error("dims must be non-negative");
  Status size = CheckAllocation(v.dtype(), dims);  // dims come from the graph: bound them first
  if (!size.ok()) return c.Error(size.message());
  TensorValue out(v.dtype(), dims);
  for (int64_t i = 0; i < out.NumElements(); ++i) CopyElements(v, 0, &out, i, 1);
  c.set_output(0, std::move(out));
  return Status::Ok();
}

Status NormalizeAxis(OpContext& c, int64_t axis, int rank, int64_t* out) {
  if (axis < -rank || axis >= rank) {
    return c.Error("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  *out = axis < 0 ? axis + rank : axis;
  return Status::Ok();
}

// Concatenates `parts` (same dtype, same shape except at `axis`) along axis.
Status ConcatParts(OpContext& c, const std::vector<TensorValue>& parts, int64_t axis, TensorValue* out) {
  if (parts.empty()) return c.Error("needs at least one value");
  TensorShape shape = parts[0].shape();
  int64_t total = 0;
  for (const auto& p : parts) {
    if (p.dtype() != parts[0].dtype()) return c.Error("values have different dtypes");
    if (p.rank() != parts[0].rank()) return c.Error("values have different ranks");
    for (int d = 0; d < p.rank(); ++d)
      if (d != axis && p.dim(d) != shape[static_cast<size_t>(d)]) {
        return c.Error("shapes " + ShapeString(p.shape()) + " and " + ShapeString(shape) + " differ off the axis");
      }
    total += p.dim(static_cast<int>(axis));
  }
  shape[static_cast<size_t>(axis)] = total;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  TensorValue o(parts[0].dtype(), shape);
  int64_t off = 0;
  for (int64_t r = 0; r < outer; ++r)
    for (const auto& p : parts) {
      const int64_t chunk = p.dim(static_cast<int>(axis)) * inner;
      CopyElements(p, r * chunk, &o, off, chunk);
      off += chunk;
    }
  *out = std::move(o);
  return Status::Ok();
}

Status PackOp(OpContext& c) {
  std::vector<TensorValue> parts;
  int64_t axis = c.AttrOr("axis", int64_t{0});
  if (c.num_inputs() < 1) return c.Error("needs at least one value");
  const int rank = c.input(0).rank();
  int64_t a;
  PIPELINE_RETURN_IF_ERROR(NormalizeAxis(c, axis, rank + 1, &a));
  for (int i = 0; i < c.num_inputs(); ++i) {
    if (c.input(i).shape() != c.input(0).shape()) return c.Error("values must all have the same shape");
    TensorShape s = c.input(i).shape();
    s.insert(s.begin() + a, 1);
    parts.push_back(c.input(i).Reshaped(s));
  }
  TensorValue out;
  PIPELINE_RETURN_IF_ERROR(ConcatParts(c, parts, a, &out));
  c.set_output(0, std::move(out));
  return Status::Ok();
}

Status ConcatV2Op(OpContext& c) {
  if (c.num_inputs() < 2) return c.Error("needs values and an axis");
  const TensorValue& ax = c.input(c.num_inputs() - 1);
  if (ax.NumElements() != 1) return c.Error("axis must be a scalar");
  std::vector<TensorValue> parts;
  for (int i = 0; i + 1 < c.num_inputs(); ++i) parts.push_back(c.input(i));
  int64_t a;
  PIPELINE_RETURN_IF_ERROR(NormalizeAxis(c, static_cast<int64_t>(ax.AsDouble(0)), parts[0].rank(), &a));
  TensorValue out;
  PIPELINE_RETURN_IF_ERROR(ConcatParts(c, parts, a, &out));
  c.set_output(0, std::move(out));
  return Status::Ok();
}

Status ExpandDimsOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  if (c.input(1).NumElements() != 1) return c.Error("dim must be a scalar");
  const TensorValue& x = c.input(0);
  int64_t a;
  PIPELINE_RETURN_IF_ERROR(NormalizeAxis(c, static_cast<int64_t>(c.input(1).AsDouble(0)), x.rank() + 1, &a));
  TensorShape s = x.shape();
  s.insert(s.begin() + a, 1);
  c.set_output(0, x.Reshaped(s));
  return Status::Ok();
}

Status SqueezeOp(OpContext& c) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  const TensorValue& x = c.input(0);
  std::vector<int64_t> dims;
  (void)c.GetAttr("squeeze_dims", &dims);
  std::vector<bool> drop(x.shape().size(), false);
  for (int64_t d : dims) {
    int64_t a;
    PIPELINE_RETURN_IF_ERROR(NormalizeAxis(c, d, x.rank(), &a));
    if (x.dim(static_cast<int>(a)) != 1) {
      return c.Error("Can not squeeze dim[" + std::to_string(a) + "], expected a dimension of 1, got " +
                     std::to_string(x.dim(static_cast<int>(a))));
    }
    drop[static_cast<size_t>(a)] = true;
  }
  TensorShape s;
  for (int d = 0; d < x.rank(); ++d) {
    const bool squeeze = dims.empty() ? x.dim(d) == 1 : drop[static_cast<size_t>(d)];
    if (!squeeze) s.push_back(x.dim(d));
  }
  c.set_output(0, x.Reshaped(s));
  return Status::Ok();
}

// GatherV2(params, indices, axis), batch_dims 0.
Status GatherV2Op(OpContext& c) {
  if (c.num_inputs() != 3) return c.Error("expects 3 inputs");
  if (c.AttrOr("batch_dims", int64_t{0}) != 0) return Status::Unimplemented("GatherV2 with batch_dims != 0");
  const TensorValue& p = c.input(0);
  const TensorValue& idx = c.input(1);
  if (idx.dtype() != tensorflow::DT_INT32 && idx.dtype() != tensorflow::DT_INT64) return c.Error("indices must be int32/int64");
  if (c.input(2).NumElements() != 1) return c.Error("axis must be a scalar");
  int64_t a;
  PIPELINE_RETURN_IF_ERROR(NormalizeAxis(c, static_cast<int64_t>(c.input(2).AsDouble(0)), p.rank(), &a));
  const int64_t limit = p.dim(static_cast<int>(a));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < a; ++d) outer *= p.dim(static_cast<int>(d));
  for (int d = static_cast<int>(a) + 1; d < p.rank(); ++d) inner *= p.dim(d);
  TensorShape s(p.shape().begin(), p.shape().begin() + a);
  s.insert(s.end(), idx.shape().begin(), idx.shape().end());
  s.insert(s.end(), p.shape().begin() + a + 1, p.shape().end());
  TensorValue out(p.dtype(), s);
  const int64_t ni = idx.NumElements();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < ni; ++i) {
      const int64_t k = idx.dtype() == tensorflow::DT_INT64 ? idx.data<int64_t>()[i] : idx.data<int32_t>()[i];
      if (k < 0 || k >= limit) {
        return c.Error("indices[" + std::to_string(i) + "] = " + std::to_string(k) + " is not in [0, " +
                       std::to_string(limit) + ")");
      }
      CopyElements(p, (o * limit + k) * inner, &out, (o * ni + i) * inner, inner);
    }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// OneHot(indices, depth, on_value, off_value), float values: an index outside
// [0, depth) gives a row of off_value, as in TensorFlow.
Status OneHotOp(OpContext& c) {
  if (c.num_inputs() != 4) return c.Error("expects 4 inputs");
  const TensorValue& idx = c.input(0);
  if (idx.dtype() != tensorflow::DT_INT32 && idx.dtype() != tensorflow::DT_INT64) return c.Error("indices must be int32/int64");
  if (c.input(1).NumElements() != 1) return c.Error("depth must be a scalar");
  const int64_t depth = static_cast<int64_t>(c.input(1).AsDouble(0));
  if (depth < 0) return c.Error("depth must be non-negative, got: " + std::to_string(depth));
  const TensorValue& on = c.input(2);
  const TensorValue& off = c.input(3);
  if (on.dtype() != tensorflow::DT_FLOAT || off.dtype() != tensorflow::DT_FLOAT || on.NumElements() != 1 ||
      off.NumElements() != 1)
    return Status::Unimplemented("OneHot with on_value/off_value other than float scalars");
  int64_t axis = c.AttrOr("axis", int64_t{-1});
  if (axis == -1) axis = idx.rank();
  if (axis < 0 || axis > idx.rank()) return c.Error("Expected axis to be -1 or between [0, " + std::to_string(idx.rank()) + ")");
  TensorShape s = idx.shape();
  s.insert(s.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= idx.dim(static_cast<int>(d));
  for (int d = static_cast<int>(axis); d < idx.rank(); ++d) inner *= idx.dim(d);
  TensorValue out(tensorflow::DT_FLOAT, s);
  float* o = out.mutable_data<float>();
  const float on_v = on.data<float>()[0], off_v = off.data<float>()[0];
  std::fill(o, o + out.NumElements(), off_v);
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t flat = a * inner + i;
      const int64_t k = idx.dtype() == tensorflow::DT_INT64 ? idx.data<int64_t>()[flat] : idx.data<int32_t>()[flat];
      if (k >= 0 && k < depth) o[(a * depth + k) * inner + i] = on_v;
    }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// StridedSlice with begin/end/strides vectors and begin/end/shrink masks
// (no ellipsis or new-axis masks).
Status StridedSliceOp(OpContext& c) {
  if (c.num_inputs() != 4) return c.Error("expects 4 inputs");
  if (c.AttrOr("ellipsis_mask", int64_t{0}) != 0 || c.AttrOr("new_axis_mask", int64_t{0}) != 0) {
    return Status::Unimplemented("StridedSlice with ellipsis_mask or new_axis_mask");
  }
  const TensorValue& x = c.input(0);
  std::vector<int64_t> begin, end, strides;
  PIPELINE_RETURN_IF_ERROR(IntVector(c, 1, &begin));
  PIPELINE_RETURN_IF_ERROR(IntVector(c, 2, &end));
  PIPELINE_RETURN_IF_ERROR(IntVector(c, 3, &strides));
  if (begin.size() != end.size() || begin.size() != strides.size() || static_cast<int>(begin.size()) > x.rank()) {
    return c.Error("begin, end and strides must have equal lengths <= rank");
  }
  const int64_t bm = c.AttrOr("begin_mask", int64_t{0}), em = c.AttrOr("end_mask", int64_t{0}),
                sm = c.AttrOr("shrink_axis_mask", int64_t{0});
  const int r = x.rank();
  std::vector<int64_t> b(static_cast<size_t>(r)), st(static_cast<size_t>(r), 1), len(static_cast<size_t>(r));
  TensorShape out_shape;
  for (int d = 0; d < r; ++d) {
    const int64_t n = x.dim(d);
    const size_t ud = static_cast<size_t>(d);
    if (ud >= begin.size()) {
      b[ud] = 0, len[ud] = n;
      out_shape.push_back(n);
      continue;
    }
    const int64_t s = strides[ud];
    if (s == 0) return c.Error("strides must be non-zero");
    auto norm = [&](int64_t v) { return v < 0 ? v + n : v; };
    if (sm & (int64_t{1} << d)) {
      const int64_t i = norm(begin[ud]);
      if (i < 0 || i >= n) return c.Error("slice index " + std::to_string(begin[ud]) + " of dimension " +
                                          std::to_string(d) + " out of bounds");
      b[ud] = i, st[ud] = 1, len[ud] = 1;
      continue;
    }
    int64_t lo = (bm & (int64_t{1} << d)) ? (s > 0 ? 0 : n - 1) : norm(begin[ud]);
    int64_t hi = (em & (int64_t{1} << d)) ? (s > 0 ? n : -1) : norm(end[ud]);
    if (s > 0) {
      lo = std::clamp<int64_t>(lo, 0, n);
      hi = std::clamp<int64_t>(hi, 0, n);
      len[ud] = hi > lo ? (hi - lo + s - 1) / s : 0;
    } else {
      lo = std::clamp<int64_t>(lo, -1, n - 1);
      hi = std::clamp<int64_t>(hi, -1, n - 1);
      len[ud] = lo > hi ? (lo - hi - s - 1) / (-s) : 0;
    }
    b[ud] = lo, st[ud] = s;
    out_shape.push_back(len[ud]);
  }
  TensorShape full(len.begin(), len.end());
  TensorValue out(x.dtype(), out_shape);
  const int64_t total = NumElementsOf(full);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t o = 0; o < total; ++o) {
    int64_t src = 0;
    for (int d = 0; d < r; ++d) src = src * x.dim(d) + b[static_cast<size_t>(d)] + idx[static_cast<size_t>(d)] * st[static_cast<size_t>(d)];
    CopyElements(x, src, &out, o, 1);
    for (int d = r; d-- > 0;) {
      if (++idx[static_cast<size_t>(d)] < len[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

}  // namespace

void RegisterArrayOps(std::map<std::string, OpRegistration>* r) {
  (*r)["Reshape"] = {ReshapeOp, {}};
  (*r)["Shape"] = {ShapeOp, {}};
  (*r)["Fill"] = {FillOp, {}};
  (*r)["Pack"] = {PackOp, {}};
  (*r)["ConcatV2"] = {ConcatV2Op, {}};
  (*r)["OneHot"] = {OneHotOp, {}};
  (*r)["ExpandDims"] = {ExpandDimsOp, {}};
  (*r)["Squeeze"] = {SqueezeOp, {}};
  (*r)["GatherV2"] = {GatherV2Op, {}};
  (*r)["StridedSlice"] = {StridedSliceOp, {}};
}

}  // namespace pipeline
