// Buffer pools for recvPooled: receives whose buffer is chosen when data
// arrives, so that a connection with nothing to read holds no buffer (the
// design's rule 11; libuv's alloc_cb, io_uring's provided buffers).
//
// A pool is `count` buffers of `size` bytes in one block of memory the
// caller gave once (a JS ArrayBuffer the IO keeps reachable until it is
// freed). Each buffer belongs to the pool (free) until a completion lends
// it to the caller, and to the caller until it gives it back (rule 3).
//
// Who keeps the free buffers: the core (a stack, for the backends that take
// a buffer once the socket is readable: epoll, kqueue, IOCP, the
// simulation), or the kernel (io_uring's provided-buffer ring, which picks
// one when data arrives); `kernel_selects` says which.
//
// An empty pool: a recvPooled that finds no free buffer is parked here
// (kOpParked), its data left in the socket, until a buffer comes back; then
// it is issued to the backend again. Nothing polls meanwhile.
#pragma once

#include <cstdint>
#include <memory>

#include "assert.h"
#include "operation.h"

namespace tigerio {

struct BufferPool {
  uint8_t* memory = nullptr;  // count * size bytes
  uint32_t count = 0;
  uint32_t size = 0;
  bool kernel_selects = false;  // the backend keeps the free buffers (Backend::pool_created)
  bool waking = false;          // Loop::pool_wake is issuing waiters: an inner call leaves it to the outer one
  uint32_t free_count = 0;      // the core's free stack (unused when kernel_selects)
  uint32_t lent_count = 0;
  uint32_t wakes_owed = 0;  // kernel_selects: buffers that came back with waiters not yet woken for them
  std::unique_ptr<uint32_t[]> free;  // count entries; [0, free_count) are free buffer indexes
  std::unique_ptr<uint8_t[]> lent;   // per buffer: 1 while the caller has it
  Op* waiters_head = nullptr;        // parked recvPooled ops, FIFO
  Op* waiters_tail = nullptr;
  uint32_t waiters_count = 0;

  uint8_t* data(uint32_t index) const {
    TIGERIO_ASSERT(index < count);
    return memory + static_cast<size_t>(index) * size;
  }

  void push_waiter(Op* op) {
    RecvPooledArgs& args = op->args.recv_pooled;
    TIGERIO_ASSERT(args.waiter_next == nullptr && args.waiter_previous == nullptr && op != waiters_head);
    args.waiter_previous = waiters_tail;
    if (waiters_tail == nullptr) {
      waiters_head = op;
    } else {
      waiters_tail->args.recv_pooled.waiter_next = op;
    }
    waiters_tail = op;
    waiters_count++;
  }

  void remove_waiter(Op* op) {
    RecvPooledArgs& args = op->args.recv_pooled;
    TIGERIO_ASSERT(waiters_count > 0);
    TIGERIO_ASSERT((args.waiter_previous == nullptr) == (op == waiters_head));
    if (args.waiter_previous == nullptr) {
      waiters_head = args.waiter_next;
    } else {
      args.waiter_previous->args.recv_pooled.waiter_next = args.waiter_next;
    }
    if (args.waiter_next == nullptr) {
      waiters_tail = args.waiter_previous;
    } else {
      args.waiter_next->args.recv_pooled.waiter_previous = args.waiter_previous;
    }
    args.waiter_next = args.waiter_previous = nullptr;
    waiters_count--;
  }
};

}  // namespace tigerio
