#include "storage/timestamp.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <limits>

namespace hindcast::storage {
namespace {

constexpr uint32_t kLogicalMax = std::numeric_limits<uint32_t>::max();

TEST(TimestampTest, OrdersByPhysicalThenLogical) {
  EXPECT_LT((Timestamp{1, 9}), (Timestamp{2, 0}));
  EXPECT_LT((Timestamp{2, 0}), (Timestamp{2, 1}));
  EXPECT_EQ((Timestamp{-3, 4}), (Timestamp{-3, 4}));
  EXPECT_LT((Timestamp{-1, kLogicalMax}), (Timestamp{0, 0}));
}

TEST(TimestampTest, ToStringIsPhysicalDotLogicalWithNamedExtremes) {
  EXPECT_EQ((Timestamp{123, 4}).ToString(), "123.4");
  EXPECT_EQ((Timestamp{-20, 0}).ToString(), "-20.0");
  EXPECT_EQ(Timestamp::Min().ToString(), "min");
  EXPECT_EQ(Timestamp::Max().ToString(), "max");
}

TEST(TimestampTest, NextAndPrevCarryBetweenLogicalAndPhysical) {
  EXPECT_EQ((Timestamp{5, 1}).Next(), (Timestamp{5, 2}));
  EXPECT_EQ((Timestamp{5, kLogicalMax}).Next(), (Timestamp{6, 0}));
  EXPECT_EQ((Timestamp{6, 0}).Prev(), (Timestamp{5, kLogicalMax}));
  EXPECT_EQ((Timestamp{5, 2}).Prev(), (Timestamp{5, 1}));
}

TEST(TimestampTest, MinAndMaxAreReservedAndBoundEverything) {
  EXPECT_FALSE(Timestamp::Min().IsCommittable());
  EXPECT_FALSE(Timestamp::Max().IsCommittable());
  EXPECT_TRUE(Timestamp::Min().Next().IsCommittable());
  EXPECT_TRUE(Timestamp::Max().Prev().IsCommittable());
  EXPECT_TRUE((Timestamp{0, 0}).IsCommittable());
}

TEST(TimestampDeathTest, NoSuccessorOfMaxNorPredecessorOfMin) {
  EXPECT_DEATH((void)Timestamp::Max().Next(), "no successor");
  EXPECT_DEATH((void)Timestamp::Min().Prev(), "no predecessor");
}

RC_GTEST_PROP(TimestampProperty, NextIsTheImmediateSuccessorAndPrevUndoesIt,
              (int64_t physical, uint32_t logical)) {
  const Timestamp ts{physical, logical};
  RC_PRE(ts != Timestamp::Max());
  const Timestamp next = ts.Next();
  RC_ASSERT(ts < next);
  RC_ASSERT(next.Prev() == ts);
  // Nothing lies strictly between: the logical part counts up, then carries.
  if (logical < kLogicalMax) {
    RC_ASSERT(next == (Timestamp{physical, logical + 1}));
  } else {
    RC_ASSERT(next == (Timestamp{physical + 1, 0}));
  }
}

}  // namespace
}  // namespace hindcast::storage
