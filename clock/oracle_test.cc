#include "clock/oracle.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hindcast::clock {
namespace {

using sim::Duration;
using sim::Instant;
using sim::NodeId;

constexpr Instant At(Duration d) { return Instant::Zero() + d; }

// A few nodes, each with a clock and an HLC, reporting everything to one oracle, and keeping
// what they saw so a test can check the invariants itself as well.
class Harness {
 public:
  struct Stamp {
    NodeId node;
    HlcTimestamp ts;
    int64_t pt;
  };
  struct Delivery {
    HlcTimestamp sent;
    HlcTimestamp received;
  };

  Harness(uint64_t seed, Duration max_offset, std::vector<PhysicalClock> clocks,
          HlcOptions options = {})
      : sim_({.seed = seed, .retention = sim::EventLog::Retention::kFull}),
        clocks_(std::move(clocks)),
        oracle_(sim_, max_offset) {
    for (NodeId n = 0; n < clocks_.size(); ++n) {
      hlcs_.emplace_back(options);
      oracle_.Register(n, &clocks_[n]);
    }
  }

  sim::Simulator& sim() { return sim_; }
  TrueTimeOracle& oracle() { return oracle_; }
  PhysicalClock& clock(NodeId n) { return clocks_[n]; }
  const std::vector<Stamp>& stamps() const { return stamps_; }
  const std::vector<Delivery>& deliveries() const { return deliveries_; }
  size_t size() const { return clocks_.size(); }

  // Runs `task` at true time `when`.
  void At(Instant when, sim::Task task) { sim_.ScheduleAt(when, std::move(task)); }

  HlcTimestamp Local(NodeId n) {
    const int64_t pt = clocks_[n].Read(sim_.Now());
    return Stamped(n, hlcs_[n].Now(pt), pt);
  }

  // Sends now from `from`; `to` receives it `delay` later.
  HlcTimestamp Send(NodeId from, NodeId to, Duration delay) {
    const HlcTimestamp sent = Local(from);
    const uint64_t token = oracle_.OnSend(from, sent);
    sim_.Schedule(delay, [this, to, sent, token] {
      const int64_t pt = clocks_[to].Read(sim_.Now());
      const HlcTimestamp received = Stamped(to, hlcs_[to].Receive(sent, pt), pt);
      oracle_.OnReceive(to, token, received);
      deliveries_.push_back({.sent = sent, .received = received});
    });
    return sent;
  }

  void Jump(NodeId n, Duration delta) {
    clocks_[n].Jump(delta, sim_.Now());
    oracle_.OnClockJump(n, delta);
  }

  // Events of `kind` in the log.
  std::vector<sim::Event> Logged(sim::EventKind kind) const {
    std::vector<sim::Event> out;
    for (size_t i = 0; i < sim_.log().kept(); ++i) {
      if (sim_.log().event(i).kind == kind) out.push_back(sim_.log().event(i));
    }
    return out;
  }

 private:
  HlcTimestamp Stamped(NodeId n, HlcTimestamp ts, int64_t pt) {
    oracle_.OnHlcEvent(n, ts, pt);
    stamps_.push_back({.node = n, .ts = ts, .pt = pt});
    return ts;
  }

