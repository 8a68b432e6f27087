// ahs::attention: softmax attention with an optional additive mask, fused per (batch, head).
//
// The composite form (matmul, add mask, softmax, matmul) writes and re-reads a [B, H, L, S] score
// tensor three times (53 MB for one class chunk of CAT-Seg's Swin blocks), and ATen's bmm runs
// its small per-batch GEMMs one after another, each split over the threads. Here each thread takes
// whole (batch, head) items: scores stay in cache, GEMMs run single-threaded side by side, the
// scale and mask fold into one addmm, and the output is written straight into the [B, L, H, Dv]
// layout that the output projection reads. Forward only: callers use the composite form when
// autograd needs a graph (src/tensor/functional.ts: attention).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <cstring>
#include "../common.h"
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace ahs {
namespace {

// Flush-to-zero and denormals-are-zero for the scope, on this thread only. Swin's -100 mask makes
// exp() produce denormal probabilities (e^-100 < FLT_MIN), and arithmetic on denormals made the
// masked blocks 2x slower. Flushing them changes probabilities below 1.2e-38 to 0.
class FlushDenormals {
 public:
#if defined(__x86_64__) || defined(_M_X64)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }  // FTZ | DAZ
  ~FlushDenormals() { _mm_setcsr(saved_); }
 private:
  unsigned int saved_;
#endif
};

at::Tensor AttentionCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const c10::optional<at::Tensor>& mask, double scale) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
              "ahs::attention: q, k, v must be [B, H, L, D], [B, H, S, D], [B, H, S, Dv]; got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  const int64_t B = q.size(0), H = q.size(1), L = q.size(2), D = q.size(3);
  const int64_t S = k.size(2), Dv = v.size(3);
  TORCH_CHECK(k.size(0) == B && k.size(1) == H && k.size(3) == D && v.size(0) == B && v.size(1) == H && v.size(2) == S,
              "ahs::attention: shapes do not agree: q ", q.sizes(), ", k ", k.sizes(), ", v ", v.sizes());
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type() && at::isFloatingType(q.scalar_type()),
              "ahs::attention: q, k, v must share one floating dtype");
  const at::Tensor* m = mask.has_value() && mask->defined() ? &*mask : nullptr;
  int64_t M = 1;
  if (m) {
    M = m->size(0);
    TORCH_CHECK(m->dim() == 3 && m->size(1) == L && m->size(2) == S && M > 0 && B % M == 0,
                "ahs::attention: mask must be [M, ", L, ", ", S, "] with M dividing ", B, "; got ", m->sizes());
    TORCH_CHECK(m->scalar_type() == q.scalar_type(), "ahs::attention: mask dtype must match q");
  }
  auto out = at::empty({B, L, H, Dv}, q.options());
  if (out.numel() == 0) return out;
  const at::Tensor mk = m ? m->contiguous() : at::Tensor();
  // float32 with unit-stride rows: the two GEMMs go straight to oneDNN's sgemm (when libtorch
  // loaded it), skipping two dispatcher calls, tensor views and the mask's TensorIterator copy per
  // item (about 10% faster on Swin's windows). AHS_SEG_ONEDNN_GEMM=0 keeps the ATen path.
  DnnlSgemm sgemm = OneDnnSgemm();
  const bool direct = sgemm && q.scalar_type() == at::kFloat && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    // Inside a parallel region ATen ops and BLAS run single-threaded: one item per thread at a time.
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    FlushDenormals ftz;
    auto scores = at::empty({L, S}, q.options());
    auto probs = at::empty({L, S}, q.options());
    if (direct) {
      float* sp = scores.data_ptr<float>();
      float* pp = probs.data_ptr<float>();
      const float* qd = q.data_ptr<float>();
      const float* kd = k.data_ptr<float>();
      const float* vd = v.data_ptr<float>();
      float* od = out.data_ptr<float>();
      const float* md = m ? mk.data_ptr<float>() : nullptr;
      for (int64_t i = begin; i < end; ++i) {
        const int64_t b = i / H, h = i % H;
        float beta = 0.f;
        if (md) { std::memcpy(sp, md + (b % M) * L * S, sizeof(float) * L * S); beta = 1.f; }
        int st = sgemm('N', 'T', L, S, D, float(scale), qd + b * q.stride(0) + h * q.stride(1), q.stride(2),
                       kd + b * k.stride(0) + h * k.stride(1), k.stride(2), beta, sp, S);
        at::_softmax_out(probs, scores, 1, false);
        if (st == 0) st = sgemm('N', 'N', L, Dv, S, 1.f, pp, S, vd + b * v.stride(0) + h * v.stride(1), v.stride(2), 0.f,
                                od + (b * L * H + h) * Dv, H * Dv);
        TORCH_CHECK(st == 0, "ahs::attention: dnnl_sgemm failed with status ", st);
      }
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / H, h = i % H;
      auto qi = q.select(0, b).select(0, h);  // [L, D]
      auto kt = k.select(0, b).select(0, h).t();  // [D, S]
      if (m) at::addmm_out(scores, mk.select(0, b % M), qi, kt, /*beta=*/1, /*alpha=*/scale);
      else at::addmm_out(scores, scores, qi, kt, /*beta=*/0, /*alpha=*/scale);
      at::_softmax_out(probs, scores, 1, false);
      auto oi = out.select(0, b).select(1, h);  // [L, Dv], row stride H * Dv
      at::mm_out(oi, probs, v.select(0, b).select(0, h));
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("attention(Tensor q, Tensor k, Tensor v, Tensor? mask, float scale) -> Tensor");
}

TORCH_LIBRARY_IMPL(ahs, CPU, m) {
  m.impl("attention", &AttentionCpu);
}

}  // namespace ahs
