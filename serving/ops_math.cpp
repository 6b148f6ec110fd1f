// Numeric kernels: MatMul (oneDNN, as the engine computes dense layers),
// broadcasting binary ops, BiasAdd, activations, Softmax, TopKV2, Cast,
// ArgMax, Range, Conv2D, the pools and FusedBatchNorm at inference.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "serving/interpreter.h"

namespace pipeline {
namespace {

using tensorflow::DataType;

// A plain row-major f32 matrix, as the engine lays out a dense layer's
// operands (serving reads them through oneDNN directly, not the engine).
dnnl::memory::desc RowMajor(const dnnl::memory::dims& dims) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
}

// ---- MatMul ----

Status MatMul2D(OpContext& c, bool ta, bool tb) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& a = c.input(0);
  const TensorValue& b = c.input(1);
  if (a.dtype() != b.dtype()) return c.Error("inputs have different dtypes");
  if (a.rank() != 2 || b.rank() != 2) {
    return c.Error("In[0] and In[1] must be matrices, got shapes " + ShapeString(a.shape()) + " and " +
                   ShapeString(b.shape()));
  }
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (k != kb) {
    return c.Error("Matrix size-incompatible: In[0]: " + ShapeString(a.shape()) + ", In[1]: " + ShapeString(b.shape()) +
                   (ta || tb ? " (with transposes)" : ""));
  }
  if (a.dtype() == tensorflow::DT_FLOAT) {
    TensorValue out(tensorflow::DT_FLOAT, {m, n});
    if (m == 0 || n == 0) {
      c.set_output(0, std::move(out));
      return Status::Ok();
    }
    if (k == 0) {  // all zeros already
      c.set_output(0, std::move(out));
      return Status::Ok();
    }
    using dnnl::memory;
    const dnnl::engine& e = c.interpreter().engine();
    // A transposed operand is a strided view of the stored matrix: no copy.
    memory::desc a_md = ta ? memory::desc({m, k}, memory::data_type::f32, memory::dims{1, m}) : RowMajor({m, k});
    memory::desc b_md = tb ? memory::desc({k, n}, memory::data_type::f32, memory::dims{1, k}) : RowMajor({k, n});
    memory a_m(a_md, e, const_cast<float*>(a.data<float>()));
    memory b_m(b_md, e, const_cast<float*>(b.data<float>()));
    memory c_m(RowMajor({m, n}), e, out.mutable_data<float>());
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_m.get_desc()), e);
    dnnl::matmul(pd).execute(c.interpreter().stream(), {{DNNL_ARG_SRC, a_m}, {DNNL_ARG_WEIGHTS, b_m}, {DNNL_ARG_DST, c_m}});
    c.interpreter().stream().wait();
    c.set_output(0, std::move(out));
    return Status::Ok();
  }
  TensorValue out(a.dtype(), {m, n});
  Status st = DispatchNumeric(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      return c.Error("MatMul of bool");
    } else {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* po = out.mutable_data<T>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T acc = 0;
          for (int64_t p = 0; p < k; ++p)
            acc += (ta ? pa[p * m + i] : pa[i * k + p]) * (tb ? pb[j * k + p] : pb[p * n + j]);
          po[i * n + j] = acc;
        }
      return Status::Ok();
    }
  });
  PIPELINE_RETURN_IF_ERROR(st);
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// ---- broadcasting binary ops ----

Status BroadcastShape(const TensorShape& x, const TensorShape& y, TensorShape* out) {
  const size_t r = std::max(x.size(), y.size());
  out->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t dx = i < r - x.size() ? 1 : x[i - (r - x.size())];
    const int64_t dy = i < r - y.size() ? 1 : y[i - (r - y.size())];
    if (dx != dy && dx != 1 && dy != 1) {
      return Status::Runtime("Incompatible shapes: " + ShapeString(x) + " vs. " + ShapeString(y));
    }
    (*out)[i] = dx == 1 ? dy : dx;
  }
  return Status::Ok();
}

