// The PyTorch peer (bench/peers/torch_mlp.py), run on the same data,
// epochs, batch size and threads, against OpenBLAS as its README requires.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace pipeline::bench {

struct PeerRun {
  std::vector<double> epoch_seconds;  // every epoch, warm-up included
  double test_accuracy = 0.0;
  std::string framework;              // e.g. "torch-1.13.0a0+git..."
  std::string libs;                   // the BLAS/OpenMP libraries it loaded
};

struct PeerOptions {
  std::string script;                 // path to torch_mlp.py
  std::string data_dir;
  int threads = 1, epochs = 1;
  int64_t batch_size = 100;
  double learning_rate = 0.01;
};

// bench/peers/torch_mlp.py of the source tree this binary was built from.
std::string DefaultPeerScript();

// NotFound when python3 or torch is missing (the bench then reports no peer).
Status RunPeer(const PeerOptions& options, PeerRun* out);

}  // namespace pipeline::bench
