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
// The slot map is one word per slot the IO may use, allocated once as
// zeroed virtual memory (as the fd table is): a page of it costs memory
// once io/ first uses a slot there, and it is never copied or grown. A
// word holds the slot's Op, or, while the slot is free, the generation its
// next Op takes (see SlotWord below), so a slot costs 8 bytes. Op
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
#include <unordered_map>
#include <vector>

#include "assert.h"
#include "operation.h"

namespace tigerio {

class OpTable {
 public:
  static constexpr uint32_t kChunkSize = 256;

  explicit OpTable(uint32_t slots_max) : slots_max_(slots_max) {
    TIGERIO_ASSERT(slots_max >= 1 && slots_max <= (1u << kSlotBits));
    slots_ = static_cast<uint64_t*>(std::calloc(slots_max, sizeof(uint64_t)));
    TIGERIO_ASSERT(slots_ != nullptr);  // virtual memory: zero pages until touched
  }
  ~OpTable() { std::free(slots_); }
  OpTable(const OpTable&) = delete;
  OpTable& operator=(const OpTable&) = delete;

  // A free Op for `slot`, which must have none; nullptr if the memory for
  // one more chunk of Ops cannot be had.
  Op* acquire(uint32_t slot) {
    TIGERIO_ASSERT(slot < slots_max_);
    TIGERIO_ASSERT(word_is_free(slots_[slot]));
    Op* op = take_free();
    if (op == nullptr) return nullptr;
    op->slot = slot;
    op->generation = free_generation(slots_[slot]);  // kept in the Op while it holds the slot
    slots_[slot] = word_of(op);
    TIGERIO_ASSERT(in_use() - retired_ <= slots_max_);  // each Op in use holds a slot, but the retired
    return op;
  }

  // Loop::abandon: `op` gives its slot, with its id, to a stand-in from
  // storage, and is retired: it holds no slot, and its storage (where the
  // kernel may still write) is not reused until give_back(). nullptr if no
  // memory for one more chunk of Ops could be had.
  Op* stand_in_for(Op* op) {
    TIGERIO_ASSERT(op->state == OpState::pending);
    TIGERIO_ASSERT(op->slot < slots_max_ && slots_[op->slot] == word_of(op));
    Op* stand_in = take_free();
    if (stand_in == nullptr) return nullptr;
    stand_in->slot = op->slot;
    stand_in->generation = op->generation;
    slots_[op->slot] = word_of(stand_in);
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
  // are never freed (until the process exits), the rest with them, paths too.
  void leak() {
    TIGERIO_ASSERT(retired_ > 0);
    for (std::unique_ptr<Op[]>& chunk : chunks_) (void)chunk.release();
    for (auto& path : paths_) (void)path.second.release();
  }

  // `bytes` for the path of `op` (open, connectUnix, the namespace ops),
  // owned here until its storage is freed (release, or give_back for a
  // retired op, whose kernel may still read it). Few ops take a path and
  // none is hot, so no Op carries a pointer for one. nullptr if the memory
  // cannot be had.
  char* path_storage(Op* op, size_t bytes) {
    TIGERIO_ASSERT(op_takes_path(op->kind) && op->state == OpState::free && bytes >= 1);
    std::unique_ptr<char[]> storage(new (std::nothrow) char[bytes]);
    if (!storage) return nullptr;
    char* path = storage.get();
    // std::unordered_map reports a failed allocation by throwing: nothing may throw across Node-API.
    try {
      const bool inserted = paths_.emplace(op, std::move(storage)).second;
      TIGERIO_ASSERT(inserted);  // one path per op
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
    return path;
  }

  uint32_t retired() const { return retired_; }

  // Frees the slot of `op` (its ids go stale) and returns `op` to storage.
  void release(Op* op) {
    TIGERIO_ASSERT(op->state != OpState::free);
    TIGERIO_ASSERT(in_use() > 0);
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr);
    TIGERIO_ASSERT(op->slot < slots_max_ && slots_[op->slot] == word_of(op));
    slots_[op->slot] = free_word(op->generation + 1);  // ids of the old operation no longer match this slot
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
    Op* op = slot < slots_max_ ? op_of(slots_[slot]) : nullptr;
    TIGERIO_ASSERT(op == nullptr || op->slot == slot);
    return op;
  }

  // Ops taken from storage and not yet given back.
  uint32_t in_use() const { return storage_count() - free_count_; }
  uint32_t slots_max() const { return slots_max_; }

 private:
  // SlotWord: a slot's one word. Held, it is its Op's address (8-aligned,
  // so its low bit is 0). Free, it is generation << 1 | 1, the generation
  // the next Op in the slot takes (the held Op keeps its own in
  // Op::generation); 0, as calloc leaves it, is a free slot at generation 0.
  static_assert(alignof(Op) >= 2 && sizeof(uintptr_t) <= sizeof(uint64_t), "an Op's address has a 0 low bit and fits a word");
  static bool word_is_free(uint64_t word) { return word == 0 || (word & 1) != 0; }
  static uint32_t free_generation(uint64_t word) {
    TIGERIO_ASSERT(word_is_free(word));
    return static_cast<uint32_t>(word >> 1);
  }
  static uint64_t free_word(uint32_t generation) { return (static_cast<uint64_t>(generation) << 1) | 1; }
  static uint64_t word_of(const Op* op) {
    const uint64_t word = reinterpret_cast<uintptr_t>(op);
    TIGERIO_ASSERT(op != nullptr && !word_is_free(word));
    return word;
  }
  static Op* op_of(uint64_t word) {
    return word_is_free(word) ? nullptr : reinterpret_cast<Op*>(static_cast<uintptr_t>(word));
  }

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
    if (!paths_.empty()) paths_.erase(op);  // a stand-in has none: its abandoned op keeps the path
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
  uint64_t* slots_ = nullptr;                  // per slot: a SlotWord (its Op, or the generation of the next)
  uint32_t retired_ = 0;                       // Ops out of storage with no slot (stand_in_for)
  std::unordered_map<const Op*, std::unique_ptr<char[]>> paths_;  // the paths of the ops that took one
};

}  // namespace tigerio