// Element strides of `in` broadcast to `out` (0 on broadcast dimensions).
std::vector<int64_t> BroadcastStrides(const TensorShape& in, const TensorShape& out) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = in.size(); i-- > 0;) {
    const size_t o = i + (out.size() - in.size());
    s[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

enum class BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kEqual, kSquaredDiff };

// NaN propagates through max/min, as in TensorFlow (cwise_ops.h: maximum and
// minimum are Eigen's scalar_max_op / scalar_min_op with PropagateNaN; Relu
// and Relu6 are cwiseMax/cwiseMin<PropagateNaN>): `a > b ? a : b` alone
// would turn max(NaN, 0) into 0 and hide a NaN input behind a confident
// output.
template <class T>
bool IsNan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(x);
  } else {
    return false;
  }
}
template <class T>
T MaxPropagateNan(T a, T b) {
  if (IsNan(a)) return a;
  if (IsNan(b)) return b;
  return a > b ? a : b;
}
template <class T>
T MinPropagateNan(T a, T b) {
  if (IsNan(a)) return a;
  if (IsNan(b)) return b;
  return a < b ? a : b;
}

// Descending order for TopKV2 and ArgMax that is a strict weak order even
// with NaN (a plain `>` is not, and std::partial_sort with it is undefined):
// NaN ranks above every number, so a NaN score is reported, not hidden.
// TensorFlow leaves the place of NaN unspecified.
template <class T>
bool RanksAbove(T a, T b) {
  if (IsNan(a)) return !IsNan(b);
  if (IsNan(b)) return false;
  return a > b;
}

template <class T>
T Apply(BinOp op, T a, T b) {
  switch (op) {
    case BinOp::kAdd: return a + b;
    case BinOp::kSub: return a - b;
    case BinOp::kMul: return a * b;
    case BinOp::kDiv: return a / b;
    case BinOp::kMax: return MaxPropagateNan(a, b);
    case BinOp::kMin: return MinPropagateNan(a, b);
    case BinOp::kSquaredDiff: return (a - b) * (a - b);
    default: return T{};
  }
}

template <BinOp Op>
Status BinaryOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  const TensorValue& y = c.input(1);
  if (x.dtype() != y.dtype()) {
    return c.Error("inputs have different dtypes: " + DataTypeName(x.dtype()) + " vs " + DataTypeName(y.dtype()));
  }
  TensorShape shape;
  Status st = BroadcastShape(x.shape(), y.shape(), &shape);
  if (!st.ok()) return c.Error(st.message());
  constexpr bool is_equal = Op == BinOp::kEqual;
  TensorValue out(is_equal ? tensorflow::DT_BOOL : x.dtype(), shape);
  const int64_t n = out.NumElements();
  if (x.dtype() == tensorflow::DT_STRING) {
    if (Op != BinOp::kAdd && Op != BinOp::kEqual) return c.Error("not defined for strings");
  }
  st = DispatchNumeric(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      if (!is_equal) return c.Error("not defined for bool");
    }
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    auto op = [&](T a, T b, int64_t i) {
      if constexpr (is_equal) {
        out.mutable_data<bool>()[i] = a == b;
      } else if constexpr (!std::is_same_v<T, bool>) {
        out.mutable_data<T>()[i] = Apply<T>(Op, a, b);
      }
    };
    if (x.shape() == y.shape()) {
      for (int64_t i = 0; i < n; ++i) op(px[i], py[i], i);
    } else if (y.NumElements() == 1) {
      for (int64_t i = 0; i < n; ++i) op(px[i], py[0], i);
    } else if (x.NumElements() == 1) {
      for (int64_t i = 0; i < n; ++i) op(px[0], py[i], i);
    } else {
      const auto sx = BroadcastStrides(x.shape(), shape), sy = BroadcastStrides(y.shape(), shape);
      std::vector<int64_t> idx(shape.size(), 0);
      int64_t ox = 0, oy = 0;
      for (int64_t i = 0; i < n; ++i) {
        op(px[ox], py[oy], i);
        for (size_t d = shape.size(); d-- > 0;) {  // odometer increment
          ++idx[d];
          ox += sx[d];
          oy += sy[d];
          if (idx[d] < shape[d]) break;
          ox -= sx[d] * shape[d];
          oy -= sy[d] * shape[d];
          idx[d] = 0;
        }
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.message().rfind("node ", 0) == 0 ? st : c.Error(st.message());
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// BiasAdd(value [..., C], bias [C]); data_format NCHW puts C at dim 1.
Status BiasAddOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  const TensorValue& b = c.input(1);
  if (x.dtype() != b.dtype()) return c.Error("inputs have different dtypes");
  std::string fmt = "NHWC";
  (void)c.GetAttr("data_format", &fmt);
  if (x.rank() < 2 || b.rank() != 1) {
    return c.Error("needs value of rank >= 2 and a 1-D bias, got " + ShapeString(x.shape()) + " and " +
                   ShapeString(b.shape()));
  }
  const int cdim = (fmt == "NCHW" || fmt == "NCDHW") ? 1 : x.rank() - 1;
  const int64_t ch = x.dim(cdim);
  if (b.dim(0) != ch) {
    return c.Error("Must provide as many biases as the channel dimension of the input tensor: " +
                   ShapeString(b.shape()) + " vs. " + ShapeString(x.shape()));
  }
  int64_t inner = 1;
  for (int d = cdim + 1; d < x.rank(); ++d) inner *= x.dim(d);
  TensorValue out = x;
  Status st = DispatchNumeric(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      return c.Error("not defined for bool");
    } else {
      T* p = out.mutable_data<T>();
      const T* pb = b.data<T>();
      const int64_t n = out.NumElements();
      for (int64_t i = 0; i < n; ++i) p[i] = p[i] + pb[(i / inner) % ch];
      return Status::Ok();
    }
  });
  PIPELINE_RETURN_IF_ERROR(st);
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// ---- unary float ops ----

