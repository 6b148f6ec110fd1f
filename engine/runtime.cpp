#include "engine/runtime.h"

#include <omp.h>

#include <cstdlib>
#include <thread>

namespace pipeline {

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

Runtime::Runtime(int threads)
    : threads_(ResolveThreads(threads)),
      engine_(dnnl::engine::kind::cpu, 0),
      stream_(engine_) {
  // oneDNN's CPU runtime here is OpenMP: its thread count is OpenMP's.
  omp_set_num_threads(threads_);
  for (int k = 0; k < threads_; ++k) worker_streams_.emplace_back(engine_);
}

OneOmpThreadWhileCreating::OneOmpThreadWhileCreating(bool on) : restore_(on ? omp_get_max_threads() : 0) {
  if (restore_ > 0) omp_set_num_threads(1);
}

OneOmpThreadWhileCreating::~OneOmpThreadWhileCreating() {
  if (restore_ > 0) omp_set_num_threads(restore_);
}

}  // namespace pipeline
