// ahs::batched_matmul: a [..., M, K] @ b [..., K, N] over identical batch dims, items in parallel.
//
// ATen's CPU bmm runs its per-item GEMMs one after another, each split over all threads; for the
// many small products of CAT-Seg's linear class attention (216 items of 32x150 @ 150x32 per call)
// the threading overhead dominates and they ran at 25-50 GFLOP/s. Here each thread takes whole
// items with a single-threaded GEMM. Inputs may be any strided views (e.g. permuted heads): each
// item's matrices only need one unit stride, as BLAS does. Forward only (see
// src/tensor/batched_matmul.ts for the autograd fallback).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

namespace ahs {
namespace {

at::Tensor BatchedMatmulCpu(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.dim() >= 3 && a.dim() == b.dim(), "ahs::batched_matmul: a and b must have the same rank >= 3, got ", a.sizes(), " and ", b.sizes());
  const int64_t nb = a.dim() - 2;
  std::vector<int64_t> out_sizes;
  int64_t items = 1;
  for (int64_t d = 0; d < nb; ++d) {
    TORCH_CHECK(a.size(d) == b.size(d), "ahs::batched_matmul: batch dims differ: ", a.sizes(), " and ", b.sizes());
    out_sizes.push_back(a.size(d));
    items *= a.size(d);
  }
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  TORCH_CHECK(b.size(-2) == K, "ahs::batched_matmul: inner dims differ: ", a.sizes(), " @ ", b.sizes());
  TORCH_CHECK(a.scalar_type() == b.scalar_type(), "ahs::batched_matmul: dtypes differ");
  out_sizes.push_back(M);
  out_sizes.push_back(N);
  auto out = at::empty(out_sizes, a.options());
  if (out.numel() == 0) return out;
  if (K == 0) return out.zero_();
  // Flattening the batch dims of `out` is always a view; a and b are indexed item by item.
  auto out3 = out.view({items, M, N});
  at::parallel_for(0, items, 1, [&](int64_t begin, int64_t end) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    for (int64_t i = begin; i < end; ++i) {
      at::Tensor ai = a, bi = b;
      int64_t rem = i;
      for (int64_t d = nb - 1; d >= 0; --d) {
        const int64_t n = a.size(d), idx = rem % n;
        rem /= n;
        ai = ai.select(d, idx);
        bi = bi.select(d, idx);
      }
      auto oi = out3.select(0, i);
      at::mm_out(oi, ai, bi);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("batched_matmul(Tensor a, Tensor b) -> Tensor");
}

TORCH_LIBRARY_IMPL(ahs, CPU, m) {
  m.impl("batched_matmul", &BatchedMatmulCpu);
}

}  // namespace ahs
