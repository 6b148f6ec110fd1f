// Where the pipeline's human-readable lines go. Lines go to stdout; a
// progress line (rewritten in place) only when stdout is a terminal, so logs
// and pipes get only the per-epoch lines.
//
//   --quiet    nothing on stdout (warnings and errors still go to stderr;
//              the results are in the run directory and --json)
//   (default)  the tutorial's lines: per-epoch loss, accuracy, export dir
//   --verbose  also the dataset, checkpoints, confusion matrix, run directory
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace pipeline {

class Logger {
 public:
  enum class Level { kQuiet, kNormal, kVerbose };
  // `interactive`: whether `out` is a terminal; by default isatty(out).
  explicit Logger(std::FILE* out = stdout, Level level = Level::kNormal);
  Logger(std::FILE* out, Level level, bool interactive);

  void Info(const std::string& line);     // always shown unless quiet
  void Verbose(const std::string& line);  // only with --verbose
  void Warn(const std::string& line);     // always shown, to stderr
  // Rewrites the current terminal line (cut to the terminal's width); a
  // no-op when not a terminal or quiet.
  void Progress(const std::string& line);
  // True when a progress line would be shown and none is shown or the last
  // one is at least 0.1 s old (callers format a line only when it is due).
  bool ProgressDue() const;
  // Erases a shown progress line (before an error message, at the end).
  void ClearProgress();
  Level level() const { return level_; }

 private:
  std::FILE* out_;
  Level level_;
  bool interactive_;
  bool progress_shown_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace pipeline
