// A binary min-heap of timeout operations by (deadline_ns, sequence), with
// O(log n) removal for cancel through Op::heap_index. Deadlines are on the
// monotonic clock (clock.h); equal deadlines fire in submission order.
#pragma once

#include <cstdint>
#include <vector>

#include "assert.h"
#include "operation.h"

namespace tigerio {

class TimerHeap {
 public:
  bool empty() const { return heap_.empty(); }
  uint32_t size() const { return static_cast<uint32_t>(heap_.size()); }
  Op* top() const { return heap_.empty() ? nullptr : heap_[0]; }
  static int64_t deadline(const Op* op) { return op->position; }

  void push(Op* op) {
    op->heap_index = size();
    heap_.push_back(op);
    sift_up(op->heap_index);
  }

  Op* pop() {
    TIGERIO_ASSERT(!heap_.empty());
    Op* op = heap_[0];
    remove_at(0);
    return op;
  }

  // True if `op` was in the heap.
  bool remove(Op* op) {
    const uint32_t index = op->heap_index;
    if (index >= size() || heap_[index] != op) return false;
    remove_at(index);
    return true;
  }

 private:
  static bool before(const Op* a, const Op* b) {
    return a->position < b->position || (a->position == b->position && a->sequence < b->sequence);
  }

  void remove_at(uint32_t index) {
    const uint32_t last = size() - 1;
    if (index != last) {
      heap_[index] = heap_[last];
      heap_[index]->heap_index = index;
    }
    heap_.pop_back();
    if (index < size()) {
      sift_down(index);
      sift_up(index);
    }
  }

  void sift_up(uint32_t index) {
    while (index > 0) {
      const uint32_t parent = (index - 1) / 2;
      if (!before(heap_[index], heap_[parent])) break;
      swap(index, parent);
      index = parent;
    }
  }

  void sift_down(uint32_t index) {
    for (;;) {
      const uint32_t left = 2 * index + 1;
      if (left >= size()) break;
      uint32_t smallest = left;
      if (left + 1 < size() && before(heap_[left + 1], heap_[left])) smallest = left + 1;
      if (!before(heap_[smallest], heap_[index])) break;
      swap(index, smallest);
      index = smallest;
    }
  }

  void swap(uint32_t a, uint32_t b) {
    Op* op = heap_[a];
    heap_[a] = heap_[b];
    heap_[b] = op;
    heap_[a]->heap_index = a;
    heap_[b]->heap_index = b;
  }

  std::vector<Op*> heap_;
};

}  // namespace tigerio
