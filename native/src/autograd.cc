// Autograd entry points that are methods on at::Tensor rather than dispatcher operators.
#include "common.h"

namespace ahs {

static std::vector<at::Tensor> TensorArray(const Napi::Value& v, const char* what) {
  std::vector<at::Tensor> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(UnwrapTensor(arr.Get(i), what));
  return out;
}

// backward(outputs[], grads[] | null, retainGraph, createGraph)
static Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    auto outputs = TensorArray(info[0], "backward");
    auto grads = TensorArray(info[1], "backward");
    bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
    bool create = info.Length() > 3 && info[3].ToBoolean().Value();
    torch::autograd::backward(outputs, grads, retain, create);
    return env.Undefined();
  })
}

static Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    const at::Tensor& g = UnwrapTensor(info[0], "grad").grad();
    if (!g.defined()) return env.Null();
    return WrapTensor(env, g);
  })
}

// setGrad(t, g | null): replaces (or clears) the accumulated gradient.
static Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    at::Tensor& t = UnwrapTensor(info[0], "setGrad");
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = UnwrapTensor(info[1], "setGrad");
    return env.Undefined();
  })
}

static Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    UnwrapTensor(info[0], "setRequiresGrad").requires_grad_(info[1].ToBoolean().Value());
    return env.Undefined();
  })
}

static Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, { return Napi::Boolean::New(env, UnwrapTensor(info[0], "isLeaf").is_leaf()); })
}

// setGradEnabled(enabled) -> previous. Grad mode is thread-local in libtorch.
static Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

static Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

void InitAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad));
  exports.Set("isLeaf", Napi::Function::New(env, IsLeaf));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
}

}  // namespace ahs
