#include "sim/random.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace hindcast::sim {
namespace {

// xoshiro256** seeded by splitmix64 must give these values on every platform; they were
// produced by this implementation and checked against the reference splitmix64 output
// for seed 0 (0xe220a8397b1dcdaf is splitmix64's first output).
TEST(RngTest, SplitmixFirstOutputMatchesReference) {
  EXPECT_EQ(Mix64(0x9e3779b97f4a7c15ULL), 0xe220a8397b1dcdafULL);
}

TEST(RngTest, ChildStreamsIgnoreParentDrawsAndSiblingOrder) {
  Rng a(7);
  Rng b(7);
  for (int i = 0; i < 100; ++i) b.Next();
  Rng net_first = a.Child("network");
  Rng disk = a.Child("disk", 3);
  Rng net_after = b.Child("network");
  EXPECT_EQ(net_first.Next(), net_after.Next());
  EXPECT_NE(a.Child("disk", 3).Next(), a.Child("disk", 4).Next());
  EXPECT_NE(disk.identity(), a.Child("network").identity());
}

RC_GTEST_PROP(RngProperty, UniformRangeStaysInBounds, (uint64_t seed, int32_t lo, uint16_t span)) {
  Rng rng(seed);
  const int64_t hi = int64_t{lo} + span;
  for (int i = 0; i < 50; ++i) {
    const int64_t v = rng.UniformRange(lo, hi);
    RC_ASSERT(v >= lo);
    RC_ASSERT(v <= hi);
  }
}

TEST(RngTest, UniformIsRoughlyUniform) {
  Rng rng(12345);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 100000; ++i) ++counts[rng.Uniform(10)];
  for (int c : counts) {
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
}

TEST(RngTest, ChanceExtremes) {
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rng.Chance(0, 10));
    EXPECT_TRUE(rng.Chance(10, 10));
  }
}

}  // namespace
}  // namespace hindcast::sim
