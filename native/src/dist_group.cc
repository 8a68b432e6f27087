// c10d process groups and the collectives of data parallelism: allreduce (sum, in place, on flat
// buckets), broadcast from a root, all-gather of small tensors, barrier. Each call enqueues the
// operation on the JS thread (cheap) and waits for it with a timeout on a libuv worker thread.
#include "dist.h"
#ifdef AHS_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef AHS_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace ahs {

namespace {

struct State {
  std::shared_ptr<Group> group;
  std::atomic<bool> broken{false};
  // A broken group may have an operation stuck on a gloo thread; its destructor would join it.
  ~State() {
    if (group && broken.load()) new std::shared_ptr<Group>(group);  // left to process exit on purpose
  }
};
using StatePtr = std::shared_ptr<State>;

template <class PG>
struct GroupOf : Group {
  c10::intrusive_ptr<PG> pg;
  explicit GroupOf(c10::intrusive_ptr<PG> p) : pg(std::move(p)) {}
  c10::intrusive_ptr<c10d::Work> allreduceSum(std::vector<at::Tensor>& t, std::chrono::milliseconds timeout) override {
    c10d::AllreduceOptions o;  // reduceOp defaults to SUM
    o.timeout = timeout;
    return pg->allreduce(t, o);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& t, int root, std::chrono::milliseconds timeout) override {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.rootTensor = 0;
    o.timeout = timeout;
    return pg->broadcast(t, o);
  }
  c10::intrusive_ptr<c10d::Work> allgather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in, std::chrono::milliseconds timeout) override {
    c10d::AllgatherOptions o;
    o.timeout = timeout;
    return pg->allgather(out, in, o);
  }
  c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) override {
    c10d::BarrierOptions o;
    o.timeout = timeout;
    return pg->barrier(o);
  }
};

#ifdef AHS_WITH_GLOO
// The gloo transport device: a named interface (GLOO_SOCKET_IFNAME, as torch), the address other
// processes reach this one at, or the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& iface, const std::string& hostname) {
  if (!iface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(iface);
  if (!hostname.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(hostname);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

void FinalizeState(Napi::Env, StatePtr* s) { delete s; }

StatePtr Unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a process group handle");
  StatePtr s = *v.As<Napi::External<StatePtr>>().Data();
  if (!s->group) throw Napi::Error::New(v.Env(), "the process group was destroyed");
  return s;
}

std::chrono::milliseconds Ms(const Napi::Value& v) { return std::chrono::milliseconds(v.As<Napi::Number>().Int64Value()); }

// Waits for `work` off the JS thread; a failure or timeout marks the group broken (the state is
// kept alive by the worker's reference even if JS drops the handle meanwhile).
Napi::Value Await(Napi::Env env, const StatePtr& st, c10::intrusive_ptr<c10d::Work> work, std::chrono::milliseconds timeout,
                  PromiseWorker::Done done = nullptr) {
  auto* w = new PromiseWorker(
      env,
      [work, timeout, st] {
        try {
          work->wait(timeout);
        } catch (...) {
          st->broken.store(true);
          throw;
        }
      },
      std::move(done));
  return w->Start();
}

}  // namespace

// processGroup(store, rank, worldSize, backend, timeoutMs, iface, hostname) -> Promise<group>. The
// constructor connects every pair of processes through the store: it waits for all of them.
static Napi::Value ProcessGroupNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    auto store = UnwrapStore(info[0]);
    int rank = info[1].As<Napi::Number>().Int32Value();
    int size = info[2].As<Napi::Number>().Int32Value();
    std::string backend = info[3].As<Napi::String>().Utf8Value();
    auto timeout = Ms(info[4]);
    std::string iface = info[5].As<Napi::String>().Utf8Value();
    std::string hostname = info[6].As<Napi::String>().Utf8Value();
    if (backend != "gloo" && backend != "nccl") throw Napi::Error::New(env, "unknown backend '" + backend + "'");
#ifndef AHS_WITH_GLOO
    if (backend == "gloo") throw Napi::Error::New(env, "this build of the addon has no Gloo (install libgloo-dev and rebuild: npm run build:native)");
#endif
#ifndef AHS_WITH_NCCL
    if (backend == "nccl") throw Napi::Error::New(env, "this build of the addon has no NCCL (the linked libtorch has no CUDA, or nccl.h was not found when it was built)");
