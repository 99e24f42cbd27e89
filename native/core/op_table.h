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
// Storage lives in chunks that are never moved (so Op pointers stay valid)
// and never freed before the IO. The two grow apart, each only when it
// must: the slot map when io/ first uses a higher slot, the storage when
// every Op is in use, so an IO holds about as many Ops as it ever had in
// flight, not one per slot (io/'s reuse distance alone spans 1,024 slots).
// Growing is the only allocation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "assert.h"
#include "operation.h"

namespace tigerio {

class OpTable {
 public:
  static constexpr uint32_t kChunkSize = 256;

  explicit OpTable(uint32_t slots_max) : slots_max_(slots_max) {
    TIGERIO_ASSERT(slots_max >= 1 && slots_max <= (1u << kSlotBits));
  }

  // A free Op for `slot`, which must have none; nullptr if the memory for
  // the slot map or for one more chunk of Ops cannot be had.
  Op* acquire(uint32_t slot) {
    TIGERIO_ASSERT(slot < slots_max_);
    if (slot >= slots_.size() && !grow_slots(slot)) return nullptr;
    TIGERIO_ASSERT(slots_[slot].op == nullptr);
    if (free_.empty() && !grow_storage()) return nullptr;
    Op* op = free_.back();
    free_.pop_back();
    TIGERIO_ASSERT(op->state == OpState::free && op->next == nullptr && op->previous == nullptr);
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
    TIGERIO_ASSERT(op->slot < slots_.size() && slots_[op->slot].op == op);
    if (free_.empty() && !grow_storage()) return nullptr;
    Op* stand_in = free_.back();
    free_.pop_back();
    TIGERIO_ASSERT(stand_in->state == OpState::free && stand_in->next == nullptr && stand_in->previous == nullptr);
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
    op->state = OpState::free;
    op->args = OpArgs{};
    op->path_storage.reset();
    op->fd = -1;
    op->core_flags = 0;
    op->backend_flags = 0;
    TIGERIO_ASSERT(free_.size() < storage_count());
    free_.push_back(op);
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
    TIGERIO_ASSERT(op->slot < slots_.size() && slots_[op->slot].op == op);
    Slot& slot = slots_[op->slot];
    TIGERIO_ASSERT(op->generation == slot.generation);
    slot.op = nullptr;
    slot.generation++;  // ids of the old operation no longer match this slot
    op->state = OpState::free;
    op->args = OpArgs{};
    op->path_storage.reset();
    op->fd = -1;
    op->core_flags = 0;
    op->backend_flags = 0;
    TIGERIO_ASSERT(free_.size() < storage_count());
    free_.push_back(op);  // capacity reserved in grow_storage(): never allocates
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
    Op* op = slot < slots_.size() ? slots_[slot].op : nullptr;
    TIGERIO_ASSERT(op == nullptr || op->slot == slot);
    return op;
  }

  // Ops taken from storage and not yet given back.
  uint32_t in_use() const { return storage_count() - static_cast<uint32_t>(free_.size()); }
  uint32_t slots_max() const { return slots_max_; }

 private:
  struct Slot {
    Op* op = nullptr;
    uint32_t generation = 0;
  };

  uint32_t storage_count() const { return static_cast<uint32_t>(chunks_.size()) * kChunkSize; }

  // The slot map up to `slot`'s chunk of slots (ending at slots_max).
  bool grow_slots(uint32_t slot) {
    TIGERIO_ASSERT(slot < slots_max_ && slot >= slots_.size());
    const uint32_t count = std::min(slots_max_, (slot / kChunkSize + 1) * kChunkSize);
    // std::vector reports a failed allocation by throwing: nothing may throw across Node-API.
    try {
      slots_.resize(count);
    } catch (const std::bad_alloc&) {
      return false;
    }
    TIGERIO_ASSERT(slot < slots_.size() && slots_.size() <= slots_max_);
    return true;
  }

  // One more chunk of Ops, all free; called only when every Op is in use.
  bool grow_storage() {
    TIGERIO_ASSERT(free_.empty());
    // A free slot is being filled, so fewer than slots_max Ops hold one.
    TIGERIO_ASSERT(in_use() - retired_ < slots_max_);
    std::unique_ptr<Op[]> chunk(new (std::nothrow) Op[kChunkSize]);
    if (!chunk) return false;
    try {
      chunks_.reserve(chunks_.size() + 1);
      free_.reserve(storage_count() + kChunkSize);
    } catch (const std::bad_alloc&) {
      return false;
    }
    // Pushed in reverse, so the chunk's first Op is taken first.
    for (uint32_t i = kChunkSize; i > 0; i--) free_.push_back(&chunk[i - 1]);
    chunks_.push_back(std::move(chunk));
    TIGERIO_ASSERT(free_.size() == kChunkSize && free_.capacity() >= storage_count());
    return true;
  }

  const uint32_t slots_max_;
  std::vector<std::unique_ptr<Op[]>> chunks_;  // the storage
  std::vector<Op*> free_;                      // storage not in use, last freed on top
  std::vector<Slot> slots_;                    // per slot: its op (nullptr when free) and generation
  uint32_t retired_ = 0;                       // Ops out of storage with no slot (stand_in_for)
};

}  // namespace tigerio
