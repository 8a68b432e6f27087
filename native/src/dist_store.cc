// c10d stores: the rendezvous every process of a group meets at. A TCPStore is served by rank 0
// (a daemon thread inside its process) and reached by the others over TCP; a FileStore is a file
// on a filesystem all processes share (one machine).
#include "dist.h"
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace ahs {

static void FinalizeStore(Napi::Env, StoreHolder* h) { delete h; }

static Napi::Value WrapStore(Napi::Env env, c10::intrusive_ptr<c10d::Store> s) {
  return Napi::External<StoreHolder>::New(env, new StoreHolder{std::move(s)}, FinalizeStore);
}

c10::intrusive_ptr<c10d::Store>& UnwrapStore(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a store handle");
  auto* h = v.As<Napi::External<StoreHolder>>().Data();
  if (!h->store) throw Napi::Error::New(v.Env(), "the store was closed");
  return h->store;
}

// tcpStore(host, port, isServer, worldSize, timeoutMs) -> Promise<[store, port]>. The server waits
// until all worldSize processes have connected; a client retries connecting until the timeout.
static Napi::Value TcpStore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    std::string host = info[0].As<Napi::String>().Utf8Value();
    c10d::TCPStoreOptions opts;
    opts.port = uint16_t(info[1].As<Napi::Number>().Uint32Value());
    opts.isServer = info[2].ToBoolean().Value();
    opts.numWorkers = size_t(info[3].As<Napi::Number>().Uint32Value());
    opts.waitWorkers = true;
    opts.timeout = std::chrono::milliseconds(info[4].As<Napi::Number>().Int64Value());
    auto out = std::make_shared<c10::intrusive_ptr<c10d::TCPStore>>();
    auto* w = new PromiseWorker(
        env, [host, opts, out] { *out = c10::make_intrusive<c10d::TCPStore>(host, opts); },
        [out](Napi::Env e) -> Napi::Value {
          auto arr = Napi::Array::New(e, 2);
          arr.Set(1u, Napi::Number::New(e, (*out)->getPort()));
          arr.Set(0u, WrapStore(e, *out));
          return arr;
        });
    return w->Start();
  })
}

// fileStore(path, worldSize, timeoutMs) -> Promise<store>.
static Napi::Value FileStoreNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AHS_PROTECT(env, {
    std::string path = info[0].As<Napi::String>().Utf8Value();
    int world = info[1].As<Napi::Number>().Int32Value();
    auto timeout = std::chrono::milliseconds(info[2].As<Napi::Number>().Int64Value());
    auto out = std::make_shared<c10::intrusive_ptr<c10d::Store>>();
    auto* w = new PromiseWorker(
        env,
        [path, world, timeout, out] {
          auto s = c10::make_intrusive<c10d::FileStore>(path, world);
          s->setTimeout(timeout);
          *out = s;
        },
        [out](Napi::Env e) -> Napi::Value { return WrapStore(e, *out); });
    return w->Start();
  })
}

// closeStore(store): drops this handle's reference (a TCPStore server stops with its last one).
static Napi::Value CloseStore(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) info[0].As<Napi::External<StoreHolder>>().Data()->store.reset();
  return info.Env().Undefined();
}

void InitDistStore(Napi::Env env, Napi::Object exports) {
  exports.Set("distTcpStore", Napi::Function::New(env, TcpStore));
  exports.Set("distFileStore", Napi::Function::New(env, FileStoreNew));
  exports.Set("distCloseStore", Napi::Function::New(env, CloseStore));
}

}  // namespace ahs
