// ahs::mlp: fc2(act(fc1(x))), the transformer MLP, with a backward that keeps less.
//
// Composed of ATen ops, autograd saves fc1's output h for the activation's backward and act(h)
// again for fc2's weight gradient (QuickGELU's x * sigmoid(1.702 x) adds a third hidden-sized
// tensor, the sigmoid). At CAT-Seg's training sizes those are the largest saved tensors of the
// aggregator: each Swin block keeps two 4x-wide copies of its 98k tokens (171 classes, 24x24).
// This op saves x and h only and recomputes act(h) in backward, where it lives for one GEMM.
// The forward is composite (any device); on the CPU its GEMMs are ahs::linear (linear.cc).
// No double backward: createGraph callers take the composite form (setFusedKernels(false)).
#include "../common.h"
#include <torch/autograd.h>
#include <torch/library.h>
#include <string>

namespace ahs {
namespace {

enum class Act : int64_t { kGelu = 0, kGeluTanh = 1, kQuickGelu = 2 };

Act ParseAct(c10::string_view s) {
  if (s == "gelu") return Act::kGelu;
  if (s == "gelu_tanh") return Act::kGeluTanh;
  if (s == "quick_gelu") return Act::kQuickGelu;
  TORCH_CHECK(false, "ahs::mlp: activation must be 'gelu', 'gelu_tanh' or 'quick_gelu', got '", std::string(s), "'");
}

// The same ops, in the same order, as the composite forms (src/tensor/functional.ts quickGelu).
at::Tensor Activate(const at::Tensor& h, Act a) {
  switch (a) {
    case Act::kGelu: return at::gelu(h);
    case Act::kGeluTanh: return at::gelu(h, "tanh");
    case Act::kQuickGelu: return h * at::sigmoid(h * 1.702);
  }
  return {};
}

// ga <- ga * act'(h), in place.
void ActivationBackward_(at::Tensor& ga, const at::Tensor& h, Act a) {
  if (a == Act::kQuickGelu) {
    // d/dh h s(1.702 h) = s + 1.702 h s (1 - s)
    at::Tensor s = at::sigmoid(h * 1.702);
    at::Tensor d = (1 - s).mul_(h).mul_(1.702).add_(1).mul_(s);
    ga.mul_(d);
    return;
  }
  at::gelu_backward_out(ga, ga, h, a == Act::kGeluTanh ? "tanh" : "none");
}

at::Tensor MlpForward(const at::Tensor& x, const at::Tensor& w1, const c10::optional<at::Tensor>& b1, const at::Tensor& w2,
                      const c10::optional<at::Tensor>& b2, c10::string_view activation) {
  TORCH_CHECK(x.dim() >= 1 && w1.dim() == 2 && w2.dim() == 2 && x.size(-1) == w1.size(1) && w2.size(1) == w1.size(0),
              "ahs::mlp: input ", x.sizes(), " with fc1 weight ", w1.sizes(), " and fc2 weight ", w2.sizes(),
              " (want [..., D], [H, D], [O, H])");
  return LinearAnyDevice(Activate(LinearAnyDevice(x, w1, b1), ParseAct(activation)), w2, b2);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct MlpFn : public torch::autograd::Function<MlpFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w1, const c10::optional<at::Tensor>& b1,
                            const at::Tensor& w2, const c10::optional<at::Tensor>& b2, std::string activation) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const Act act = ParseAct(activation);
    at::Tensor h = LinearAnyDevice(x, w1, b1);
    at::Tensor y = LinearAnyDevice(Activate(h, act), w2, b2);
    ctx->save_for_backward({x, w1, w2, h});
    ctx->saved_data["act"] = static_cast<int64_t>(act);
    // The graph's edges skip absent biases: needs_input_grad takes edge indices, not argument ones.
    ctx->saved_data["b1"] = b1.has_value() && b1->defined();
    ctx->saved_data["b2"] = b2.has_value() && b2->defined();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "ahs::mlp: double backward (createGraph) is not implemented by the fused kernel; "
                "use the composite form (setFusedKernels(false))");
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &w1 = s[1], &w2 = s[2], &h = s[3];
    const Act act = static_cast<Act>(ctx->saved_data["act"].toInt());
    const int64_t D = x.size(-1), Hd = h.size(-1), O = w2.size(0);
    const at::Tensor go = grads[0].reshape({-1, O});
    const at::Tensor h2 = h.reshape({-1, Hd});
    const bool has_b1 = ctx->saved_data["b1"].toBool(), has_b2 = ctx->saved_data["b2"].toBool();
    const size_t e_w2 = has_b1 ? 3 : 2;
    const auto needs = [&](int arg) {  // argument index (x, w1, b1, w2, b2) -> does it want a gradient
      if ((arg == 2 && !has_b1) || (arg == 4 && !has_b2)) return false;
      const size_t edge = arg < 2 ? arg : arg == 2 ? 2 : arg == 3 ? e_w2 : e_w2 + 1;
      return ctx->needs_input_grad(edge);
    };
    at::Tensor gw1, gb1, gw2, gb2, gx;
    if (needs(3)) gw2 = go.t().mm(Activate(h2, act));  // act(h) lives for this GEMM only
    if (needs(4)) gb2 = go.sum(0);
    if (needs(0) || needs(1) || needs(2)) {
      at::Tensor gh = LinearAnyDevice(go, w2.t(), c10::nullopt);  // [M, H]
      ActivationBackward_(gh, h2, act);
      if (needs(1)) gw1 = gh.t().mm(x.reshape({-1, D}));
      if (needs(2)) gb1 = gh.sum(0);
      if (needs(0)) gx = LinearAnyDevice(gh, w1.t(), c10::nullopt).view(x.sizes());
    }
    return {gx, gw1, gb1, gw2, gb2, at::Tensor()};
  }
};

at::Tensor MlpAutograd(c10::DispatchKeySet ks, const at::Tensor& x, const at::Tensor& w1, const c10::optional<at::Tensor>& b1,
                       const at::Tensor& w2, const c10::optional<at::Tensor>& b2, c10::string_view activation) {
  const auto rg = [](const c10::optional<at::Tensor>& t) { return t.has_value() && t->defined() && t->requires_grad(); };
  if (at::GradMode::is_enabled() && (x.requires_grad() || w1.requires_grad() || w2.requires_grad() || rg(b1) || rg(b2))) {
    return MlpFn::apply(x, w1, b1, w2, b2, std::string(activation));
  }
  static auto op = c10::Dispatcher::singleton().findSchemaOrThrow("ahs::mlp", "")
      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&, const at::Tensor&,
                        const c10::optional<at::Tensor>&, c10::string_view)>();
  return op.redispatch(ks & c10::after_autograd_keyset, x, w1, b1, w2, b2, activation);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ahs, m) {
  m.def("mlp(Tensor input, Tensor fc1_weight, Tensor? fc1_bias, Tensor fc2_weight, Tensor? fc2_bias, str activation) -> Tensor");
}

TORCH_LIBRARY_IMPL(ahs, CompositeExplicitAutograd, m) {
  m.impl("mlp", &MlpForward);
}

TORCH_LIBRARY_IMPL(ahs, Autograd, m) {
  m.impl("mlp", &MlpAutograd);
}

}  // namespace ahs