enum class UnOp {
  kRelu, kRelu6, kSigmoid, kTanh, kLog, kExp, kNeg, kSqrt, kReciprocal, kSquare, kAbs,
  kRsqrt, kErf, kErfc, kElu, kSelu, kSoftplus, kLeakyRelu
};

// alpha: LeakyRelu's attr (x below 0 becomes alpha * x).
template <class T>
T ApplyUnary(UnOp op, T x, T alpha = T(0)) {
  switch (op) {
    case UnOp::kRelu: return MaxPropagateNan(x, T(0));
    case UnOp::kRelu6: return MinPropagateNan(MaxPropagateNan(x, T(0)), T(6));
    case UnOp::kSigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnOp::kTanh: return std::tanh(x);
    case UnOp::kLog: return std::log(x);
    case UnOp::kExp: return std::exp(x);
    case UnOp::kNeg: return -x;
    case UnOp::kSqrt: return std::sqrt(x);
    case UnOp::kReciprocal: return T(1) / x;
    case UnOp::kSquare: return x * x;
    case UnOp::kAbs: return std::abs(x);
    case UnOp::kLeakyRelu: return x < T(0) ? x * alpha : x;
    case UnOp::kRsqrt: return T(1) / std::sqrt(x);
    case UnOp::kErf: return std::erf(x);
    case UnOp::kErfc: return std::erfc(x);
    // Elu and Selu as TensorFlow's relu_op_functor.h: exp(x) - 1 below 0.
    case UnOp::kElu: return x < T(0) ? std::exp(x) - T(1) : x;
    case UnOp::kSelu: {
      const T scale = T(1.0507009873554804934193349852946), alpha = T(1.6732632423543772848170429916717);
      return x < T(0) ? scale * alpha * (std::exp(x) - T(1)) : scale * x;
    }
    // Softplus as TensorFlow's softplus_op.h: x above a threshold (where
    // log1p(exp(x)) rounds to x), exp(x) far below, log1p(exp(x)) between.
    case UnOp::kSoftplus: {
      const T threshold = std::log(std::numeric_limits<T>::epsilon()) + T(2);
      if (x > -threshold) return x;
      if (x < threshold) return std::exp(x);
      return std::log1p(std::exp(x));
    }
  }
  return x;
}

template <UnOp Op>
Status UnaryOp(OpContext& c) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  TensorValue out = c.input(0);
  const int64_t n = out.NumElements();
  const float alpha = Op == UnOp::kLeakyRelu ? c.AttrOr("alpha", 0.2f) : 0.0f;  // TF's default when stripped
  if (out.dtype() == tensorflow::DT_FLOAT) {
    float* p = out.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = ApplyUnary<float>(Op, p[i], alpha);
  } else if (out.dtype() == tensorflow::DT_DOUBLE) {
    double* p = out.mutable_data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = ApplyUnary<double>(Op, p[i], static_cast<double>(alpha));
  } else if ((Op == UnOp::kNeg || Op == UnOp::kRelu || Op == UnOp::kAbs || Op == UnOp::kSquare) &&
             (out.dtype() == tensorflow::DT_INT32 || out.dtype() == tensorflow::DT_INT64)) {
    if (out.dtype() == tensorflow::DT_INT32) {
      int32_t* p = out.mutable_data<int32_t>();
      for (int64_t i = 0; i < n; ++i) p[i] = ApplyUnary<int32_t>(Op, p[i]);
    } else {
      int64_t* p = out.mutable_data<int64_t>();
      for (int64_t i = 0; i < n; ++i) p[i] = ApplyUnary<int64_t>(Op, p[i]);
    }
  } else {
    return c.Error("not implemented for dtype " + DataTypeName(out.dtype()));
  }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// Softmax over the last dimension: exp(x - max) * (1 / sum), TensorFlow's
