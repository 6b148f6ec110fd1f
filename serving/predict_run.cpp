#include "serving/predict_run.h"

#include <algorithm>
#include <cmath>

#include "common/json.h"
#include "tfformat/example_codec.h"

namespace pipeline::serving {
namespace {

// Adds the rows (of n) of `outs` that hold a non-finite number.
void CountNonFinite(const std::map<std::string, TensorValue>& outs, int64_t n, PredictSummary* s) {
  std::vector<bool> bad(static_cast<size_t>(n), false);
  for (const auto& [a, v] : outs) {
    if (v.dtype() == tensorflow::DT_STRING || v.dtype() == tensorflow::DT_RESOURCE || !v.valid()) continue;
    const int64_t total = v.NumElements();
    const bool rows = v.rank() > 0 && v.dim(0) == n && n > 0;
    for (int64_t i = 0; i < total; ++i)
      if (!std::isfinite(v.AsDouble(i))) bad[rows ? static_cast<size_t>(i / (total / n)) : 0] = true;
  }
  for (bool b : bad) s->non_finite_rows += b;
}

// Appends each output's n rows as flattened JSON arrays.
void CollectRows(const std::map<std::string, TensorValue>& outs, int64_t n, PredictSummary* s) {
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
      s->rows[a].push_back(json::Array(row));
    }
  }
}

// Counts the rows of a batch [begin, begin + n) predicted right.
Status Score(Servable& servable, const std::map<std::string, TensorValue>& outs, int64_t begin, int64_t n,
             const std::vector<uint8_t>& labels, PredictSummary* summary) {
  const ScoreOutputs& by = summary->scored_by;
  auto found = outs.find(by.score_alias);
  if (found == outs.end()) return Status::Ok();
  const TensorValue& s = found->second;
  if (s.rank() < 1 || s.dim(0) != n || s.dtype() == tensorflow::DT_STRING) {
    return Status::Runtime("output '" + by.score_alias + "' is not a [batch, ...] numeric tensor");
  }
  const int64_t cols = s.NumElements() / n;
  static const TensorValue kMissing;
  const TensorValue* classes = nullptr;
  if (!by.class_alias.empty()) {
    auto c = outs.find(by.class_alias);
    classes = c == outs.end() ? &kMissing : &c->second;
  }
  const std::vector<std::string>* names = classes != nullptr ? &servable.ClassNames() : nullptr;
  for (int64_t r = 0; r < n; ++r) {
    bool finite = true;
    for (int64_t j = 0; j < cols; ++j) finite = finite && !std::isnan(s.AsDouble(r * cols + j));
    if (!finite) continue;
    int64_t best = 0;
    for (int64_t j = 1; j < cols; ++j)
      if (s.AsDouble(r * cols + j) > s.AsDouble(r * cols + best)) best = j;
    const int label = labels[static_cast<size_t>(begin + r)];
    bool ok;
    if (classes != nullptr && classes->NumElements() == s.NumElements()) {
      const std::string expected = label < static_cast<int>(names->size()) ? (*names)[label] : std::to_string(label);
      ok = classes->strings()[static_cast<size_t>(r * cols + best)] == expected;
    } else {
      ok = best == label;
    }
    summary->correct += ok;
  }
  return Status::Ok();
}

}  // namespace

