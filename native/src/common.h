// Shared pieces of the addon: the tensor handle and the one error path across the FFI.
// The addon is a narrow shim: validation and policy live in TypeScript (src/tensor).
#pragma once
#include <napi.h>
#include <torch/torch.h>
#include <atomic>

namespace ahs {

// A JS-owned tensor. `dispose` empties it at once; the External's finalizer frees the holder
// itself (and the tensor, if the JS side forgot to dispose it).
struct TensorHolder {
  at::Tensor t;
  bool live = true;
};

extern std::atomic<int64_t> g_live_tensors;

Napi::Value WrapTensor(Napi::Env env, at::Tensor t);
at::Tensor& UnwrapTensor(const Napi::Value& v, const char* what);

// Every exported function runs its body through PROTECT so that a c10::Error (or any C++
// exception) becomes a JS Error carrying the message without the C++ backtrace.
#define AHS_PROTECT(env, body)                                                   \
  try {                                                                           \
    body                                                                          \
  } catch (const Napi::Error& e) {                                                \
    throw;                                                                        \
  } catch (const c10::Error& e) {                                                 \
    throw Napi::Error::New(env, std::string("libtorch: ") + e.what_without_backtrace()); \
  } catch (const std::exception& e) {                                             \
    throw Napi::Error::New(env, std::string("libtorch: ") + e.what());           \
  }

// Registration helpers, one per source file.
void InitTensor(Napi::Env env, Napi::Object exports);
void InitDispatch(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitAllocator(Napi::Env env, Napi::Object exports);
void InitRuntime(Napi::Env env, Napi::Object exports);
void InitDistStore(Napi::Env env, Napi::Object exports);  // dist_store.cc
void InitDistGroup(Napi::Env env, Napi::Object exports);  // dist_group.cc

// oneDNN's row-major sgemm when libtorch loaded libdnnl (src/ops/linear.cc), else null.
using DnnlSgemm = int (*)(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
DnnlSgemm OneDnnSgemm();

// x @ w^T + b: ahs::linear on the CPU (src/ops/linear.cc), at::linear elsewhere. For the ops
// composed of GEMMs (mlp.cc, guided_linear.cc).
at::Tensor LinearAnyDevice(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b);

// dtype codes shared with src/tensor/dtype.ts (order matters).
c10::ScalarType DTypeFromCode(int code);
int CodeFromDType(c10::ScalarType st);
c10::Device ParseDevice(const std::string& s);

}  // namespace ahs
