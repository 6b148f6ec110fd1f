// The SavedModel exporter's interface: what the export stage hands over, and
// what it gets back. The exporter knows the trained tensors, not the engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace pipeline {

struct ExportedLayer {
  std::string name;                 // e.g. "dense_0"; variable names derive from it
  std::string activation;           // relu sigmoid tanh linear
  int64_t in = 0, out = 0;
  const float* kernel = nullptr;    // [in, out] row-major (MatMul layout)
  const float* bias = nullptr;      // [out]
};

struct ExportRequest {
  ExportConfig config;              // path, version, signatures, class_names, variables mode, warmup
  int64_t input_features = 0;
  int64_t num_classes = 0;
  std::vector<ExportedLayer> layers;
};

struct ExportResult {
  std::string version_dir;          // <export.path>/<version>
  int64_t version = 0;
};

// Checks what can be checked before training (signature rules against the
// model, the base path, the version to be written) so a doomed export fails
// before an hour of training. InvalidArgument on a config problem.
Status CheckExport(const ExportRequest& request);

// Writes <export.path>/<version>/ atomically (build in a non-numeric sibling,
// fsync, rename). Never touches an existing version unless export.overwrite.
Status ExportSavedModel(const ExportRequest& request, ExportResult* result);

}  // namespace pipeline
