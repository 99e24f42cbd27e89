// The simulation's one source of randomness: xoshiro256** seeded through
// splitmix64 (as TigerBeetle's simulator draws everything from one seed).
// Integer arithmetic only, so the same seed gives the same draws on every
// OS and compiler (no libm, no floating point whose rounding could differ).
#pragma once

#include <cstdint>

#include "../core/assert.h"

namespace tigerio {
namespace sim {

class Random {
 public:
  explicit Random(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& word : state_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
    TIGERIO_ASSERT((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). The modulo bias (< 2^-40 for our bounds) is irrelevant here.
  uint64_t below(uint64_t bound) {
    TIGERIO_ASSERT(bound > 0);
    return next() % bound;
  }

  // True with probability ppm / 1,000,000. Draws nothing when ppm is 0, so
  // turning a fault off never shifts the draws of the others.
  bool chance(uint32_t ppm) {
    TIGERIO_ASSERT(ppm <= kMillion);
    if (ppm == 0) return false;
    return below(kMillion) < ppm;
  }

  // About exponential with mean mean_ns, integers only: a geometric number
  // of halvings (leading zeros of a random word) plus a uniform fraction,
  // scaled by ln 2 (710/1024): E[k + u] = 1.5, times 0.693 is 1.04.
  int64_t exponential_ns(int64_t mean_ns) {
    TIGERIO_ASSERT(mean_ns >= 0);
    if (mean_ns == 0) return 0;
    uint64_t word = next() | 1;
    uint64_t zeros = 0;
    while ((word & (uint64_t{1} << 63)) == 0) {
      word <<= 1;
      zeros++;
    }
    const uint64_t units = zeros * 1024 + below(1024);  // (k + u) * 1024
    const uint64_t scaled = units * 710 / 1024;         // * ln 2, still * 1024
    const int64_t result = static_cast<int64_t>((static_cast<uint64_t>(mean_ns) / 1024 + 1) * scaled);
    TIGERIO_ASSERT(result >= 0);
    return result;
  }

  static constexpr uint32_t kMillion = 1000000;

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace sim
}  // namespace tigerio
