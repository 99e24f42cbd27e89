#include "attach.h"

#include "core/assert.h"
#include "core/layout.h"

namespace tigerio {

Attachment* Attachment::Start(napi_env env, Loop* loop, napi_value dispatch, napi_value resource,
                              Attachment** owner) {
  TIGERIO_ASSERT(loop != nullptr && owner != nullptr && *owner == nullptr);
  uv_loop_t* uv_loop = nullptr;
  if (napi_get_uv_event_loop(env, &uv_loop) != napi_ok || uv_loop == nullptr) {
    napi_throw_error(env, nullptr, "tigerio: attach(): no libuv loop in this environment");
    return nullptr;
  }
  auto* self = new Attachment(env, loop, owner);
  if (!self->OpenCallbackContext(dispatch, resource)) {
    delete self;
    return nullptr;
  }
  // A backend with no kernel object (the simulation) has no fd to poll: its
  // rounds come from the idle handle (Backend::has_unsubmitted) and the
  // timer, and another thread's wake-up (an event trigger) from a uv_async.
  self->polling_ = loop->poll_fd() >= 0;
  const int rc = self->polling_ ? uv_poll_init(uv_loop, &self->poll_, loop->poll_fd())
                                : uv_async_init(uv_loop, &self->wake_, OnWake);
  if (rc != 0) {
    napi_async_destroy(env, self->context_);
    napi_delete_reference(env, self->dispatch_);
    delete self;
    napi_throw_error(env, nullptr, "tigerio: attach(): uv_poll_init failed");
    return nullptr;
  }
  uv_timer_init(uv_loop, &self->timer_);
  uv_idle_init(uv_loop, &self->idle_);
  self->poll_.data = self;
  self->wake_.data = self;
  self->timer_.data = self;
  self->idle_.data = self;
  self->handles_open_ = 3;
  if (self->polling_) {
    uv_poll_start(&self->poll_, UV_READABLE, OnPoll);
  } else {
    loop->backend().set_wake_hook(WakeHook, self);
  }
  // Node waits for this hook's handle at environment teardown (a worker
  // exiting while attached), so the handles are closed before its loop is.
  napi_add_async_cleanup_hook(env, OnEnvironmentCleanup, self, &self->cleanup_);
  self->Rearm();
  return self;
}

void Attachment::OnPoll(uv_poll_t* handle, int, int) { static_cast<Attachment*>(handle->data)->Dispatch(); }
void Attachment::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<Attachment*>(handle->data);
  self->timer_deadline_ns_ = -1;
  self->Dispatch();
}
void Attachment::OnIdle(uv_idle_t* handle) {
  TIGERIO_ASSERT(handle->data != nullptr);
  static_cast<Attachment*>(handle->data)->Dispatch();
}
void Attachment::OnWake(uv_async_t* handle) { static_cast<Attachment*>(handle->data)->Dispatch(); }
void Attachment::WakeHook(void* data) { uv_async_send(&static_cast<Attachment*>(data)->wake_); }

void Attachment::Rearm() {
  TIGERIO_ASSERT(!closing_);
  const bool pending = Pending();
  if (NeedsRound()) {
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&idle_))) uv_idle_start(&idle_, OnIdle);
  } else {
    uv_idle_stop(&idle_);
  }
  const int64_t deadline_ns = loop_->next_deadline_ns();
  if (deadline_ns < 0) {
    uv_timer_stop(&timer_);
    timer_deadline_ns_ = -1;
  } else if (deadline_ns != timer_deadline_ns_) {
    const int64_t remaining_ns = deadline_ns - loop_->now_ns();
    const uint64_t timeout_ms = remaining_ns <= 0 ? 0 : static_cast<uint64_t>((remaining_ns + 999999) / 1000000);
    uv_timer_start(&timer_, OnTimer, timeout_ms, 0);
    timer_deadline_ns_ = deadline_ns;
  }
  uv_handle_t* const handles[] = {polling_ ? reinterpret_cast<uv_handle_t*>(&poll_) : reinterpret_cast<uv_handle_t*>(&wake_),
                                  reinterpret_cast<uv_handle_t*>(&timer_), reinterpret_cast<uv_handle_t*>(&idle_)};
  for (uv_handle_t* handle : handles) {
    if (pending) {
      uv_ref(handle);
    } else {
      uv_unref(handle);
    }
  }
}

void Attachment::Close() {
  if (closing_) return;
  closing_ = true;
  if (*owner_ == this) *owner_ = nullptr;
  // Stopping the poll takes the fd out of libuv's epoll set now, before the
  // backend closes it.
  if (polling_) {
    uv_poll_stop(&poll_);
  } else {
    loop_->backend().set_wake_hook(nullptr, nullptr);  // no uv_async_send after this
  }
  uv_timer_stop(&timer_);
  uv_idle_stop(&idle_);
  napi_async_destroy(env_, context_);
  context_ = nullptr;
  napi_delete_reference(env_, dispatch_);
  dispatch_ = nullptr;
  uv_close(polling_ ? reinterpret_cast<uv_handle_t*>(&poll_) : reinterpret_cast<uv_handle_t*>(&wake_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), OnClosed);
}

void Attachment::OnClosed(uv_handle_t* handle) {
  auto* self = static_cast<Attachment*>(handle->data);
  TIGERIO_ASSERT(self->handles_open_ > 0);
  if (--self->handles_open_ > 0) return;
  if (self->cleanup_ != nullptr) napi_remove_async_cleanup_hook(self->cleanup_);
  delete self;
}

void Attachment::OnEnvironmentCleanup(napi_async_cleanup_hook_handle, void* data) {
  static_cast<Attachment*>(data)->Close();
}

}  // namespace tigerio
