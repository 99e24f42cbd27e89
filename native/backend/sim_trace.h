// The trace of a simulation: a 64-bit hash folded over every event in order
// (ops issued and completed with their results and bytes, connects, the
// clock's moves). Equal seeds and programs give equal traces on every OS;
// the first divergence changes every later value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tigerio {
namespace sim {

class Trace {
 public:
  void mix(uint64_t value) {
    hash_ ^= value + 0x9e3779b97f4a7c15ULL + (hash_ << 6) + (hash_ >> 2);
    hash_ *= 0xff51afd7ed558ccdULL;
    hash_ ^= hash_ >> 33;
    events_++;
  }
  void mix_bytes(const uint8_t* bytes, size_t length) {
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the bytes, then folded in
    for (size_t i = 0; i < length; i++) h = (h ^ bytes[i]) * 0x100000001b3ULL;
    mix(h ^ length);
  }
  uint64_t hash() const { return hash_; }
  uint64_t events() const { return events_; }

 private:
  uint64_t hash_ = 0x243f6a8885a308d3ULL;
  uint64_t events_ = 0;
};

}  // namespace sim
}  // namespace tigerio
