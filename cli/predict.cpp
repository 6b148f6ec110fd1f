// pipeline predict DIR --signature NAME (input) [...]: runs a signature of a
// SavedModel through the reader's interpreter, batch by batch.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>

#include "cli/command.h"
#include "common/files.h"
#include "common/json.h"
#include "common/status.h"
#include "common/strings.h"
#include "data/idx.h"
#include "serving/json_instances.h"
#include "serving/predict_run.h"
#include "serving/servable.h"
#include "tfformat/example_codec.h"

namespace pipeline::cli {

using serving::BatchOutputs;
using serving::PredictInputs;
using serving::PredictSummary;

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
    "                      list of (nested) number lists, or of {\"input alias\": value} objects (numbers,\n"
    "                      or strings for a DT_STRING input such as a CSV model's categorical column); for\n"
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

int Usage(const std::string& msg) {
  std::fprintf(stderr, "%s\n\n%s", msg.c_str(), kPredictUsage);
  return 2;
}

struct PredictArgs {
  std::string dir;
  std::map<std::string, std::string> opt;  // --name -> value
  long long limit = -1, batch = 1000, show = 3;
  std::string feature = "x";
  std::string key;  // --signature
  bool has(const std::string& name) const { return opt.count(name) > 0; }
  const std::string& get(const std::string& name) const { return opt.at(name); }
};

// Fills *a from the command line; 0 when it is well formed, else the exit
// code after the usage message.
int ParseArgs(const std::vector<std::string>& args, PredictArgs* a) {
  auto& opt = a->opt;
  static const std::vector<std::string> kValueOptions = {
      "--signature", "--idx-images", "--idx-labels", "--limit", "--json-instances", "--examples",
      "--feature",   "--batch",      "--json",       "--show",  "--tag"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (std::find(kValueOptions.begin(), kValueOptions.end(), s) != kValueOptions.end()) {
      if (i + 1 >= args.size()) return Usage(s + " needs a value");
      opt[s] = args[++i];
    } else if (s.rfind("--", 0) == 0) {
      std::string hint = ClosestMatch(s, kValueOptions);
      return Usage("unknown option " + s + (hint.empty() ? "" : " (did you mean " + hint + "?)"));
    } else if (a->dir.empty()) {
      a->dir = s;
    } else {
      return Usage("unexpected argument '" + s + "'");
    }
  }
  if (a->dir.empty()) return Usage("missing DIR: the SavedModel version directory");
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
  if (opt.count("--limit") && (!int_opt("--limit", 0, &a->limit) || a->limit < 1)) {
    return Usage("--limit must be an integer >= 1, got '" + opt["--limit"] + "' (leave it out to run every input)");
  }
  if (!int_opt("--batch", 1000, &a->batch) || a->batch < 1) return Usage("--batch needs a positive integer");
  if (!int_opt("--show", 3, &a->show)) return Usage("--show needs a non-negative integer");
  if (opt.count("--feature")) a->feature = opt["--feature"];
  a->key = opt["--signature"];
  return 0;
}

// Reads the one input source into *in; *source says "FILE has N images"
// etc., for the label-count check.
// `single_input`: the signature has one input. Only then does a DT_STRING
// input mean serialized tf.Examples; a multi-input signature (a CSV model's
// predict, one input per column) takes named JSON instances.
Status ReadInputs(const PredictArgs& a, const serving::TensorSpec& input, bool single_input, PredictInputs* in,
                  std::string* source) {
  const bool wants_examples = single_input && input.dtype == tensorflow::DT_STRING;
  if (a.has("--idx-images")) {
    IdxHeader h;
    std::vector<uint8_t> pixels;
    PIPELINE_RETURN_IF_ERROR(ReadIdxFile(a.get("--idx-images"), IdxKind::kImages, &h, &pixels));
    *in = serving::InputsFromPixels(pixels, h.count, h.item_size, wants_examples, a.feature, a.limit);
    *source = a.get("--idx-images") + " has " + std::to_string(h.count) + " images";
  } else if (a.has("--examples")) {
    std::vector<std::string> records;
    PIPELINE_RETURN_IF_ERROR(ReadTFRecordFile(a.get("--examples"), &records));
    if (!wants_examples) {
      return Status::Runtime("signature '" + a.key + "' input '" + input.alias + "' is " + DataTypeName(input.dtype) +
                             ", not serialized tf.Examples");
    }
    *in = serving::InputsFromExamples(std::move(records), a.limit);
    *source = a.get("--examples") + " has " + std::to_string(in->available) + " examples";
  } else {
    PIPELINE_RETURN_IF_ERROR(serving::ReadJsonInstances(a.get("--json-instances"), wants_examples, a.limit, in));
    *source = a.get("--json-instances") + " has " + std::to_string(in->available) + " instances";
  }
  return Status::Ok();
}

// TensorFlow computes with NaN and infinities (NaN propagates through every
// op), so such inputs run, but their outputs are not predictions.
void WarnNonFiniteInputs(const PredictInputs& in) {
  if (in.non_finite.empty()) return;
  std::string which;
  for (size_t i = 0; i < in.non_finite.size() && i < 10; ++i) which += (i ? ", " : "") + std::to_string(in.non_finite[i]);
  if (in.non_finite.size() > 10) which += ", ...";
  std::fprintf(stderr,
               "warning: %zu of %lld inputs hold NaN or Infinity (input %s); TensorFlow propagates them, so "
               "their outputs are NaN or meaningless\n",
               in.non_finite.size(), static_cast<long long>(in.count), which.c_str());
}

// Reads --idx-labels, which must hold one label per available input.
Status ReadLabels(const PredictArgs& a, const PredictInputs& in, const std::string& source, std::vector<uint8_t>* labels) {
  if (!a.has("--idx-labels")) return Status::Ok();
  IdxHeader h;
  PIPELINE_RETURN_IF_ERROR(ReadIdxFile(a.get("--idx-labels"), IdxKind::kLabels, &h, labels));
  // Labels align with the inputs one to one: a count that differs either
  // way means the two files do not belong together (--limit takes the
  // first N of both).
  if (static_cast<int64_t>(labels->size()) != in.available) {
    return Status::Runtime(a.get("--idx-labels") + " has " + std::to_string(labels->size()) + " labels but " + source +
                           "; --idx-labels needs exactly one label per input");
  }
  return Status::Ok();
}

// Prints up to the first --show inputs' outputs, as the batches come.
class RowPrinter {
 public:
  explicit RowPrinter(long long show) : show_(show) {}
  void operator()(const BatchOutputs& b) {
    if (b.instance) {
      for (const auto& [a, v] : *b.outputs) {
        if (shown_ < show_) std::printf("instance %lld %s = %s\n", static_cast<long long>(b.begin), a.c_str(), v.DebugString(12).c_str());
      }
      ++shown_;
      return;
    }
    for (int64_t r = 0; r < b.n && shown_ < show_; ++r, ++shown_) {
      for (const auto& [a, v] : *b.outputs) PrintRow(a, v, b.begin, b.n, r);
    }
  }

