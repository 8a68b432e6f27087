// One generic entry point to every ATen operator: resolve a schema by name once, then call it
// boxed through the dispatcher (autograd included) with JS values converted by the schema's
// declared argument types. Adding an op on the TypeScript side never needs new C++.
#include "common.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <mutex>

namespace ahs {

static std::mutex g_ops_mu;
static std::vector<c10::OperatorHandle> g_ops;

static c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg,
                            const c10::TypePtr& real, const std::string& op);

[[noreturn]] static void BadArg(Napi::Env env, const std::string& op, const c10::Argument& arg, const std::string& why) {
  throw Napi::TypeError::New(env, op + ": argument '" + arg.name() + "' (" + arg.type()->str() + "): " + why);
}

static c10::Scalar ToScalar(Napi::Env env, const Napi::Value& v, const c10::Argument& arg, const std::string& op) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    // JS has one number type: integral values become int Scalars so that int tensors stay int.
    if (std::isfinite(d) && std::nearbyint(d) == d && std::fabs(d) < 9.007199254740992e15) return c10::Scalar(int64_t(d));
    return c10::Scalar(d);
  }
  if (v.IsBigInt()) { bool lossless; return c10::Scalar(int64_t(v.As<Napi::BigInt>().Int64Value(&lossless))); }
  BadArg(env, op, arg, "expected a number or boolean");
}

static int64_t ToInt(Napi::Env env, const Napi::Value& v, const c10::Argument& arg, const std::string& op) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::nearbyint(d) != d) BadArg(env, op, arg, "expected an integer, got " + std::to_string(d));
    return int64_t(d);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Int64Value(&lossless); }
  BadArg(env, op, arg, "expected an integer");
}

static c10::IValue ToList(Napi::Env env, const Napi::Value& v, const c10::Argument& arg,
                          const c10::TypePtr& elem, const std::string& op) {
  // A single number where `int[N]` is expected repeats N times, as in PyTorch (kernel_size=3).
  if (!v.IsArray()) {
    if (v.IsNumber() && (elem->kind() == c10::TypeKind::IntType || elem->kind() == c10::TypeKind::SymIntType)) {
      int64_t n = arg.N() ? *arg.N() : 1;
      return c10::IValue(c10::List<int64_t>(std::vector<int64_t>(size_t(n), ToInt(env, v, arg, op))));
    }
    BadArg(env, op, arg, "expected an array");
  }
  auto arr = v.As<Napi::Array>();
  uint32_t n = arr.Length();
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      c10::List<int64_t> out; out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(ToInt(env, arr.Get(i), arg, op));
      return out;
    }
    case c10::TypeKind::FloatType: {
      c10::List<double> out; out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
      return out;
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> out; out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).ToBoolean().Value());
      return out;
    }
    case c10::TypeKind::TensorType: {
      c10::List<at::Tensor> out; out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(UnwrapTensor(arr.Get(i), (op + ": " + arg.name()).c_str()));
      return out;
    }
    case c10::TypeKind::OptionalType: {
      c10::List<c10::optional<at::Tensor>> out; out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        auto e = arr.Get(i);
        if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(UnwrapTensor(e, (op + ": " + arg.name()).c_str()));
      }
      return out;
    }
    default:
      BadArg(env, op, arg, "list element type not supported by the generic call");
  }
}

static c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg,
                            const c10::TypePtr& real, const std::string& op) {
  switch (real->kind()) {
    case c10::TypeKind::TensorType: return UnwrapTensor(v, (op + ": " + arg.name()).c_str());
    case c10::TypeKind::OptionalType: {
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return ToIValue(env, v, arg, real->castRaw<c10::OptionalType>()->getElementType(), op);
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: return ToInt(env, v, arg, op);
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) BadArg(env, op, arg, "expected a number");
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) BadArg(env, op, arg, "expected a boolean");
      return v.As<Napi::Boolean>().Value();
    case c10::TypeKind::NumberType: return ToScalar(env, v, arg, op);
    case c10::TypeKind::StringType:
      if (!v.IsString()) BadArg(env, op, arg, "expected a string");
      return v.As<Napi::String>().Utf8Value();
    case c10::TypeKind::ScalarTypeType: return int64_t(DTypeFromCode(int(ToInt(env, v, arg, op))));
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType: return ToInt(env, v, arg, op);
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) BadArg(env, op, arg, "expected a device string");
      return ParseDevice(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::ListType:
      return ToList(env, v, arg, real->castRaw<c10::ListType>()->getElementType(), op);
    case c10::TypeKind::GeneratorType: return c10::IValue();
    default: BadArg(env, op, arg, "type not supported by the generic call");
  }
}

static Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return WrapTensor(env, t);
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, double(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(uint32_t(i), FromIValue(env, c10::IValue(list.get(i))));
    return arr;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) arr.Set(uint32_t(i), FromIValue(env, elems[i]));
    return arr;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(uint32_t(i), Napi::Number::New(env, double(list[i])));
    return arr;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  throw Napi::TypeError::New(env, std::string("cannot return a value of type ") + v.tagKind());
}

// resolveOp(name, overload) -> [id, argNames[], argTypes[], hasDefault[], numReturns]
static Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string overload = info.Length() > 1 ? info[1].As<Napi::String>().Utf8Value() : "";
    auto maybe = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!maybe) throw Napi::Error::New(env, "no ATen operator " + name + (overload.empty() ? "" : "." + overload));
    int id;
    {
      std::lock_guard<std::mutex> lock(g_ops_mu);
      id = int(g_ops.size());
      g_ops.push_back(*maybe);
    }
    const auto& schema = maybe->schema();
    const auto& args = schema.arguments();
    auto names = Napi::Array::New(env, args.size());
    auto types = Napi::Array::New(env, args.size());
    auto defaults = Napi::Array::New(env, args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      names.Set(uint32_t(i), args[i].name());
      types.Set(uint32_t(i), args[i].real_type()->str());
      defaults.Set(uint32_t(i), Napi::Boolean::New(env, args[i].default_value().has_value()));
    }
    auto out = Napi::Array::New(env, 5);
    out.Set(0u, Napi::Number::New(env, id));
    out.Set(1u, names);
    out.Set(2u, types);
    out.Set(3u, defaults);
    out.Set(4u, Napi::Number::New(env, double(schema.returns().size())));
    return out;
  })
}

// callOp(id, args[]) -> the op's result: a handle, an array for several returns, or a plain value.
// `undefined` (or a missing trailing argument) takes the schema's default.
static Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    int id = info[0].As<Napi::Number>().Int32Value();
    const c10::OperatorHandle* op;
    {
      std::lock_guard<std::mutex> lock(g_ops_mu);
      if (id < 0 || size_t(id) >= g_ops.size()) throw Napi::RangeError::New(env, "callOp: bad op id");
      op = &g_ops[size_t(id)];
    }
    const auto& schema = op->schema();
    const auto& args = schema.arguments();
    auto js = info[1].As<Napi::Array>();
    if (js.Length() > args.size())
      throw Napi::TypeError::New(env, schema.name() + ": " + std::to_string(js.Length()) + " arguments given, schema takes " + std::to_string(args.size()));
    torch::jit::Stack stack;
    stack.reserve(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      Napi::Value v = i < js.Length() ? js.Get(uint32_t(i)) : env.Undefined();
      if (v.IsUndefined()) {
        if (args[i].default_value()) { stack.push_back(*args[i].default_value()); continue; }
        if (args[i].real_type()->kind() == c10::TypeKind::OptionalType) { stack.emplace_back(); continue; }
        throw Napi::TypeError::New(env, schema.name() + ": missing required argument '" + args[i].name() + "'");
      }
      stack.push_back(ToIValue(env, v, args[i], args[i].real_type(), schema.name()));
    }
    op->callBoxed(&stack);
    if (stack.size() == 1) return FromIValue(env, stack[0]);
    auto out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(uint32_t(i), FromIValue(env, stack[i]));
    return out;
  })
}

void InitDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("resolveOp", Napi::Function::New(env, ResolveOp));
  exports.Set("callOp", Napi::Function::New(env, CallOp));
}

}  // namespace ahs
