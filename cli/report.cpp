// pipeline report RUN_DIR|SWEEP_DIR [--output FILE]: one self-contained HTML file.
#include <cstdio>

#include "cli/command.h"
#include "report/report.h"

namespace pipeline::cli {

extern const char kReportUsage[] =
    "usage: pipeline report RUN_DIR|SWEEP_DIR [--output FILE]\n\n"
    "Writes one self-contained HTML file (inline SVG; no scripts from or requests to anywhere) describing\n"
    "a run or a sweep, to DIR/report.html unless --output says otherwise.\n\n"
    "  a run directory (metrics.jsonl, summary.json, confusion.json, config.yaml):\n"
    "      loss and accuracy curves, the test confusion matrix as a heat map, per-class accuracy,\n"
    "      precision and recall, the per-epoch table and the resolved config\n"
    "  a sweep directory (results.json and/or trial run directories inside):\n"
    "      the objective against each swept hyperparameter, every trial's learning curves and the\n"
    "      results table, sortable by any column\n\n"
    "  --output FILE, -o FILE       where to write the HTML\n\n"
    "Exit codes: 0 success, 1 a missing or unreadable directory or file, 2 usage error or a directory\nthat is neither a run nor a sweep.\n";

int ReportCommand(const std::vector<std::string>& args) {
  std::vector<std::string> normalized;
  for (const auto& a : args) normalized.push_back(a == "-o" ? "--output" : a);
  bool positional = false;
  for (size_t i = 0; i < normalized.size(); ++i) {
    if (normalized[i] == "--output") ++i;
    else if (normalized[i].rfind("--", 0) != 0) positional = true;
  }
  if (!positional) {
    std::fprintf(stderr, "missing RUN_DIR|SWEEP_DIR: the directory to report on\n");
    return 2;
  }
  CommonArgs a;
  if (!ParseCommon(normalized, {"--output"}, {}, &a)) return 2;
  if (!a.overrides.empty()) {
    std::fprintf(stderr, "unexpected argument '%s': pipeline report takes one directory\n", a.overrides[0].c_str());
    return 2;
  }
  std::string written, kind;
  Status st = report::WriteReport(a.config, Option(a, "--output"), &written, &kind);
  if (!st.ok()) return Fail(st);
  std::printf("wrote %s report %s\n", kind.c_str(), written.c_str());
  return 0;
}

}  // namespace pipeline::cli
