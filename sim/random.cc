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

}  // namespace hindcast::sim