  sim::Simulator sim_;
  std::vector<PhysicalClock> clocks_;  // Never resized: the oracle holds pointers.
  std::vector<Hlc> hlcs_;
  TrueTimeOracle oracle_;
  std::vector<Stamp> stamps_;
  std::vector<Delivery> deliveries_;
};

PhysicalClock Fixed(int64_t offset_ns, Duration max_offset) {
  return PhysicalClock({.offset_ns = offset_ns, .max_offset = max_offset});
}

std::vector<PhysicalClock> Pair(int64_t a_offset_ns, int64_t b_offset_ns, Duration max_offset) {
  return {Fixed(a_offset_ns, max_offset), Fixed(b_offset_ns, max_offset)};
}

constexpr Duration kMaxOffset = Duration::Millis(100);
constexpr int64_t kMaxOffsetNs = 100'000'000;

// A clock at +max_offset sending to one at -max_offset with no delay reaches l - pt =
// 2 * max_offset exactly: the bound is tight, and reaching it is no violation.
TEST(TrueTimeOracleTest, BoundIsTightAndReachingItIsNoViolation) {
  Harness h(1, kMaxOffset, Pair(kMaxOffsetNs, -kMaxOffsetNs, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] { h.Send(0, 1, Duration::Zero()); });
  h.sim().Run({});
  ASSERT_EQ(h.deliveries().size(), 1u);
  const Harness::Stamp& receive = h.stamps().back();
  EXPECT_EQ(receive.ts.l - receive.pt, 2 * kMaxOffsetNs);
  EXPECT_TRUE(h.oracle().violations().empty()) << h.oracle().Summary();
  EXPECT_EQ(h.oracle().checked_events(), 3u);
}

TEST(TrueTimeOracleTest, HlcAheadByMoreThanTwiceMaxOffsetIsARealViolation) {
  Harness h(1, kMaxOffset, Pair(0, 0, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] {
    const int64_t pt = h.clock(0).Read(h.sim().Now());
    h.oracle().OnHlcEvent(0, {.l = pt + 2 * kMaxOffsetNs + 1, .c = 0}, pt);
  });
  h.sim().Run({});
  ASSERT_EQ(h.oracle().real_violation_count(), 1u) << h.oracle().Summary();
  const HlcViolation& v = h.oracle().violations()[0];
  EXPECT_EQ(v.check, HlcCheck::kSkewBound);
  EXPECT_FALSE(v.expected);
  EXPECT_EQ(v.description,
            "n0 at 1.000s: HLC 1200000001.0 is 200.000ms ahead of its physical reading "
            "1000000000, more than 2*max_offset = 200.000ms");
  const std::vector<sim::Event> logged = h.Logged(sim::EventKind::kHlcViolation);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].seq, v.event_seq);
  EXPECT_EQ(logged[0].node, 0u);
  EXPECT_EQ(logged[0].a, static_cast<uint64_t>(HlcCheck::kSkewBound));
  EXPECT_EQ(logged[0].b, 1u);
}

TEST(TrueTimeOracleTest, HlcBelowPhysicalIsAViolation) {
  Harness h(1, kMaxOffset, Pair(0, 0, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] {
    const int64_t pt = h.clock(1).Read(h.sim().Now());
    h.oracle().OnHlcEvent(1, {.l = pt - 5, .c = 9}, pt);
  });
  h.sim().Run({});
  ASSERT_EQ(h.oracle().real_violation_count(), 1u);
  EXPECT_EQ(h.oracle().violations()[0].check, HlcCheck::kBelowPhysical);
  EXPECT_EQ(h.Logged(sim::EventKind::kHlcViolation)[0].b, 5u);
}

