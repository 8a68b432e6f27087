// Process-wide runtime settings and facts: threads, seed, version, devices, BLAS.
#include "common.h"
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/Context.h>
#include <ATen/CPUGeneratorImpl.h>
#include <cstring>
#include <mutex>
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

// The default generator of a device: "cpu" or "cuda:N" (CUDA through ATen's hooks, so this file
// needs no CUDA headers).
static at::Generator DefaultGenerator(const std::string& device) {
  c10::Device d(device);
  if (d.is_cpu()) return at::detail::getDefaultCPUGenerator();
  return at::globalContext().defaultGenerator(d);
}

// rngState(device) -> Buffer: the generator's full state (seed and offset / Mersenne twister
// words), as torch.get_rng_state returns it, so a checkpoint can restore it exactly.
static Napi::Value RngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    at::Generator gen = DefaultGenerator(info[0].As<Napi::String>().Utf8Value());
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    state = state.contiguous().cpu();
    auto buf = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(state.data_ptr()), state.nbytes());
    return buf;
  })
}

// setRngState(device, bytes): restores what rngState returned.
static Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    at::Generator gen = DefaultGenerator(info[0].As<Napi::String>().Utf8Value());
    auto bytes = info[1].As<Napi::Uint8Array>();
    at::Tensor state = at::empty({int64_t(bytes.ByteLength())}, at::kByte);
    std::memcpy(state.data_ptr(), bytes.Data(), bytes.ByteLength());
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
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
  exports.Set("rngState", Napi::Function::New(env, RngState));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState));
}

}  // namespace ahs
