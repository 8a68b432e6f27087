// Tensor handles: creation from and copies to JS typed arrays, metadata, explicit disposal.
#include "common.h"

namespace ahs {

static const c10::ScalarType kDTypes[] = {
    at::kFloat, at::kHalf, at::kBFloat16, at::kDouble, at::kLong,
    at::kInt,   at::kByte, at::kBool,     at::kShort,  at::kChar};
static const int kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);

c10::ScalarType DTypeFromCode(int code) {
  if (code < 0 || code >= kNumDTypes) throw std::runtime_error("unknown dtype code " + std::to_string(code));
  return kDTypes[code];
}

int CodeFromDType(c10::ScalarType st) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kDTypes[i] == st) return i;
  throw std::runtime_error(std::string("dtype not supported by ahs-seg: ") + c10::toString(st));
}

c10::Device ParseDevice(const std::string& s) { return c10::Device(s); }

static void FinalizeHolder(Napi::Env, TensorHolder* h) {
  if (h->live) g_live_tensors.fetch_sub(1);
  delete h;
}

Napi::Value WrapTensor(Napi::Env env, at::Tensor t) {
  auto* h = new TensorHolder{std::move(t), true};
  g_live_tensors.fetch_add(1);
  return Napi::External<TensorHolder>::New(env, h, FinalizeHolder);
}

at::Tensor& UnwrapTensor(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor handle");
  auto* h = v.As<Napi::External<TensorHolder>>().Data();
  if (!h->live) throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was disposed");
  return h->t;
}

static std::vector<int64_t> ShapeArg(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> shape(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) shape[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

// fromBuffer(typedArray, dtypeCode, shape, device?) -> handle. Copies: JS keeps its memory.
static Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    auto ta = info[0].As<Napi::TypedArray>();
    auto st = DTypeFromCode(info[1].As<Napi::Number>().Int32Value());
    auto shape = ShapeArg(info[2]);
    auto buf = ta.ArrayBuffer();
    uint8_t* ptr = static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset();
    int64_t numel = 1;
    for (auto d : shape) numel *= d;
    size_t need = static_cast<size_t>(numel) * c10::elementSize(st);
    if (ta.ByteLength() != need)
      throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(ta.ByteLength()) + " bytes given, shape needs " + std::to_string(need));
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
    if (need) std::memcpy(t.data_ptr(), ptr, need);
    if (info.Length() > 3 && info[3].IsString()) {
      auto dev = ParseDevice(info[3].As<Napi::String>().Utf8Value());
      if (!dev.is_cpu()) t = t.to(dev);
    }
    return WrapTensor(env, std::move(t));
  })
}

// toBuffer(handle) -> Buffer with the contiguous CPU bytes of the tensor.
static Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    at::Tensor t = UnwrapTensor(info[0], "toBuffer").detach().to(at::kCPU).contiguous();
    size_t n = t.numel() * t.element_size();
    auto out = Napi::Buffer<uint8_t>::New(env, n);
    if (n) std::memcpy(out.Data(), t.data_ptr(), n);
    return out;
  })
}

// meta(handle) -> [dtypeCode, shape[], device, requiresGrad]
static Napi::Value Meta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    const at::Tensor& t = UnwrapTensor(info[0], "meta");
    auto shape = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) shape.Set(uint32_t(i), Napi::Number::New(env, double(t.size(i))));
    auto out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, CodeFromDType(t.scalar_type())));
    out.Set(1u, shape);
    out.Set(2u, Napi::String::New(env, t.device().str()));
    out.Set(3u, Napi::Boolean::New(env, t.requires_grad()));
    return out;
  })
}

static Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    const at::Tensor& t = UnwrapTensor(info[0], "item");
    if (t.numel() != 1) throw Napi::RangeError::New(env, "item: tensor has " + std::to_string(t.numel()) + " elements, not 1");
    if (t.scalar_type() == at::kBool) return Napi::Boolean::New(env, t.item<bool>());
    return Napi::Number::New(env, t.item<double>());
  })
}

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return info.Env().Undefined();
  auto* h = info[0].As<Napi::External<TensorHolder>>().Data();
  if (h->live) {
    h->live = false;
    h->t = at::Tensor();
    g_live_tensors.fetch_sub(1);
  }
  return info.Env().Undefined();
}

static Napi::Value IsLive(const Napi::CallbackInfo& info) {
  auto* h = info[0].As<Napi::External<TensorHolder>>().Data();
  return Napi::Boolean::New(info.Env(), h->live);
}

static Napi::Value LiveTensorCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(g_live_tensors.load()));
}

// sameStorage(a, b): whether two handles view the same memory (used to keep views alive).
static Napi::Value DataPtr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    const at::Tensor& t = UnwrapTensor(info[0], "dataPtr");
    return Napi::Number::New(env, double(reinterpret_cast<uintptr_t>(t.data_ptr())));
  })
}

void InitTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  exports.Set("meta", Napi::Function::New(env, Meta));
  exports.Set("item", Napi::Function::New(env, Item));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("isLive", Napi::Function::New(env, IsLive));
  exports.Set("liveTensorCount", Napi::Function::New(env, LiveTensorCount));
  exports.Set("dataPtr", Napi::Function::New(env, DataPtr));
}

}  // namespace ahs
