// The bench peers: the reference workload in other frameworks, run on the same
// data, epochs, batch size, learning rate and threads as our run, each a
// script of bench/peers/ that prints a final `JSON {...}` line.
//   torch-pip     PyTorch 2.13 (pip CPU build) from the virtual environment
//   keras         TF 2.21 Keras model.fit, jit_compile off and on, the faster
//   torch-debian  Debian's python3-torch 1.13 against OpenBLAS, when installed
// The virtual environment is the source tree's .venv (scripts/install-deps.sh),
// or PIPELINE_VENV.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace pipeline::bench {

struct PeerSpec {
  std::string name;           // as --peer names it
  std::string python;         // the interpreter
  std::string module;         // what must import for the peer to run ("torch", "tensorflow")
  std::string script;         // bench/peers/<script>
  std::string env;            // environment assignments for the command line, shell-quoted
};

struct PeerRun {
  std::vector<double> epoch_seconds;  // every epoch, warm-up included
  double test_accuracy = 0.0;
  std::string framework;              // e.g. "torch-2.13.0+cpu"
  std::string libs;                   // the BLAS/OpenMP libraries it loaded
};

struct PeerOptions {
  std::string data_dir;
  int threads = 1, epochs = 1;
  int64_t batch_size = 100;
  double learning_rate = 0.01;
  int64_t train_examples = 55000;  // the first N training images train, as ours
};

// Every peer, in the order bench runs them: with `cnn`, their scripts train
// configs/fashion_cnn.yaml's network (torch_cnn.py, keras_cnn.py), else the MLP.
std::vector<PeerSpec> KnownPeers(bool cnn = false);

// NotFound when the interpreter or its framework is missing (the bench then
// reports the peer as not run, with the reason).
Status RunPeer(const PeerSpec& peer, const PeerOptions& options, PeerRun* out);

}  // namespace pipeline::bench
