// Runs the built `pipeline` binary as a user would, capturing its exit code,
// stdout and stderr. Header-only: tests/*_test.cpp are the only globbed units.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/scratch_dir.h"

namespace pipeline::test {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `pipeline ARGS...` from `cwd` (the source tree by default), with
// `env` entries ("NAME=value") added to its environment.
inline CommandResult RunPipeline(const std::vector<std::string>& args, const std::string& cwd = PIPELINE_SOURCE_DIR,
                                 const std::vector<std::string>& env = {}) {
  const std::string dir = TempDir("cmd");
  // A hung pipeline fails its test instead of hanging the suite.
  std::string cmd = "cd " + ShellQuote(cwd) + " && timeout --kill-after=10 600 env";
  for (const auto& e : env) {
    cmd += ' ';
    cmd += ShellQuote(e);
  }
  cmd += ' ';
  cmd += ShellQuote(PIPELINE_BINARY);
  for (const auto& a : args) {
    cmd += ' ';
    cmd += ShellQuote(a);
  }
  cmd += " >" + ShellQuote(dir + "/out") + " 2>" + ShellQuote(dir + "/err") + " </dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(dir + "/out");
  r.err = Slurp(dir + "/err");
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace pipeline::test
