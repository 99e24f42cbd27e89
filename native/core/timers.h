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
  // Timeouts usually arrive in deadline order (a zero or fixed delay, each
  // call later than the last): those join a FIFO in O(1); the others go
  // into the heap. Both stay sorted by (deadline, submission), and the
  // next due is the earlier of their heads.
  void start(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout && op->state == OpState::pending);
    TIGERIO_ASSERT(op->args.timeout.deadline_ns >= 0);
    const Op* tail = ordered_.tail();
    if (tail == nullptr || TimerHeap::deadline(tail) <= TimerHeap::deadline(op)) {
      TIGERIO_ASSERT(tail == nullptr || TimerHeap::sequence(tail) < TimerHeap::sequence(op));
      op->heap_index = kInOrdered;
      ordered_.push(op);
    } else {
      heap_.push(op);
    }
  }

  // True if op was waiting (it no longer is).
  bool cancel(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    if (op->heap_index == kInOrdered) {
      ordered_.remove(op);
      return true;
    }
    return heap_.remove(op);
  }

  // The next timeout due at now_ns, in (deadline, submission) order, or nullptr.
  Op* pop_expired(int64_t now_ns) {
    Op* op = next();
    if (op == nullptr || TimerHeap::deadline(op) > now_ns) return nullptr;
    take(op);
    return op;
  }

  Op* pop_any() {
    Op* op = next();
    if (op != nullptr) take(op);
    return op;
  }

  bool empty() const { return heap_.empty() && ordered_.empty(); }
  uint32_t size() const { return heap_.size() + ordered_.size(); }

  // The nearest deadline (monotonic ns), or -1.
  int64_t next_deadline_ns() const {
    const Op* op = next();
    return op == nullptr ? -1 : TimerHeap::deadline(op);
  }

  // A wait of timeout_ns (-1: no limit) shortened to end at the nearest deadline.
  int64_t bound_wait_ns(int64_t timeout_ns, int64_t now_ns) const {
    TIGERIO_ASSERT(timeout_ns >= -1);
    const int64_t deadline_ns = next_deadline_ns();
    if (deadline_ns < 0) return timeout_ns;
    const int64_t until_ns = std::max<int64_t>(0, deadline_ns - now_ns);
    return timeout_ns < 0 ? until_ns : std::min(timeout_ns, until_ns);
  }

 private:
  // Op::heap_index of an op in the FIFO: no heap index is that large.
  static constexpr uint32_t kInOrdered = UINT32_MAX;

  // The earlier of the two heads by (deadline, submission), or nullptr.
  Op* next() const {
    Op* ordered = ordered_.head();
    Op* heaped = heap_.top();
    if (ordered == nullptr) return heaped;
    if (heaped == nullptr) return ordered;
    const int64_t a = TimerHeap::deadline(ordered), b = TimerHeap::deadline(heaped);
    return (a < b || (a == b && TimerHeap::sequence(ordered) < TimerHeap::sequence(heaped))) ? ordered : heaped;
  }

  void take(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    if (op->heap_index == kInOrdered) {
      TIGERIO_ASSERT(ordered_.head() == op);
      ordered_.remove(op);
    } else {
      Op* popped = heap_.pop();
      TIGERIO_ASSERT(popped == op);
    }
  }

  TimerHeap heap_;
  OpQueue ordered_{};  // deadlines non-decreasing from head to tail
};

}  // namespace tigerio
