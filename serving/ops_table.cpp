// Hash-table kernels: HashTable(V2), InitializeTable(V2), LookupTableImportV2, LookupTableFind(V2),
// LookupTableSize(V2). A table is a resource of the interpreter named by the
// node's shared_name (or node name); TF1's HashTable passes it "by
// reference", HashTableV2 as a DT_RESOURCE handle -- both are handles here.
#include "serving/interpreter.h"

namespace pipeline {
namespace {

using tensorflow::DataType;

// Key i of `keys` as a hashable string: raw bytes for numbers.
std::string EncodeKey(const TensorValue& keys, int64_t i) {
  if (keys.dtype() == tensorflow::DT_STRING) return keys.strings()[static_cast<size_t>(i)];
  const size_t es = DataTypeSize(keys.dtype());
  return std::string(keys.raw() + static_cast<int64_t>(es) * i, es);
}

void CopyElement(const TensorValue& src, int64_t i, TensorValue* dst, int64_t j) {
  if (src.dtype() == tensorflow::DT_STRING) {
    dst->mutable_strings()[static_cast<size_t>(j)] = src.strings()[static_cast<size_t>(i)];
  } else {
    const size_t es = DataTypeSize(src.dtype());
    std::memcpy(dst->mutable_raw() + static_cast<int64_t>(es) * j, src.raw() + static_cast<int64_t>(es) * i, es);
  }
}

Status HashTableOp(OpContext& c) {
  const std::string key = Interpreter::ResourceKey(c.node());
  DataType kd, vd;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("key_dtype", &kd));
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("value_dtype", &vd));
  auto& tables = c.interpreter().tables();
  auto it = tables.find(key);
  if (it == tables.end()) {
    LookupTable t;
    t.key_dtype = kd;
    t.value_dtype = vd;
    tables.emplace(key, std::move(t));
  } else if (it->second.key_dtype != kd || it->second.value_dtype != vd) {
    return c.Error("table '" + key + "' exists with different key/value dtypes");
  }
  c.set_output(0, TensorValue::Handle(key));
  return Status::Ok();
}

Status Table(OpContext& c, LookupTable** t) {
  const TensorValue& h = c.input(0);
  if (h.dtype() != tensorflow::DT_RESOURCE) return c.Error("input 0 is not a table handle");
  auto it = c.interpreter().tables().find(h.handle());
  if (it == c.interpreter().tables().end()) return c.Error("no table named '" + h.handle() + "'");
  *t = &it->second;
  return Status::Ok();
}

// InitializeTable fills a table once; LookupTableImportV2 (what TF2's
// StaticHashTable / KeyValueTensorInitializer emits) replaces its contents.
template <bool kImport>
Status FillTableOp(OpContext& c) {
  if (c.num_inputs() != 3) return c.Error("expects table, keys, values");
  LookupTable* t;
  PIPELINE_RETURN_IF_ERROR(Table(c, &t));
  const TensorValue& keys = c.input(1);
  const TensorValue& values = c.input(2);
  if (keys.dtype() != t->key_dtype || values.dtype() != t->value_dtype) {
    return c.Error("keys/values of dtypes " + DataTypeName(keys.dtype()) + "/" + DataTypeName(values.dtype()) +
                   " do not match the table's " + DataTypeName(t->key_dtype) + "/" + DataTypeName(t->value_dtype));
  }
  if (keys.rank() != 1 || values.shape() != keys.shape()) {
    return c.Error("keys and values must be vectors of the same size, got " + ShapeString(keys.shape()) + " and " +
                   ShapeString(values.shape()));
  }
  if (t->initialized && !kImport) return c.Error("Table already initialized");
  t->index.clear();
  for (int64_t i = 0; i < keys.NumElements(); ++i) {
    if (!t->index.emplace(EncodeKey(keys, i), i).second) {
      return c.Error("HashTable has different value for same key (key #" + std::to_string(i) + ")");
    }
  }
  t->values = values;
  t->initialized = true;
  return Status::Ok();
}

Status LookupTableFindOp(OpContext& c) {
  if (c.num_inputs() != 3) return c.Error("expects table, keys, default_value");
  LookupTable* t;
  PIPELINE_RETURN_IF_ERROR(Table(c, &t));
  if (!t->initialized) return c.Error("Table not initialized.");
  const TensorValue& keys = c.input(1);
  const TensorValue& def = c.input(2);
  if (keys.dtype() != t->key_dtype) return c.Error("keys must be " + DataTypeName(t->key_dtype));
  if (def.dtype() != t->value_dtype || def.NumElements() != 1) {
    return c.Error("default_value must be a scalar " + DataTypeName(t->value_dtype));
  }
  TensorValue out(t->value_dtype, keys.shape());
  for (int64_t i = 0; i < keys.NumElements(); ++i) {
    auto it = t->index.find(EncodeKey(keys, i));
    if (it == t->index.end()) {
      CopyElement(def, 0, &out, i);
    } else {
      CopyElement(t->values, it->second, &out, i);
    }
  }
  c.set_output(0, std::move(out));
  return Status::Ok();
}

Status LookupTableSizeOp(OpContext& c) {
  LookupTable* t;
  PIPELINE_RETURN_IF_ERROR(Table(c, &t));
  c.set_output(0, TensorValue::Scalar<int64_t>(static_cast<int64_t>(t->index.size())));
  return Status::Ok();
}

}  // namespace

void RegisterTableOps(std::map<std::string, OpRegistration>* r) {
  (*r)["HashTable"] = {HashTableOp, {}};
  (*r)["HashTableV2"] = {HashTableOp, {}};
  (*r)["InitializeTable"] = {FillTableOp<false>, {}};
  (*r)["InitializeTableV2"] = {FillTableOp<false>, {}};
  (*r)["LookupTableImportV2"] = {FillTableOp<true>, {}};
  (*r)["LookupTableFind"] = {LookupTableFindOp, {}};
  (*r)["LookupTableFindV2"] = {LookupTableFindOp, {}};
  (*r)["LookupTableSize"] = {LookupTableSizeOp, {}};
  (*r)["LookupTableSizeV2"] = {LookupTableSizeOp, {}};
}

}  // namespace pipeline
