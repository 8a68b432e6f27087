// ahs::attention_bwd: the backward of ahs::attention (attention.cc), flash-attention style.
//
// The forward saved q, k, v, the mask, the output O and each row's log-sum-exp, not the [B, H, L, S]
// probabilities. Each thread takes whole (batch, head) items, as the forward does, and rebuilds
// the item's probabilities in cache, P = exp(scale q k^T + mask - lse), then
//   dP = dO V^T,  D_i = sum_d dO_id O_id,  dS = P * (dP - D),
//   dq = scale dS K,  dk = scale dS^T Q,  dv = P^T dO,
// five single-threaded GEMMs per item (oneDNN's sgemm for float32 when libtorch loaded it, ATen's
// addmm otherwise). Each item owns its rows of dq and its own k, v slices, so the items write
// disjoint memory: no atomics, no reduction. No gradient for the mask (AttentionAutograd refuses
// masks that require grad).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <algorithm>
#include <numeric>
#include "../common.h"
#include "flush_denormals.h"

namespace ahs {
namespace {

// t itself when its matrices (rows along `row`, columns along dim 3) have unit column stride and
// non-overlapping rows, as the GEMMs need, else a contiguous copy (e.g. an expanded gradient).
at::Tensor RowMajor(const at::Tensor& t, int row) {
  const bool cols = t.stride(3) == 1 || t.size(3) <= 1;
  return cols && (t.size(row) <= 1 || t.stride(row) >= t.size(3)) ? t : t.contiguous();
}
int64_t Ld(const at::Tensor& t, int dim) { return std::max<int64_t>({t.stride(dim), t.size(3), 1}); }

// An uninitialised tensor shaped like t, its dims laid out in t's stride order (a gradient for a
// permuted view of a projection comes out in the projection's layout, so the permute and reshape
// backward stay views); contiguous when that order would not keep the last dim innermost.
at::Tensor EmptyInStrideOrder(const at::Tensor& t) {
  std::vector<int64_t> perm(4);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return t.stride(a) > t.stride(b); });
  if (perm[3] != 3) return at::empty(t.sizes(), t.options());
  std::vector<int64_t> sizes(4), inverse(4);
  for (int i = 0; i < 4; ++i) { sizes[i] = t.size(perm[i]); inverse[perm[i]] = i; }
  return at::empty(sizes, t.options()).permute(inverse);
}

