// TensorFlow runs every CPU kernel with denormals flushed to zero: the
// executor holds a port::ScopedFlushDenormal (tensorflow/core/platform/
// denormal.cc: MXCSR FTZ and DAZ) while it runs ops. Found by tests/tf/: with
// the seed model's large logits, softmax gives subnormal probabilities
// (e.g. 6e-40) where TensorFlow gives 0, and classify's TopKV2 then orders
// the classes after the top few differently from TF Serving. A graph runs on
// the calling thread (the interpreter's and the compiled path's alike), so
// the guard covers it.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace pipeline {

class ScopedFlushDenormal {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  ScopedFlushDenormal() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~ScopedFlushDenormal() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

}  // namespace pipeline
