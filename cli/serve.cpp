// pipeline serve --model_name=NAME --model_base_path=DIR [...]: TF Serving's
// tensorflow_model_server, with its flag names, forms (--flag=value or
// --flag value) and defaults. Arguments only; the server is server/.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/command.h"
#include "common/strings.h"
#include "server/model_server.h"

namespace pipeline::cli {

extern const char kServeUsage[] =
    "usage: pipeline serve --model_name=NAME --model_base_path=DIR [--port=8500] [--rest_api_port=8501]\n"
    "       pipeline serve --model_config_file=F [--model_config_file_poll_wait_seconds=S] [...]\n\n"
    "Serves SavedModels as TensorFlow Serving's model server does, with its flags and clients:\n"
    "gRPC tensorflow.serving.PredictionService and ModelService on --port, and the REST API\n"
    "(/v1/models/NAME[/versions/V|/labels/L][:predict|:classify|:regress|/metadata]) on\n"
    "--rest_api_port (0 disables it). The numeric subdirectories of the base path are versions;\n"
    "the newest is served (or what --model_config_file's model_version_policy says), each one\n"
    "loaded and warmed up (assets.extra/tf_serving_warmup_requests) before it takes traffic.\n"
    "  --model_name=NAME                       (default \"default\")\n"
    "  --model_base_path=DIR                   the directory holding the version directories\n"
    "  --model_config_file=F                   a ModelServerConfig text proto: several models,\n"
    "                                          version policies (latest/all/specific), version_labels\n"
    "  --model_config_file_poll_wait_seconds=S re-read F every S seconds (default 0: once)\n"
    "  --file_system_poll_wait_seconds=S       look for new and removed versions every S s (default 1)\n"
    "  --port=P                                gRPC port (default 8500; 0 picks a free one)\n"
    "  --rest_api_port=P                       REST port (default 8501; 0 disables REST)\n"
    "  --rest_api_num_threads=N                REST event loops (default: one per hardware thread; 4 per\n"
    "                                          hardware thread with --enable_batching)\n"
    "  --rest_api_timeout_in_ms=MS             a REST request must arrive within MS (default 30000)\n"
    "  --rest_api_enable_cors_support[=true]   CORS headers on every REST reply\n"
    "  --monitoring_config_file=F              a MonitoringConfig text proto: prometheus_config { enable: true }\n"
    "                                          serves Prometheus text at /monitoring/prometheus/metrics (REST port)\n"
    "  --rest_api_max_body_bytes=N             larger REST bodies get 413 (default 268435456; ours)\n"
    "  --grpc_max_message_bytes=N              largest gRPC message (default 2147483647; ours)\n"
    "  --grpc_socket_path=PATH                 also serve gRPC on this Unix socket\n"
    "  --grpc_max_threads=N                    threads running gRPC calls (default 4 per hardware thread)\n"
    "  --grpc_channel_arguments=k1=v1,k2=v2    extra gRPC channel arguments\n"
    "  --enable_signature_method_name_check    classify/regress need a signature of that method\n"
    "  --enable_batching[=true]                merge concurrent requests of a signature into one run\n"
    "  --batching_parameters_file=F            a BatchingParameters text proto: max_batch_size { value: 128 }\n"
    "                                          batch_timeout_micros, max_enqueued_batches, num_batch_threads,\n"
    "                                          allowed_batch_sizes (default: TF Serving's; needs --enable_batching)\n"
    "  --host=ADDR                             address both APIs listen on (default 0.0.0.0; ours)\n"
    "SIGTERM or SIGINT stops accepting, finishes the requests in flight and exits 0.\n"
    "Exit codes: 0 after a signal, 1 when the server cannot start (a port in use), 2 usage or config error.\n";

namespace {

int Usage(const std::string& msg) {
  std::fprintf(stderr, "%s\n\n%s", msg.c_str(), kServeUsage);
  return 2;
}

bool ParseInt(const std::string& text, int64_t lo, int64_t hi, int64_t* out) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseSeconds(const std::string& text, double* out) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !(v >= 0) || v > 1e9) return false;
  *out = v;
  return true;
}

bool ParseBool(const std::string& text, bool* out) {
  if (text == "true" || text == "1") return *out = true, true;
  if (text == "false" || text == "0") return *out = false, true;
  return false;
}

}  // namespace

