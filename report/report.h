// `pipeline report RUN_DIR|SWEEP_DIR`: one self-contained HTML file (inline
// CSS and SVG, a few lines of inline script to sort the sweep table, no
// network fetches: a Content-Security-Policy forbids them) describing a run or
// a sweep. docs/observability.md shows what each contains.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/json_value.h"
#include "records/run_records.h"

namespace pipeline::report {

// What a run directory holds (each part optional except that a run has at
// least metrics.jsonl or summary.json).
struct RunData {
  std::string dir;
  std::string name;                 // summary.json's name, else the directory's
  bool has_summary = false;         // summary.json was there
  records::RunSummary summary;      // summary.json
  std::vector<records::EpochRecord> epochs;  // metrics.jsonl, one record per epoch
  JsonValue confusion;              // confusion.json
  std::string config_yaml;          // config.yaml (the resolved config)
};

bool IsRunDir(const std::string& dir);
Status LoadRun(const std::string& dir, RunData* out);

struct TrialData {
  std::string id;
  RunData run;
  std::vector<std::pair<std::string, std::string>> params;  // swept key -> value text
  std::string status;               // ok, failed, stopped, pending, ...
  double objective = 0.0 / 0.0;
};

struct SweepData {
  std::string dir, name;
  std::vector<std::string> keys;    // the swept hyperparameters
  std::string objective = "validation_accuracy";
  bool maximize = true;
  std::vector<TrialData> trials;    // sorted best first (NaN last)
};

// A sweep directory: results.json (sweep/, read tolerantly) and/or trial
// subdirectories that are run directories. Without results.json the swept
// keys are those whose values differ between the trials' config.yaml files.
bool IsSweepDir(const std::string& dir);
Status LoadSweep(const std::string& dir, SweepData* out);

std::string RunReportHtml(const RunData& run);
std::string SweepReportHtml(const SweepData& sweep);

// Writes the report of `dir` (a run or a sweep) to `out_path` (default:
// <dir>/report.html when empty); `*written` gets the path, `*kind` "run" or "sweep".
Status WriteReport(const std::string& dir, const std::string& out_path, std::string* written, std::string* kind);

}  // namespace pipeline::report
