#include "clock/physical_clock.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>

namespace hindcast::clock {
namespace {

using sim::Duration;
using sim::Instant;

constexpr Instant At(Duration d) { return Instant::Zero() + d; }

TEST(PhysicalClockTest, ReadsTrueTimePlusOffset) {
  PhysicalClock clock({.offset_ns = 5'000'000, .max_offset = Duration::Millis(10)});
  EXPECT_EQ(clock.Read(At(Duration::Seconds(1))), 1'005'000'000);
  EXPECT_EQ(clock.Skew(At(Duration::Seconds(1))), Duration::Millis(5));
  EXPECT_TRUE(clock.WithinBound(At(Duration::Seconds(1))));
}

TEST(PhysicalClockTest, DriftAccumulatesInPartsPerMillionFromEpoch) {
  PhysicalClock fast({.drift_ppm = 100});
  EXPECT_EQ(fast.Read(At(Duration::Seconds(1))), 1'000'100'000);
  PhysicalClock slow({.drift_ppm = -50});
  EXPECT_EQ(slow.Read(At(Duration::Seconds(2))), 1'999'900'000);
  PhysicalClock late({.offset_ns = 7, .drift_ppm = 10, .epoch = At(Duration::Seconds(10))});
  EXPECT_EQ(late.Read(At(Duration::Seconds(10))), 10'000'000'007);
  EXPECT_EQ(late.Read(At(Duration::Seconds(11))), 11'000'010'007);
}

TEST(PhysicalClockTest, DriftTermTruncatesTowardZero) {
  PhysicalClock fast({.drift_ppm = 1});
  EXPECT_EQ(fast.Read(Instant::FromNanos(999'999)), 999'999);
  EXPECT_EQ(fast.Read(Instant::FromNanos(1'000'000)), 1'000'001);
  PhysicalClock slow({.drift_ppm = -1});
  EXPECT_EQ(slow.Read(Instant::FromNanos(999'999)), 999'999);
  EXPECT_EQ(slow.Read(Instant::FromNanos(1'000'000)), 999'999);
}

// 9e15 ns * 999'999 ppm is about 9e21, past int64; the 128-bit product keeps it exact.
TEST(PhysicalClockTest, LargeDriftProductIsExact) {
  PhysicalClock clock({.drift_ppm = 999'999});
  EXPECT_EQ(clock.Read(Instant::FromNanos(9'000'000'000'000'000)), 17'999'991'000'000'000);
}

TEST(PhysicalClockTest, JumpShiftsLaterReadingsEitherWay) {
  PhysicalClock clock({.offset_ns = 0, .max_offset = Duration::Millis(100)});
  const Instant t = At(Duration::Seconds(5));
  clock.Jump(Duration::Seconds(2), t);
  EXPECT_EQ(clock.Read(t), 7'000'000'000);
  EXPECT_FALSE(clock.WithinBound(t));
  clock.Jump(Duration::Seconds(-3), t + Duration::Millis(1));
  EXPECT_EQ(clock.Skew(t + Duration::Millis(1)), Duration::Seconds(-1));
  EXPECT_EQ(clock.jump_count(), 2u);
  clock.Jump(Duration::Seconds(1), t + Duration::Millis(2));
  EXPECT_TRUE(clock.WithinBound(t + Duration::Millis(2)));
}

TEST(PhysicalClockTest, ToStringNamesEveryParameter) {
  PhysicalClock clock(
      {.offset_ns = 1'250'000, .drift_ppm = -12, .max_offset = Duration::Millis(250)});
  EXPECT_EQ(clock.ToString(), "offset=+1.250ms drift=-12ppm max_offset=250.000ms jumps=0");
}

TEST(PhysicalClockTest, RandomIsDeterministicPerStream) {
  sim::Rng a(99);
  sim::Rng b(99);
  PhysicalClock x = PhysicalClock::Random(a, Duration::Millis(250));
  PhysicalClock y = PhysicalClock::Random(b, Duration::Millis(250));
  EXPECT_EQ(x.offset_ns(), y.offset_ns());
  EXPECT_EQ(x.drift_ppm(), y.drift_ppm());
}

TEST(PhysicalClockTest, ZeroMaxOffsetGivesAPerfectClock) {
  sim::Rng rng(3);
  PhysicalClock clock = PhysicalClock::Random(rng, Duration::Zero());
  EXPECT_EQ(clock.offset_ns(), 0);
  EXPECT_EQ(clock.drift_ppm(), 0);
  EXPECT_EQ(clock.Read(At(Duration::Seconds(30))), 30'000'000'000);
}

RC_GTEST_PROP(PhysicalClockProperty, RandomClockStaysWithinMaxOffsetOverItsHorizon,
              (uint64_t seed)) {
  const int64_t max_offset_ns = *rc::gen::inRange<int64_t>(0, 2'000'000'000);
  const int64_t horizon_ns = *rc::gen::inRange<int64_t>(1, 100'000'000'000'000);
  const int64_t epoch_ns = *rc::gen::inRange<int64_t>(0, 1'000'000'000'000);
  sim::Rng rng(seed);
  const Duration max_offset = Duration::Nanos(max_offset_ns);
  const Instant epoch = Instant::FromNanos(epoch_ns);
  const Duration horizon = Duration::Nanos(horizon_ns);
  PhysicalClock clock = PhysicalClock::Random(rng, max_offset, horizon, epoch);
  RC_ASSERT(std::llabs(clock.offset_ns()) <= max_offset_ns / 2);
  RC_ASSERT(std::llabs(clock.drift_ppm()) <= PhysicalClock::kMaxDriftPpm);
  for (int i = 0; i < 64; ++i) {
    const Instant t = epoch + Duration::Nanos(rng.UniformRange(0, horizon_ns));
    RC_ASSERT(clock.WithinBound(t));
  }
  RC_ASSERT(clock.WithinBound(epoch + horizon));
}

RC_GTEST_PROP(PhysicalClockProperty, ReadingsNeverDecreaseWithoutAJump, ()) {
  const int64_t drift_ppm = *rc::gen::inRange<int64_t>(-999'999, 1'000'000);
  const int64_t offset_ns = *rc::gen::inRange<int64_t>(-1'000'000'000, 1'000'000'000);
  const int64_t epoch_ns = *rc::gen::inRange<int64_t>(0, 1'000'000'000'000);
  const int64_t t1 = *rc::gen::inRange<int64_t>(0, 2'000'000'000'000);
  const int64_t step = *rc::gen::inRange<int64_t>(0, 3'000'000);
  PhysicalClock clock(
      {.offset_ns = offset_ns, .drift_ppm = drift_ppm, .epoch = Instant::FromNanos(epoch_ns)});
  RC_ASSERT(clock.Read(Instant::FromNanos(t1)) <= clock.Read(Instant::FromNanos(t1 + step)));
}

// Read takes the drift product in 64 bits when it fits and in 128 bits otherwise; either
// way the reading is the exact formula, also right at the boundary between the two, and for
// true times before the epoch (a negative elapsed time) as well as after it.
RC_GTEST_PROP(PhysicalClockProperty, ReadingIsTheExactFormulaInEveryRange, ()) {
  const int64_t drift_ppm = *rc::gen::inRange<int64_t>(-999'999, 1'000'000);
  const int64_t offset_ns = *rc::gen::inRange<int64_t>(-1'000'000'000, 1'000'000'000);
  const int64_t limit = drift_ppm == 0 ? INT64_MAX : INT64_MAX / std::abs(drift_ppm);
  const int64_t around = *rc::gen::inRange<int64_t>(-3, 4);
  const int64_t magnitude =
      *rc::gen::oneOf(rc::gen::just(std::min<int64_t>(limit, 4'000'000'000'000'000'000) + around),
                      rc::gen::inRange<int64_t>(0, 4'000'000'000'000'000'000));
  const bool before_epoch = *rc::gen::arbitrary<bool>();
  // Before the epoch: the epoch is `magnitude` past true time zero, read at zero.
  const int64_t epoch_ns = before_epoch ? magnitude : 0;
  const int64_t now_ns = before_epoch ? 0 : magnitude;
  PhysicalClock clock(
      {.offset_ns = offset_ns, .drift_ppm = drift_ppm, .epoch = Instant::FromNanos(epoch_ns)});
  const __int128 elapsed = static_cast<__int128>(now_ns) - epoch_ns;
  const __int128 expected = now_ns + offset_ns + elapsed * drift_ppm / 1'000'000;
  RC_PRE(expected >= INT64_MIN && expected <= INT64_MAX);
  RC_ASSERT(clock.Read(Instant::FromNanos(now_ns)) == static_cast<int64_t>(expected));
}

}  // namespace
}  // namespace hindcast::clock