TEST(TrueTimeOracleTest, TimestampNotAboveTheNodesPreviousIsAViolationUntilRestart) {
  Harness h(1, kMaxOffset, Pair(0, 0, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] {
    const int64_t pt = h.clock(0).Read(h.sim().Now());
    h.oracle().OnHlcEvent(0, {.l = pt, .c = 4}, pt);
    h.oracle().OnHlcEvent(0, {.l = pt, .c = 4}, pt);
    h.oracle().OnRestart(0);
    h.oracle().OnHlcEvent(0, {.l = pt, .c = 0}, pt);
  });
  h.sim().Run({});
  ASSERT_EQ(h.oracle().violations().size(), 1u) << h.oracle().Summary();
  EXPECT_EQ(h.oracle().violations()[0].check, HlcCheck::kNotMonotonic);
  EXPECT_EQ(h.oracle().violations()[0].other, (HlcTimestamp{.l = 1'000'000'000, .c = 4}));
}

TEST(TrueTimeOracleTest, ReceiveNotAboveSendIsACausalReverse) {
  Harness h(1, kMaxOffset, Pair(0, 0, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] {
    const uint64_t token = h.oracle().OnSend(0, {.l = 50, .c = 2});
    h.oracle().OnReceive(1, token, {.l = 50, .c = 3});  // Fine.
    h.oracle().OnReceive(1, token, {.l = 50, .c = 2});  // Equal: not strictly above.
    h.oracle().OnReceive(1, HlcTimestamp{.l = 50, .c = 2}, {.l = 40, .c = 7});
  });
  h.sim().Run({});
  ASSERT_EQ(h.oracle().real_violation_count(), 2u) << h.oracle().Summary();
  EXPECT_EQ(h.oracle().violations()[0].check, HlcCheck::kSendNotBeforeReceive);
  EXPECT_EQ(h.oracle().violations()[0].description,
            "n1 at 1.000s: received a message n0 sent at 50.2 and stamped it 50.2, not above "
            "the send (causal reverse)");
  EXPECT_EQ(h.Logged(sim::EventKind::kHlcViolation)[1].b, 10u);
}

// A forward jump past the bound, later undone: l values taken while the clock was ahead keep
// l - pt large until true time catches up, and those excesses are expected, not bugs. The
// ceiling is the jumped clock's last reading before the undo, 1.1s + 1s; check 2 is back in
// effect once t + max_offset reaches it, at t = 2.0s.
TEST(TrueTimeOracleTest, JumpPastTheBoundMakesExcessExpectedUntilTrueTimeCatchesUp) {
  Harness h(1, kMaxOffset, Pair(0, 0, kMaxOffset));
  h.At(At(Duration::Seconds(1)), [&] {
    h.Jump(0, Duration::Seconds(1));
    EXPECT_FALSE(h.oracle().SkewBoundHolds(h.sim().Now()));
    h.Send(0, 1, Duration::Millis(200));
  });
  h.At(At(Duration::Millis(1100)), [&] {
    h.Jump(0, Duration::Seconds(-1));
    EXPECT_TRUE(h.oracle().SkewBoundHolds(h.sim().Now()));
    EXPECT_FALSE(h.oracle().SkewBoundInEffect(0));
  });
  h.At(At(Duration::Millis(1999)), [&] { EXPECT_FALSE(h.oracle().SkewBoundInEffect(1)); });
  h.At(At(Duration::Millis(2000)), [&] {
    EXPECT_TRUE(h.oracle().SkewBoundInEffect(1));
    h.Local(1);
  });
  h.sim().Run({});
  ASSERT_EQ(h.oracle().breaches().size(), 1u);
  EXPECT_TRUE(h.oracle().breaches()[0].by_jump);
  EXPECT_EQ(h.oracle().breaches()[0].skew, Duration::Seconds(1));
  EXPECT_EQ(h.oracle().real_violation_count(), 0u) << h.oracle().Summary();
  ASSERT_EQ(h.oracle().expected_violation_count(), 1u) << h.oracle().Summary();
  const HlcViolation& v = h.oracle().violations()[0];
  EXPECT_EQ(v.node, 1u);
  EXPECT_EQ(v.time, At(Duration::Millis(1200)));
  EXPECT_NE(v.description.find("expected (skew bound broken by fault)"), std::string::npos)
      << v.description;
  EXPECT_EQ(h.Logged(sim::EventKind::kHlcViolation)[0].a,
            static_cast<uint64_t>(HlcCheck::kSkewBound) | kExpectedViolationBit);
}

TEST(TrueTimeOracleTest, DriftPastTheHorizonIsABreachByDrift) {
  std::vector<PhysicalClock> clocks;
  clocks.push_back(PhysicalClock({.drift_ppm = 100, .max_offset = kMaxOffset}));
  Harness h(1, kMaxOffset, std::move(clocks));
  // 100 ppm reaches 100ms of skew after 1000s of true time.
  h.At(At(Duration::Seconds(999)), [&] { h.Local(0); });
  h.At(At(Duration::Seconds(1001)), [&] { h.Local(0); });
  h.sim().Run({});
  EXPECT_FALSE(h.oracle().SkewBoundHolds(At(Duration::Seconds(1001))));
  ASSERT_EQ(h.oracle().breaches().size(), 1u);
  EXPECT_FALSE(h.oracle().breaches()[0].by_jump);
  EXPECT_TRUE(h.oracle().violations().empty());
}

// Every event of the random runs below happens within a few seconds of true time 0.
constexpr Duration kHorizon = Duration::Seconds(4);

// Each node's clock is drawn by PhysicalClock::Random, or pinned at +max_offset or
// -max_offset, the extremes where the bound is tight.
std::vector<PhysicalClock> DrawClocks(sim::Rng& rng, int nodes, Duration max_offset) {
  std::vector<PhysicalClock> clocks;
  for (int i = 0; i < nodes; ++i) {
    switch (rng.Uniform(3)) {
      case 0:
        clocks.push_back(Fixed(max_offset.ns(), max_offset));
        break;
      case 1:
        clocks.push_back(Fixed(-max_offset.ns(), max_offset));
        break;
      default:
        clocks.push_back(PhysicalClock::Random(rng, max_offset, kHorizon));
        break;
    }
  }
  return clocks;
}

// Property (a): with every clock within max_offset of true time, an HLC run of local events,
// sends and receives with random delays (zero included) keeps l >= pt, l - pt <= 2 *
// max_offset, send < receive and per-node monotonicity, and the oracle reports nothing.
RC_GTEST_PROP(TrueTimeOracleProperty, HlcInvariantsHoldWhileEveryClockKeepsMaxOffset,
              (uint64_t seed)) {
  const int nodes = *rc::gen::inRange(2, 6);
  const int64_t max_offset_ns =
      *rc::gen::oneOf(rc::gen::just<int64_t>(0), rc::gen::inRange<int64_t>(1, 500'000'000));
  const int steps = *rc::gen::inRange(1, 300);
  const Duration max_offset = Duration::Nanos(max_offset_ns);
  sim::Rng rng(seed);
  Harness h(seed, max_offset, DrawClocks(rng, nodes, max_offset));
  Instant t = Instant::Zero();
  for (int i = 0; i < steps; ++i) {
    if (!rng.Chance(1, 4)) t = t + rng.UniformDuration(Duration::Zero(), Duration::Millis(5));
    h.At(t, [&h, &rng, nodes, max_offset] {
      const NodeId from = static_cast<NodeId>(rng.Uniform(nodes));
      if (rng.Chance(1, 3)) {
        h.Local(from);
        return;
      }
      NodeId to = static_cast<NodeId>(rng.Uniform(nodes - 1));
      if (to >= from) ++to;
      const Duration delay =
          rng.Chance(1, 4)
              ? Duration::Zero()
              : rng.UniformDuration(Duration::Zero(), max_offset * 3 + Duration::Millis(10));
      h.Send(from, to, delay);
    });
  }
  h.sim().Run({});
  RC_ASSERT(h.sim().Now() <= At(kHorizon));

  std::vector<bool> seen(nodes, false);
  std::vector<HlcTimestamp> last(nodes);
  for (const Harness::Stamp& s : h.stamps()) {
    RC_ASSERT(s.ts.l >= s.pt);
    RC_ASSERT(s.ts.l - s.pt <= 2 * max_offset_ns);
    if (seen[s.node]) RC_ASSERT(s.ts > last[s.node]);
    seen[s.node] = true;
    last[s.node] = s.ts;
  }
  for (const Harness::Delivery& d : h.deliveries()) RC_ASSERT(d.sent < d.received);
  RC_ASSERT(h.oracle().checked_events() == h.stamps().size() + h.deliveries().size());
  RC_ASSERT(h.oracle().violations().empty());
  RC_ASSERT(h.oracle().breaches().empty());
  RC_ASSERT(h.Logged(sim::EventKind::kHlcViolation).empty());
  RC_TAG(h.deliveries().empty() ? "no deliveries" : "deliveries");
}

// Property (b): a jump of 5 to 20 times max_offset (forward on a sender, or backward on a
// node that then ticks) breaks the skew bound; the oracle records the breach as a jump, sees
// l - pt exceed 2 * max_offset, and files every such excess as expected, never as a bug.
RC_GTEST_PROP(TrueTimeOracleProperty, ClockJumpPastTheBoundIsFlaggedAsExpectedNotAsABug,
              (uint64_t seed, bool forward)) {
  const int64_t max_offset_ns = *rc::gen::inRange<int64_t>(1'000, 500'000'000);
  const int64_t jump_ns = *rc::gen::inRange<int64_t>(5 * max_offset_ns, 20 * max_offset_ns + 1);
  const int64_t delay_ns = *rc::gen::inRange<int64_t>(0, max_offset_ns / 2 + 1);
  const Duration max_offset = Duration::Nanos(max_offset_ns);
  sim::Rng rng(seed);
  std::vector<PhysicalClock> clocks;
  for (int i = 0; i < 2; ++i) clocks.push_back(PhysicalClock::Random(rng, max_offset, kHorizon));
  Harness h(seed, max_offset, std::move(clocks));
  const Duration jump = Duration::Nanos(forward ? jump_ns : -jump_ns);
  bool bound_held_after_jump = true;
  h.At(At(Duration::Seconds(1)), [&] {
    h.Local(0);
    h.Jump(0, jump);
    bound_held_after_jump = h.oracle().SkewBoundHolds(h.sim().Now());
    if (forward) {
      h.Send(0, 1, Duration::Nanos(delay_ns));
    } else {
      h.Local(0);
    }
  });
  h.sim().Run({});
  RC_ASSERT(!bound_held_after_jump);
  RC_ASSERT(h.oracle().breaches().size() == 1u);
  RC_ASSERT(h.oracle().breaches()[0].by_jump);
  RC_ASSERT(h.oracle().expected_violation_count() >= 1u);
  RC_ASSERT(h.oracle().real_violation_count() == 0u);
  for (const sim::Event& e : h.Logged(sim::EventKind::kHlcViolation)) {
    RC_ASSERT(e.a == (static_cast<uint64_t>(HlcCheck::kSkewBound) | kExpectedViolationBit));
  }
  RC_ASSERT(h.oracle().violations()[0].description.find("expected (skew bound broken by fault)") !=
            std::string::npos);
}

// Property (c): with the planted bug hlc_no_update_on_receive, a message from a clock ahead
// by 2 * max_offset (both within bound) that arrives sooner than that is stamped below its
// send, and the oracle reports the causal reverse; the correct HLC, same run, reports none.
RC_GTEST_PROP(TrueTimeOracleProperty, NoUpdateOnReceiveStampsBelowTheSendAndIsCaught,
              (uint64_t seed)) {
  const int64_t max_offset_ns = *rc::gen::inRange<int64_t>(1, 500'000'000);
  const int64_t delay_ns = *rc::gen::inRange<int64_t>(0, 2 * max_offset_ns);
  const Duration max_offset = Duration::Nanos(max_offset_ns);
  for (bool planted : {false, true}) {
    Harness h(seed, max_offset, Pair(max_offset_ns, -max_offset_ns, max_offset),
              HlcOptions{.update_on_receive = !planted});
    h.At(At(Duration::Seconds(1)), [&] { h.Send(0, 1, Duration::Nanos(delay_ns)); });
    h.sim().Run({});
    RC_ASSERT(h.deliveries().size() == 1u);
    const Harness::Delivery& d = h.deliveries()[0];
    if (!planted) {
      RC_ASSERT(d.received > d.sent);
      RC_ASSERT(h.oracle().violations().empty());
      continue;
    }
    RC_ASSERT(d.received < d.sent);
    RC_ASSERT(h.oracle().real_violation_count() == 1u);
    RC_ASSERT(h.oracle().violations()[0].check == HlcCheck::kSendNotBeforeReceive);
    RC_ASSERT(h.Logged(sim::EventKind::kHlcViolation).size() == 1u);
  }
}

}  // namespace
}  // namespace hindcast::clock
