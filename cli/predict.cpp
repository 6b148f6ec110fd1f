// pipeline predict DIR --signature NAME (input) [...]: runs a signature of a
// SavedModel through the reader's interpreter, batch by batch.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli/command.h"
#include "serving/json_instances.h"
#include "common/files.h"
#include "common/json.h"
#include "common/status.h"
#include "common/strings.h"
#include "data/idx.h"
#include "tfformat/example_codec.h"
#include "serving/reader.h"

namespace pipeline::cli {

using serving::ExampleHasNonFinite;
using serving::PredictInputs;
using serving::ReadJsonInstances;

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
    "Inputs run in batches of --batch examples (default 1000); --limit N (>= 1) takes the first N.\n"
    "Prints the output shapes and the first --show rows (default 3). With --idx-labels F (IDX labels,\n"
    "aligned with the inputs) it prints the accuracy: argmax of the output for predict/regress\n"
    "signatures (the output named scores/probabilities if several), the top-scoring class of\n"
    "classify's classes/scores. --json OUT writes {\"signature\", \"method\", \"count\", \"accuracy\",\n"
    "\"non_finite_inputs\" (indices of inputs holding NaN/Infinity), \"non_finite_outputs\" (rows with a\n"
    "non-finite output), \"outputs\": {ALIAS: {\"dtype\", \"shape\", \"values\": one list per input, its\n"
    "elements flattened, non-finite numbers as null}}} (accuracy null without labels). JSON instances are strict RFC 8259\n"
    "(duplicate keys refused) plus TF Serving's NaN / Infinity / -Infinity; such inputs run (NaN\n"
    "propagates as in TensorFlow) and a warning names them.\n"
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
  // --limit 0 would run nothing, and "0 means all" would surprise: the
  // option, when given, takes a count of at least one input.
  long long limit = -1, batch = 1000, show = 3;
  if (opt.count("--limit") && (!int_opt("--limit", 0, &limit) || limit < 1)) {
    return Usage("--limit must be an integer >= 1, got '" + opt["--limit"] + "' (leave it out to run every input)");
  }
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
  PredictInputs in;
  std::string source;  // "FILE has N images" etc., for the label-count check
  if (opt.count("--idx-images")) {
    IdxHeader h;
    std::vector<uint8_t> pixels;
    st = ReadIdxFile(opt["--idx-images"], IdxKind::kImages, &h, &pixels);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    in.available = h.count;
    in.count = limit > 0 ? std::min<int64_t>(limit, h.count) : h.count;
    source = opt["--idx-images"] + " has " + std::to_string(h.count) + " images";
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
    in.available = static_cast<int64_t>(in.serialized.size());
    source = opt["--examples"] + " has " + std::to_string(in.available) + " examples";
    if (limit > 0 && static_cast<int64_t>(in.serialized.size()) > limit) in.serialized.resize(static_cast<size_t>(limit));
    in.count = static_cast<int64_t>(in.serialized.size());
    for (int64_t i = 0; i < in.count; ++i)
      if (ExampleHasNonFinite(in.serialized[static_cast<size_t>(i)])) in.non_finite.push_back(i);
  } else {
    st = ReadJsonInstances(opt["--json-instances"], wants_examples, limit, &in);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    source = opt["--json-instances"] + " has " + std::to_string(in.available) + " instances";
  }
  if (!in.non_finite.empty()) {
    // TensorFlow computes with NaN and infinities (NaN propagates through
    // every op), so these rows run, but their outputs are not predictions.
    std::string which;
    for (size_t i = 0; i < in.non_finite.size() && i < 10; ++i) which += (i ? ", " : "") + std::to_string(in.non_finite[i]);
    if (in.non_finite.size() > 10) which += ", ...";
    std::fprintf(stderr,
                 "warning: %zu of %lld inputs hold NaN or Infinity (input %s); TensorFlow propagates them, so "
                 "their outputs are NaN or meaningless\n",
                 in.non_finite.size(), static_cast<long long>(in.count), which.c_str());
  }

