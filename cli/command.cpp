#include "cli/command.h"

#include <algorithm>
#include <cstdio>

#include "common/status.h"
#include "common/strings.h"

namespace pipeline::cli {

int RunCommand(const std::vector<std::string>& args);
int ValidateCommand(const std::vector<std::string>& args);
int InspectCommand(const std::vector<std::string>& args);
int PredictCommand(const std::vector<std::string>& args);
int SweepCommand(const std::vector<std::string>& args);
int ReportCommand(const std::vector<std::string>& args);
int BenchCommand(const std::vector<std::string>& args);
int ServeCommand(const std::vector<std::string>& args);
int SchemaCommand(const std::vector<std::string>& args);
extern const char kRunUsage[];
extern const char kValidateUsage[];
extern const char kInspectUsage[];
extern const char kPredictUsage[];
extern const char kSweepUsage[];
extern const char kReportUsage[];
extern const char kBenchUsage[];
extern const char kServeUsage[];
extern const char kSchemaUsage[];

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run", "train, evaluate and export the pipeline a config describes", kRunUsage, RunCommand},
      {"validate", "check a config and print it resolved, with parameter and FLOP counts", kValidateUsage,
       ValidateCommand},
      {"inspect", "show a SavedModel's signatures, variables and ops (like saved_model_cli show --all)",
       kInspectUsage, InspectCommand},
      {"predict", "run a SavedModel signature on IDX images, JSON instances or tf.Examples", kPredictUsage,
       PredictCommand},
      {"sweep", "run many variants of a config (grid, random, sets; ASHA) and compare them", kSweepUsage,
       SweepCommand},
      {"report", "write one self-contained HTML report (curves, confusion matrix, sweep table) of a run or sweep",
       kReportUsage, ReportCommand},
      {"bench", "time training against the GEMM floor and the PyTorch peer; inference throughput; peak RSS",
       kBenchUsage, BenchCommand},
      {"serve", "serve SavedModels over TF Serving's gRPC and REST APIs (a drop-in for tensorflow_model_server)",
       kServeUsage, ServeCommand},
      {"schema", "print the JSON Schema of a config (or with --sweep, of a sweep file) for editors", kSchemaUsage,
       SchemaCommand},
  };
  return commands;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "%s\n", st.message().c_str());
  return st.ExitCode();
}

static bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool ParseCommon(const std::vector<std::string>& args, const std::vector<std::string>& value_options,
                 const std::vector<std::string>& flag_options, CommonArgs* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--set") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "--set needs KEY=VALUE\n");
        return false;
      }
      out->overrides.push_back(args[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      out->overrides.push_back(a.substr(6));
    } else if (Contains(value_options, a)) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        return false;
      }
      out->rest.push_back(a);
      out->rest.push_back(args[++i]);
    } else if (Contains(flag_options, a)) {
      out->rest.push_back(a);
    } else if (a.rfind("--", 0) == 0) {
      std::vector<std::string> known = value_options;
      known.insert(known.end(), flag_options.begin(), flag_options.end());
      known.push_back("--set");
      std::string hint = ClosestMatch(a, known);
      std::fprintf(stderr, "unknown option %s%s (options: %s)\n", a.c_str(),
                   hint.empty() ? "" : (" (did you mean " + hint + "?)").c_str(), Join(known, ", ").c_str());
      return false;
    } else if (a.find('=') != std::string::npos) {
      out->overrides.push_back(a);
    } else if (out->config.empty()) {
      out->config = a;
    } else {
      std::fprintf(stderr, "unexpected argument '%s': overrides are written KEY=VALUE\n", a.c_str());
      return false;
    }
  }
  if (out->config.empty()) {
    std::fprintf(stderr, "missing CONFIG: the YAML file to run\n");
    return false;
  }
  return true;
}

std::string Option(const CommonArgs& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.rest.size(); ++i)
    if (args.rest[i] == name) return args.rest[i + 1];
  return "";
}

bool Flag(const CommonArgs& args, const std::string& name) { return Contains(args.rest, name); }

static void PrintHelp() {
  std::printf(
      "pipeline: train neural networks from a YAML pipeline and export TensorFlow SavedModels.\n\n"
      "usage: pipeline COMMAND [ARGS]\n\ncommands:\n");
  for (const auto& c : Commands()) std::printf("  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf(
      "\n`pipeline COMMAND --help` describes a command.\n"
      "exit codes: 0 success, 1 runtime failure (data, training, I/O), 2 usage or config error.\n");
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintHelp();
    return args.empty() ? 2 : 0;
  }
  for (const auto& c : Commands()) {
    if (c.name != args[0]) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (Contains(rest, "--help") || Contains(rest, "-h")) {
      std::printf("%s", c.usage.c_str());
      return 0;
    }
    try {
      return c.run(rest);
    } catch (const std::exception& e) {
      // oneDNN and protobuf report failures as exceptions; none may escape as a crash.
      std::fprintf(stderr, "internal error: %s\n", e.what());
      return 1;
    }
  }
  std::vector<std::string> names;
  for (const auto& c : Commands()) names.push_back(c.name);
  std::string hint = ClosestMatch(args[0], names);
  std::fprintf(stderr, "unknown command '%s'%s; commands: %s\n", args[0].c_str(),
               hint.empty() ? "" : (" (did you mean '" + hint + "'?)").c_str(), Join(names, ", ").c_str());
  return 2;
}

}  // namespace pipeline::cli
