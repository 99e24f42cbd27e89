// The completion slots: every operation in flight owns one, from submission
// until JS has dispatched its completion. JS chooses the slot (io/ allocates
// operation ids, so that submitting is a few stores into the submission
// queue, see layout.h); this table maps each slot in use to an Op.
//
// Slots and Op storage are kept apart because they want opposite reuse.
// io/ reuses slots first-in first-out, at least 1,024 apart, so that an id
// stays unique for a million operations. Op storage is reused last-in
// first-out, so a new operation takes the Op its predecessor just left,
// still in cache: with storage tied to the slot, every submission read an
// Op last touched a thousand operations ago, and that cache miss was 2-3%
// of the sample server's CPU (Loop::acquire, perf, under wrk).
//
// The slot map is one array for every slot the IO may use, allocated once
// as zeroed virtual memory (as the fd table is): a page of it costs memory
// once io/ first uses a slot there, and it is never copied or grown. Op
// storage lives in chunks that are never moved (so Op pointers stay valid)
// and never freed before the IO, added only when every Op is in use, so an
// IO holds about as many Ops as it ever had in flight, not one per slot
// (io/'s reuse distance alone spans 1,024 slots). Free Ops are linked
// through their own `next`, so storage needs no list beside it. Adding a
// chunk is the only allocation.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "assert.h"
#include "operation.h"

namespace tigerio {

class OpTable {
 public:
  static constexpr uint32_t kChunkSize = 256;

  explicit OpTable(uint32_t slots_max) : slots_max_(slots_max) {
    TIGERIO_ASSERT(slots_max >= 1 && slots_max <= (1u << kSlotBits));
    slots_ = static_cast<Slot*>(std::calloc(slots_max, sizeof(Slot)));
    TIGERIO_ASSERT(slots_ != nullptr);  // virtual memory: zero pages until touched
  }
  ~OpTable() { std::free(slots_); }
  OpTable(const OpTable&) = delete;
  OpTable& operator=(const OpTable&) = delete;

  // A free Op for `slot`, which must have none; nullptr if the memory for
  // one more chunk of Ops cannot be had.
  Op* acquire(uint32_t slot) {
    TIGERIO_ASSERT(slot < slots_max_);
    TIGERIO_ASSERT(slots_[slot].op == nullptr);
    Op* op = take_free();
    if (op == nullptr) return nullptr;
    op->slot = slot;
    op->generation = slots_[slot].generation;  // a copy, so that Op::id() needs no table
    slots_[slot].op = op;
    TIGERIO_ASSERT(in_use() - retired_ <= slots_max_);  // each Op in use holds a slot, but the retired
    return op;
  }

  // Loop::abandon: `op` gives its slot, with its id, to a stand-in from
  // storage, and is retired: it holds no slot, and its storage (where the
  // kernel may still write) is not reused until give_back(). nullptr if no
  // memory for one more chunk of Ops could be had.
  Op* stand_in_for(Op* op) {
    TIGERIO_ASSERT(op->state == OpState::pending);
    TIGERIO_ASSERT(op->slot < slots_max_ && slots_[op->slot].op == op);
    Op* stand_in = take_free();
    if (stand_in == nullptr) return nullptr;
    stand_in->slot = op->slot;
    stand_in->generation = op->generation;
    slots_[op->slot].op = stand_in;
    retired_++;
    return stand_in;
  }

  // A retired op's storage back, once its kernel has answered.
  void give_back(Op* op) {
    TIGERIO_ASSERT(op->state == OpState::abandoned && retired_ > 0);
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr);
    retired_--;
    put_free(op);
  }

  // The end of an IO whose kernel still holds retired ops: their chunks
  // are never freed (until the process exits), the rest with them.
  void leak() {
    TIGERIO_ASSERT(retired_ > 0);
    for (std::unique_ptr<Op[]>& chunk : chunks_) (void)chunk.release();
  }

  uint32_t retired() const { return retired_; }