  // ---- labels ----
  std::vector<uint8_t> labels;
  std::vector<std::string> label_names;  // the class string of each label index, when the model names them
  if (opt.count("--idx-labels")) {
    IdxHeader h;
    st = ReadIdxFile(opt["--idx-labels"], IdxKind::kLabels, &h, &labels);
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
    // Labels align with the inputs one to one: a count that differs either
    // way means the two files do not belong together (--limit takes the
    // first N of both).
    if (static_cast<int64_t>(labels.size()) != in.available) {
      return Fail(Status::Runtime(opt["--idx-labels"] + " has " + std::to_string(labels.size()) + " labels but " +
                                  source + "; --idx-labels needs exactly one label per input"));
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
  int64_t non_finite_rows = 0;  // inputs with a NaN or infinity in any numeric output
  // --json's "values": per output, one JSON array per input row (its elements
  // flattened; numbers in shortest round-trip form, NaN/Infinity as null).
  std::map<std::string, std::vector<std::string>> out_rows;
  const bool want_values = opt.count("--json") > 0;
  auto collect_rows = [&](const std::map<std::string, TensorValue>& outs, int64_t n) {
    if (!want_values) return;
    for (const auto& [a, v] : outs) {
      if (v.dtype() == tensorflow::DT_RESOURCE || !v.valid() || v.rank() == 0 || v.dim(0) != n || n == 0) continue;
      const int64_t cols = v.NumElements() / n;
      for (int64_t r = 0; r < n; ++r) {
        std::vector<std::string> row;
        row.reserve(static_cast<size_t>(cols));
        for (int64_t j = 0; j < cols; ++j) {
          const int64_t i = r * cols + j;
          row.push_back(v.dtype() == tensorflow::DT_STRING ? json::Quote(v.strings()[static_cast<size_t>(i)])
                                                             : json::Number(v.AsDouble(i)));
        }
        out_rows[a].push_back(json::Array(row));
      }
    }
  };
  // Counts the rows r (of n) of `outs` that hold a non-finite number.
  auto count_non_finite = [&](const std::map<std::string, TensorValue>& outs, int64_t n) {
    std::vector<bool> bad(static_cast<size_t>(n), false);
    for (const auto& [a, v] : outs) {
      if (v.dtype() == tensorflow::DT_STRING || v.dtype() == tensorflow::DT_RESOURCE || !v.valid()) continue;
      const int64_t total = v.NumElements();
      const bool rows = v.rank() > 0 && v.dim(0) == n && n > 0;
      for (int64_t i = 0; i < total; ++i)
        if (!std::isfinite(v.AsDouble(i))) bad[rows ? static_cast<size_t>(i / (total / n)) : 0] = true;
    }
    for (bool b : bad) non_finite_rows += b;
  };
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
        count_non_finite(one, 1);
        collect_rows(one, 1);
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
    count_non_finite(outs, n);
    collect_rows(outs, n);
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
        // A row with a NaN score has no argmax: it predicts nothing and counts as wrong.
        bool finite = true;
        for (int64_t j = 0; j < cols; ++j) finite = finite && !std::isnan(s.AsDouble(r * cols + j));
        if (!finite) continue;
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
  if (non_finite_rows > 0) {
    std::fprintf(stderr, "warning: the outputs of %lld of %lld inputs hold NaN or Infinity%s\n",
                 static_cast<long long>(non_finite_rows), static_cast<long long>(in.count),
                 labels.empty() ? "" : " (a row whose scores hold NaN counts as wrong)");
  }
  if (opt.count("--json")) {
    json::Object outputs;
    for (const auto& [a, s] : out_shapes) {
      std::vector<std::string> dims;
      for (int64_t d : s) dims.push_back(std::to_string(d));
      json::Object one;
      one.Str("dtype", DataTypeName(out_dtypes[a])).Raw("shape", json::Array(dims));
      if (out_rows.count(a)) one.Raw("values", json::Array(out_rows[a]));
      outputs.Raw(a, one.str());
    }
    json::Object o;
    std::vector<std::string> non_finite;
    for (int64_t i : in.non_finite) non_finite.push_back(std::to_string(i));
    o.Str("signature", key).Str("method", method).Int("count", in.count).Raw("accuracy", accuracy);
    o.Raw("non_finite_inputs", json::Array(non_finite)).Int("non_finite_outputs", non_finite_rows);
    o.Raw("outputs", outputs.str());
    st = WriteFileAtomic(opt["--json"], o.str() + "\n");
    if (!st.ok()) return Fail(Status::Runtime(st.message()));
  }
  return 0;
}

}  // namespace pipeline::cli
