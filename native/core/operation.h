// One submitted operation: the record a slot holds from submission until JS
// has dispatched its completion. Backends keep what they need in `scratch`
// (io_uring timespecs, IOCP OVERLAPPEDs), so that no operation allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "layout.h"

namespace tigerio {

enum class OpKind : uint8_t {
  accept,
  connect,
  recv,
  send,
  timeout,
  close,
  open,
  read,
  write,
  event_listen,
  count,
};

// What IOError.syscall says for each kind (exported to JS as layout.operationNames).
inline const char* op_kind_name(OpKind kind) {
  static const char* const names[] = {"accept", "connect", "recv", "send", "timeout",
                                      "close",  "open",    "read", "write", "eventListen"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(OpKind::count), "a name per kind");
  return names[static_cast<size_t>(kind)];
}

enum class OpState : uint8_t {
  free,        // in the free list
  pending,     // owned by the backend (waiting, in flight, or a timer)
  ready,       // completed, in the loop's ready queue
  delivering,  // written into the completions array, JS dispatching it
};

// Storage for a connect()'s address, big enough for IPv6 on every OS.
struct alignas(8) AddressStorage {
  uint8_t bytes[32];
  uint32_t length;
};

struct Op {
  Op* next = nullptr;  // intrusive link: free list, ready queue, or a backend queue
  uint32_t slot = 0;
  uint32_t generation = 0;
  OpKind kind = OpKind::count;
  OpState state = OpState::free;
  uint8_t flags = 0;  // backend-private bits (e.g. "connect started")
  int32_t fd = -1;
  int32_t result = 0;
  uint8_t* buffer = nullptr;
  uint32_t length = 0;
  uint32_t heap_index = 0;  // position in the timer heap (readiness backends)
  int64_t position = -1;    // read/write: file offset (-1: current); timeout: deadline_ns; event: handle
  uint64_t sequence = 0;    // submission order: ties between equal deadlines go FIFO
  AddressStorage address;   // connect
  uint32_t open_flags = 0;  // open: layout.h kOpen* bits
  uint32_t open_mode = 0;
  std::unique_ptr<char[]> path;  // open: the path, NUL-terminated (open is not a hot path)
  alignas(16) uint8_t scratch[128];

  uint64_t id() const { return (static_cast<uint64_t>(generation) << kSlotBits) | slot; }
};

// An intrusive FIFO of operations through Op::next. O(1) push and pop;
// remove() is O(n), used only by cancel.
class OpQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  Op* head() const { return head_; }
  uint32_t size() const { return size_; }

  void push(Op* op) {
    op->next = nullptr;
    if (tail_ == nullptr) {
      head_ = op;
    } else {
      tail_->next = op;
    }
    tail_ = op;
    size_++;
  }

  Op* pop() {
    Op* op = head_;
    if (op == nullptr) return nullptr;
    head_ = op->next;
    if (head_ == nullptr) tail_ = nullptr;
    op->next = nullptr;
    size_--;
    return op;
  }

  bool remove(Op* op) {
    Op* previous = nullptr;
    for (Op* it = head_; it != nullptr; previous = it, it = it->next) {
      if (it != op) continue;
      if (previous == nullptr) {
        head_ = it->next;
      } else {
        previous->next = it->next;
      }
      if (tail_ == it) tail_ = previous;
      it->next = nullptr;
      size_--;
      return true;
    }
    return false;
  }

 private:
  Op* head_ = nullptr;
  Op* tail_ = nullptr;
  uint32_t size_ = 0;
};

}  // namespace tigerio
