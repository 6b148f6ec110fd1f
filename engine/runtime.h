// The oneDNN engine and stream every primitive runs on, and the thread count.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace pipeline {

class Runtime {
 public:
  // threads <= 0: OMP_NUM_THREADS if set, else the machine's cores.
  explicit Runtime(int threads = 0);
  const dnnl::engine& engine() const { return engine_; }
  dnnl::stream& stream() { return stream_; }
  int threads() const { return threads_; }

 private:
  int threads_;
  dnnl::engine engine_;
  dnnl::stream stream_;
};

// Resolves a requested thread count as Runtime does, without side effects.
int ResolveThreads(int requested);

}  // namespace pipeline
