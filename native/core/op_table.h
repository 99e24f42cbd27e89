// The completion slots: every operation in flight owns one, from submission
// until JS has dispatched its completion. JS chooses the slot (io/ allocates
// operation ids, so that submitting is a few stores into the submission
// queue, see layout.h); this table holds the Op of each. Slots live in
// chunks that are never moved (so Op pointers stay valid) and never freed
// before the IO; the table grows a chunk at a time up to slots_max.
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

  // The op of `slot`, free, ready to be filled; nullptr if the memory for
  // its chunk cannot be had.
  Op* acquire(uint32_t slot) {
    TIGERIO_ASSERT(slot < slots_max_);
    while (slot >= capacity_) {
      if (!grow()) return nullptr;
    }
    Op* op = at(slot);
    TIGERIO_ASSERT(op->state == OpState::free && op->next == nullptr && op->previous == nullptr);
    in_use_++;
    TIGERIO_ASSERT(in_use_ <= capacity_);
    return op;
  }

  void release(Op* op) {
    TIGERIO_ASSERT(op->state != OpState::free);
    TIGERIO_ASSERT(in_use_ > 0);
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr);
    op->state = OpState::free;
    op->generation++;  // ids of the old operation no longer match this slot
    op->args = OpArgs{};
    op->path_storage.reset();
    op->fd = -1;
    op->core_flags = 0;
    op->backend_flags = 0;
    in_use_--;
  }

  // The op with this id, if it is still the one in its slot; else nullptr.
  Op* find(uint64_t id) {
    const uint32_t slot = static_cast<uint32_t>(id & kSlotMask);
    const uint64_t generation = id >> kSlotBits;
    if (slot >= capacity_) return nullptr;
    Op* op = at(slot);
    if (op->state == OpState::free || op->generation != generation) return nullptr;
    return op;
  }

  // The op in `slot`, or nullptr beyond the slots ever used.
  Op* slot(uint32_t slot) { return slot < capacity_ ? at(slot) : nullptr; }

  uint32_t in_use() const { return in_use_; }
  uint32_t slots_max() const { return slots_max_; }

 private:
  Op* at(uint32_t slot) {
    TIGERIO_ASSERT(slot < capacity_);
    return &chunks_[slot / kChunkSize][slot % kChunkSize];
  }

  bool grow() {
    if (capacity_ >= slots_max_) return false;
    std::unique_ptr<Op[]> chunk(new (std::nothrow) Op[kChunkSize]);
    if (!chunk) return false;
    for (uint32_t i = 0; i < kChunkSize; i++) chunk[i].slot = capacity_ + i;
    chunks_.push_back(std::move(chunk));
    capacity_ += std::min(kChunkSize, slots_max_ - capacity_);
    TIGERIO_ASSERT(capacity_ <= slots_max_);
    return true;
  }

  const uint32_t slots_max_;
  std::vector<std::unique_ptr<Op[]>> chunks_;
  uint32_t capacity_ = 0;
  uint32_t in_use_ = 0;
};

}  // namespace tigerio
