// In-memory dataset: images stay uint8 until a batch is gathered (the engine
// scales them), which keeps a 70k-image MNIST-style set at ~55 MB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace pipeline {

struct Split {
  std::string source;              // e.g. "/path/train-images-idx3-ubyte.gz [55000, 60000)"
  int64_t count = 0;               // examples
  int64_t features = 0;            // pixels per example (rows*cols)
  std::vector<uint8_t> images;     // count * features, row-major
  std::vector<uint8_t> labels;     // count, each < num_classes
};

struct Dataset {
  Split train, validation, test;
  int64_t num_classes = 10;
  float scale = 1.0f / 255.0f;     // pixel -> float
};

// Reads the IDX files named by `config` (downloading missing ones when
// config.download is set) and cuts the configured splits.
// Errors: NotFound (missing files, with what is needed and where to put it),
// Corruption (file + byte offset), InvalidArgument (splits outside the file).
// `log` receives progress lines such as download messages; may be null.
using LogFn = std::function<void(const std::string& line)>;
Status LoadDataset(const DatasetConfig& config, Dataset* out, LogFn log = nullptr);

}  // namespace pipeline