int ServeCommand(const std::vector<std::string>& args) {
  server::ModelServerOptions o;
  // Each flag: how to read its value ("" for a bare boolean flag).
  using Setter = std::function<bool(const std::string&)>;
  auto int_flag = [](int* field, int64_t lo, int64_t hi) {
    return Setter([=](const std::string& v) {
      int64_t x;
      return ParseInt(v, lo, hi, &x) && ((*field = static_cast<int>(x)), true);
    });
  };
  auto int64_flag = [](int64_t* field, int64_t lo, int64_t hi) {
    return Setter([=](const std::string& v) { return ParseInt(v, lo, hi, field); });
  };
  auto string_flag = [](std::string* field) { return Setter([=](const std::string& v) { return *field = v, true; }); };
  auto seconds_flag = [](double* field) { return Setter([=](const std::string& v) { return ParseSeconds(v, field); }); };
  const std::map<std::string, std::pair<Setter, const char*>> flags = {
      {"port", {int_flag(&o.port, 0, 65535), "a port number 0..65535"}},
      {"rest_api_port", {int_flag(&o.rest_api_port, 0, 65535), "a port number 0..65535"}},
      {"host", {string_flag(&o.host), "an address"}},
      {"model_name", {string_flag(&o.model_name), "a name"}},
      {"model_base_path", {string_flag(&o.model_base_path), "a directory"}},
      {"model_config_file", {string_flag(&o.model_config_file), "a file"}},
      {"model_config_file_poll_wait_seconds", {seconds_flag(&o.model_config_file_poll_wait_seconds), "seconds >= 0"}},
      {"file_system_poll_wait_seconds", {seconds_flag(&o.file_system_poll_wait_seconds), "seconds >= 0"}},
      {"rest_api_num_threads", {int_flag(&o.rest_api_num_threads, 0, 1024), "0..1024"}},
      {"rest_api_timeout_in_ms", {int64_flag(&o.rest_api_timeout_in_ms, 1, int64_t{1} << 40), "milliseconds >= 1"}},
      {"rest_api_enable_cors_support",
       {Setter([&o](const std::string& v) { return ParseBool(v, &o.rest_api_enable_cors_support); }), "true or false"}},
      {"rest_api_max_body_bytes", {int64_flag(&o.rest_api_max_body_bytes, 1, int64_t{1} << 40), "bytes >= 1"}},
      {"grpc_max_message_bytes", {int64_flag(&o.grpc_max_message_bytes, 1024, (int64_t{1} << 31) - 1), "1024..2147483647"}},
      {"grpc_socket_path", {string_flag(&o.grpc_socket_path), "a Unix socket path"}},
      {"monitoring_config_file", {string_flag(&o.monitoring_config_file), "a file"}},
      {"grpc_max_threads", {int_flag(&o.grpc_max_threads, 0, 4096), "0..4096"}},
      {"grpc_channel_arguments", {string_flag(&o.grpc_channel_arguments), "k1=v1,k2=v2"}},
      {"enable_signature_method_name_check",
       {Setter([&o](const std::string& v) { return ParseBool(v, &o.enable_signature_method_name_check); }),
        "true or false"}},
      {"enable_batching",
       {Setter([&o](const std::string& v) { return ParseBool(v, &o.enable_batching); }), "true or false"}},
      {"batching_parameters_file", {string_flag(&o.batching_parameters_file), "a file"}},
  };
  // The boolean flags: bare, they mean true (TF Serving's flag parser).
  const std::set<std::string> bare_true = {"rest_api_enable_cors_support", "enable_signature_method_name_check",
                                           "enable_batching"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kServeUsage, stdout);
      return 0;
    }
    if (a.rfind("--", 0) != 0) return Usage("unexpected argument " + a);
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = flags.find(name);
    if (it == flags.end()) {
      std::vector<std::string> known;
      for (const auto& [k, v] : flags) known.push_back("--" + k);
      const std::string hint = ClosestMatch("--" + name, known);
      return Usage("unknown flag --" + name + (hint.empty() ? "" : " (did you mean " + hint + "?)"));
    }
    if (!has_value) {
      if (bare_true.count(name)) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Usage("--" + name + " needs a value (" + it->second.second + ")");
      }
    }
    if (!it->second.first(value)) {
      return Usage("--" + name + "=" + value + ": expected " + it->second.second);
    }
  }
  // Requests run one at a time per version through the interpreter, whose
  // oneDNN calls would each fork OpenMP threads that then spin against the
  // transport threads: one OpenMP thread per call measured up to 2x the
  // batch-1 throughput at equal batch-100 throughput (docs/serving.md). The
  // OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded, so the
  // process re-executes itself with it set; a user's own value wins.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    setenv("OMP_NUM_THREADS", "1", 1);
    std::vector<char*> argv{const_cast<char*>("pipeline"), const_cast<char*>("serve")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    // No /proc: serve with the runtime's default threads.
  }
  Status st = server::RunModelServer(o);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return st.ExitCode();
  }
  return 0;
}

}  // namespace pipeline::cli
