#include "bench/peer.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

#include "stages/signals.h"

namespace pipeline::bench {
namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<double> Numbers(const std::string& list) {
  std::vector<double> out;
  std::regex number("[-0-9.eE+]+");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), number); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod(it->str()));
  return out;
}

}  // namespace

std::vector<PeerSpec> KnownPeers(bool cnn) {
  const char* venv_env = std::getenv("PIPELINE_VENV");
  const std::string venv = venv_env && *venv_env ? venv_env : std::string(PIPELINE_SOURCE_DIR) + "/.venv";
  const std::string peers = std::string(PIPELINE_SOURCE_DIR) + "/bench/peers/";
  const std::string torch = peers + (cnn ? "torch_cnn.py" : "torch_mlp.py");
  return {
      {"torch-pip", venv + "/bin/python", "torch", torch, ""},
      {"keras", venv + "/bin/python", "tensorflow", peers + (cnn ? "keras_cnn.py" : "keras_mlp.py"),
       "TF_CPP_MIN_LOG_LEVEL=2"},
      // Debian's torch 1.13 needs the OpenMP build of OpenBLAS (its README).
      {"torch-debian", "/usr/bin/python3", "torch", torch,
       "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp"},
  };
}

Status RunPeer(const PeerSpec& peer, const PeerOptions& o, PeerRun* out) {
  ScopedUnblockStopSignals children_take_signals;  // popen and system pass this thread's mask on
  const std::string probe = Quote(peer.python) + " -c " + Quote("import " + peer.module + ", numpy") + " >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    return Status::NotFound(peer.python + " cannot import " + peer.module +
                            (peer.name == "torch-debian" ? " (apt-get install python3-torch python3-numpy libopenblas0-openmp)"
                                                         : " (scripts/install-deps.sh makes the virtual environment)"));
  }
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(o.threads) + " " + peer.env + " " + Quote(peer.python) +
                          " " + Quote(peer.script) + " --data-dir " + Quote(o.data_dir) + " --threads " +
                          std::to_string(o.threads) + " --epochs " + std::to_string(o.epochs) + " --batch-size " +
                          std::to_string(o.batch_size) + " --lr " + std::to_string(o.learning_rate) +
                          " --train-examples " + std::to_string(o.train_examples) + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return Status::IOError("cannot start the peer: " + cmd);
  std::string output;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  std::smatch m;
  if (status != 0 || !std::regex_search(output, m, std::regex("JSON (\\{.*\\})"))) {
    return Status::Runtime("the peer failed (" + cmd + "):\n" + output.substr(output.size() > 2000 ? output.size() - 2000 : 0));
  }
  const std::string json = m[1];
  std::smatch f;
  if (std::regex_search(json, f, std::regex("\"epoch_seconds\": \\[([^\\]]*)\\]"))) out->epoch_seconds = Numbers(f[1]);
  if (std::regex_search(json, f, std::regex("\"test_acc\": ([-0-9.eE+]+)"))) out->test_accuracy = std::stod(f[1]);
  if (std::regex_search(json, f, std::regex("\"framework\": \"([^\"]*)\""))) out->framework = f[1];
  if (std::regex_search(json, f, std::regex("\"libs\": \\[([^\\]]*)\\]"))) out->libs = f[1];
  if (out->epoch_seconds.empty()) return Status::Runtime("the peer printed no epoch_seconds: " + json);
  return Status::Ok();
}

}  // namespace pipeline::bench
