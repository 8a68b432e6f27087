// A caching CPU allocator. First-touch page faults cost ~2.8 ms/MB on these machines, and libtorch
// allocates fresh buffers for every op result; reusing freed blocks by size class made a ViT-B
// block 4-5x faster (../shared/design/engine-notes.md). Sizes are rounded up to one of four
// classes per power of two (<= 25% waste); the cache is capped (AHS_SEG_CPU_CACHE_MB, default
// 4096) and can be emptied.
#include "common.h"
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <mutex>
#include <iterator>
#include <map>
#include <unordered_map>

namespace ahs {

namespace {

constexpr size_t kAlign = 64;
// Blocks this large are mapped directly: munmap returns them to the system at once, whereas
// glibc's heap keeps freed mid-size blocks resident (fragmentation kept RSS at 2x the live set).
constexpr size_t kMmapMin = size_t(256) << 10;

bool HugePagesOff() {
  static const bool off = [] { const char* v = std::getenv("AHS_SEG_HUGE_PAGES"); return v && std::string(v) == "0"; }();
  return off;
}

// Blocks this large ask for transparent huge pages (where THP is in 'madvise' mode, as on these
// machines): one fault per 2 MB instead of per 4 KB makes first touch several times cheaper, and
// training allocates its activations fresh every step until the cache holds them.
constexpr size_t kHugeMin = size_t(2) << 20;

void* SystemAlloc(size_t sz) {
  if (sz >= kMmapMin) {
    void* p = mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
    if (sz >= kHugeMin && !HugePagesOff()) madvise(p, sz, MADV_HUGEPAGE);
#endif
    return p;
  }
  void* p = nullptr;
  return posix_memalign(&p, kAlign, sz) == 0 ? p : nullptr;
}

void SystemFree(void* p, size_t sz) {
  if (sz >= kMmapMin) munmap(p, sz);
  else std::free(p);
}

size_t SizeClass(size_t n) {
  if (n <= 4096) return (n + 511) & ~size_t(511);
  size_t p = size_t(1) << (63 - __builtin_clzll(n));  // largest power of two <= n
  size_t step = p / 4;
  return (n + step - 1) / step * step;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(size_t limit) : limit_(limit) {}

  c10::DataPtr allocate(size_t n) const override {
    auto* self = const_cast<CachingCpuAllocator*>(this);
    if (n == 0) return {nullptr, nullptr, &NoDelete, c10::Device(c10::DeviceType::CPU)};
    size_t sz = SizeClass(n);
    void* p = self->TakeCached(sz);
    if (!p) self->MakeRoom(sz);
    if (!p) {
      p = SystemAlloc(sz);
      if (!p) throw std::bad_alloc();
      std::lock_guard<std::mutex> lock(self->mu_);
      self->misses_++;
      self->allocated_ += sz;
      self->sizes_[p] = sz;
    }
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      size_t live = self->allocated_ - self->cached_;
      if (live > self->peak_live_) self->peak_live_ = live;
    }
    // Context == data pointer, so raw_allocate/raw_deallocate (used by mkldnn) work too.
    return {p, p, &Release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

  void Return(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sizes_.find(p);
    if (it == sizes_.end()) return;  // not ours (cannot happen)
    size_t sz = it->second;
    if (cached_ + sz <= limit_) {
      free_[sz].push_back(p);
      cached_ += sz;
    } else {
      SystemFree(p, sz);
      allocated_ -= sz;
      sizes_.erase(it);
    }
  }

  void Empty() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& kv : free_)
      for (void* p : kv.second) { SystemFree(p, kv.first); allocated_ -= kv.first; sizes_.erase(p); }
    free_.clear();
    cached_ = 0;
  }

  /** A new cap for the cache; blocks beyond it are returned to the system now. */
  void SetLimit(size_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = limit;
    for (auto it = free_.begin(); it != free_.end() && cached_ > limit_; ++it) {
      while (!it->second.empty() && cached_ > limit_) ReleaseCached(it);
    }
  }

  /** Caps live + cached bytes: a miss that would pass it first returns cached blocks (largest
   * first) to the system, so the cache never holds memory the process cannot also use. */
  void SetFootprintLimit(size_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    footprint_limit_ = limit;
  }

