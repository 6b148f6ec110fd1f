// Test support for the exporter (header-only; used by tests/export_*_test.cpp):
// deterministic models and scratch directories.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "export/export.h"

namespace pipeline::export_testing {

// Owns the weights an ExportRequest points at.
struct Model {
  std::vector<std::vector<float>> kernels, biases;
  ExportRequest request;
};

// An MLP `sizes[0] -> sizes[1] -> ... -> sizes.back()`; hidden layers relu,
// last layer linear; weight (l, i) = sin(seed + 0.37*l + 0.001*i) / 8.
inline std::unique_ptr<Model> MakeModel(const std::vector<int64_t>& sizes, const std::string& path, float seed = 1.0f) {
  auto m = std::make_unique<Model>();
  const size_t L = sizes.size() - 1;
  m->kernels.resize(L);
  m->biases.resize(L);
  m->request.input_features = sizes[0];
  m->request.num_classes = sizes.back();
  m->request.options.path = path;
  ExportSignature predict;
  predict.name = "predict_images";
  predict.method = "predict";
  ExportSignature classify;
  classify.name = "serving_default";
  classify.method = "classify";
  m->request.options.signatures = {predict, classify};
  for (size_t l = 0; l < L; ++l) {
    auto& k = m->kernels[l];
    auto& b = m->biases[l];
    k.resize(static_cast<size_t>(sizes[l] * sizes[l + 1]));
    b.resize(static_cast<size_t>(sizes[l + 1]));
    for (size_t i = 0; i < k.size(); ++i) k[i] = std::sin(seed + 0.37f * l + 0.001f * i) / 8;
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(seed + 0.5f * l + 0.1f * i) / 8;
    ExportedLayer layer;
    layer.name = "dense_" + std::to_string(l);
    layer.activation = l + 1 == L ? "linear" : "relu";
    layer.in = sizes[l];
    layer.out = sizes[l + 1];
    layer.tensors = {{"kernel", {sizes[l], sizes[l + 1]}, k.data()}, {"bias", {sizes[l + 1]}, b.data()}};
    m->request.layers.push_back(layer);
  }
  return m;
}

// A fresh directory under $TMPDIR, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "export_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (std::filesystem::path(path_) / rel).string(); }

 private:
  std::string path_;
};

}  // namespace pipeline::export_testing
