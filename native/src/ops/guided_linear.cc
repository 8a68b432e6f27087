// ahs::guided_linear: linear(cat([x, g broadcast to x], -1), w, b), CAT-Seg's guided q/k
// projection, with a backward that keeps less.
//
// The guidance g (the appearance guidance of an image, shared by its classes) arrives with size-1
// dims that the reference repeat()s. Composed of ATen ops, autograd keeps the concatenation for
// the weight gradient: a (C + Cg)-wide copy of every token, 96 MiB per Swin block of a CAT-Seg
// training step at 171 classes. This op keeps x and g and rebuilds the concatenation in backward.
// Forward and backward are the same GEMMs on the same operands as the composite graph (the
// cheaper split x W_x + g W_g moved gradients measurably: src/models/catseg/guidance_concat.ts).
#include "../common.h"
#include <ATen/ExpandUtils.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace ahs {
namespace {

at::Tensor Concat(const at::Tensor& x, const at::Tensor& g) {
  std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
  sizes.back() = g.size(-1);
  return at::cat({x, g.expand(sizes)}, -1);
}

void CheckShapes(const at::Tensor& x, const at::Tensor& g, const at::Tensor& w) {
  bool ok = x.dim() >= 1 && g.dim() == x.dim() && w.dim() == 2 && w.size(1) == x.size(-1) + g.size(-1);
  for (int64_t d = 0; ok && d + 1 < x.dim(); ++d) ok = g.size(d) == x.size(d) || g.size(d) == 1;
  TORCH_CHECK(ok, "ahs::guided_linear: input ", x.sizes(), " with guidance ", g.sizes(), " and weight ", w.sizes(),
              " (want [..., C], guidance broadcasting to [..., Cg], weight [A, C + Cg])");
}

at::Tensor GuidedLinearForward(const at::Tensor& x, const at::Tensor& g, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  CheckShapes(x, g, w);
  return LinearAnyDevice(Concat(x, g), w, b);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct GuidedLinearFn : public torch::autograd::Function<GuidedLinearFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& g, const at::Tensor& w,
                            const c10::optional<at::Tensor>& b) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    CheckShapes(x, g, w);
    at::Tensor y = LinearAnyDevice(Concat(x, g), w, b);
    ctx->save_for_backward({x, g, w});
    ctx->saved_data["bias"] = b.has_value() && b->defined();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "ahs::guided_linear: double backward (createGraph) is not implemented by the fused kernel; "
                "use the composite form (setFusedKernels(false))");
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &g = s[1], &w = s[2];
    const bool has_b = ctx->saved_data["bias"].toBool();
    // Edges: x, g, w, then the bias when there is one.
    const bool need_x = ctx->needs_input_grad(0), need_g = ctx->needs_input_grad(1), need_w = ctx->needs_input_grad(2);
    const bool need_b = has_b && ctx->needs_input_grad(3);
    const int64_t C = x.size(-1), Cg = g.size(-1), A = w.size(0);
    const at::Tensor go = grads[0].reshape({-1, A});
    at::Tensor gx, gg, gw, gb;
    if (need_w) gw = go.t().mm(Concat(x, g).reshape({-1, C + Cg}));  // the concatenation lives for this GEMM only
    if (need_b) gb = go.sum(0);
    if (need_x || need_g) {
      std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
      sizes.back() = C + Cg;
      const at::Tensor gxg = go.mm(w).view(sizes);
      if (need_x) gx = gxg.narrow(-1, 0, C);
      if (need_g) gg = at::sum_to(gxg.narrow(-1, C, Cg), g.sizes());
    }
    return {gx, gg, gw, gb};
  }
};

at::Tensor GuidedLinearAutograd(c10::DispatchKeySet ks, const at::Tensor& x, const at::Tensor& g, const at::Tensor& w,
                                const c10::optional<at::Tensor>& b) {
  const bool rb = b.has_value() && b->defined() && b->requires_grad();
  if (at::GradMode::is_enabled() && (x.requires_grad() || g.requires_grad() || w.requires_grad() || rb)) {
    return GuidedLinearFn::apply(x, g, w, b);
  }
  static auto op = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::guided_linear", "")
      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&)>();
  return op.redispatch(ks & c10::after_autograd_keyset, x, g, w, b);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("guided_linear(Tensor input, Tensor guidance, Tensor weight, Tensor? bias) -> Tensor");
}

TORCH_LIBRARY_IMPL(ahs, CompositeExplicitAutograd, m) {
  m.impl("guided_linear", &GuidedLinearForward);
}

TORCH_LIBRARY_IMPL(ahs, Autograd, m) {
  m.impl("guided_linear", &GuidedLinearAutograd);
}

}  // namespace ahs
