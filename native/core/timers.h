// Timeouts kept in user space, for every backend without kernel timeouts
// (epoll, kqueue, IOCP): a heap whose nearest deadline bounds the kernel
// wait, fired after each wait. io_uring uses kernel timeouts instead.
#pragma once

#include <algorithm>
#include <cstdint>

#include "clock.h"
#include "errors.h"
#include "loop.h"
#include "timer_heap.h"

namespace tigerio {

class Timers {
 public:
  explicit Timers(Loop* loop) : loop_(loop) {}

  // A timeout op: its position holds the duration, the heap the deadline.
  // A duration of 0 is complete at once (the callback still waits for a poll).
  void start(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout && op->position >= 0);
    if (op->position == 0) {
      loop_->complete(op, 0);
      return;
    }
    op->position += monotonic_ns();
    heap_.push(op);
  }

  // True (and the op completed with ECANCELED) if it was waiting.
  bool cancel(Op* op) {
    if (!heap_.remove(op)) return false;
    loop_->complete(op, kErrCanceled);
    return true;
  }

  void cancel_all() {
    while (!heap_.empty()) loop_->complete(heap_.pop(), kErrCanceled);
  }

  // Completes every timeout whose deadline has passed.
  void fire() {
    if (heap_.empty()) return;
    const int64_t now_ns = monotonic_ns();
    while (!heap_.empty() && TimerHeap::deadline(heap_.top()) <= now_ns) loop_->complete(heap_.pop(), 0);
  }

  // The nearest deadline (monotonic ns), or -1.
  int64_t next_deadline_ns() const { return heap_.empty() ? -1 : TimerHeap::deadline(heap_.top()); }

  // A wait of timeout_ns (-1: no limit), shortened to end at the nearest deadline.
  int64_t bound_wait_ns(int64_t timeout_ns) const {
    if (heap_.empty()) return timeout_ns;
    const int64_t until_ns = std::max<int64_t>(0, TimerHeap::deadline(heap_.top()) - monotonic_ns());
    return timeout_ns < 0 ? until_ns : std::min(timeout_ns, until_ns);
  }

 private:
  Loop* const loop_;
  TimerHeap heap_;
};

}  // namespace tigerio
