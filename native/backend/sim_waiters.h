// Ops waiting in the simulated world (on a socket, or for the disk): each
// one's link and owning backend live in its Op::scratch, so waiting
// allocates nothing. Lists are FIFO: per socket direction, order is
// submission order (contract rule 4), across the IOs sharing the socket too.
#pragma once

#include <new>

#include "../core/assert.h"
#include "../core/operation.h"

namespace tigerio {

class SimulationBackend;

namespace sim {

// Waiter::cancel bits: the world's answer to the cancels of the op (sim_faults.h).
constexpr uint8_t kCancelAsked = 1u << 0;    // its first cancel came (the ignore fault was drawn then)
constexpr uint8_t kCancelIgnored = 1u << 1;  // every cancel of it is ignored: it ends only on its own

struct Waiter {
  Op* next;
  SimulationBackend* backend;
  uint8_t waiting;  // in a WaitList
  uint8_t cancel;   // kCancel* bits, from its issue on
};
static_assert(sizeof(Waiter) <= sizeof(Op::scratch), "a waiter fits in an op's scratch (platform.h kOpScratchBytes)");
static_assert(alignof(Waiter) <= kOpScratchAlignment, "Op::scratch is aligned for a waiter");

inline Waiter& waiter_of(Op* op) { return *reinterpret_cast<Waiter*>(op->scratch); }

struct WaitList {
  Op* head = nullptr;
  Op* tail = nullptr;

  bool empty() const { return head == nullptr; }
  Op* front() const { return head; }

  // `mark` is what Waiter::waiting says while it is here (the owner's own kinds of waiting).
  void push(Op* op, uint8_t mark = 1) {
    Waiter& waiter = waiter_of(op);
    TIGERIO_ASSERT(waiter.waiting == 0 && mark != 0);
    waiter.next = nullptr;
    waiter.waiting = mark;
    if (tail == nullptr) {
      head = op;
    } else {
      waiter_of(tail).next = op;
    }
    tail = op;
  }

  void pop() {
    TIGERIO_ASSERT(head != nullptr);
    remove(head);
  }

  // False if op is not in this list.
  bool remove(Op* op) {
    Op* previous = nullptr;
    for (Op* it = head; it != nullptr; previous = it, it = waiter_of(it).next) {
      if (it != op) continue;
      Op* next = waiter_of(it).next;
      if (previous == nullptr) {
        head = next;
      } else {
        waiter_of(previous).next = next;
      }
      if (tail == op) tail = previous;
      waiter_of(op).next = nullptr;
      waiter_of(op).waiting = 0;
      return true;
    }
    return false;
  }
};

}  // namespace sim
}  // namespace tigerio
