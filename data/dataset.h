// In-memory dataset: images stay uint8 until a batch is gathered (the engine
// scales them), which keeps a 70k-image MNIST-style set at ~55 MB.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace pipeline {

struct Split {
  std::string source;              // e.g. "/path/train-images-idx3-ubyte.gz [55000, 60000)"
  int64_t count = 0;               // examples
  int64_t features = 0;            // pixels per example (rows*cols), or encoded CSV features
  std::vector<uint8_t> images;     // count * features, row-major (IDX)
  std::vector<float> rows;         // count * features, row-major, already encoded (CSV; images is empty)
  std::vector<uint8_t> labels;     // count, each < num_classes (classification)
  std::vector<float> targets;      // count (regression; labels is empty)
  std::vector<int64_t> lines;      // CSV: each example's 1-based line in its file
};

// How a CSV dataset's columns became features: what the export repeats in
// its graph (standardization, vocabulary lookup, one-hot).
struct TabularColumn {
  std::string name;
  bool categorical = false;
  double mean = 0.0, stddev = 1.0;       // numeric: feature = (x - mean) / stddev, from the training split
  std::vector<std::string> vocabulary;   // categorical: sorted training values; one-hot index vocabulary.size() = OOV
  std::string fill;                      // a missing value's replacement ("" when missing is an error)
  int64_t offset = 0;                    // index of its first feature
  int64_t width() const { return categorical ? static_cast<int64_t>(vocabulary.size()) + 1 : 1; }
};

struct TabularSchema {
  std::vector<TabularColumn> columns;    // feature columns in file order
  std::string label;
  bool regression = false;
  std::vector<std::string> classes;      // classification: the label value of each class index
  int64_t features() const { return columns.empty() ? 0 : columns.back().offset + columns.back().width(); }
};

struct Dataset {
  Split train, validation, test;
  int64_t num_classes = 10;
  float scale = 1.0f / 255.0f;     // pixel -> float (IDX)
  std::optional<TabularSchema> tabular;  // CSV
  bool regression() const { return tabular && tabular->regression; }
};

// Reads the IDX files named by `config` (downloading missing ones when
// config.download is set) and cuts the configured splits.
// Errors: NotFound (missing files, with what is needed and where to put it),
// Corruption (file + byte offset), InvalidArgument (splits outside the file).
// `log` receives progress lines such as download messages; may be null.
using LogFn = std::function<void(const std::string& line)>;
// `regression` (a regression loss): a CSV label column holds float targets, not classes.
// An InvalidArgument that one config key owns (dataset.csv.label naming no
// column) sets *config_key, so the caller can point at that key's line.
Status LoadDataset(const DatasetConfig& config, Dataset* out, LogFn log = nullptr, bool regression = false,
                   std::string* config_key = nullptr);

// dataset.name: csv (data/csv_dataset.cpp). Corruption names the file, line and column.
Status LoadCsvDataset(const DatasetConfig& config, bool regression, Dataset* out, std::string* config_key);

}  // namespace pipeline
