// The training run `pipeline bench` measures: the config's load, build and
// train stages in this process, with no run directory, and what bench reads
// of it afterwards. cli/bench.cpp uses this instead of the stages' Context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/logger.h"
#include "common/status.h"
#include "config/config.h"
#include "data/dataset.h"
#include "engine/network.h"
#include "export/export.h"

namespace pipeline {
struct Context;
}

namespace pipeline::bench {

class TrainingRun {
 public:
  ~TrainingRun();
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  // Runs config.stages (bench passes load, build, train) on `config`, logging
  // through `log`.
  static Status Train(const PipelineConfig& config, Logger* log, std::unique_ptr<TrainingRun>* out);

  const PipelineConfig& config() const;
  std::vector<double> EpochSeconds() const;  // every epoch's training time, in order
  int64_t train_examples() const;            // examples per epoch
  Network& model() const;
  const Split& test() const;
  float scale() const;                       // the dataset's pixel scale

  // Exports the trained model as version `version` of a SavedModel base
  // directory `path`, with the config's other export settings.
  Status ExportTo(const std::string& path, const std::string& version, ExportResult* out) const;

 private:
  TrainingRun();
  std::unique_ptr<Context> ctx_;
};

}  // namespace pipeline::bench
