#include "stages/confusion.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/json.h"

namespace pipeline {
namespace {

std::string Name(const std::vector<std::string>& names, int64_t c) {
  return c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string Ratio(double v) { return std::isnan(v) ? "" : fmt::format("{:.6f}", v); }

}  // namespace

ConfusionMatrix::ConfusionMatrix(int64_t classes)
    : classes_(std::max<int64_t>(classes, 0)), counts_(classes_ * classes_, 0) {}

void ConfusionMatrix::Add(int64_t label, int64_t predicted) {
  if (label < 0 || label >= classes_ || predicted < 0 || predicted >= classes_) return;
  ++counts_[label * classes_ + predicted];
  ++total_;
}

void ConfusionMatrix::AddAll(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions) {
  const size_t n = std::min(labels.size(), predictions.size());
  for (size_t i = 0; i < n; ++i) Add(labels[i], predictions[i]);
}

int64_t ConfusionMatrix::support(int64_t c) const {
  int64_t s = 0;
  for (int64_t p = 0; p < classes_; ++p) s += at(c, p);
  return s;
}

int64_t ConfusionMatrix::predicted(int64_t c) const {
  int64_t s = 0;
  for (int64_t t = 0; t < classes_; ++t) s += at(t, c);
  return s;
}

double ConfusionMatrix::precision(int64_t c) const {
  const int64_t n = predicted(c);
  return n ? static_cast<double>(at(c, c)) / static_cast<double>(n) : NAN;
}

double ConfusionMatrix::recall(int64_t c) const {
  const int64_t n = support(c);
  return n ? static_cast<double>(at(c, c)) / static_cast<double>(n) : NAN;
}

double ConfusionMatrix::accuracy() const {
  if (total_ == 0) return NAN;
  int64_t trace = 0;
  for (int64_t c = 0; c < classes_; ++c) trace += at(c, c);
  return static_cast<double>(trace) / static_cast<double>(total_);
}

std::string ConfusionJson(const ConfusionMatrix& m, const std::vector<std::string>& names) {
  std::vector<std::string> labels, rows, per_class;
  for (int64_t c = 0; c < m.classes(); ++c) {
    labels.push_back(json::Quote(Name(names, c)));
    std::vector<std::string> row;
    for (int64_t p = 0; p < m.classes(); ++p) row.push_back(std::to_string(m.at(c, p)));
    rows.push_back(json::Array(row));
    per_class.push_back(json::Object()
                            .Int("index", c)
                            .Str("class", Name(names, c))
                            .Int("support", m.support(c))
                            .Int("predicted", m.predicted(c))
                            .Num("precision", m.precision(c))
                            .Num("recall", m.recall(c))
                            .str());
  }
  return json::Object()
             .Str("split", "test")
             .Int("examples", m.total())
             .Num("accuracy", m.accuracy())
             .Raw("classes", json::Array(labels))
             .Str("rows", "true class")
             .Str("columns", "predicted class")
             .Raw("matrix", json::Array(rows))
             .Raw("per_class", json::Array(per_class))
             .str() +
         "\n";
}

std::string ConfusionCsv(const ConfusionMatrix& m, const std::vector<std::string>& names) {
  std::string out = "true\\predicted";
  for (int64_t p = 0; p < m.classes(); ++p) out += "," + CsvField(Name(names, p));
  out += ",support,precision,recall\n";
  for (int64_t c = 0; c < m.classes(); ++c) {
    out += CsvField(Name(names, c));
    for (int64_t p = 0; p < m.classes(); ++p) out += "," + std::to_string(m.at(c, p));
    out += fmt::format(",{},{},{}\n", m.support(c), Ratio(m.precision(c)), Ratio(m.recall(c)));
  }
  return out;
}

std::vector<std::string> ConfusionTable(const ConfusionMatrix& m, const std::vector<std::string>& names) {
  // Columns are as wide as the largest count (at least 3 digits) plus a space, so
  // ten classes of up to 999 examples each fit in 64 columns.
  const int64_t k = m.classes();
  size_t name_w = 0;
  int64_t largest = 0;
  for (int64_t c = 0; c < k; ++c) name_w = std::max(name_w, std::min<size_t>(Name(names, c).size(), 12));
  for (int64_t c = 0; c < k; ++c)
    for (int64_t p = 0; p < k; ++p) largest = std::max(largest, m.at(c, p));
  const int digits = static_cast<int>(std::max(std::to_string(largest).size(), std::to_string(std::max<int64_t>(k - 1, 0)).size()));
  const int cell = std::max(digits, 3) + 1;
  const int idx_w = static_cast<int>(std::to_string(std::max<int64_t>(k - 1, 0)).size());
  const int label_w = std::max(idx_w + 1 + static_cast<int>(name_w), 10);

  std::vector<std::string> lines;
  lines.push_back("confusion matrix (rows: true class, columns: predicted class)");
  std::string head = fmt::format("{:<{}}", "", label_w);
  for (int64_t p = 0; p < k; ++p) head += fmt::format("{:>{}}", p, cell);
  lines.push_back(head + "  recall%");
  for (int64_t c = 0; c < k; ++c) {
    std::string line = fmt::format("{:<{}}", fmt::format("{:>{}} {}", c, idx_w, Name(names, c).substr(0, name_w)), label_w);
    for (int64_t p = 0; p < k; ++p) line += fmt::format("{:>{}}", m.at(c, p), cell);
    const double r = m.recall(c);
    lines.push_back(line + (std::isnan(r) ? "        -" : fmt::format("{:>9.1f}", 100 * r)));
  }
  std::string line = fmt::format("{:<{}}", "precision%", label_w);
  for (int64_t p = 0; p < k; ++p) {
    const double v = m.precision(p);
    line += std::isnan(v) ? fmt::format("{:>{}}", "-", cell) : fmt::format("{:>{}.0f}", 100 * v, cell);
  }
  lines.push_back(line);
  return lines;
}

}  // namespace pipeline
