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

// Primitives that will run inside an OpenMP region, one per worker thread,
// must be created while OpenMP reports one thread: some jit kernels (the
// direct convolutions' weight gradient) fix their thread count, and a barrier
// over it, at creation, and run nested on one thread they wait forever for
// threads that never come. While an instance lives (when `on`), OpenMP's
// thread count is 1; then it is restored.
class OneOmpThreadWhileCreating {
 public:
  explicit OneOmpThreadWhileCreating(bool on);
  ~OneOmpThreadWhileCreating();
  OneOmpThreadWhileCreating(const OneOmpThreadWhileCreating&) = delete;
  OneOmpThreadWhileCreating& operator=(const OneOmpThreadWhileCreating&) = delete;

 private:
  int restore_;
};

}  // namespace pipeline
