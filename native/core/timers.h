// Timeouts, for every backend: a heap on the monotonic clock whose nearest
// deadline only bounds the backend's wait (TigerBeetle's darwin.zig does
// the same). A deadline is the time of the call plus the delay; timeouts
// fire in (deadline, submission) order, a zero delay included, so a
// timeout(0) never overtakes one that expired before it was submitted.
#pragma once

#include <algorithm>
#include <cstdint>

#include "assert.h"
#include "timer_heap.h"

namespace tigerio {

class Timers {
 public:
  void start(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout && op->state == OpState::pending);
    TIGERIO_ASSERT(op->args.timeout.deadline_ns >= 0);
    heap_.push(op);
  }

  // True if op was waiting (it no longer is).
  bool cancel(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    return heap_.remove(op);
  }

  // The next timeout due at now_ns, in (deadline, submission) order, or nullptr.
  Op* pop_expired(int64_t now_ns) {
    if (heap_.empty() || TimerHeap::deadline(heap_.top()) > now_ns) return nullptr;
    Op* op = heap_.pop();
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    return op;
  }

  Op* pop_any() { return heap_.empty() ? nullptr : heap_.pop(); }

  bool empty() const { return heap_.empty(); }
  uint32_t size() const { return heap_.size(); }

  // The nearest deadline (monotonic ns), or -1.
  int64_t next_deadline_ns() const { return heap_.empty() ? -1 : TimerHeap::deadline(heap_.top()); }

  // A wait of timeout_ns (-1: no limit) shortened to end at the nearest deadline.
  int64_t bound_wait_ns(int64_t timeout_ns, int64_t now_ns) const {
    TIGERIO_ASSERT(timeout_ns >= -1);
    if (heap_.empty()) return timeout_ns;
    const int64_t until_ns = std::max<int64_t>(0, TimerHeap::deadline(heap_.top()) - now_ns);
    return timeout_ns < 0 ? until_ns : std::min(timeout_ns, until_ns);
  }

 private:
  TimerHeap heap_;
};

}  // namespace tigerio
