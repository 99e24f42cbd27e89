// The completion slots: every operation in flight owns one, from submission
// until JS has dispatched its completion. Slots live in chunks that are never
// moved (so Op pointers stay valid) and never freed before the IO; the table
// grows a chunk at a time up to operations_max, then acquire() says full.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <memory>
#include <vector>

#include "assert.h"
#include "operation.h"

namespace tigerio {

class OpTable {
 public:
  static constexpr uint32_t kChunkSize = 256;

  explicit OpTable(uint32_t slots_max) : operations_max_(slots_max) {
    TIGERIO_ASSERT(slots_max >= 1 && slots_max <= (1u << kSlotBits));
  }

  // A free op, its state still `free`; nullptr when slots_max are in use.
  Op* acquire() {
    if (free_ == nullptr && !grow()) return nullptr;
    Op* op = free_;
    free_ = op->next;
    op->next = nullptr;
    in_use_++;
    TIGERIO_ASSERT(op->state == OpState::free && op->previous == nullptr);
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
    op->next = free_;
    free_ = op;
    in_use_--;
  }

  // The op with this id, if it is still the one in its slot; else nullptr.
  Op* find(uint64_t id) {
    TIGERIO_ASSERT(capacity_ <= operations_max_);
    const uint32_t slot = static_cast<uint32_t>(id & kSlotMask);
    const uint64_t generation = id >> kSlotBits;
    if (slot >= capacity_) return nullptr;
    Op* op = at(slot);
    if (op->state == OpState::free || op->generation != generation) return nullptr;
    return op;
  }

  Op* at(uint32_t slot) { return &chunks_[slot / kChunkSize][slot % kChunkSize]; }
  uint32_t capacity() const { return capacity_; }
  uint32_t in_use() const { return in_use_; }

 private:
  bool grow() {
    if (capacity_ >= operations_max_) return false;
    const uint32_t count = std::min(kChunkSize, operations_max_ - capacity_);
    std::unique_ptr<Op[]> chunk(new (std::nothrow) Op[kChunkSize]);
    if (!chunk) return false;
    // Push in reverse so that slots are handed out in ascending order.
    for (uint32_t i = count; i-- > 0;) {
      Op* op = &chunk[i];
      op->slot = capacity_ + i;
      op->next = free_;
      free_ = op;
    }
    chunks_.push_back(std::move(chunk));
    capacity_ += count;
    return true;
  }

  const uint32_t operations_max_;
  std::vector<std::unique_ptr<Op[]>> chunks_;
  Op* free_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t in_use_ = 0;
};

}  // namespace tigerio