  // Frees the slot of `op` (its ids go stale) and returns `op` to storage.
  void release(Op* op) {
    TIGERIO_ASSERT(op->state != OpState::free);
    TIGERIO_ASSERT(in_use() > 0);
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr);
    TIGERIO_ASSERT(op->slot < slots_max_ && slots_[op->slot].op == op);
    Slot& slot = slots_[op->slot];
    TIGERIO_ASSERT(op->generation == slot.generation);
    slot.op = nullptr;
    slot.generation++;  // ids of the old operation no longer match this slot
    put_free(op);
  }

  // The op with this id, if it is still the one in its slot; else nullptr.
  Op* find(uint64_t id) {
    Op* op = slot(static_cast<uint32_t>(id & kSlotMask));
    if (op == nullptr || op->generation != id >> kSlotBits) return nullptr;
    TIGERIO_ASSERT(op->state != OpState::free);
    return op;
  }

  // The op in `slot`, or nullptr when the slot has none.
  Op* slot(uint32_t slot) {
    Op* op = slot < slots_max_ ? slots_[slot].op : nullptr;
    TIGERIO_ASSERT(op == nullptr || op->slot == slot);
    return op;
  }

  // Ops taken from storage and not yet given back.
  uint32_t in_use() const { return storage_count() - free_count_; }
  uint32_t slots_max() const { return slots_max_; }

 private:
  struct Slot {
    Op* op;
    uint32_t generation;
  };
  static_assert(std::is_trivial<Slot>::value, "a zeroed Slot is a free one, at generation 0");

  uint32_t storage_count() const { return static_cast<uint32_t>(chunks_.size()) * kChunkSize; }

  // The Op last freed (LIFO: still in cache), or nullptr if the memory for
  // one more chunk cannot be had.
  Op* take_free() {
    if (free_ == nullptr && !grow_storage()) return nullptr;
    Op* op = free_;
    TIGERIO_ASSERT(op->state == OpState::free && op->previous == nullptr);
    TIGERIO_ASSERT(free_count_ > 0);
    free_ = op->next;
    free_count_--;
    op->next = nullptr;
    return op;
  }

  void put_free(Op* op) {
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr);
    TIGERIO_ASSERT(free_count_ < storage_count());
    op->state = OpState::free;
    op->args = OpArgs{};
    op->path_storage.reset();
    op->fd = -1;
    op->core_flags = 0;
    op->backend_flags = 0;
    op->next = free_;
    free_ = op;
    free_count_++;
  }

  // One more chunk of Ops, all free; called only when every Op is in use.
  bool grow_storage() {
    TIGERIO_ASSERT(free_ == nullptr && free_count_ == 0);
    // A free slot is being filled, so fewer than slots_max Ops hold one.
    TIGERIO_ASSERT(in_use() - retired_ < slots_max_);
    std::unique_ptr<Op[]> chunk(new (std::nothrow) Op[kChunkSize]);
    if (!chunk) return false;
    // std::vector reports a failed allocation by throwing: nothing may throw across Node-API.
    try {
      chunks_.reserve(chunks_.size() + 1);
    } catch (const std::bad_alloc&) {
      return false;
    }
    // Linked in reverse, so the chunk's first Op is taken first.
    for (uint32_t i = kChunkSize; i > 0; i--) {
      chunk[i - 1].next = free_;
      free_ = &chunk[i - 1];
    }
    free_count_ = kChunkSize;
    chunks_.push_back(std::move(chunk));
    return true;
  }

  const uint32_t slots_max_;
  std::vector<std::unique_ptr<Op[]>> chunks_;  // the storage
  Op* free_ = nullptr;                         // storage not in use, through Op::next, last freed first
  uint32_t free_count_ = 0;
  Slot* slots_ = nullptr;                      // per slot: its op (nullptr when free) and generation
  uint32_t retired_ = 0;                       // Ops out of storage with no slot (stand_in_for)
};

}  // namespace tigerio
