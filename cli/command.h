// CLI commands, one file each, registered by name.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace pipeline::cli {

struct Command {
  std::string name;
  std::string summary;   // one line for `pipeline --help`
  std::string usage;     // full text for `pipeline CMD --help`
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& Commands();
int Main(int argc, char** argv);

// Shared argument handling: collects `KEY=VALUE` and `--set KEY=VALUE`
// overrides; returns false (after printing why) on a malformed option.
struct CommonArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::vector<std::string> rest;  // options the command handles itself
};
bool ParseCommon(const std::vector<std::string>& args, const std::vector<std::string>& value_options,
                 const std::vector<std::string>& flag_options, CommonArgs* out);

// The value of `--name VALUE` in rest, or "" if absent.
std::string Option(const CommonArgs& args, const std::string& name);
bool Flag(const CommonArgs& args, const std::string& name);

// Prints a failed status to stderr and returns its exit code.
int Fail(const Status& st);

}  // namespace pipeline::cli
