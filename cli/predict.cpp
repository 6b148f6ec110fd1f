// pipeline predict DIR --signature NAME (input) [...]: runs a signature of a
// SavedModel through the reader's interpreter, batch by batch.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli/command.h"
#include "common/files.h"
#include "common/json.h"
#include "common/status.h"
#include "common/strings.h"
#include "data/idx.h"
#include "savedmodel/example_codec.h"
#include "savedmodel/reader.h"

namespace pipeline::cli {

extern const char kPredictUsage[] =
    "usage: pipeline predict DIR --signature NAME INPUT [--idx-labels F] [--limit N] [--batch N]\n"
    "                        [--feature NAME] [--json OUT] [--show N] [--tag TAG]\n\n"
    "Loads the SavedModel version directory DIR (restoring its variables and running its init op)\n"
    "and runs signature NAME on one INPUT:\n"
    "  --idx-images F      MNIST-style IDX images (plain or .gz): pixels scaled by 1/255 and flattened.\n"
    "                      Fed as a float [batch, pixels] tensor to predict signatures with a float\n"
    "                      input; for classify/regress signatures (or a DT_STRING input) each image\n"
    "                      becomes a serialized tf.Example with a float_list feature --feature (default x).\n"
    "  --json-instances F  TF Serving REST form: {\"instances\": [...]} or a bare list. For predict, a\n"
    "                      list of (nested) number lists, or of {\"input alias\": value} objects; for\n"
    "                      classify/regress, a list of {\"feature\": [numbers]} objects (every number\n"
    "                      is encoded as a float_list value, strings as bytes_list).\n"
    "  --examples F        serialized tf.Examples in a TFRecord file (uint64 length, masked CRC-32C of\n"
    "                      the length, data, masked CRC-32C of the data; every CRC verified).\n"
    "Inputs run in batches of --batch examples (default 1000); --limit N takes the first N.\n"
    "Prints the output shapes and the first --show rows (default 3). With --idx-labels F (IDX labels,\n"
    "aligned with the inputs) it prints the accuracy: argmax of the output for predict/regress\n"
    "signatures (the output named scores/probabilities if several), the top-scoring class of\n"
    "classify's classes/scores. --json OUT writes {\"signature\", \"method\", \"count\", \"accuracy\",\n"
    "\"outputs\"} (accuracy null without labels).\n"
    "Exit codes: 0 ok, 1 model or data failure, 2 usage error (e.g. unknown signature: the\n"
    "available ones are listed).\n";

namespace {

// The class names a classify signature returns, by label index: the string
// values of an index->string table initialized from constants (how pipeline
// exports class_names). Empty when the graph has none; TensorFlow's tutorial
// builds its keys with Range, and its names are the digits themselves.
std::vector<std::string> LabelNames(const tensorflow::GraphDef& graph) {
  std::map<std::string, const tensorflow::NodeDef*> nodes;
  for (const auto& node : graph.node()) nodes[node.name()] = &node;
  auto constant = [&](const std::string& input) -> const tensorflow::TensorProto* {
    auto it = nodes.find(input.substr(0, input.find(':')));
    if (it == nodes.end() || it->second->op() != "Const" || !it->second->attr().count("value")) return nullptr;
    return &it->second->attr().at("value").tensor();
  };
  for (const auto& node : graph.node()) {
    if ((node.op() != "InitializeTableV2" && node.op() != "InitializeTable") || node.input_size() < 3) continue;
    const tensorflow::TensorProto* keys = constant(node.input(1));
    const tensorflow::TensorProto* values = constant(node.input(2));
    if (!keys || !values || keys->dtype() != tensorflow::DT_INT64 || values->dtype() != tensorflow::DT_STRING) continue;
    if (keys->int64_val_size() != values->string_val_size()) continue;
    std::vector<std::string> names(values->string_val_size());
    bool dense = true;
    for (int i = 0; i < keys->int64_val_size(); ++i) {
      const int64_t k = keys->int64_val(i);
      if (k < 0 || k >= static_cast<int64_t>(names.size())) dense = false;
      else names[k] = values->string_val(i);
    }
    if (dense) return names;
  }
  return {};
}

// ---- a minimal JSON reader for --json-instances ----

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  bool boolean = false;
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> fields;
  const Json* Find(const std::string& k) const {
    for (const auto& [key, v] : fields)
      if (key == k) return &v;
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Status Parse(Json* out) {
    PIPELINE_RETURN_IF_ERROR(Value(out, 0));
    Skip();
    if (p_ != s_.size()) return Err("trailing characters");
    return Status::Ok();
  }

 private:
  Status Err(const std::string& what) const {
    return Status::InvalidArgument("invalid JSON at byte " + std::to_string(p_) + ": " + what);
  }
  void Skip() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  Status String(std::string* out) {
    ++p_;  // opening quote
    while (p_ < s_.size() && s_[p_] != '"') {
      char c = s_[p_++];
      if (c == '\\') {
        if (p_ >= s_.size()) return Err("unterminated escape");
        char e = s_[p_++];
        switch (e) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'u': {
            if (p_ + 4 > s_.size()) return Err("bad \\u escape");
            unsigned v = static_cast<unsigned>(std::strtoul(s_.substr(p_, 4).c_str(), nullptr, 16));
            p_ += 4;
            if (v < 0x80) {
              c = static_cast<char>(v);
            } else if (v < 0x800) {
              out->push_back(static_cast<char>(0xC0 | (v >> 6)));
              c = static_cast<char>(0x80 | (v & 0x3F));
            } else {
              out->push_back(static_cast<char>(0xE0 | (v >> 12)));
              out->push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
              c = static_cast<char>(0x80 | (v & 0x3F));
            }
            break;
          }
          default: c = e;
        }
      }
      out->push_back(c);
    }
    if (p_ >= s_.size()) return Err("unterminated string");
    ++p_;
    return Status::Ok();
  }
  Status Value(Json* v, int depth) {
    if (depth > 64) return Err("nested too deeply");
    Skip();
    if (p_ >= s_.size()) return Err("unexpected end");
    const char c = s_[p_];
    if (c == '{') {
      v->kind = Json::kObject;
      ++p_;
      Skip();
      if (p_ < s_.size() && s_[p_] == '}') return ++p_, Status::Ok();
      while (true) {
        Skip();
        if (p_ >= s_.size() || s_[p_] != '"') return Err("expected a key");
        std::string key;
        PIPELINE_RETURN_IF_ERROR(String(&key));
        Skip();
        if (p_ >= s_.size() || s_[p_] != ':') return Err("expected ':'");
        ++p_;
        Json item;
        PIPELINE_RETURN_IF_ERROR(Value(&item, depth + 1));
        v->fields.emplace_back(std::move(key), std::move(item));
        Skip();
        if (p_ < s_.size() && s_[p_] == ',') { ++p_; continue; }
        if (p_ < s_.size() && s_[p_] == '}') { ++p_; return Status::Ok(); }
        return Err("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v->kind = Json::kArray;
      ++p_;
      Skip();
      if (p_ < s_.size() && s_[p_] == ']') return ++p_, Status::Ok();
      while (true) {
        Json item;
        PIPELINE_RETURN_IF_ERROR(Value(&item, depth + 1));
        v->items.push_back(std::move(item));
        Skip();
        if (p_ < s_.size() && s_[p_] == ',') { ++p_; continue; }
        if (p_ < s_.size() && s_[p_] == ']') { ++p_; return Status::Ok(); }
        return Err("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v->kind = Json::kString;
      return String(&v->str);
    }
    for (const char* lit : {"true", "false", "null"}) {
      if (s_.compare(p_, std::strlen(lit), lit) == 0) {
        p_ += std::strlen(lit);
        v->kind = lit[0] == 'n' ? Json::kNull : Json::kBool;
        v->boolean = lit[0] == 't';
        return Status::Ok();
      }
    }
    const char* begin = s_.c_str() + p_;
    char* end = nullptr;
    v->number = std::strtod(begin, &end);
    if (end == begin) return Err("unexpected character");
    v->kind = Json::kNumber;
    p_ += static_cast<size_t>(end - begin);
    return Status::Ok();
  }
  const std::string& s_;
  size_t p_ = 0;
};

// Flattens nested number lists; the shape is taken from the first path.
Status FlattenNumbers(const Json& j, std::vector<float>* out, TensorShape* shape, int depth) {
  if (j.kind == Json::kNumber) {
    if (static_cast<int>(shape->size()) != depth && depth > 0 && shape->size() > static_cast<size_t>(depth)) {
      return Status::InvalidArgument("ragged JSON instance");
    }
    out->push_back(static_cast<float>(j.number));
    return Status::Ok();
  }
  if (j.kind != Json::kArray) return Status::InvalidArgument("JSON instance values must be numbers or lists of numbers");
  if (static_cast<int>(shape->size()) == depth) shape->push_back(static_cast<int64_t>(j.items.size()));
  if ((*shape)[static_cast<size_t>(depth)] != static_cast<int64_t>(j.items.size())) {
    return Status::InvalidArgument("ragged JSON instance (lists of different lengths)");
  }
  for (const auto& item : j.items) PIPELINE_RETURN_IF_ERROR(FlattenNumbers(item, out, shape, depth + 1));
  return Status::Ok();
}

std::string ExampleFromJson(const Json& obj, Status* st) {
  tensorflow::Example ex;
  auto& fmap = *ex.mutable_features()->mutable_feature();
  for (const auto& [key, v] : obj.fields) {
    std::vector<const Json*> leaves;
    std::vector<const Json*> stack{&v};
    while (!stack.empty()) {
      const Json* j = stack.back();
      stack.pop_back();
      if (j->kind == Json::kArray) {
        for (auto it = j->items.rbegin(); it != j->items.rend(); ++it) stack.push_back(&*it);
      } else {
        leaves.push_back(j);
      }
    }
    auto& f = fmap[key];
    for (const Json* leaf : leaves) {
      if (leaf->kind == Json::kNumber) {
        f.mutable_float_list()->add_value(static_cast<float>(leaf->number));
      } else if (leaf->kind == Json::kString) {
        f.mutable_bytes_list()->add_value(leaf->str);
      } else {
        *st = Status::InvalidArgument("feature '" + key + "': values must be numbers or strings");
        return "";
      }
      if (f.has_float_list() && f.has_bytes_list()) {
        *st = Status::InvalidArgument("feature '" + key + "' mixes numbers and strings");
        return "";
      }
    }
  }
  std::string s;
  ex.SerializeToString(&s);
  return s;
}

// The inputs of one run: either serialized examples or float rows.
struct Inputs {
  bool examples = false;
  std::vector<std::string> serialized;         // examples
  std::vector<float> floats;                   // rows, row-major
  TensorShape row_shape;                       // shape of one float row
  std::vector<std::map<std::string, TensorValue>> per_instance;  // predict objects (multi-input)
  int64_t count = 0;
};

int Usage(const std::string& msg) {
  std::fprintf(stderr, "%s\n\n%s", msg.c_str(), kPredictUsage);
  return 2;
}

}  // namespace

int PredictCommand(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  std::string dir;
  static const std::vector<std::string> kValueOptions = {
      "--signature", "--idx-images", "--idx-labels", "--limit", "--json-instances", "--examples",
      "--feature",   "--batch",      "--json",       "--show",  "--tag"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (std::find(kValueOptions.begin(), kValueOptions.end(), a) != kValueOptions.end()) {
      if (i + 1 >= args.size()) return Usage(a + " needs a value");
      opt[a] = args[++i];
    } else if (a.rfind("--", 0) == 0) {
      std::string hint = ClosestMatch(a, kValueOptions);
      return Usage("unknown option " + a + (hint.empty() ? "" : " (did you mean " + hint + "?)"));
    } else if (dir.empty()) {
      dir = a;
    } else {
      return Usage("unexpected argument '" + a + "'");
    }
  }
  if (dir.empty()) return Usage("missing DIR: the SavedModel version directory");
  if (!opt.count("--signature")) return Usage("missing --signature NAME");
  const int sources = static_cast<int>(opt.count("--idx-images") + opt.count("--json-instances") + opt.count("--examples"));
  if (sources != 1) return Usage("give exactly one of --idx-images, --json-instances, --examples");
  auto int_opt = [&](const std::string& name, long long def, long long* out) {
    if (!opt.count(name)) return *out = def, true;
    char* end = nullptr;
    *out = std::strtoll(opt[name].c_str(), &end, 10);
    return end != opt[name].c_str() && *end == '\0' && *out >= 0;
  };
  long long limit = 0, batch = 1000, show = 3;
  if (!int_opt("--limit", 0, &limit)) return Usage("--limit needs a non-negative integer");
  if (!int_opt("--batch", 1000, &batch) || batch < 1) return Usage("--batch needs a positive integer");
  if (!int_opt("--show", 3, &show)) return Usage("--show needs a non-negative integer");
  const std::string feature = opt.count("--feature") ? opt["--feature"] : "x";
  const std::string key = opt["--signature"];

  ReaderOptions ro;
  if (opt.count("--tag")) ro.tag = opt["--tag"];
  std::unique_ptr<SavedModelReader> model;
  Status st = SavedModelReader::Open(dir, ro, &model);
  if (!st.ok()) return Fail(Status::Runtime(st.message()));
  const tensorflow::SignatureDef* sig = model->FindSignature(key);
  if (sig == nullptr) {
    std::fprintf(stderr, "unknown signature '%s'; the SavedModel's signatures: %s\n", key.c_str(),
                 Join(model->SignatureKeys(), ", ").c_str());
    return 2;
  }
  st = model->Restore();
  if (!st.ok()) return Fail(Status::Runtime(st.message()));
  for (const auto& w : model->warnings()) {  // this signature's, and the model-wide ones
    if (w.rfind("signature '", 0) != 0 || w.rfind("signature '" + key + "'", 0) == 0) {
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
  }

  const std::string method = sig->method_name();
  const bool classify = method == kClassifyMethod;
  if (sig->inputs_size() == 0) return Fail(Status::Runtime("signature '" + key + "' has no inputs"));
  const std::string input_alias = sig->inputs().begin()->first;
  tensorflow::DataType input_dtype = sig->inputs().begin()->second.dtype();
  model->TensorDtype(sig->inputs().begin()->second.name(), &input_dtype);  // the graph's word wins
  const bool wants_examples = input_dtype == tensorflow::DT_STRING;

  // ---- read the inputs ----
  Inputs in;
  if (opt.count("--idx-images")) {
    IdxHeader h;
    std::vector<uint8_t> pixels;
    st = ReadIdxFile(opt["--idx-images"], IdxKind::kImages, &h, &pixels);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    in.count = limit > 0 ? std::min<int64_t>(limit, h.count) : h.count;
    const int64_t n = h.item_size;
    if (wants_examples) {
      in.examples = true;
      std::vector<float> row(static_cast<size_t>(n));
      for (int64_t i = 0; i < in.count; ++i) {
        for (int64_t j = 0; j < n; ++j) row[static_cast<size_t>(j)] = pixels[static_cast<size_t>(i * n + j)] / 255.0f;
        in.serialized.push_back(EncodeFloatExample(feature, row.data(), row.size()));
      }
    } else {
      in.floats.resize(static_cast<size_t>(in.count * n));
      for (int64_t i = 0; i < in.count * n; ++i) in.floats[static_cast<size_t>(i)] = pixels[static_cast<size_t>(i)] / 255.0f;
      in.row_shape = {n};
    }
  } else if (opt.count("--examples")) {
    st = ReadTFRecordFile(opt["--examples"], &in.serialized);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    if (!wants_examples) {
      return Fail(Status::Runtime("signature '" + key + "' input '" + input_alias + "' is " +
                                  DataTypeName(input_dtype) + ", not serialized tf.Examples"));
    }
    in.examples = true;
    if (limit > 0 && static_cast<int64_t>(in.serialized.size()) > limit) in.serialized.resize(static_cast<size_t>(limit));
    in.count = static_cast<int64_t>(in.serialized.size());
  } else {
    std::string text;
    st = ReadInputFile(opt["--json-instances"], input::kJsonInstances, &text);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    Json root;
    st = JsonParser(text).Parse(&root);
    if (!st.ok()) return Fail(Status::Runtime(opt["--json-instances"] + ": " + st.message()));
    const Json* list = &root;
    if (root.kind == Json::kObject) list = root.Find("instances");
    if (list == nullptr || list->kind != Json::kArray) {
      return Fail(Status::Runtime(opt["--json-instances"] + ": expected {\"instances\": [...]} or a list"));
    }
    int64_t n = static_cast<int64_t>(list->items.size());
    if (limit > 0) n = std::min<int64_t>(n, limit);
    for (int64_t i = 0; i < n; ++i) {
      const Json& item = list->items[static_cast<size_t>(i)];
      const std::string where = opt["--json-instances"] + ": instance " + std::to_string(i) + ": ";
      if (wants_examples) {
        if (item.kind != Json::kObject) return Fail(Status::Runtime(where + "expected a {\"feature\": [...]} object"));
        Status es;
        in.serialized.push_back(ExampleFromJson(item, &es));
        if (!es.ok()) return Fail(Status::Runtime(where + es.message()));
        in.examples = true;
      } else if (item.kind == Json::kObject) {
        std::map<std::string, TensorValue> m;
        for (const auto& [alias, v] : item.fields) {
          std::vector<float> vals;
          TensorShape shape;
          st = FlattenNumbers(v, &vals, &shape, 0);
          if (!st.ok()) return Fail(Status::Runtime(where + alias + ": " + st.message()));
          shape.insert(shape.begin(), 1);
          m[alias] = TensorValue::From<float>(shape, vals);
        }
        in.per_instance.push_back(std::move(m));
      } else {
        TensorShape shape;
        st = FlattenNumbers(item, &in.floats, &shape, 0);
        if (!st.ok()) return Fail(Status::Runtime(where + st.message()));
        if (i == 0) in.row_shape = shape;
        if (shape != in.row_shape) return Fail(Status::Runtime(where + "shape differs from instance 0's"));
      }
    }
    in.count = n;
  }

  // ---- labels ----
  std::vector<uint8_t> labels;
  std::vector<std::string> label_names;  // the class string of each label index, when the model names them
  if (opt.count("--idx-labels")) {
    IdxHeader h;
    st = ReadIdxFile(opt["--idx-labels"], IdxKind::kLabels, &h, &labels);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    if (static_cast<int64_t>(labels.size()) < in.count) {
      return Fail(Status::Runtime(opt["--idx-labels"] + " has " + std::to_string(labels.size()) + " labels for " +
                                  std::to_string(in.count) + " inputs"));
    }
  }

  // Which output decides the predicted class.
  std::string score_alias, class_alias;
  if (sig->outputs().count("scores")) score_alias = "scores";
  if (classify && sig->outputs().count("classes")) class_alias = "classes";
  if (score_alias.empty()) {
    for (const char* a : {"probabilities", "logits", "outputs"})
      if (sig->outputs().count(a)) {
        score_alias = a;
        break;
      }
  }
  if (score_alias.empty() && !sig->outputs().empty()) score_alias = sig->outputs().begin()->first;

  // ---- run ----
  int64_t correct = 0;
  std::map<std::string, TensorShape> out_shapes;
  std::map<std::string, tensorflow::DataType> out_dtypes;
  int64_t shown = 0;
  for (int64_t begin = 0; begin < in.count; begin += batch) {
    const int64_t n = std::min<int64_t>(batch, in.count - begin);
    std::map<std::string, TensorValue> feeds, outs;
    if (in.examples) {
      std::vector<std::string> part(in.serialized.begin() + begin, in.serialized.begin() + begin + n);
      feeds[input_alias] = TensorValue::Strings({n}, std::move(part));
    } else if (!in.per_instance.empty()) {
      // Object instances run one at a time (each may name several inputs).
      for (int64_t i = begin; i < begin + n; ++i) {
        std::map<std::string, TensorValue> one;
        st = model->RunSignature(key, in.per_instance[static_cast<size_t>(i)], {}, &one);
        if (!st.ok()) return Fail(Status::Runtime(st.message()));
        for (auto& [a, v] : one) {
          out_shapes[a] = v.shape();
          out_dtypes[a] = v.dtype();
          if (shown < show) std::printf("instance %lld %s = %s\n", static_cast<long long>(i), a.c_str(), v.DebugString(12).c_str());
        }
        ++shown;
      }
      continue;
    } else {
      const int64_t row = NumElementsOf(in.row_shape);
      std::vector<float> part(in.floats.begin() + begin * row, in.floats.begin() + (begin + n) * row);
      TensorShape shape{n};
      shape.insert(shape.end(), in.row_shape.begin(), in.row_shape.end());
      feeds[input_alias] = TensorValue::From<float>(shape, part);
    }
    st = model->RunSignature(key, feeds, {}, &outs);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    for (const auto& [a, v] : outs) {
      TensorShape s = v.shape();
      if (!s.empty()) s[0] = begin + (s[0]);  // total rows so far
      out_shapes[a] = s;
      out_dtypes[a] = v.dtype();
    }
    for (int64_t r = 0; r < n && shown < show; ++r, ++shown) {
      for (const auto& [a, v] : outs) {
        if (v.rank() == 0 || v.dim(0) != n) {
          std::printf("example %lld %s = %s\n", static_cast<long long>(begin + r), a.c_str(), v.DebugString(12).c_str());
          continue;
        }
        const int64_t cols = v.NumElements() / n;
        std::string line;
        for (int64_t j = 0; j < cols && j < 10; ++j) {
          if (j) line += ", ";
          if (v.dtype() == tensorflow::DT_STRING) {
            line += json::Quote(v.strings()[static_cast<size_t>(r * cols + j)]);
          } else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", v.AsDouble(r * cols + j));
            line += buf;
          }
        }
        std::printf("example %lld %s = [%s%s]\n", static_cast<long long>(begin + r), a.c_str(), line.c_str(),
                    cols > 10 ? ", ..." : "");
      }
    }
    if (!labels.empty() && outs.count(score_alias)) {
      const TensorValue& s = outs[score_alias];
      if (s.rank() < 1 || s.dim(0) != n || s.dtype() == tensorflow::DT_STRING) {
        return Fail(Status::Runtime("output '" + score_alias + "' is not a [batch, ...] numeric tensor"));
      }
      const int64_t cols = s.NumElements() / n;
      const TensorValue* classes = class_alias.empty() ? nullptr : &outs[class_alias];
      if (classes != nullptr && label_names.empty()) label_names = LabelNames(model->meta_graph().graph_def());
      for (int64_t r = 0; r < n; ++r) {
        int64_t best = 0;
        for (int64_t j = 1; j < cols; ++j)
          if (s.AsDouble(r * cols + j) > s.AsDouble(r * cols + best)) best = j;
        const int label = labels[static_cast<size_t>(begin + r)];
        bool ok;
        if (classes != nullptr && classes->NumElements() == s.NumElements()) {
          const std::string expected =
              label < static_cast<int>(label_names.size()) ? label_names[label] : std::to_string(label);
          ok = classes->strings()[static_cast<size_t>(r * cols + best)] == expected;
        } else {
          ok = best == label;
        }
        correct += ok;
      }
    }
  }
  for (const auto& [a, s] : out_shapes) {
    std::printf("output %s: %s%s\n", a.c_str(), DataTypeName(out_dtypes[a]).c_str(), ShapeString(s).c_str());
  }
  std::string accuracy = "null";
  if (!labels.empty() && in.count > 0) {
    const double acc = static_cast<double>(correct) / static_cast<double>(in.count);
    accuracy = json::Number(acc);
    std::printf("accuracy: %.4f (%lld / %lld, by %s%s)\n", acc, static_cast<long long>(correct),
                static_cast<long long>(in.count), class_alias.empty() ? "argmax of " : "top class of ",
                class_alias.empty() ? score_alias.c_str() : "classes/scores");
  }
  std::printf("signature %s (%s): %lld examples\n", key.c_str(), method.c_str(), static_cast<long long>(in.count));
  if (opt.count("--json")) {
    json::Object outputs;
    for (const auto& [a, s] : out_shapes) {
      std::vector<std::string> dims;
      for (int64_t d : s) dims.push_back(std::to_string(d));
      outputs.Raw(a, json::Object().Str("dtype", DataTypeName(out_dtypes[a])).Raw("shape", json::Array(dims)).str());
    }
    json::Object o;
    o.Str("signature", key).Str("method", method).Int("count", in.count).Raw("accuracy", accuracy).Raw("outputs", outputs.str());
    st = WriteFileAtomic(opt["--json"], o.str() + "\n");
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
  }
  return 0;
}

}  // namespace pipeline::cli
