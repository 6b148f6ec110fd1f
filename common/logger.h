// Where the pipeline's human-readable lines go. Lines go to stdout; a
// progress line (rewritten in place) only when stdout is a terminal.
#pragma once

#include <cstdio>
#include <string>

namespace pipeline {

class Logger {
 public:
  enum class Level { kQuiet, kNormal, kVerbose };
  explicit Logger(std::FILE* out = stdout, Level level = Level::kNormal);

  void Info(const std::string& line);     // always shown unless quiet
  void Verbose(const std::string& line);  // only with --verbose
  void Warn(const std::string& line);     // always shown, to stderr
  // Rewrites the current terminal line; a no-op when not a terminal.
  void Progress(const std::string& line);
  bool interactive() const { return interactive_; }

 private:
  void ClearProgress();
  std::FILE* out_;
  Level level_;
  bool interactive_;
  bool progress_shown_ = false;
};

}  // namespace pipeline
