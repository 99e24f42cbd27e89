// attach() on Windows: a completion port cannot go in a uv_poll, so the
// IOCP backend's waiter thread blocks on the port (and on the nearest
// deadline) and hands what it dequeues to the loop thread; a
// napi_threadsafe_function brings each round to Node's loop thread, where
// it completes the handed-over ops and calls JS's dispatch once through
// napi_make_callback (so microtasks run after it), as attach.cc does.
// Pure Node-API: no libuv import is needed, which also keeps the mingw-w64
// build (test/windows/) linking against node.exe's Node-API exports only.
// The threadsafe function is unref'd while nothing is pending, so an
// attached IO never holds the process open by itself.
#include "attach.h"

#include "backend/iocp.h"
#include "core/assert.h"
#include "core/layout.h"

namespace tigerio {

Attachment* Attachment::Start(napi_env env, Loop* loop, napi_value dispatch, napi_value resource,
                              Attachment** owner) {
  TIGERIO_ASSERT(env != nullptr && loop != nullptr && owner != nullptr && *owner == nullptr);
  IocpWaiter* waiter = iocp_waiter(loop->backend());
  // A backend with no kernel object (the simulation) needs no waiter: its
  // rounds are scheduled while its world can move, and another thread's
  // wake-up (an event trigger) comes through its wake hook.
  if (waiter == nullptr && loop->poll_fd() >= 0) {
    napi_throw_error(env, nullptr, "tigerio: attach(): this backend cannot be attached on Windows");
    return nullptr;
  }
  auto* self = new Attachment(env, loop, owner);
  self->waiter_ = waiter;
  if (!self->OpenCallbackContext(dispatch, resource)) {
    delete self;
    return nullptr;
  }
  napi_value name;
  napi_create_string_utf8(env, "tigerio:dispatch", NAPI_AUTO_LENGTH, &name);
  // Unlimited queue: the waiter queues at most one call per hand-over and
  // then waits for the loop thread, so the queue stays tiny.
  if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, self, OnFinalize, self, OnRound,
                                      &self->rounds_) != napi_ok) {
    napi_async_destroy(env, self->context_);
    napi_delete_reference(env, self->dispatch_);
    delete self;
    napi_throw_error(env, nullptr, "tigerio: attach(): could not create the threadsafe function");
    return nullptr;
  }
  if (waiter == nullptr) {
    loop->backend().set_wake_hook(WakeHook, self);
  } else {
    if (!waiter->waiter_start(OnWaiter, self)) {
      self->Close();  // frees itself once the threadsafe function is finalized
      napi_throw_error(env, nullptr, "tigerio: attach(): could not start the waiter thread");
      return nullptr;
    }
    self->waiter_started_ = true;
  }
  // Node waits for this hook's handle at environment teardown (a worker
  // exiting while attached), so the waiter is joined before the loop goes.
  napi_add_async_cleanup_hook(env, OnEnvironmentCleanup, self, &self->cleanup_);
  self->Rearm();
  TIGERIO_ASSERT(self->waiter_started_ == (waiter != nullptr) && !self->closing_);
  return self;
}

// Any thread: a waiterless backend was woken (an event trigger): a round.
void Attachment::WakeHook(void* data) {
  auto* self = static_cast<Attachment*>(data);
  TIGERIO_ASSERT(self != nullptr && self->waiter_ == nullptr);
  napi_call_threadsafe_function(self->rounds_, nullptr, napi_tsfn_nonblocking);
}

// The waiter thread: something was handed over.
void Attachment::OnWaiter(void* context) {
  auto* self = static_cast<Attachment*>(context);
  TIGERIO_ASSERT(self != nullptr && self->rounds_ != nullptr);
  // napi_closing after a release is fine: Close() has joined the waiter
  // before releasing, so this never races the finalizer.
  napi_call_threadsafe_function(self->rounds_, nullptr, napi_tsfn_nonblocking);
}

// The loop thread: one round.
void Attachment::OnRound(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // the threadsafe function is being torn down
  auto* self = static_cast<Attachment*>(context);
  TIGERIO_ASSERT(self != nullptr && self->env_ == env);
  if (self->closing_) return;
  self->round_scheduled_ = false;
  // Completes what the waiter handed over; the dispatch harvests it and
  // fires due timers, and its Rearm() lets the waiter wait again.
  if (self->waiter_ != nullptr) self->waiter_->waiter_consume();
  self->Dispatch();
}

void Attachment::Rearm() {
  TIGERIO_ASSERT(!closing_ && rounds_ != nullptr);
  const bool pending = Pending();
  // Work no packet will announce: a round now, from the loop thread itself
  // (the uv_idle of attach.cc).
  if (NeedsRound() && !round_scheduled_) {
    round_scheduled_ = true;
    napi_call_threadsafe_function(rounds_, nullptr, napi_tsfn_nonblocking);
  }
  if (waiter_ != nullptr) waiter_->waiter_rearm();
  if (pending != referenced_) {
    if (pending) {
      napi_ref_threadsafe_function(env_, rounds_);
    } else {
      napi_unref_threadsafe_function(env_, rounds_);
    }
    referenced_ = pending;
  }
}

void Attachment::Close() {
  if (closing_) return;
  closing_ = true;
  if (*owner_ == this) *owner_ = nullptr;
  // Joined here, before the IO's backend can go: what the waiter had
  // dequeued completes, and the next tick()/run() harvests it. A waiterless
  // backend's hook is off before the threadsafe function goes.
  if (waiter_started_) waiter_->waiter_stop();
  if (waiter_ == nullptr) loop_->backend().set_wake_hook(nullptr, nullptr);
  napi_async_destroy(env_, context_);
  context_ = nullptr;
  napi_delete_reference(env_, dispatch_);
  dispatch_ = nullptr;
  TIGERIO_ASSERT(context_ == nullptr && dispatch_ == nullptr);
  // Frees this in OnFinalize, on the loop thread, once Node is done with it:
  // no member is touched after this call.
  napi_release_threadsafe_function(rounds_, napi_tsfn_abort);
}

void Attachment::OnFinalize(napi_env, void* data, void*) {
  auto* self = static_cast<Attachment*>(data);
  TIGERIO_ASSERT(self != nullptr);
  if (!self->closing_) {
    // Finalized by the environment's teardown before any Close().
    self->closing_ = true;
    if (*self->owner_ == self) *self->owner_ = nullptr;
    if (self->waiter_started_) self->waiter_->waiter_stop();
    if (self->waiter_ == nullptr) self->loop_->backend().set_wake_hook(nullptr, nullptr);
    napi_async_destroy(self->env_, self->context_);
    napi_delete_reference(self->env_, self->dispatch_);
  }
  if (self->cleanup_ != nullptr) napi_remove_async_cleanup_hook(self->cleanup_);
  delete self;
}

void Attachment::OnEnvironmentCleanup(napi_async_cleanup_hook_handle, void* data) {
  static_cast<Attachment*>(data)->Close();
}

}  // namespace tigerio