 private:
  static void PrintRow(const std::string& a, const TensorValue& v, int64_t begin, int64_t n, int64_t r) {
    if (v.rank() == 0 || v.dim(0) != n) {
      std::printf("example %lld %s = %s\n", static_cast<long long>(begin + r), a.c_str(), v.DebugString(12).c_str());
      return;
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
  long long show_;
  long long shown_ = 0;
};

// The output shapes, the accuracy (with labels; "null" in *accuracy_json
// otherwise) and the count, on stdout; the non-finite outputs on stderr.
void PrintSummary(const PredictArgs& a, const std::string& method, const PredictInputs& in, bool labeled,
                  const PredictSummary& sum, std::string* accuracy_json) {
  for (const auto& [alias, s] : sum.shapes) {
    std::printf("output %s: %s%s\n", alias.c_str(), DataTypeName(sum.dtypes.at(alias)).c_str(), ShapeString(s).c_str());
  }
  *accuracy_json = "null";
  if (labeled && in.count > 0) {
    const double acc = static_cast<double>(sum.correct) / static_cast<double>(in.count);
    *accuracy_json = json::Number(acc);
    const bool by_class = !sum.scored_by.class_alias.empty();
    std::printf("accuracy: %.4f (%lld / %lld, by %s%s)\n", acc, static_cast<long long>(sum.correct),
                static_cast<long long>(in.count), by_class ? "top class of " : "argmax of ",
                by_class ? "classes/scores" : sum.scored_by.score_alias.c_str());
  }
  std::printf("signature %s (%s): %lld examples\n", a.key.c_str(), method.c_str(), static_cast<long long>(in.count));
  if (sum.non_finite_rows > 0) {
    std::fprintf(stderr, "warning: the outputs of %lld of %lld inputs hold NaN or Infinity%s\n",
                 static_cast<long long>(sum.non_finite_rows), static_cast<long long>(in.count),
                 labeled ? " (a row whose scores hold NaN counts as wrong)" : "");
  }
}

// --json OUT: {"signature", "method", "count", "accuracy", "non_finite_inputs",
// "non_finite_outputs", "outputs": {ALIAS: {"dtype", "shape", "values"}}}.
Status WriteJsonReport(const std::string& path, const std::string& key, const std::string& method,
                       const PredictInputs& in, const PredictSummary& sum, const std::string& accuracy) {
  json::Object outputs;
  for (const auto& [alias, s] : sum.shapes) {
    std::vector<std::string> dims;
    for (int64_t d : s) dims.push_back(std::to_string(d));
    json::Object one;
    one.Str("dtype", DataTypeName(sum.dtypes.at(alias))).Raw("shape", json::Array(dims));
    if (sum.rows.count(alias)) one.Raw("values", json::Array(sum.rows.at(alias)));
    outputs.Raw(alias, one.str());
  }
  json::Object o;
  std::vector<std::string> non_finite;
  for (int64_t i : in.non_finite) non_finite.push_back(std::to_string(i));
  o.Str("signature", key).Str("method", method).Int("count", in.count).Raw("accuracy", accuracy);
  o.Raw("non_finite_inputs", json::Array(non_finite)).Int("non_finite_outputs", sum.non_finite_rows);
  o.Raw("outputs", outputs.str());
  return WriteFileAtomic(path, o.str() + "\n");
}

int Failed(const Status& st) { return Fail(Status::Runtime(st.message())); }

}  // namespace

int PredictCommand(const std::vector<std::string>& args) {
  PredictArgs a;
  if (int rc = ParseArgs(args, &a)) return rc;

  ReaderOptions ro;
  if (a.has("--tag")) ro.tag = a.get("--tag");
  std::unique_ptr<serving::Servable> servable;
  Status st = serving::Servable::Open(a.dir, ro, "", &servable);
  if (!st.ok()) return Failed(st);
  const tensorflow::SignatureDef* sig = servable->FindSignature(a.key);
  if (sig == nullptr) {
    std::fprintf(stderr, "unknown signature '%s'; the SavedModel's signatures: %s\n", a.key.c_str(),
                 Join(servable->SignatureKeys(), ", ").c_str());
    return 2;
  }
  if (!(st = servable->Restore()).ok()) return Failed(st);
  for (const auto& w : servable->Warnings(a.key)) std::fprintf(stderr, "warning: %s\n", w.c_str());
  serving::TensorSpec input;
  if (!(st = servable->FirstInput(a.key, &input)).ok()) return Failed(st);

  PredictInputs in;
  std::string source;
  if (!(st = ReadInputs(a, input, sig->inputs_size() == 1, &in, &source)).ok()) return Failed(st);
  WarnNonFiniteInputs(in);
  std::vector<uint8_t> labels;
  if (!(st = ReadLabels(a, in, source, &labels)).ok()) return Failed(st);

  serving::PredictRunOptions run;
  run.batch = a.batch;
  run.collect_rows = a.has("--json");
  run.labels = &labels;
  PredictSummary sum;
  RowPrinter printer(a.show);
  st = serving::RunPredictBatches(*servable, a.key, input.alias, in, run, std::ref(printer), &sum);
  if (!st.ok()) return Failed(st);
  std::string accuracy;
  PrintSummary(a, sig->method_name(), in, !labels.empty(), sum, &accuracy);
  if (a.has("--json") && !(st = WriteJsonReport(a.get("--json"), a.key, sig->method_name(), in, sum, accuracy)).ok()) {
    return Failed(st);
  }
  return 0;
}

}  // namespace pipeline::cli
