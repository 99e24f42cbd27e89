// Numbers shared by the C++ and TypeScript layers. addon.cc exports them as
// `binding.layout`, and io/ reads them from there: this file is the one
// definition.
#pragma once

#include <cstdint>

namespace tigerio {

// An operation id is generation * 2^kSlotBits + slot: unique for 2^32 reuses
// of a slot, below 2^53 so that it is exact in a JS number.
constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

// A completion is two int32 words: (kind << kKindShift | slot, result).
// result >= 0 is the operation's value; result < 0 is a libuv-style errno.
constexpr uint32_t kKindShift = 24;

// The state array JS reads without a native call.
constexpr uint32_t kStateInflight = 0;     // submitted, not yet harvested into completions
constexpr uint32_t kStateUndelivered = 1;  // written by JS: harvested but not yet dispatched
constexpr uint32_t kStateLength = 2;

// Bits of open()'s flags, mapped to each OS's own by its backend.
constexpr uint32_t kOpenRead = 1u << 0;
constexpr uint32_t kOpenWrite = 1u << 1;
constexpr uint32_t kOpenCreate = 1u << 2;
constexpr uint32_t kOpenTruncate = 1u << 3;
constexpr uint32_t kOpenAppend = 1u << 4;
constexpr uint32_t kOpenExclusive = 1u << 5;

constexpr uint32_t kEntriesMax = 4096;
// Slots hold the ops in flight plus one harvested batch whose callbacks are
// running (see Loop::acquire), all within the slot space.
constexpr uint32_t kOperationsMaxLimit = (1u << kSlotBits) - kEntriesMax;
constexpr uint32_t kBufferSizeMaxLimit = 0x7ffff000;
constexpr uint32_t kEventsPerIOMax = 64;

}  // namespace tigerio
