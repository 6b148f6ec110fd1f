#include "common/logger.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace pipeline {
namespace {

// Columns of the terminal behind `f`; 0 when unknown.
int TerminalWidth(std::FILE* f) {
  struct winsize ws {};
  if (::ioctl(::fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

}  // namespace

Logger::Logger(std::FILE* out, Level level) : Logger(out, level, ::isatty(::fileno(out)) == 1) {}

Logger::Logger(std::FILE* out, Level level, bool interactive) : out_(out), level_(level), interactive_(interactive) {}

void Logger::ClearProgress() {
  if (progress_shown_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
    progress_shown_ = false;
  }
}

void Logger::Info(const std::string& line) {
  if (level_ == Level::kQuiet) return;
  ClearProgress();
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void Logger::Verbose(const std::string& line) {
  if (level_ == Level::kVerbose) Info(line);
}

void Logger::Warn(const std::string& line) {
  ClearProgress();
  std::fprintf(stderr, "warning: %s\n", line.c_str());
}

bool Logger::ProgressDue() const {
  if (!interactive_ || level_ == Level::kQuiet) return false;
  // Always when no line is shown (the first batch of each epoch), else every 0.1 s.
  return !progress_shown_ || std::chrono::steady_clock::now() - last_progress_ >= std::chrono::milliseconds(100);
}

void Logger::Progress(const std::string& line) {
  if (!interactive_ || level_ == Level::kQuiet) return;
  // A line longer than the terminal wraps, and "\r" then only rewrites its last row.
  const int width = TerminalWidth(out_);
  const std::string shown = width > 1 && static_cast<int>(line.size()) >= width ? line.substr(0, width - 1) : line;
  std::fprintf(out_, "\r\033[K%s", shown.c_str());
  std::fflush(out_);
  progress_shown_ = true;
  last_progress_ = std::chrono::steady_clock::now();
}

}  // namespace pipeline
