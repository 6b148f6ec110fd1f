// The one object stages share. Each stage reads what earlier stages put here
// and adds its own results; no stage talks to another directly.
#pragma once

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/logger.h"
#include "config/config.h"
#include "data/dataset.h"
#include "dist/collective.h"
#include "engine/network.h"
#include "engine/optimizer.h"
#include "engine/runtime.h"
#include "records/run_records.h"

namespace pipeline {

// One epoch's metrics: a metrics.jsonl line and an element of summary.json's
// "epochs" (records/run_records.h writes and reads it).
using EpochMetrics = records::EpochRecord;

struct RunMetrics {
  std::vector<EpochMetrics> epochs;
  double train_examples_per_second = NAN;
  double test_accuracy = NAN;
  double test_loss = NAN;
  double test_auc = NAN;                   // two classes
  double test_rmse = NAN, test_r2 = NAN;   // regression
  int64_t test_examples = 0;
  double evaluate_examples_per_second = NAN;
  // train.early_stopping / train.keep: best (0 when off): the epoch after which
  // training stopped early (0: it ran train.epochs), the best epoch by the
  // monitor, and the epoch whose weights evaluate and export see.
  int64_t stopped_epoch = 0, best_epoch = 0, kept_epoch = 0;
};

// train.early_stopping and train.keep: best's state after each epoch
// (stages/early_stopping.h); checkpoints hold it, so a resumed run stops and
// keeps as an uninterrupted one.
struct BestEpoch {
  int64_t epoch = 0;   // 1-based epoch of the best monitored score; 0: none yet
  double value = NAN;  // that score
  int64_t wait = 0;    // epochs since `epoch` without an improvement
  // keep: best: the values of Network::SavedTensors() (parameters, then model
  // state such as batch_norm's moving statistics) after `epoch`; else empty.
  std::vector<std::vector<float>> weights;
};

struct ExportInfo {
  std::string version_dir;
  int64_t version = 0;
};

struct Context {
  PipelineConfig config;
  std::string run_dir;                     // holds config.yaml, metrics.jsonl, summary.json
  Logger* log = nullptr;
  bool resume = false;                     // run --resume: train continues from run_dir/checkpoint
  // The processes training this model together (mpirun -np N): rank 0 alone
  // writes run_dir. Null: one process.
  dist::Collective* world = nullptr;
  // The failure every rank reached together (a collective verdict), so each
  // may exit on its own; any other failure under MPI aborts all ranks.
  bool failure_agreed = false;
  bool primary() const { return world == nullptr || world->primary(); }

  std::unique_ptr<Dataset> dataset;        // load
  std::unique_ptr<Runtime> runtime;        // build
  std::unique_ptr<Network> model;          // build
  std::unique_ptr<Optimizer> optimizer;    // build
  bool trained = false;                    // train
  RunMetrics metrics;                      // train, evaluate
  BestEpoch best;                          // train
  std::optional<ExportInfo> exported;      // export
};

}  // namespace pipeline