PredictInputs InputsFromPixels(const std::vector<uint8_t>& pixels, int64_t count, int64_t item_size, bool as_examples,
                               const std::string& feature, int64_t limit) {
  PredictInputs in;
  in.available = count;
  in.count = limit > 0 ? std::min<int64_t>(limit, count) : count;
  const int64_t n = item_size;
  if (as_examples) {
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
  return in;
}

PredictInputs InputsFromExamples(std::vector<std::string> serialized, int64_t limit) {
  PredictInputs in;
  in.examples = true;
  in.serialized = std::move(serialized);
  in.available = static_cast<int64_t>(in.serialized.size());
  if (limit > 0 && static_cast<int64_t>(in.serialized.size()) > limit) in.serialized.resize(static_cast<size_t>(limit));
  in.count = static_cast<int64_t>(in.serialized.size());
  for (int64_t i = 0; i < in.count; ++i)
    if (ExampleHasNonFinite(in.serialized[static_cast<size_t>(i)])) in.non_finite.push_back(i);
  return in;
}

ScoreOutputs ChooseScoreOutputs(const tensorflow::SignatureDef& sig) {
  ScoreOutputs out;
  if (sig.outputs().count("scores")) out.score_alias = "scores";
  if (sig.method_name() == kClassifyMethod && sig.outputs().count("classes")) out.class_alias = "classes";
  if (out.score_alias.empty()) {
    for (const char* a : {"probabilities", "logits", "outputs"})
      if (sig.outputs().count(a)) {
        out.score_alias = a;
        break;
      }
  }
  if (out.score_alias.empty() && !sig.outputs().empty()) out.score_alias = sig.outputs().begin()->first;
  return out;
}

Status RunPredictBatches(Servable& servable, const std::string& key, const std::string& input_alias,
                         const PredictInputs& in, const PredictRunOptions& options,
                         const std::function<void(const BatchOutputs&)>& on_batch, PredictSummary* summary) {
  const tensorflow::SignatureDef* sig = servable.FindSignature(key);
  if (sig == nullptr) return Status::InvalidArgument("unknown signature '" + key + "'");
  summary->scored_by = ChooseScoreOutputs(*sig);
  const int64_t batch = std::max<int64_t>(options.batch, 1);
  for (int64_t begin = 0; begin < in.count; begin += batch) {
    const int64_t n = std::min<int64_t>(batch, in.count - begin);
    if (in.examples || in.per_instance.empty()) {
      std::map<std::string, TensorValue> feeds, outs;
      if (in.examples) {
        std::vector<std::string> part(in.serialized.begin() + begin, in.serialized.begin() + begin + n);
        feeds[input_alias] = TensorValue::Strings({n}, std::move(part));
      } else {
        const int64_t row = NumElementsOf(in.row_shape);
        std::vector<float> part(in.floats.begin() + begin * row, in.floats.begin() + (begin + n) * row);
        TensorShape shape{n};
        shape.insert(shape.end(), in.row_shape.begin(), in.row_shape.end());
        feeds[input_alias] = TensorValue::From<float>(shape, part);
      }
      PIPELINE_RETURN_IF_ERROR(servable.Run(key, feeds, {}, &outs));
      CountNonFinite(outs, n, summary);
      if (options.collect_rows) CollectRows(outs, n, summary);
      for (const auto& [a, v] : outs) {
        TensorShape s = v.shape();
        if (!s.empty()) s[0] = begin + (s[0]);  // total rows so far
        summary->shapes[a] = s;
        summary->dtypes[a] = v.dtype();
      }
      if (on_batch) on_batch({begin, n, false, &outs});
      if (options.labels != nullptr && !options.labels->empty()) {
        PIPELINE_RETURN_IF_ERROR(Score(servable, outs, begin, n, *options.labels, summary));
      }
      continue;
    }
    // Object instances run one at a time (each may name several inputs).
    for (int64_t i = begin; i < begin + n; ++i) {
      std::map<std::string, TensorValue> one;
      PIPELINE_RETURN_IF_ERROR(servable.Run(key, in.per_instance[static_cast<size_t>(i)], {}, &one));
      CountNonFinite(one, 1, summary);
      if (options.collect_rows) CollectRows(one, 1, summary);
      for (const auto& [a, v] : one) {
        summary->shapes[a] = v.shape();
        summary->dtypes[a] = v.dtype();
      }
      if (on_batch) on_batch({i, 1, true, &one});
    }
  }
  return Status::Ok();
}

}  // namespace pipeline::serving
