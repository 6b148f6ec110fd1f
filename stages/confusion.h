// The confusion matrix of a classifier on one split, and the per-class
// precision and recall it gives; written by the evaluate stage as
// confusion.json / confusion.csv in the run directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes);

  // Counts one example of class `label` predicted as `predicted`; out-of-range
  // values are ignored.
  void Add(int64_t label, int64_t predicted);
  // Every (labels[i], predictions[i]).
  void AddAll(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions);

  int64_t classes() const { return classes_; }
  // Row = true class, column = predicted class.
  int64_t at(int64_t label, int64_t predicted) const { return counts_[label * classes_ + predicted]; }
  int64_t total() const { return total_; }
  int64_t support(int64_t c) const;    // examples whose true class is c (row sum)
  int64_t predicted(int64_t c) const;  // examples predicted as c (column sum)
  // TP / predicted(c); NaN when nothing was predicted as c.
  double precision(int64_t c) const;
  // TP / support(c), the per-class accuracy; NaN when c has no examples.
  double recall(int64_t c) const;
  double accuracy() const;  // trace / total; NaN when empty

 private:
  int64_t classes_;
  int64_t total_ = 0;
  std::vector<int64_t> counts_;
};

// `names` has one entry per class (missing ones print as the index).
std::string ConfusionJson(const ConfusionMatrix& m, const std::vector<std::string>& names);
// One row per true class: label, the counts per predicted class, support, precision, recall.
std::string ConfusionCsv(const ConfusionMatrix& m, const std::vector<std::string>& names);
// A compact fixed-width table for the terminal, one string per line.
std::vector<std::string> ConfusionTable(const ConfusionMatrix& m, const std::vector<std::string>& names);

}  // namespace pipeline
