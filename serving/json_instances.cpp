#include "serving/json_instances.h"

#include <cfloat>
#include <cmath>
#include <cstdio>

#include "common/files.h"
#include "common/json_value.h"
#include "tfformat/example_codec.h"

namespace pipeline::serving {
namespace {

std::string Where(const JsonValue& v) { return "byte offset " + std::to_string(v.offset()); }

// A JSON number as a float, refused when finite but beyond float's range
// (TF Serving's IsLosslessDecimal<float>: "Cannot convert JSON value ... to
// float without loss of precision"); NaN and infinities pass as they are.
Status ToFloat(const JsonValue& v, float* out, bool* non_finite) {
  const double d = v.number();
  if (std::isfinite(d) && (d > FLT_MAX || d < -FLT_MAX)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return Status::Corruption("value " + std::string(buf) + " at " + Where(v) +
                              " cannot be converted to float without loss of precision (float's range is +-3.4e38)");
  }
  *out = static_cast<float>(d);
  if (!std::isfinite(d)) *non_finite = true;
  return Status::Ok();
}

// The dense shape of a (nested) list, read along its first elements, as TF
// Serving's GetDenseTensorShape does.
TensorShape DenseShape(const JsonValue& v) {
  TensorShape shape;
  for (const JsonValue* p = &v; p->is_array(); p = &(*p)[0]) {
    shape.push_back(static_cast<int64_t>(p->items().size()));
    if (p->items().empty()) break;
  }
  return shape;
}

// Visits the leaves of `v` (a tensor of `shape`) in row-major order; every
// list at level d must have shape[d] items and every leaf must sit at the last
// level. `leaf_kind` ("a number", "a string") names a leaf in the errors.
template <class LeafFn>
Status WalkDense(const JsonValue& v, const TensorShape& shape, size_t level, const char* leaf_kind, LeafFn& leaf) {
  if (!v.is_array()) {
    if (level != shape.size()) {
      return Status::Corruption("ragged instance: a value at " + Where(v) + " sits at nesting level " +
                                std::to_string(level) + ", expected " + std::to_string(shape.size()));
    }
    return leaf(v);
  }
  if (level >= shape.size() || static_cast<int64_t>(v.items().size()) != shape[level]) {
    return Status::Corruption("ragged instance: the list at " + Where(v) + " has " + std::to_string(v.items().size()) +
                              " items, expected " + (level < shape.size() ? std::to_string(shape[level]) : leaf_kind));
  }
  for (const auto& item : v.items()) PIPELINE_RETURN_IF_ERROR(WalkDense(item, shape, level + 1, leaf_kind, leaf));
  return Status::Ok();
}

// Appends the numbers of `v` (a tensor of `shape`) to `out`.
Status Flatten(const JsonValue& v, const TensorShape& shape, std::vector<float>* out, bool* non_finite) {
  auto leaf = [&](const JsonValue& x) {
    if (!x.is_number()) return Status::Corruption("expected a number at " + Where(x));
    float f;
    PIPELINE_RETURN_IF_ERROR(ToFloat(x, &f, non_finite));
    out->push_back(f);
    return Status::Ok();
  };
  return WalkDense(v, shape, 0, "a number", leaf);
}

// Flatten for a tensor of strings: every leaf a string.
Status FlattenStrings(const JsonValue& v, const TensorShape& shape, std::vector<std::string>* out) {
  auto leaf = [&](const JsonValue& x) {
    if (!x.is_string())
      return Status::Corruption("expected a string at " + Where(x) + ", as the first value of the input is one");
    out->push_back(x.str());
    return Status::Ok();
  };
  return WalkDense(v, shape, 0, "a string", leaf);
}

// {"feature": value or [values]} -> a serialized tf.Example.
Status ExampleFromJson(const JsonValue& obj, std::string* serialized, bool* non_finite) {
  tensorflow::Example ex;
  auto& fmap = *ex.mutable_features()->mutable_feature();
  for (const auto& [key, v] : obj.members()) {
    auto& f = fmap[key];
    std::vector<const JsonValue*> leaves;
    if (v.is_array()) {
      for (const auto& item : v.items()) leaves.push_back(&item);
    } else {
      leaves.push_back(&v);
    }
    for (const JsonValue* leaf : leaves) {
      if (leaf->is_number()) {
        float x;
        PIPELINE_RETURN_IF_ERROR(ToFloat(*leaf, &x, non_finite));
        f.mutable_float_list()->add_value(x);
      } else if (leaf->is_string()) {
        f.mutable_bytes_list()->add_value(leaf->str());
      } else {
        return Status::Corruption("feature '" + key + "': the value at " + Where(*leaf) + " is not a number or a string");
      }
      if (f.has_float_list() && f.has_bytes_list()) {
        return Status::Corruption("feature '" + key + "' mixes numbers and strings");
      }
    }
  }
  ex.SerializeToString(serialized);
  return Status::Ok();
}

}  // namespace

Status ReadJsonInstances(const std::string& path, bool wants_examples, int64_t limit, PredictInputs* in) {
  JsonParseOptions options;
  options.allow_non_finite = true;  // TF Serving's request parser accepts NaN / Infinity
  JsonValue root;
  PIPELINE_RETURN_IF_ERROR(ReadJsonFile(path, &root, options, input::kJsonInstances));
  const JsonValue* list = &root;
  if (root.is_object()) list = &root["instances"];
  if (!list->is_array()) return Status::Corruption(path + ": expected {\"instances\": [...]} or a list");
  in->available = static_cast<int64_t>(list->items().size());
  const int64_t n = limit >= 0 ? std::min(limit, in->available) : in->available;
  for (int64_t i = 0; i < n; ++i) {
    const JsonValue& item = list->items()[static_cast<size_t>(i)];
    const std::string where = path + ": instance " + std::to_string(i) + ": ";
    bool non_finite = false;
    if (wants_examples) {
      if (!item.is_object()) return Status::Corruption(where + "expected a {\"feature\": [...]} object at " + Where(item));
      std::string serialized;
      Status st = ExampleFromJson(item, &serialized, &non_finite);
      if (!st.ok()) return Status::Corruption(where + st.message());
      in->serialized.push_back(std::move(serialized));
      in->examples = true;
    } else if (item.is_object()) {
      std::map<std::string, TensorValue> m;
      for (const auto& [alias, v] : item.members()) {
        TensorShape shape = DenseShape(v);
        const JsonValue* first = &v;
        while (first->is_array() && !first->items().empty()) first = &(*first)[0];
        if (first->is_string()) {  // a DT_STRING input (a CSV model's categorical column)
          std::vector<std::string> strings;
          Status st = FlattenStrings(v, shape, &strings);
          if (!st.ok()) return Status::Corruption(where + alias + ": " + st.message());
          shape.insert(shape.begin(), 1);
          m[alias] = TensorValue::Strings(shape, std::move(strings));
          continue;
        }
        std::vector<float> vals;
        Status st = Flatten(v, shape, &vals, &non_finite);
        if (!st.ok()) return Status::Corruption(where + alias + ": " + st.message());
        shape.insert(shape.begin(), 1);
        m[alias] = TensorValue::From<float>(shape, vals);
      }
      in->per_instance.push_back(std::move(m));
    } else {
      const TensorShape shape = DenseShape(item);
      if (i == 0) in->row_shape = shape;
      if (shape != in->row_shape) {
        return Status::Corruption(where + "shape " + ShapeString(shape) + " differs from instance 0's " +
                                  ShapeString(in->row_shape));
      }
      Status st = Flatten(item, shape, &in->floats, &non_finite);
      if (!st.ok()) return Status::Corruption(where + st.message());
    }
    if (non_finite) in->non_finite.push_back(i);
  }
  in->count = n;
  return Status::Ok();
}

bool ExampleHasNonFinite(const std::string& serialized) {
  tensorflow::Example ex;
  if (!DecodeExample(serialized, &ex).ok()) return false;  // the model's ParseExample reports it
  for (const auto& [key, f] : ex.features().feature())
    for (float v : f.float_list().value())
      if (!std::isfinite(v)) return true;
  return false;
}

}  // namespace pipeline::serving