// form (kernels/softmax_op_functor.h multiplies by the sum's inverse).
Status SoftmaxOp(OpContext& c) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  TensorValue out = c.input(0);
  if (out.rank() < 1) return c.Error("logits must have rank >= 1");
  if (out.dtype() != tensorflow::DT_FLOAT) return c.Error("implemented for float only");
  const int64_t cols = out.dim(out.rank() - 1);
  if (cols == 0) {
    c.set_output(0, std::move(out));
    return Status::Ok();
  }
  const int64_t rows = out.NumElements() / cols;
  float* p = out.mutable_data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * cols;
    const float mx = *std::max_element(row, row + cols);
    float sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inverse = 1.0f / sum;
    for (int64_t j = 0; j < cols; ++j) row[j] *= inverse;
  }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// FusedBatchNorm / V2 / V3 at inference (is_training false), NHWC float:
// y = (x - mean) * (rsqrt(variance + epsilon) * scale) + offset per channel,
// as TensorFlow's CPU kernel (fused_batch_norm_op.cc) orders it. The other
// outputs are the mean and variance given (batch_mean, batch_variance and
// both reserve spaces, as TF's inference path copies them) and, for V3, an
// empty reserve_space_3. Training mode needs batch statistics: Unimplemented.
Status FusedBatchNormOp(OpContext& c) {
  if (c.num_inputs() != 5) return c.Error("expects 5 inputs (x, scale, offset, mean, variance)");
  if (c.AttrOr("is_training", true)) {
    return Status::Unimplemented("node " + c.name() + " (op " + c.node().op() +
                                 "): is_training true (batch statistics) is not supported; inference is");
  }
  std::string fmt = "NHWC";
  (void)c.GetAttr("data_format", &fmt);
  if (fmt != "NHWC") return Status::Unimplemented(c.node().op() + " with data_format " + fmt);
  const TensorValue& x = c.input(0);
  for (int i = 0; i < 5; ++i) PIPELINE_RETURN_IF_ERROR(c.ExpectDtype(i, tensorflow::DT_FLOAT));
  if (x.rank() != 4) return c.Error("input must be 4-dimensional " + ShapeString(x.shape()));
  const int64_t ch = x.dim(3);
  static const char* const kNames[] = {"x", "scale", "offset", "mean", "variance"};
  for (int i = 1; i < 5; ++i) {
    if (c.input(i).rank() != 1 || c.input(i).dim(0) != ch) {
      return c.Error(std::string(kNames[i]) + " must be a vector of " + std::to_string(ch) + " (the channels), got " +
                     ShapeString(c.input(i).shape()));
    }
  }
  const float epsilon = c.AttrOr("epsilon", 0.0001f);
  const float* scale = c.input(1).data<float>();
  const float* offset = c.input(2).data<float>();
  const float* mean = c.input(3).data<float>();
  const float* var = c.input(4).data<float>();
  std::vector<float> factor(static_cast<size_t>(ch));
  for (int64_t k = 0; k < ch; ++k) factor[static_cast<size_t>(k)] = 1.0f / std::sqrt(var[k] + epsilon) * scale[k];
  TensorValue y = x;
  float* p = y.mutable_data<float>();
  const int64_t n = y.NumElements();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % ch;
    p[i] = (p[i] - mean[k]) * factor[static_cast<size_t>(k)] + offset[k];
  }
  c.set_output(0, std::move(y));
  c.set_output(1, c.input(3));
  c.set_output(2, c.input(4));
  c.set_output(3, c.input(3));
  c.set_output(4, c.input(4));
  if (c.node().op() == "FusedBatchNormV3") c.set_output(5, TensorValue(tensorflow::DT_FLOAT, {0}));
  return Status::Ok();
}

