// The oneDNN engine and stream every primitive runs on, and the thread count.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <vector>

namespace pipeline {

class Runtime {
 public:
  // threads <= 0: OMP_NUM_THREADS if set, else the machine's cores.
  explicit Runtime(int threads = 0);
  const dnnl::engine& engine() const { return engine_; }
  dnnl::stream& stream() { return stream_; }
  // One stream per worker thread, for plans run inside a parallel region.
  dnnl::stream& worker_stream(int k) { return worker_streams_[k]; }
  int threads() const { return threads_; }

 private:
  int threads_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<dnnl::stream> worker_streams_;
};

// Resolves a requested thread count as Runtime does, without side effects.
int ResolveThreads(int requested);

}  // namespace pipeline
