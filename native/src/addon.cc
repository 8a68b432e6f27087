#include "common.h"

namespace ahs {
std::atomic<int64_t> g_live_tensors{0};
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ahs::InitAllocator(env, exports);  // first, so every tensor uses the caching allocator
  ahs::InitRuntime(env, exports);
  ahs::InitTensor(env, exports);
  ahs::InitDispatch(env, exports);
  ahs::InitAutograd(env, exports);
  ahs::InitDistStore(env, exports);
  ahs::InitDistGroup(env, exports);
  return exports;
}

NODE_API_MODULE(ahs_seg, Init)
