#include "common/logger.h"

#include <unistd.h>

namespace pipeline {

Logger::Logger(std::FILE* out, Level level)
    : out_(out), level_(level), interactive_(::isatty(::fileno(out)) == 1) {}

void Logger::ClearProgress() {
  if (progress_shown_) {
    std::fputs("\r\033[K", out_);
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

void Logger::Progress(const std::string& line) {
  if (!interactive_ || level_ == Level::kQuiet) return;
  std::fprintf(out_, "\r\033[K%s", line.c_str());
  std::fflush(out_);
  progress_shown_ = true;
}

}  // namespace pipeline
