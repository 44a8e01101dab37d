// The simulation's only source of randomness: xoshiro256** seeded through splitmix64.
//
// One run seed derives an independent child stream per component, by name:
//
//   Rng root(seed);
//   Rng net = root.Child("network");
//   Rng disk3 = root.Child("disk", 3);
//   Duration d = net.UniformDuration(Duration::Micros(50), Duration::Millis(2));
//   if (disk3.Chance(1, 1000)) { ... }
//
// A child's stream depends only on the parent's identity and the child's name, never on how
// many numbers the parent or a sibling has drawn, so adding a component does not shift the
// draws of the others. Helpers are integer-only and specified here, because
// std::*_distribution differ between standard libraries.
#ifndef HINDCAST_SIM_RANDOM_H_
#define HINDCAST_SIM_RANDOM_H_

#include <cstdint>
#include <string_view>

#include "sim/assert.h"
#include "sim/time.h"

namespace hindcast::sim {

// Fault and probability rates are integers in parts per million of draws.
inline constexpr uint32_t kPartsPerMillion = 1'000'000;

// splitmix64's finalizer: a bijective 64-bit mixer, also used to derive stream identities.
uint64_t Mix64(uint64_t x);

// 64-bit FNV-1a of `bytes`; stable across platforms, used to turn names into stream ids.
uint64_t HashName(std::string_view bytes);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // Independent stream for a named component (and optional index, e.g. a node id).
  Rng Child(std::string_view name, uint64_t index = 0) const;

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n); n > 0. Lemire's multiply-shift with rejection, so unbiased.
  uint64_t Uniform(uint64_t n) {
    HC_ASSERT(n > 0);
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Uniform in [lo, hi], both inclusive; lo <= hi.
  int64_t UniformRange(int64_t lo, int64_t hi) {
    HC_ASSERT(lo <= hi);
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == UINT64_MAX) return static_cast<int64_t>(Next());
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + Uniform(span + 1));
  }
  // True with probability numerator / denominator; 0 <= numerator <= denominator, denom > 0.
  bool Chance(uint64_t numerator, uint64_t denominator) {
    HC_ASSERT(denominator > 0 && numerator <= denominator);
    if (numerator == 0) return false;  // Draw nothing: a zero-probability fault costs no draw.
    return Uniform(denominator) < numerator;
  }
  Duration UniformDuration(Duration lo, Duration hi) {
    return Duration::Nanos(UniformRange(lo.ns(), hi.ns()));
  }

  // The identity this stream was derived from; equal identities give equal streams.
  uint64_t identity() const { return identity_; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t identity_;
  uint64_t s_[4];
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_RANDOM_H_