int64_t ScalarInt(const TensorValue& t) {
  return t.dtype() == tensorflow::DT_INT64 ? t.data<int64_t>()[0] : t.data<int32_t>()[0];
}

bool IsIntScalar(const TensorValue& t) {
  return (t.dtype() == tensorflow::DT_INT32 || t.dtype() == tensorflow::DT_INT64) && t.NumElements() == 1;
}

// TopKV2(input [..., n], k): the k largest along the last dimension, sorted
// descending; equal values keep the lower index first (as TensorFlow).
Status TopKV2Op(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  if (!IsIntScalar(c.input(1))) return c.Error("k must be an int32 scalar");
  const int64_t k = ScalarInt(c.input(1));
  if (x.rank() < 1) return c.Error("input must be at least 1-D");
  const int64_t n = x.dim(x.rank() - 1);
  // TensorFlow's wording (core/kernels/topk_op.cc).
  if (k < 0) return c.Error("Need k >= 0, got " + std::to_string(k));
  if (k > n) {
    return c.Error("input must have at least k columns. Had " + std::to_string(n) + ", needed " + std::to_string(k));
  }
  TensorShape oshape = x.shape();
  oshape.back() = k;
  TensorValue values(x.dtype(), oshape), indices(tensorflow::DT_INT32, oshape);
  const int64_t rows = n == 0 ? 0 : x.NumElements() / n;
  Status st = DispatchNumeric(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* pv = values.mutable_data<T>();
    int32_t* pi = indices.mutable_data<int32_t>();
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = p + r * n;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int32_t a, int32_t b) {
        if (RanksAbove(row[a], row[b])) return true;
        if (RanksAbove(row[b], row[a])) return false;
        return a < b;  // equal (or both NaN): the lower index first
      });
      for (int64_t j = 0; j < k; ++j) {
        pv[r * k + j] = row[order[static_cast<size_t>(j)]];
        pi[r * k + j] = order[static_cast<size_t>(j)];
      }
    }
    return Status::Ok();
  });
  PIPELINE_RETURN_IF_ERROR(st);
  c.set_output(0, std::move(values));
  c.set_output(1, std::move(indices));
  return Status::Ok();
}

Status CastOp(OpContext& c) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  DataType dst;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("DstT", &dst));
  const TensorValue& x = c.input(0);
  if (x.dtype() == dst) {
    c.set_output(0, x);
    return Status::Ok();
  }
  TensorValue out(dst, x.shape());
  const int64_t n = x.NumElements();
  Status st = DispatchNumeric(x.dtype(), [&](auto stag) -> Status {
    using S = decltype(stag);
    return DispatchNumeric(dst, [&](auto dtag) -> Status {
      using D = decltype(dtag);
      const S* ps = x.data<S>();
      D* pd = out.mutable_data<D>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<D, bool>) {
          pd[i] = ps[i] != S(0);
        } else {
          pd[i] = static_cast<D>(ps[i]);
        }
      }
      return Status::Ok();
    });
  });
  if (!st.ok()) return c.Error("cannot cast " + DataTypeName(x.dtype()) + " to " + DataTypeName(dst));
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// ArgMax(input, dimension) -> output_type (default int64).
Status ArgMaxOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  if (!IsIntScalar(c.input(1))) return c.Error("dimension must be an integer scalar");
  int64_t axis = ScalarInt(c.input(1));
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank()) return c.Error("dimension out of range for shape " + ShapeString(x.shape()));
  DataType ot = tensorflow::DT_INT64;
  (void)c.GetAttr("output_type", &ot);
  TensorShape oshape = x.shape();
  oshape.erase(oshape.begin() + axis);
  const int64_t dim = x.dim(static_cast<int>(axis));
  if (dim == 0) return c.Error("reduction dimension is empty");
  int64_t inner = 1;
  for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t outer = x.NumElements() / (dim * inner);
  std::vector<int64_t> best(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t b = 0;
      double bv = x.AsDouble(o * dim * inner + i);
      for (int64_t j = 1; j < dim; ++j) {
        double v = x.AsDouble((o * dim + j) * inner + i);
        if (RanksAbove(v, bv)) bv = v, b = j;  // the first NaN wins, as numpy's argmax
      }
      best[static_cast<size_t>(o * inner + i)] = b;
    }
  if (ot == tensorflow::DT_INT32) {
    c.set_output(0, TensorValue::From<int32_t>(oshape, std::vector<int32_t>(best.begin(), best.end())));
  } else {
    c.set_output(0, TensorValue::From<int64_t>(oshape, best));
  }
  return Status::Ok();
}