// Row-major C = alpha op(A) op(B) + beta C, BLAS-style arguments.
struct DnnlGemm {
  DnnlSgemm f;
  void operator()(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) const {
    const int st = f(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    TORCH_CHECK(st == 0, "ahs::attention_bwd: dnnl_sgemm failed with status ", st);
  }
};

template <typename T>
struct AtenGemm {
  at::TensorOptions opt;
  at::Tensor Blob(const T* p, int64_t rows, int64_t cols, int64_t ld) const {
    return at::from_blob(const_cast<T*>(p), {rows, cols}, {ld, 1}, opt);
  }
  void operator()(char ta, char tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                  int64_t ldb, T beta, T* C, int64_t ldc) const {
    at::Tensor a = ta == 'N' ? Blob(A, M, K, lda) : Blob(A, K, M, lda).t();
    at::Tensor b = tb == 'N' ? Blob(B, K, N, ldb) : Blob(B, N, K, ldb).t();
    at::Tensor c = Blob(C, M, N, ldc);
    at::addmm_out(c, c, a, b, beta, alpha);  // beta = 0 ignores C's (uninitialised) contents
  }
};

struct Item {
  const at::Tensor &go, &q, &k, &v, &mk, &out, &lse;
  at::Tensor &dq, &dk, &dv;
  int64_t M;
  double scale;
};

template <typename T, typename Gemm>
void Run(const Gemm& gemm, const Item& a) {
  const int64_t B = a.q.size(0), H = a.q.size(1), L = a.q.size(2), D = a.q.size(3), S = a.k.size(2), Dv = a.v.size(3);
  const T scale = T(a.scale);
  const T *god = a.go.data_ptr<T>(), *qd = a.q.data_ptr<T>(), *kd = a.k.data_ptr<T>(), *vd = a.v.data_ptr<T>();
  const T *od = a.out.data_ptr<T>(), *ld = a.lse.data_ptr<T>();
  const T* md = a.mk.defined() ? a.mk.data_ptr<T>() : nullptr;
  T *dqd = a.dq.data_ptr<T>(), *dkd = a.dk.data_ptr<T>(), *dvd = a.dv.data_ptr<T>();
  const int64_t ldgo = Ld(a.go, 1), ldo = Ld(a.out, 1), ldq = Ld(a.q, 2), ldk = Ld(a.k, 2), ldv = Ld(a.v, 2);
  const int64_t lddq = Ld(a.dq, 2), lddk = Ld(a.dk, 2), lddv = Ld(a.dv, 2);
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    FlushDenormals ftz;
    auto probs = at::empty({L, S}, a.q.options());
    auto dscores = at::empty({L, S}, a.q.options());
    T* P = probs.data_ptr<T>();
    T* dS = dscores.data_ptr<T>();
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / H, h = i % H;
      const T* qi = qd + b * a.q.stride(0) + h * a.q.stride(1);
      const T* ki = kd + b * a.k.stride(0) + h * a.k.stride(1);
      const T* vi = vd + b * a.v.stride(0) + h * a.v.stride(1);
      const T* goi = god + b * a.go.stride(0) + h * a.go.stride(2);  // [L, Dv] rows of [B, L, H, Dv]
      const T* oi = od + b * a.out.stride(0) + h * a.out.stride(2);
      const T* li = ld + i * L;
      const T* mi = md ? md + (b % a.M) * L * S : nullptr;
      // P = exp(scale q k^T + mask - lse): the mask minus lse goes in as C, beta = 1.
      for (int64_t l = 0; l < L; ++l) {
        T* row = P + l * S;
        const T c = li[l];
        if (mi) {
          const T* mrow = mi + l * S;
#pragma omp simd
          for (int64_t s = 0; s < S; ++s) row[s] = mrow[s] - c;
        } else {
#pragma omp simd
          for (int64_t s = 0; s < S; ++s) row[s] = -c;
        }
      }
      gemm('N', 'T', L, S, D, scale, qi, ldq, ki, ldk, T(1), P, S);
      probs.exp_();
      gemm('N', 'T', L, S, Dv, T(1), goi, ldgo, vi, ldv, T(0), dS, S);  // dP = dO V^T
      for (int64_t l = 0; l < L; ++l) {  // dS = P (dP - D), D_l = dO_l . O_l
        const T* g = goi + l * ldgo;
        const T* o = oi + l * ldo;
        T dl = 0;
#pragma omp simd reduction(+ : dl)
        for (int64_t d = 0; d < Dv; ++d) dl += g[d] * o[d];
        T* r = dS + l * S;
        const T* p = P + l * S;
#pragma omp simd
        for (int64_t s = 0; s < S; ++s) r[s] = p[s] * (r[s] - dl);
      }
      gemm('T', 'N', S, Dv, L, T(1), P, S, goi, ldgo, T(0), dvd + b * a.dv.stride(0) + h * a.dv.stride(1), lddv);
      gemm('N', 'N', L, D, S, scale, dS, S, ki, ldk, T(0), dqd + b * a.dq.stride(0) + h * a.dq.stride(1), lddq);
      gemm('T', 'N', S, D, L, scale, dS, S, qi, ldq, T(0), dkd + b * a.dk.stride(0) + h * a.dk.stride(1), lddk);
    }
  });
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> AttentionBwdCpu(const at::Tensor& grad, const at::Tensor& q_,
                                                               const at::Tensor& k_, const at::Tensor& v_,
                                                               const c10::optional<at::Tensor>& mask,
                                                               const at::Tensor& out_, const at::Tensor& lse_,
                                                               double scale) {
  TORCH_CHECK(q_.dim() == 4 && k_.dim() == 4 && v_.dim() == 4, "ahs::attention_bwd: q, k, v must be 4-d");
  const int64_t B = q_.size(0), H = q_.size(1), L = q_.size(2), D = q_.size(3), S = k_.size(2), Dv = v_.size(3);
  TORCH_CHECK(k_.size(0) == B && k_.size(1) == H && k_.size(3) == D && v_.size(0) == B && v_.size(1) == H &&
                  v_.size(2) == S,
              "ahs::attention_bwd: shapes do not agree: q ", q_.sizes(), ", k ", k_.sizes(), ", v ", v_.sizes());
  const auto st = q_.scalar_type();
  TORCH_CHECK((st == at::kFloat || st == at::kDouble) && k_.scalar_type() == st && v_.scalar_type() == st,
              "ahs::attention_bwd: q, k, v must share one dtype, float32 or float64");
  TORCH_CHECK(grad.sizes() == at::IntArrayRef({B, L, H, Dv}) && out_.sizes() == grad.sizes() &&
                  lse_.sizes() == at::IntArrayRef({B, H, L}),
              "ahs::attention_bwd: grad and out must be [", B, ", ", L, ", ", H, ", ", Dv, "] and lse [", B, ", ", H,
              ", ", L, "]; got ", grad.sizes(), ", ", out_.sizes(), ", ", lse_.sizes());
  const bool has_mask = mask.has_value() && mask->defined();
  int64_t M = 1;
  if (has_mask) {
    M = mask->size(0);
    TORCH_CHECK(mask->dim() == 3 && mask->size(1) == L && mask->size(2) == S && M > 0 && B % M == 0 &&
                    mask->scalar_type() == st,
                "ahs::attention_bwd: mask must be [M, ", L, ", ", S, "] of q's dtype with M dividing ", B, "; got ",
                mask->sizes());
  }
  at::Tensor dq = EmptyInStrideOrder(q_), dk = EmptyInStrideOrder(k_), dv = EmptyInStrideOrder(v_);
  if (dq.numel() + dk.numel() + dv.numel() == 0) return {dq, dk, dv};
  if (L == 0 || S == 0 || Dv == 0) return {dq.zero_(), dk.zero_(), dv.zero_()};
  const at::Tensor q = RowMajor(q_, 2), k = RowMajor(k_, 2), v = RowMajor(v_, 2), go = RowMajor(grad.to(st), 1),
                   out = RowMajor(out_.to(st), 1), lse = lse_.to(st).contiguous();
  const at::Tensor mk = has_mask ? mask->contiguous() : at::Tensor();
  Item item{go, q, k, v, mk, out, lse, dq, dk, dv, M, scale};
  DnnlSgemm sgemm = OneDnnSgemm();
  if (st == at::kFloat && sgemm) Run<float>(DnnlGemm{sgemm}, item);
  else if (st == at::kFloat) Run<float>(AtenGemm<float>{q.options()}, item);
  else Run<double>(AtenGemm<double>{q.options()}, item);
  return {dq, dk, dv};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("attention_bwd(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor out, Tensor lse, float scale)"
        " -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ahs, CPU, m) {
  m.impl("attention_bwd", &AttentionBwdCpu);
}

}  // namespace ahs
