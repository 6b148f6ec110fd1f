// Synthetic run and sweep directories for the report tests (no training).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/files.h"

namespace pipeline::test {

// A run directory as `pipeline run` leaves it: metrics.jsonl (epochs epochs,
// loss falling with `lr`), summary.json, confusion.json and config.yaml.
inline void MakeFakeRun(const std::string& dir, double lr, int epochs, bool confusion = true) {
  MakeDirs(dir);
  std::string lines;
  double acc = 0;
  for (int e = 1; e <= epochs; ++e) {
    const double loss = 2.3 * std::exp(-lr * 20 * e) + 0.2;
    acc = 0.95 - 0.8 * std::exp(-lr * 25 * e);
    lines += fmt::format(
        "{{\"epoch\": {}, \"loss\": {}, \"validation_accuracy\": {}, \"seconds\": 1.5, \"learning_rate\": {}, "
        "\"validation_loss\": {}}}\n",
        e, loss, acc, lr, loss * 1.1);
  }
  WriteFileAtomic(dir + "/metrics.jsonl", lines);
  WriteFileAtomic(dir + "/summary.json",
                  fmt::format("{{\"name\": \"fake\", \"status\": \"ok\", \"test_accuracy\": {}, \"test_loss\": 0.4, "
                              "\"validation_accuracy\": {}, \"parameters\": 269322, \"train_examples_per_second\": "
                              "40000, \"epochs\": []}}\n",
                              acc - 0.01, acc));
  WriteFileAtomic(dir + "/config.yaml",
                  fmt::format("name: fake\nseed: 1\noptimizer:\n  type: sgd\n  learning_rate: {}\ntrain:\n  epochs: "
                              "{}\n  batch_size: 100\nexport:\n  class_names: [\"<cat>\", dog, bird]\n",
                              lr, epochs));
  if (confusion)
    WriteFileAtomic(dir + "/confusion.json",
                    "{\"split\": \"test\", \"examples\": 10, \"accuracy\": 0.7, \"classes\": [\"<cat>\", \"dog\", "
                    "\"bird\"], \"matrix\": [[3, 1, 0], [0, 2, 1], [1, 0, 2]], \"per_class\": ["
                    "{\"index\": 0, \"class\": \"<cat>\", \"support\": 4, \"predicted\": 4, \"precision\": 0.75, "
                    "\"recall\": 0.75}, {\"index\": 1, \"class\": \"dog\", \"support\": 3, \"predicted\": 3, "
                    "\"precision\": 0.666667, \"recall\": 0.666667}, {\"index\": 2, \"class\": \"bird\", \"support\": "
                    "3, \"predicted\": 3, \"precision\": 0.666667, \"recall\": 0.666667}]}\n");
}

}  // namespace pipeline::test