Status RangeOp(OpContext& c) {
  if (c.num_inputs() != 3) return c.Error("expects 3 inputs");
  const DataType dt = c.input(0).dtype();
  for (int i = 0; i < 3; ++i) {
    if (c.input(i).NumElements() != 1) return c.Error("start, limit and delta must be scalars");
  }
  const double start = c.input(0).AsDouble(0), limit = c.input(1).AsDouble(0), delta = c.input(2).AsDouble(0);
  if (delta == 0) return c.Error("Requires delta != 0");
  if ((delta > 0 && start > limit) || (delta < 0 && start < limit)) return c.Error("start/limit/delta disagree");
  // The count in double first: a huge span must be an error, not an
  // out-of-range (undefined) conversion to int64.
  const double count = dt == tensorflow::DT_FLOAT || dt == tensorflow::DT_DOUBLE
                           ? std::ceil(std::abs((limit - start) / delta))
                           : std::ceil(std::abs(limit - start) / std::abs(delta));
  if (!(count >= 0 && count < 9.0e18)) return c.Error("start/limit/delta give no usable element count");
  const int64_t n = static_cast<int64_t>(count);
  Status size = CheckAllocation(dt, {n});  // the count comes from data: bound it first
  if (!size.ok()) return c.Error(size.message());
  TensorValue out(dt, {n});
  Status st = DispatchNumeric(dt, [&](auto tag) -> Status {
    using T = decltype(tag);
    T* p = out.mutable_data<T>();
    T v = static_cast<T>(start);
    for (int64_t i = 0; i < n; ++i) {
      p[i] = v;
      v = static_cast<T>(v + static_cast<T>(delta));
    }
    return Status::Ok();
  });
  PIPELINE_RETURN_IF_ERROR(st);
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// Conv2D, NHWC float, VALID/SAME padding, strides and dilations (a direct
// loop, vectorized over the output channels).
Status Conv2DOp(OpContext& c) {
  if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
  const TensorValue& x = c.input(0);
  const TensorValue& f = c.input(1);
  if (x.dtype() != tensorflow::DT_FLOAT || f.dtype() != tensorflow::DT_FLOAT) return c.Error("implemented for float only");
  if (x.rank() != 4 || f.rank() != 4) return c.Error("input and filter must be 4-D");
  std::string fmt = "NHWC", padding;
  (void)c.GetAttr("data_format", &fmt);
  if (fmt != "NHWC") return Status::Unimplemented("Conv2D with data_format " + fmt);
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("padding", &padding));
  if (padding != "VALID" && padding != "SAME") return Status::Unimplemented("Conv2D with padding " + padding);
  std::vector<int64_t> strides, dil;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("strides", &strides));
  (void)c.GetAttr("dilations", &dil);
  if (dil.empty()) dil = {1, 1, 1, 1};
  if (strides.size() != 4 || dil.size() != 4 || strides[1] < 1 || strides[2] < 1 || dil[1] < 1 || dil[2] < 1) {
    return c.Error("strides and dilations must have 4 positive entries");
  }
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), ci = x.dim(3);
  const int64_t kh = f.dim(0), kw = f.dim(1), fci = f.dim(2), co = f.dim(3);
  if (fci != ci) return c.Error("input depth " + std::to_string(ci) + " != filter depth " + std::to_string(fci));
  const int64_t sh = strides[1], sw = strides[2], dh = dil[1], dw = dil[2];
  const int64_t ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  int64_t oh, ow, ph = 0, pw = 0;
  if (padding == "VALID") {
    oh = h >= ekh ? (h - ekh) / sh + 1 : 0;
    ow = w >= ekw ? (w - ekw) / sw + 1 : 0;
  } else {
    oh = (h + sh - 1) / sh;
    ow = (w + sw - 1) / sw;
    ph = std::max<int64_t>((oh - 1) * sh + ekh - h, 0) / 2;
    pw = std::max<int64_t>((ow - 1) * sw + ekw - w, 0) / 2;
  }
  TensorValue out(tensorflow::DT_FLOAT, {n, oh, ow, co});
  const float* px = x.data<float>();
  const float* pf = f.data<float>();
  float* po = out.mutable_data<float>();
  // Every output channel of a position at once, the channel innermost (the
  // filter's contiguous axis): each sum still runs over (u, v, k) in order.
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        float* acc = po + ((b * oh + i) * ow + j) * co;
        std::fill(acc, acc + co, 0.0f);
        for (int64_t u = 0; u < kh; ++u) {
          const int64_t y = i * sh + u * dh - ph;
          if (y < 0 || y >= h) continue;
          for (int64_t v = 0; v < kw; ++v) {
            const int64_t xx = j * sw + v * dw - pw;
            if (xx < 0 || xx >= w) continue;
            for (int64_t k = 0; k < ci; ++k) {
              const float xv = px[((b * h + y) * w + xx) * ci + k];
              const float* fr = pf + ((u * kw + v) * ci + k) * co;
              for (int64_t o = 0; o < co; ++o) acc[o] += xv * fr[o];
            }
          }
        }
      }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

