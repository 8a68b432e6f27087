// c10d for data parallelism: stores (TCPStore, FileStore), process groups (Gloo; NCCL when the
// linked libtorch has it) and the few collectives DDP needs. Everything that can block (store
// rendezvous, group rendezvous, the wait on a collective) runs on a libuv worker thread and
// settles a Promise, so the JS thread never hangs on a dead peer and a timeout is always reported.
#pragma once
#include "common.h"
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <chrono>
#include <functional>

namespace ahs {

struct StoreHolder {
  c10::intrusive_ptr<c10d::Store> store;
};

// The collectives used here, over ProcessGroupGloo / ProcessGroupNCCL (libtorch 1.13 derives them
// from ProcessGroup, 2.x from Backend: the template in dist_group.cc adapts either).
struct Group {
  virtual ~Group() = default;
  virtual c10::intrusive_ptr<c10d::Work> allreduceSum(std::vector<at::Tensor>& t, std::chrono::milliseconds timeout) = 0;
  virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& t, int root, std::chrono::milliseconds timeout) = 0;
  virtual c10::intrusive_ptr<c10d::Work> allgather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in, std::chrono::milliseconds timeout) = 0;
  virtual c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) = 0;
};

// Runs `fn` off the JS thread; resolves with `done(env)` (undefined if null) or rejects with the
// C++ exception's message (c10 backtraces dropped).
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Fn = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  PromiseWorker(Napi::Env env, Fn fn, Done done = nullptr)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), fn_(std::move(fn)), done_(std::move(done)) {}
  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }
  void Execute() override {
    try {
      fn_();
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown C++ exception");
    }
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(done_ ? done_(Env()) : Env().Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Fn fn_;
  Done done_;
};

c10::intrusive_ptr<c10d::Store>& UnwrapStore(const Napi::Value& v);

}  // namespace ahs
