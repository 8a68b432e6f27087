// Flush-to-zero and denormals-are-zero for a scope, on the calling thread only. Swin's -100 mask
// makes exp() produce denormal probabilities (e^-100 < FLT_MIN), and arithmetic on denormals made
// the masked attention blocks 2x slower (forward and backward). Flushing changes values below
// 1.2e-38 to 0; JavaScript's own floating point, on other threads or after the scope, is untouched.
#pragma once
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace ahs {

class FlushDenormals {
 public:
#if defined(__x86_64__) || defined(_M_X64)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }  // FTZ | DAZ
  ~FlushDenormals() { _mm_setcsr(saved_); }
 private:
  unsigned int saved_;
#endif
};

}  // namespace ahs