// MaxPool / AvgPool, NHWC float, VALID or SAME as TensorFlow pads: a padded
// position never counts (max ignores it; the average divides by the
// positions inside the image).
Status PoolOp(OpContext& c, bool max) {
  if (c.num_inputs() != 1) return c.Error("expects 1 input");
  const TensorValue& x = c.input(0);
  if (x.dtype() != tensorflow::DT_FLOAT) return c.Error("implemented for float only");
  if (x.rank() != 4) return c.Error("input must be 4-D");
  std::string fmt = "NHWC", padding;
  (void)c.GetAttr("data_format", &fmt);
  if (fmt != "NHWC") return Status::Unimplemented(std::string(max ? "MaxPool" : "AvgPool") + " with data_format " + fmt);
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("padding", &padding));
  if (padding != "VALID" && padding != "SAME") return Status::Unimplemented("pooling with padding " + padding);
  std::vector<int64_t> ksize, strides;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("ksize", &ksize));
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("strides", &strides));
  if (ksize.size() != 4 || strides.size() != 4 || ksize[0] != 1 || ksize[3] != 1 || strides[0] != 1 ||
      strides[3] != 1 || ksize[1] < 1 || ksize[2] < 1 || strides[1] < 1 || strides[2] < 1)
    return c.Error("ksize and strides must be [1, h, w, 1] with positive h and w");
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), ch = x.dim(3);
  const int64_t kh = ksize[1], kw = ksize[2], sh = strides[1], sw = strides[2];
  int64_t oh, ow, ph = 0, pw = 0;
  if (padding == "VALID") {
    oh = h >= kh ? (h - kh) / sh + 1 : 0;
    ow = w >= kw ? (w - kw) / sw + 1 : 0;
  } else {
    oh = (h + sh - 1) / sh;
    ow = (w + sw - 1) / sw;
    ph = std::max<int64_t>((oh - 1) * sh + kh - h, 0) / 2;
    pw = std::max<int64_t>((ow - 1) * sw + kw - w, 0) / 2;
  }
  TensorValue out(tensorflow::DT_FLOAT, {n, oh, ow, ch});
  const float* px = x.data<float>();
  float* po = out.mutable_data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t k = 0; k < ch; ++k) {
          float acc = max ? -std::numeric_limits<float>::infinity() : 0.0f;
          int64_t count = 0;
          for (int64_t u = 0; u < kh; ++u) {
            const int64_t y = i * sh + u - ph;
            if (y < 0 || y >= h) continue;
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t xx = j * sw + v - pw;
              if (xx < 0 || xx >= w) continue;
              const float val = px[((b * h + y) * w + xx) * ch + k];
              acc = max ? std::max(acc, val) : acc + val;
              ++count;
            }
          }
          po[((b * oh + i) * ow + j) * ch + k] = max ? acc : acc / static_cast<float>(count);
        }
  c.set_output(0, std::move(out));
  return Status::Ok();
}
Status MaxPoolOp(OpContext& c) { return PoolOp(c, true); }
Status AvgPoolOp(OpContext& c) { return PoolOp(c, false); }

Status MatMulOp(OpContext& c) { return MatMul2D(c, c.AttrOr("transpose_a", false), c.AttrOr("transpose_b", false)); }

