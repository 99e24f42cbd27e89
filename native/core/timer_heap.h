// A 4-ary min-heap of timeout operations by (deadline_ns, sequence), with
// O(log n) removal for cancel through Op::heap_index. Deadlines are on the
// monotonic clock (clock.h); equal deadlines fire in submission order.
//
// Each entry carries its own key (deadline, sequence) beside the Op*, so
// that sifting compares keys in the heap's own contiguous array and never
// reads an Op (a ~250-byte record elsewhere in memory); an Op is touched only
// to record its new index when it moves. Four children per node halves the
// depth of a binary heap, and the four child keys sit in one or two cache
// lines. Sifting moves a hole instead of swapping. (Measured with 1,000,000
// timeouts: the binary heap of Op* spent most of its time in cache misses on
// the Ops its comparisons read.)
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
  Op* top() const { return heap_.empty() ? nullptr : heap_[0].op; }
  static int64_t deadline(const Op* op) { return op->args.timeout.deadline_ns; }
  static uint64_t sequence(const Op* op) { return op->args.timeout.sequence; }

  void push(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    heap_.push_back(Entry{deadline(op), sequence(op), op});
    sift_up(size() - 1, heap_.back());
    TIGERIO_ASSERT(heap_[op->heap_index].op == op);
  }

  Op* pop() {
    TIGERIO_ASSERT(!heap_.empty());
    Op* op = heap_[0].op;
    remove_at(0);
    TIGERIO_ASSERT(heap_.empty() || !before(heap_[0], Entry{deadline(op), sequence(op), op}));
    return op;
  }

  // True if `op` was in the heap.
  bool remove(Op* op) {
    TIGERIO_ASSERT(op->kind == OpKind::timeout);
    const uint32_t index = op->heap_index;
    if (index >= size() || heap_[index].op != op) return false;
    remove_at(index);
    return true;
  }

 private:
  static constexpr uint32_t kArity = 4;
  static_assert(kArity >= 2 && (kArity & (kArity - 1)) == 0, "a power-of-two arity");

  struct Entry {
    int64_t deadline;
    uint64_t sequence;
    Op* op;
  };

  static bool before(const Entry& a, const Entry& b) {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
  }

  void place(uint32_t index, const Entry& entry) {
    TIGERIO_ASSERT(index < heap_.size() && entry.op != nullptr);
    heap_[index] = entry;
    entry.op->heap_index = index;
  }

  void remove_at(uint32_t index) {
    TIGERIO_ASSERT(index < heap_.size());
    const Entry last = heap_.back();
    heap_.pop_back();
    if (index == size()) return;  // removed the last entry itself
    // `last` goes into the hole at `index`, then up or down as its key says.
    if (index > 0 && before(last, heap_[(index - 1) / kArity])) {
      sift_up(index, last);
    } else {
      sift_down(index, last);
    }
  }

  // Moves the hole at `index` up while `entry` belongs above it, then fills it.
  void sift_up(uint32_t index, const Entry entry) {
    TIGERIO_ASSERT(index < heap_.size());
    while (index > 0) {
      const uint32_t parent = (index - 1) / kArity;
      if (!before(entry, heap_[parent])) break;
      place(index, heap_[parent]);
      index = parent;
    }
    place(index, entry);
  }

  // Moves the hole at `index` down while a child belongs above `entry`, then fills it.
  void sift_down(uint32_t index, const Entry entry) {
    const uint32_t count = size();
    TIGERIO_ASSERT(index < count);
    for (;;) {
      const uint32_t first = index * kArity + 1;
      if (first >= count) break;
      const uint32_t end = first + kArity < count ? first + kArity : count;
      uint32_t smallest = first;
      for (uint32_t child = first + 1; child < end; child++) {
        if (before(heap_[child], heap_[smallest])) smallest = child;
      }
      if (!before(heap_[smallest], entry)) break;
      place(index, heap_[smallest]);
      index = smallest;
    }
    place(index, entry);
  }

  std::vector<Entry> heap_;
};

}  // namespace tigerio
