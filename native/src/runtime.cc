// Process-wide runtime settings and facts: threads, seed, version, devices, BLAS.
#include "common.h"
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/Context.h>
#ifdef AHS_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace ahs {

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  })
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

static Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    torch::manual_seed(uint64_t(info[0].As<Napi::Number>().Int64Value()));
    return env.Undefined();
  })
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    auto out = Napi::Object::New(env);
    out.Set("torchVersion", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH));
    out.Set("cudaAvailable", Napi::Boolean::New(env, torch::cuda::is_available()));
    out.Set("cudaDeviceCount", Napi::Number::New(env, double(torch::cuda::device_count())));
    out.Set("builtWithCuda", Napi::Boolean::New(env,
#ifdef AHS_WITH_CUDA
      true
#else
      false
#endif
    ));
    out.Set("parallelInfo", at::get_parallel_info());
    out.Set("config", at::show_config());
    out.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
    out.Set("onednnGemm", Napi::Boolean::New(env, OneDnnSgemm() != nullptr));
    return out;
  })
}

void InitRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("info", Napi::Function::New(env, Info));
}

}  // namespace ahs