  void MakeRoom(size_t sz) {
    std::lock_guard<std::mutex> lock(mu_);
    if (footprint_limit_ == 0) return;
    while (allocated_ + sz > footprint_limit_ && !free_.empty()) {
      auto it = std::prev(free_.end());
      if (it->second.empty()) free_.erase(it);
      else ReleaseCached(it);
    }
  }

  size_t Limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return limit_;
  }

  void Stats(size_t* allocated, size_t* cached, size_t* hits, size_t* misses, size_t* peak) {
    std::lock_guard<std::mutex> lock(mu_);
    *allocated = allocated_; *cached = cached_; *hits = hits_; *misses = misses_; *peak = peak_live_;
  }

 private:
  // Returns one cached block of this size class to the system (mu_ held).
  void ReleaseCached(std::map<size_t, std::vector<void*>>::iterator it) {
    void* p = it->second.back();
    it->second.pop_back();
    SystemFree(p, it->first);
    cached_ -= it->first;
    allocated_ -= it->first;
    sizes_.erase(p);
  }

  // Best fit: the smallest cached block of at least `sz` bytes and at most 1.5x that, so that
  // tensors whose sizes differ a little (class chunks, image sizes) still reuse memory.
  void* TakeCached(size_t sz) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = free_.lower_bound(sz); it != free_.end() && it->first <= sz + sz / 2; ++it) {
      if (it->second.empty()) continue;
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= it->first;
      hits_++;
      return p;
    }
    return nullptr;
  }

  static void NoDelete(void*) {}
  static void Release(void* ctx);

  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // size class -> cached blocks (ordered for best fit)
  std::unordered_map<void*, size_t> sizes_;  // every block this allocator owns -> its size class
  size_t limit_;
  size_t footprint_limit_ = 0;  // 0: none
  size_t cached_ = 0, allocated_ = 0, hits_ = 0, misses_ = 0, peak_live_ = 0;
};

CachingCpuAllocator* g_alloc = nullptr;

void CachingCpuAllocator::Release(void* p) { g_alloc->Return(p); }

}  // namespace

static Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("enabled", Napi::Boolean::New(env, g_alloc != nullptr));
  if (g_alloc) {
    size_t a, c, h, m, pk;
    g_alloc->Stats(&a, &c, &h, &m, &pk);
    out.Set("allocatedBytes", double(a));
    out.Set("cachedBytes", double(c));
    out.Set("hits", double(h));
    out.Set("misses", double(m));
    out.Set("peakLiveBytes", double(pk));
    out.Set("cacheLimitBytes", double(g_alloc->Limit()));
  }
  return out;
}

// setCacheLimit(bytes): training raises it to its peak so that every step reuses the blocks of
// the last one instead of faulting in fresh pages.
static Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  if (g_alloc) g_alloc->SetLimit(size_t(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// setFootprintLimit(bytes): cap on live + cached bytes (0 = none).
static Napi::Value SetFootprintLimit(const Napi::CallbackInfo& info) {
  if (g_alloc) g_alloc->SetFootprintLimit(size_t(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

static Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  if (g_alloc) g_alloc->Empty();
  return info.Env().Undefined();
}

void InitAllocator(Napi::Env env, Napi::Object exports) {
  // Installed once per process (the addon may be loaded by several worker threads).
  static std::once_flag once;
  std::call_once(once, [] {
    const char* off = std::getenv("AHS_SEG_CACHING_ALLOCATOR");
    if (off && std::string(off) == "0") return;
    size_t mb = 4096;
    if (const char* s = std::getenv("AHS_SEG_CPU_CACHE_MB")) mb = size_t(std::strtoull(s, nullptr, 10));
    g_alloc = new CachingCpuAllocator(mb << 20);  // never freed: tensors may outlive module unload
    c10::SetAllocator(c10::DeviceType::CPU, g_alloc, /*priority=*/1);
  });
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache));
  exports.Set("setCacheLimit", Napi::Function::New(env, SetCacheLimit));
  exports.Set("setFootprintLimit", Napi::Function::New(env, SetFootprintLimit));
}

}  // namespace ahs
