// Lets Node's event loop drive an IO (io.attach()): a uv_poll on the
// backend's poll fd, a uv_timer for the nearest deadline the kernel does not
// watch, and a uv_idle while completions are ready without any kernel event
// (an op finished at submission, or a batch cut short by a throwing
// callback). Each round calls JS's dispatch once through napi_make_callback,
// so microtasks run after it. The handles are unref'd while nothing is
// pending, so an attached IO never holds the process open by itself.
// On Windows (attach_windows.cc) a completion port cannot go in a uv_poll:
// a waiter thread blocks on it and a napi_threadsafe_function brings each
// round to the loop thread instead, with the same interface.
#pragma once

#include <node_api.h>
#ifndef _WIN32
#include <uv.h>
#endif

#include <cstdint>

#include "call_dispatch.h"
#include "core/layout.h"
#include "core/loop.h"

namespace tigerio {

#ifdef _WIN32
class IocpWaiter;
#endif

class Attachment {
 public:
  // Starts watching; nullptr with a JS exception pending on failure.
  // `*owner` is set to nullptr when the attachment closes (detach, deinit,
  // or the environment's teardown).
  static Attachment* Start(napi_env env, Loop* loop, napi_value dispatch, napi_value resource,
                           Attachment** owner);

  // After a submission outside a dispatch: the new op may need the loop held
  // open, a nearer timer, or an immediate round.
  void AfterSubmit() {
    if (!dispatching_) Rearm();
  }

  // Stops at once and frees itself once libuv has closed the handles.
  // Idempotent; safe inside a dispatch.
  void Close();

 private:
  Attachment(napi_env env, Loop* loop, Attachment** owner) : env_(env), loop_(loop), owner_(owner) {}
  // Both Start()s (attach.cc, attach_windows.cc): a reference on JS's
  // dispatch and the async context each round runs in. On failure it undoes
  // what it made and throws; the caller then deletes the attachment.
  bool OpenCallbackContext(napi_value dispatch, napi_value resource) {
    napi_value name;
    napi_create_string_utf8(env_, "tigerio:dispatch", NAPI_AUTO_LENGTH, &name);
    if (napi_create_reference(env_, dispatch, 1, &dispatch_) == napi_ok &&
        napi_async_init(env_, resource, name, &context_) == napi_ok) {
      return true;
    }
    if (dispatch_ != nullptr) napi_delete_reference(env_, dispatch_);
    dispatch_ = nullptr;
    napi_throw_error(env_, nullptr, "tigerio: attach(): could not set up the callback context");
    return false;
  }
  static void OnEnvironmentCleanup(napi_async_cleanup_hook_handle handle, void* data);
  // Brings the loop's state to the handles (per OS): held open or not, a
  // round now or not, the next deadline.
  void Rearm();

  // One round: JS's dispatch once, then the handles brought up to date.
  void Dispatch() {
    if (closing_) return;
    dispatching_ = true;
    CallDispatch(env_, context_, dispatch_);
    dispatching_ = false;
    if (!closing_) Rearm();
  }

  // Harvested completions JS has not dispatched (a callback threw).
  int32_t Undelivered() const { return loop_->config().state[kStateUndelivered]; }
  // Operations whose callback has not run: the process is held open for them.
  bool Pending() const { return loop_->inflight() > 0 || Undelivered() > 0; }
  // Work no kernel event will announce (an op finished at submission, a
  // batch cut short by a throwing callback, submissions still in user
  // space): the attachment must schedule a round itself.
  bool NeedsRound() const {
    return loop_->has_ready() || Undelivered() > 0 || loop_->has_unsubmitted();
  }

  napi_env const env_;
  Loop* const loop_;
  Attachment** const owner_;
  napi_ref dispatch_ = nullptr;
  napi_async_context context_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;
  bool closing_ = false;
  bool dispatching_ = false;
#ifdef _WIN32
  static void OnWaiter(void* context);
  static void WakeHook(void* data);  // any thread: a waiterless backend's wake()
  static void OnRound(napi_env env, napi_value callback, void* context, void* data);
  static void OnFinalize(napi_env env, void* data, void* hint);

  // IOCP's waiter thread; nullptr for a backend with no kernel object (the
  // simulation), whose rounds come from Rearm() and its wake hook alone.
  IocpWaiter* waiter_ = nullptr;
  napi_threadsafe_function rounds_ = nullptr;
  bool referenced_ = true;        // rounds_ holds the event loop open
  bool round_scheduled_ = false;  // a round is queued on rounds_ by the loop thread
  bool waiter_started_ = false;
#else
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnWake(uv_async_t* handle);
  static void WakeHook(void* data);  // any thread: the backend's wake()
  static void OnTimer(uv_timer_t* handle);
  static void OnIdle(uv_idle_t* handle);
  static void OnClosed(uv_handle_t* handle);

  uv_poll_t poll_;
  uv_async_t wake_;  // instead of poll_ for a backend with no poll fd (the simulation)
  uv_timer_t timer_;
  uv_idle_t idle_;
  int64_t timer_deadline_ns_ = -1;
  int handles_open_ = 0;
  bool polling_ = false;  // the backend has a poll fd (not the simulation): poll_, else wake_
#endif
};

}  // namespace tigerio
