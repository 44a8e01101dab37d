#include "sim/random.h"

#include "sim/assert.h"

namespace hindcast::sim {
uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashName(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) : identity_(seed) {
  // splitmix64 expands the seed; xoshiro's state must not be all zero, which splitmix64's
  // output sequence never is for four consecutive draws.
  uint64_t x = seed;
  for (uint64_t& word : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    word = Mix64(x);
  }
}

Rng Rng::Child(std::string_view name, uint64_t index) const {
  return Rng(Mix64(identity_ ^ Mix64(HashName(name) + 0x9e3779b97f4a7c15ULL * (index + 1))));
}

uint64_t Rng::Uniform(uint64_t n) {
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

int64_t Rng::UniformRange(int64_t lo, int64_t hi) {
  HC_ASSERT(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + Uniform(span + 1));
}

bool Rng::Chance(uint64_t numerator, uint64_t denominator) {
  HC_ASSERT(denominator > 0 && numerator <= denominator);
  if (numerator == 0) return false;  // Draw nothing: a zero-probability fault costs no draw.
  return Uniform(denominator) < numerator;
}

Duration Rng::UniformDuration(Duration lo, Duration hi) {
  return Duration::Nanos(UniformRange(lo.ns(), hi.ns()));
}

}  // namespace hindcast::sim
