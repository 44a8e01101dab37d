#include "clock/hlc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hindcast::clock {
namespace {

HlcTimestamp Ts(int64_t l, uint32_t c) { return {.l = l, .c = c}; }

// An HLC whose last timestamp is `start` (start.l > 0), reached through the rules themselves.
Hlc HlcAt(HlcTimestamp start) {
  Hlc hlc;
  hlc.Now(start.l);
  for (uint32_t i = 0; i < start.c; ++i) hlc.Now(start.l);
  return hlc;
}

TEST(HlcTest, HlcAtHelperReachesTheRequestedState) {
  EXPECT_EQ(HlcAt(Ts(10, 3)).last(), Ts(10, 3));
  EXPECT_EQ(HlcAt(Ts(10, 0)).last(), Ts(10, 0));
}

// Send / local event: l' = max(l, pt); c' = l' == l ? c + 1 : 0.
TEST(HlcTest, NowFollowsThePapersSendRule) {
  Hlc hlc;
  EXPECT_EQ(hlc.last(), Ts(0, 0));
  EXPECT_EQ(hlc.Now(10), Ts(10, 0));  // pt ahead: take it, reset c.
  EXPECT_EQ(hlc.Now(10), Ts(10, 1));  // pt equal: count.
  EXPECT_EQ(hlc.Now(9), Ts(10, 2));   // pt behind (a slow or stepped-back clock): count.
  EXPECT_EQ(hlc.Now(11), Ts(11, 0));
  EXPECT_EQ(hlc.last(), Ts(11, 0));
}

// The paper starts every node at l = 0, c = 0; a first reading of 0 then counts.
TEST(HlcTest, FirstEventAtPhysicalZeroCounts) {
  Hlc hlc;
  EXPECT_EQ(hlc.Now(0), Ts(0, 1));
  Hlc negative;
  EXPECT_EQ(negative.Now(-5), Ts(0, 1));
}

// Receive: l' = max(l, m.l, pt), and c' by which of them l' equals.
TEST(HlcTest, ReceiveWhenLocalAndMessageTieTakesTheLargerCounter) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(10, 5), 8), Ts(10, 6));
  Hlc other = HlcAt(Ts(10, 7));
  EXPECT_EQ(other.Receive(Ts(10, 5), 8), Ts(10, 8));
}

TEST(HlcTest, ReceiveWhenLocalIsAheadCountsLocally) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(9, 7), 8), Ts(10, 4));
}

TEST(HlcTest, ReceiveWhenMessageIsAheadContinuesItsCounter) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(12, 2), 11), Ts(12, 3));
}

TEST(HlcTest, ReceiveWhenPhysicalIsAheadResetsTheCounter) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(11, 9), 13), Ts(13, 0));
}

// pt equal to m.l (and above l): l' == m.l, so the message's counter continues, not 0.
TEST(HlcTest, ReceiveWhenPhysicalTiesTheMessageContinuesItsCounter) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(12, 2), 12), Ts(12, 3));
}

TEST(HlcTest, ReceiveWhenAllThreeTieCountsPastBoth) {
  Hlc hlc = HlcAt(Ts(10, 3));
  EXPECT_EQ(hlc.Receive(Ts(10, 1), 10), Ts(10, 4));
}

// Planted bug hlc_no_update_on_receive: the message is ignored, so the receive can be
// stamped below its send.
TEST(HlcTest, NoUpdateOnReceiveIgnoresTheMessage) {
  Hlc hlc(HlcOptions{.update_on_receive = false});
  const HlcTimestamp sent = Ts(100, 3);
  const HlcTimestamp received = hlc.Receive(sent, 50);
  EXPECT_EQ(received, Ts(50, 0));
  EXPECT_LT(received, sent);
}

TEST(HlcTimestampTest, OrdersByPhysicalThenCounter) {
  EXPECT_LT(Ts(1, 9), Ts(2, 0));
  EXPECT_LT(Ts(2, 0), Ts(2, 1));
  EXPECT_LT(Ts(-3, 4), Ts(0, 0));
  EXPECT_EQ(Ts(5, 5), Ts(5, 5));
}

TEST(HlcTimestampTest, ToStringIsPhysicalDotCounter) {
  EXPECT_EQ(Ts(1234, 5).ToString(), "1234.5");
  EXPECT_EQ(Ts(-20, 0).ToString(), "-20.0");
}

TEST(HlcTimestampTest, ParseReadsWhatToStringWrites) {
  EXPECT_EQ(HlcTimestamp::Parse("1234.5").value(), Ts(1234, 5));
  EXPECT_EQ(HlcTimestamp::Parse("-20.0").value(), Ts(-20, 0));
  EXPECT_FALSE(HlcTimestamp::Parse("1234").ok());
  EXPECT_FALSE(HlcTimestamp::Parse("12.x").ok());
  EXPECT_FALSE(HlcTimestamp::Parse("12.-1").ok());
  EXPECT_FALSE(HlcTimestamp::Parse("").ok());
}

TEST(HlcTimestampTest, PackIsTwelveBigEndianBytesWithFlippedSign) {
  const std::string packed = Ts(1, 2).Pack();
  EXPECT_EQ(packed, std::string("\x80\0\0\0\0\0\0\x01\0\0\0\x02", 12));
  EXPECT_EQ(HlcTimestamp::Unpack(packed).value(), Ts(1, 2));
}

TEST(HlcTimestampTest, UnpackRejectsWrongSize) {
  EXPECT_EQ(HlcTimestamp::Unpack("short").status().code(), absl::StatusCode::kInvalidArgument);
}

RC_GTEST_PROP(HlcTimestampProperty, PackRoundTripsAndKeepsOrder,
              (int64_t l1, uint32_t c1, int64_t l2, uint32_t c2)) {
  const HlcTimestamp a = Ts(l1, c1);
  const HlcTimestamp b = Ts(l2, c2);
  RC_ASSERT(HlcTimestamp::Unpack(a.Pack()).value() == a);
  RC_ASSERT((a < b) == (a.Pack() < b.Pack()));
  RC_ASSERT(HlcTimestamp::Parse(a.ToString()).value() == a);
}

// For any mix of local events and receives with arbitrary readings and message stamps:
// timestamps strictly increase, l >= pt, a receive exceeds its message, and l is exactly the
// largest of 0, every pt and every received m.l (l never invents time).
RC_GTEST_PROP(HlcProperty, TimestampsIncreaseAndLIsTheLargestTimeHeardOf, ()) {
  const auto readings =
      *rc::gen::container<std::vector<int64_t>>(rc::gen::inRange<int64_t>(-1'000'000, 1'000'000));
  Hlc hlc;
  HlcTimestamp prev = hlc.last();
  int64_t heard = 0;
  for (int64_t pt : readings) {
    const bool receive = *rc::gen::arbitrary<bool>();
    HlcTimestamp ts;
    if (receive) {
      const HlcTimestamp m = Ts(*rc::gen::inRange<int64_t>(-1'000'000, 1'000'000),
                                *rc::gen::inRange<uint32_t>(0, 1000));
      ts = hlc.Receive(m, pt);
      RC_ASSERT(ts > m);
      heard = std::max(heard, m.l);
    } else {
      ts = hlc.Now(pt);
    }
    heard = std::max(heard, pt);
    RC_ASSERT(ts > prev);
    RC_ASSERT(ts.l >= pt);
    RC_ASSERT(ts.l == heard);
    prev = ts;
  }
}

}  // namespace
}  // namespace hindcast::clock