// TF2's tf.matmul emits BatchMatMulV2 (adj_x / adj_y) where a shape is not
// known to be a matrix at graph build time; on matrices it is MatMul.
Status BatchMatMulOp(OpContext& c) {
  if (c.num_inputs() == 2 && (c.input(0).rank() != 2 || c.input(1).rank() != 2)) {
    return Status::Unimplemented("BatchMatMul with batch dimensions (shapes " + ShapeString(c.input(0).shape()) +
                                 " and " + ShapeString(c.input(1).shape()) + ") is not supported; matrices are");
  }
  return MatMul2D(c, c.AttrOr("adj_x", false), c.AttrOr("adj_y", false));
}

}  // namespace

void RegisterMathOps(std::map<std::string, OpRegistration>* r) {
  (*r)["MatMul"] = {MatMulOp, {}};
  (*r)["BatchMatMulV2"] = {BatchMatMulOp, {}};
  (*r)["BatchMatMulV3"] = {BatchMatMulOp, {}};
  (*r)["Add"] = {BinaryOp<BinOp::kAdd>, {}};
  (*r)["AddV2"] = {BinaryOp<BinOp::kAdd>, {}};
  (*r)["Sub"] = {BinaryOp<BinOp::kSub>, {}};
  (*r)["Mul"] = {BinaryOp<BinOp::kMul>, {}};
  (*r)["RealDiv"] = {BinaryOp<BinOp::kDiv>, {}};
  (*r)["Maximum"] = {BinaryOp<BinOp::kMax>, {}};
  (*r)["Minimum"] = {BinaryOp<BinOp::kMin>, {}};
  (*r)["SquaredDifference"] = {BinaryOp<BinOp::kSquaredDiff>, {}};
  (*r)["Equal"] = {BinaryOp<BinOp::kEqual>, {}};
  (*r)["BiasAdd"] = {BiasAddOp, {}};
  (*r)["Relu"] = {UnaryOp<UnOp::kRelu>, {}};
  (*r)["Relu6"] = {UnaryOp<UnOp::kRelu6>, {}};
  (*r)["Sigmoid"] = {UnaryOp<UnOp::kSigmoid>, {}};
  (*r)["Tanh"] = {UnaryOp<UnOp::kTanh>, {}};
  (*r)["Log"] = {UnaryOp<UnOp::kLog>, {}};
  (*r)["Exp"] = {UnaryOp<UnOp::kExp>, {}};
  (*r)["Neg"] = {UnaryOp<UnOp::kNeg>, {}};
  (*r)["Sqrt"] = {UnaryOp<UnOp::kSqrt>, {}};
  (*r)["Reciprocal"] = {UnaryOp<UnOp::kReciprocal>, {}};
  (*r)["Square"] = {UnaryOp<UnOp::kSquare>, {}};
  (*r)["Abs"] = {UnaryOp<UnOp::kAbs>, {}};
  (*r)["Rsqrt"] = {UnaryOp<UnOp::kRsqrt>, {}};
  (*r)["Erf"] = {UnaryOp<UnOp::kErf>, {}};
  (*r)["Erfc"] = {UnaryOp<UnOp::kErfc>, {}};
  (*r)["Elu"] = {UnaryOp<UnOp::kElu>, {}};
  (*r)["Selu"] = {UnaryOp<UnOp::kSelu>, {}};
  (*r)["Softplus"] = {UnaryOp<UnOp::kSoftplus>, {}};
  (*r)["LeakyRelu"] = {UnaryOp<UnOp::kLeakyRelu>, {}};
  (*r)["FusedBatchNorm"] = {FusedBatchNormOp, {}};
  (*r)["FusedBatchNormV2"] = {FusedBatchNormOp, {}};
  (*r)["FusedBatchNormV3"] = {FusedBatchNormOp, {}};
  (*r)["Softmax"] = {SoftmaxOp, {}};
  (*r)["TopKV2"] = {TopKV2Op, {}};
  (*r)["Cast"] = {CastOp, {}};
  (*r)["ArgMax"] = {ArgMaxOp, {}};
  (*r)["Range"] = {RangeOp, {}};
  (*r)["Conv2D"] = {Conv2DOp, {}};
  (*r)["MaxPool"] = {MaxPoolOp, {}};
  (*r)["AvgPool"] = {AvgPoolOp, {}};
}

}  // namespace pipeline
