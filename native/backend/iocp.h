// The IOCP backend (Windows): see iocp.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "../core/backend.h"

namespace tigerio {

struct LoopConfig;

std::unique_ptr<Backend> create_iocp_backend(Loop* loop, const LoopConfig& config, int* error);

// What attach() on Windows (attach_windows.cc) needs from the IOCP backend.
// A completion port cannot go in a uv_poll, so a waiter thread blocks on
// the port instead and hands what it dequeues to the loop thread. While the
// waiter runs it is the port's only reader: wait() then only takes its
// hand-overs and never blocks.
class IocpWaiter {
 public:
  using Notify = void (*)(void* context);

  // Starts the waiter thread. After each hand-over (completions, a wake(),
  // or the nearest deadline (Loop::next_deadline_ns(), the core's timers)
  // passing) it calls notify(context) from its own thread and then stays
  // parked until the loop thread has taken the hand-over and called
  // waiter_rearm() (or a wait() took it). False if the thread could not start.
  virtual bool waiter_start(Notify notify, void* context) = 0;
  // Loop thread: stops and joins the thread, and completes what it had
  // handed over (JS sees it at the next poll). Idempotent.
  virtual void waiter_stop() = 0;
  // Loop thread: completes what the waiter handed over (the round's
  // dispatch then harvests them and fires the timers that are due).
  virtual void waiter_consume() = 0;
  // Loop thread: after a round's dispatch and after submissions. Lets a
  // parked waiter wait again, and makes sure it sleeps no longer than the
  // nearest deadline as it is now.
  virtual void waiter_rearm() = 0;

 protected:
  ~IocpWaiter() = default;
};

// The IOCP backend's waiter interface, or nullptr for another backend.
IocpWaiter* iocp_waiter(Backend& backend);

}  // namespace tigerio
