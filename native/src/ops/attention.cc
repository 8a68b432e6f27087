// ahs::attention: softmax attention with an optional additive mask, fused per (batch, head).
//
// The composite form (matmul, add mask, softmax, matmul) writes and re-reads a [B, H, L, S] score
// tensor three times (53 MB for one class chunk of CAT-Seg's Swin blocks), and ATen's bmm runs
// its small per-batch GEMMs one after another, each split over the threads. Here each thread takes
// whole (batch, head) items: scores stay in cache, GEMMs run single-threaded side by side, the
// scale and mask fold into one addmm, and the output is written straight into the [B, L, H, Dv]
// layout that the output projection reads.
//
// Differentiable, flash-attention style: under autograd (an input requires grad, grad mode on)
// `ahs::attention` runs AttentionFn, whose forward (`ahs::attention_fwd`) also returns each row's
// log-sum-exp [B, H, L] and saves q, k, v, mask, out and lse, never the probabilities; the
// backward (`ahs::attention_bwd`, attention_backward.cc) recomputes each item's probabilities in
// cache. Masks are constants: one that requires grad is an error here (src/tensor/attention.ts
// runs the composite form for it). Without a graph to record, the plain kernel runs (no lse).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/autograd.h>
#include <cmath>
#include <cstring>
#include "../common.h"
#include "flush_denormals.h"

namespace ahs {
namespace {

// lse_i = max_j s_ij - log(max_j p_ij) from a row of scores and of their softmax (p's largest entry
// is exp(max s - lse) >= 1/S, so this is exact to rounding).
template <typename T>
void RowLse(const T* s, const T* p, int64_t L, int64_t S, T* lse) {
  for (int64_t l = 0; l < L; ++l) {
    const T* sr = s + l * S;
    const T* pr = p + l * S;
    T smax = sr[0], pmax = pr[0];
#pragma omp simd reduction(max : smax, pmax)
    for (int64_t j = 0; j < S; ++j) {
      smax = sr[j] > smax ? sr[j] : smax;
      pmax = pr[j] > pmax ? pr[j] : pmax;
    }
    lse[l] = smax - std::log(pmax);
  }
}

// out [B, L, H, Dv]; with `lse` non-null also the log-sum-exp [B, H, L] of each row of scores.
at::Tensor Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask,
                     double scale, at::Tensor* lse) {
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
  if (lse) {
    TORCH_CHECK(q.scalar_type() == at::kFloat || q.scalar_type() == at::kDouble,
                "ahs::attention: the differentiable kernel takes float32 or float64, got ", q.scalar_type());
    *lse = at::empty({B, H, L}, q.options());
  }
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
        if (lse) RowLse(sp, pp, L, S, lse->data_ptr<float>() + i * L);
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
      if (lse) {
        AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "ahs::attention_fwd", [&] {
          RowLse(scores.data_ptr<scalar_t>(), probs.data_ptr<scalar_t>(), L, S, lse->data_ptr<scalar_t>() + i * L);
        });
      }
      auto oi = out.select(0, b).select(1, h);  // [L, Dv], row stride H * Dv
      at::mm_out(oi, probs, v.select(0, b).select(0, h));
    }
  });
  return out;
}

at::Tensor AttentionCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const c10::optional<at::Tensor>& mask, double scale) {
  return Attention(q, k, v, mask, scale, nullptr);
}

std::tuple<at::Tensor, at::Tensor> AttentionFwdCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                   const c10::optional<at::Tensor>& mask, double scale) {
  at::Tensor lse;
  at::Tensor out = Attention(q, k, v, mask, scale, &lse);
  return {out, lse};
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Gradients for q, k and v (none for the mask and the scale), through the ops so that other
// devices get the dispatcher's "no kernel" error rather than a CPU loop over device memory.
struct AttentionFn : public torch::autograd::Function<AttentionFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const c10::optional<at::Tensor>& mask, double scale) {
    static auto fwd = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::attention_fwd", "")
        .typed<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                  const c10::optional<at::Tensor>&, double)>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [out, lse] = fwd.call(q, k, v, mask, scale);
    ctx->save_for_backward({q, k, v, mask.has_value() ? *mask : at::Tensor(), out, lse});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static auto bwd = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::attention_bwd", "")
        .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
            const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&,
            const at::Tensor&, const at::Tensor&, double)>();
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "ahs::attention: double backward (createGraph) is not implemented by the fused kernel; "
                "use the composite form (setFusedKernels(false))");
    const auto s = ctx->get_saved_variables();
    const c10::optional<at::Tensor> mask = s[3].defined() ? c10::optional<at::Tensor>(s[3]) : c10::nullopt;
    auto [dq, dk, dv] = bwd.call(grads[0], s[0], s[1], s[2], mask, s[4], s[5], ctx->saved_data["scale"].toDouble());
    return {dq, dk, dv, at::Tensor(), at::Tensor()};
  }
};

at::Tensor AttentionAutograd(c10::DispatchKeySet ks, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const c10::optional<at::Tensor>& mask, double scale) {
  const bool grad = at::GradMode::is_enabled();
  TORCH_CHECK(!(grad && mask.has_value() && mask->defined() && mask->requires_grad()),
              "ahs::attention: the mask requires grad, but the fused kernel computes no gradient for the mask "
              "(only for q, k, v); detach the mask or use the composite form (setFusedKernels(false))");
  if (grad && (q.requires_grad() || k.requires_grad() || v.requires_grad())) return AttentionFn::apply(q, k, v, mask, scale);
  static auto op = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::attention", "")
      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&, double)>();
  return op.redispatch(ks & c10::after_autograd_keyset, q, k, v, mask, scale);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("attention(Tensor q, Tensor k, Tensor v, Tensor? mask, float scale) -> Tensor");
  m.def("attention_fwd(Tensor q, Tensor k, Tensor v, Tensor? mask, float scale) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ahs, CPU, m) {
  m.impl("attention", &AttentionCpu);
  m.impl("attention_fwd", &AttentionFwdCpu);
}

TORCH_LIBRARY_IMPL(ahs, Autograd, m) {
  m.impl("attention", &AttentionAutograd);
}

}  // namespace ahs