#endif
    auto out = std::make_shared<std::shared_ptr<Group>>();
    auto* w = new PromiseWorker(
        env,
        [=] {
#ifdef AHS_WITH_GLOO
          if (backend == "gloo") {
            auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
            opts->devices.push_back(GlooDevice(iface, hostname));
            *out = std::make_shared<GroupOf<c10d::ProcessGroupGloo>>(c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts));
          }
#endif
#ifdef AHS_WITH_NCCL
          if (backend == "nccl") {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = timeout;
            *out = std::make_shared<GroupOf<c10d::ProcessGroupNCCL>>(c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts));
          }
#endif
        },
        [out](Napi::Env e) -> Napi::Value {
          auto* s = new StatePtr(std::make_shared<State>());
          (*s)->group = *out;
          return Napi::External<StatePtr>::New(e, s, FinalizeState);
        });
    return w->Start();
  })
}

// allreduceSum(group, tensor, timeoutMs) -> Promise<void>: the sum over processes, in place.
static Napi::Value AllreduceSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    StatePtr st = Unwrap(info[0]);
    std::vector<at::Tensor> t{UnwrapTensor(info[1], "allreduce")};
    auto timeout = Ms(info[2]);
    return Await(env, st, st->group->allreduceSum(t, timeout), timeout);
  })
}

// broadcast(group, tensor, root, timeoutMs) -> Promise<void>: root's values into every process's tensor.
static Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    StatePtr st = Unwrap(info[0]);
    std::vector<at::Tensor> t{UnwrapTensor(info[1], "broadcast")};
    int root = info[2].As<Napi::Number>().Int32Value();
    auto timeout = Ms(info[3]);
    return Await(env, st, st->group->broadcast(t, root, timeout), timeout);
  })
}

// allgather(group, tensor, worldSize, timeoutMs) -> Promise<tensor[]>: every process's tensor, by rank.
static Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    StatePtr st = Unwrap(info[0]);
    at::Tensor in = UnwrapTensor(info[1], "allgather");
    int world = info[2].As<Napi::Number>().Int32Value();
    auto timeout = Ms(info[3]);
    std::vector<at::Tensor> inputs{in};
    auto outputs = std::make_shared<std::vector<std::vector<at::Tensor>>>(1);
    for (int i = 0; i < world; ++i) (*outputs)[0].push_back(at::empty_like(in));
    auto work = st->group->allgather(*outputs, inputs, timeout);
    return Await(env, st, work, timeout, [outputs](Napi::Env e) -> Napi::Value {
      auto arr = Napi::Array::New(e, (*outputs)[0].size());
      for (size_t i = 0; i < (*outputs)[0].size(); ++i) arr.Set(uint32_t(i), WrapTensor(e, (*outputs)[0][i]));
      return arr;
    });
  })
}

static Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    StatePtr st = Unwrap(info[0]);
    auto timeout = Ms(info[1]);
    return Await(env, st, st->group->barrier(timeout), timeout);
  })
}

// destroyGroup(group): releases a healthy group now (joins its threads); a broken one is left.
static Napi::Value DestroyGroup(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return info.Env().Undefined();
  StatePtr& s = *info[0].As<Napi::External<StatePtr>>().Data();
  if (s->group && s->broken.load()) new std::shared_ptr<Group>(s->group);  // see ~State
  s->group.reset();
  return info.Env().Undefined();
}

static Napi::Value Backends(const Napi::CallbackInfo& info) {
  auto arr = Napi::Array::New(info.Env());
#ifdef AHS_WITH_GLOO
  arr.Set(arr.Length(), Napi::String::New(info.Env(), "gloo"));
#endif
#ifdef AHS_WITH_NCCL
  arr.Set(arr.Length(), Napi::String::New(info.Env(), "nccl"));
#endif
  return arr;
}

void InitDistGroup(Napi::Env env, Napi::Object exports) {
  exports.Set("distProcessGroup", Napi::Function::New(env, ProcessGroupNew));
  exports.Set("distAllreduceSum", Napi::Function::New(env, AllreduceSum));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast));
  exports.Set("distAllgather", Napi::Function::New(env, Allgather));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier));
  exports.Set("distDestroyGroup", Napi::Function::New(env, DestroyGroup));
  exports.Set("distBackends", Napi::Function::New(env, Backends));
}

}  // namespace ahs
