// The monotonic clock every timeout is measured on.
#pragma once

#include <chrono>
#include <cstdint>

namespace tigerio {

inline int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tigerio
