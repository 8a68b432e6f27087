// ahs::linear: x [..., K] @ w[N, K]^T + b, with oneDNN's sgemm for float32 when libtorch brought it.
//
// Debian's libtorch links oneDNN (libdnnl) for its convolutions, but sends linear layers to BLAS.
// On GEMMs with a short inner or output dim (CAT-Seg's aggregator: K or N of 32..256 over 8k-90k
// rows) oneDNN's JIT sgemm ran 1.25-5x OpenBLAS on the development machine, while on CLIP's wide
// layers (K, N >= 768) neither won consistently; so oneDNN takes min(K, N) <= 256 and BLAS the rest
// (AHS_SEG_ONEDNN_GEMM=0: never, =1: always). The library is looked up among those already
// loaded (RTLD_NOLOAD): nothing new is linked, and where it is absent (other libtorch builds) or
// for other dtypes this is at::linear. Forward only; src/tensor/linear.ts uses aten::linear when
// autograd records.
#include "../common.h"
#include <torch/library.h>
#include <dlfcn.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ahs {

static const char* GemmSetting() {
  const char* s = std::getenv("AHS_SEG_ONEDNN_GEMM");
  return s ? s : "";
}

DnnlSgemm OneDnnSgemm() {
  static const DnnlSgemm fn = []() -> DnnlSgemm {
    if (std::strcmp(GemmSetting(), "0") == 0) return nullptr;
    for (const char* lib : {"libdnnl.so.3", "libdnnl.so.2"}) {
      if (void* h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD)) {
        if (auto f = reinterpret_cast<DnnlSgemm>(dlsym(h, "dnnl_sgemm"))) return f;
      }
    }
    return nullptr;
  }();
  return fn;
}

namespace {

at::Tensor LinearCpu(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& bias) {
  static const bool always = std::strcmp(GemmSetting(), "1") == 0;
  DnnlSgemm sgemm = OneDnnSgemm();
  const bool has_bias = bias.has_value() && bias->defined();
  if (!sgemm || x.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat || x.dim() < 1 || w.dim() != 2 ||
      (has_bias && (bias->scalar_type() != at::kFloat || bias->dim() != 1)) ||
      (!always && std::min(w.size(0), w.size(1)) > 256)) {
    return at::linear(x, w, bias);
  }
  const int64_t K = x.size(-1), N = w.size(0);
  TORCH_CHECK(w.size(1) == K, "ahs::linear: input ", x.sizes(), " does not match weight ", w.sizes());
  TORCH_CHECK(!has_bias || bias->size(0) == N, "ahs::linear: bias ", bias->sizes(), " does not match weight ", w.sizes());
  std::vector<int64_t> out_sizes(x.sizes().begin(), x.sizes().end());
  out_sizes.back() = N;
  auto out = at::empty(out_sizes, x.options());
  const int64_t M = K == 0 ? 0 : x.numel() / K;
  if (M == 0 || N == 0) return K == 0 && has_bias ? out.copy_(bias->expand(out_sizes)) : out.zero_();
  // Rows of x with unit stride and one row stride; w row-major or its transpose.
  at::Tensor x2 = x.reshape({M, K});
  if (x2.stride(1) != 1 || x2.stride(0) < K) x2 = x2.contiguous();
  char tw = 'T';
  int64_t ldw;
  at::Tensor w2 = w;
  if (w.stride(1) == 1 && w.stride(0) >= K) ldw = w.stride(0);
  else if (w.stride(0) == 1 && w.stride(1) >= N) { tw = 'N'; ldw = w.stride(1); }  // w^T stored row-major
  else { w2 = w.contiguous(); ldw = K; }
  auto out2 = out.view({M, N});
  float beta = 0.f;
  if (has_bias) { out2.copy_(bias->unsqueeze(0).expand({M, N})); beta = 1.f; }
  const int status = sgemm('N', tw, M, N, K, 1.f, x2.data_ptr<float>(), x2.stride(0), w2.data_ptr<float>(), ldw, beta,
                           out2.data_ptr<float>(), N);
  TORCH_CHECK(status == 0, "ahs::linear: dnnl_sgemm failed with status ", status, " for ", x.sizes(), " @ ", w.sizes(), "^T");
  return out;
}

}  // namespace

at::Tensor LinearAnyDevice(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  if (!x.is_cpu()) return at::linear(x, w, b);
  static auto op = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::linear", "")
      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&)>();
  return op.call(x, w, b);
}

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor");
}

TORCH_LIBRARY_IMPL(ahs, CPU, m) {
  m.impl("linear", &LinearCpu);
}

}  // namespace ahs
