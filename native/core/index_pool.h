// Indexes into a vector (or deque) of slots that never shrinks: a freed index is
// reused (last freed, first reused) before the vector grows, and it grows
// only up to a limit. The registered buffers and the simulation's sockets,
// datagrams and file handles take their indexes this way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "assert.h"

namespace tigerio {

// An index of `slots` for a new user: a freed one, else a new
// default-constructed slot at the end. False (nothing changed) when the
// free list is empty and `slots` already holds `slots_max`.
template <typename Slots>
bool take_index(std::vector<uint32_t>& free, Slots& slots, size_t slots_max, uint32_t* index) {
  TIGERIO_ASSERT(slots_max <= UINT32_MAX && free.size() <= slots.size());
  if (!free.empty()) {
    *index = free.back();
    free.pop_back();
  } else {
    if (slots.size() >= slots_max) return false;
    slots.emplace_back();
    *index = static_cast<uint32_t>(slots.size() - 1);
  }
  TIGERIO_ASSERT(*index < slots.size());
  return true;
}

}  // namespace tigerio
