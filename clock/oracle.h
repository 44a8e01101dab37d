// The true-time oracle: checks HLC invariants as a run goes, knowing every clock's true skew.
//
// Nodes report each HLC timestamp they produce (and each send and receive); clock-jump
// faults report each jump. Every failed check is appended to the simulator's event log as a
// kHlcViolation event and kept, with a description, in `violations()`.
//
//   TrueTimeOracle oracle(sim, Duration::Millis(250));
//   oracle.Register(1, &clock1);
//   oracle.Register(2, &clock2);
//   HlcTimestamp s = hlc1.Now(clock1.Read(sim.Now()));
//   oracle.OnHlcEvent(1, s, clock1.Read(sim.Now()));
//   uint64_t token = oracle.OnSend(1, s);          // Carried beside the message.
//   ...                                            // Later, on node 2:
//   int64_t pt = clock2.Read(sim.Now());
//   HlcTimestamp r = hlc2.Receive(s, pt);
//   oracle.OnHlcEvent(2, r, pt);
//   oracle.OnReceive(2, token, r);
//   EXPECT_EQ(oracle.real_violation_count(), 0);
//
// The checks, for an event on node n at true time t with physical reading pt and timestamp
// ts = (l, c), where max_offset is the skew bound each clock keeps against true time:
//
//  1. l >= pt. Always sound: both HLC rules take a max that includes pt.
//  2. l - pt <= 2 * max_offset. This is the paper's |l - pt| <= epsilon with epsilon the
//     largest skew between two clocks, which is 2 * max_offset when each clock is within
//     max_offset of true time. Why it is sound: l is pt_g, the reading of some event g that
//     happened before (or is) this one, at true time t_g <= t (messages do not travel back
//     in true time). If g's clock was within bound then pt_g <= t_g + max_offset <= t +
//     max_offset, and n's clock within bound gives pt >= t - max_offset. Why it is tight:
//     a clock at +max_offset sending to one at -max_offset with zero delay gives exactly
//     2 * max_offset, so any excess is real breakage (e.g. an HLC that takes the max wrong).
//     The check is in effect only when the proof applies: n's clock is within bound now, and
//     every reading any clock may have taken while out of bound is <= t + max_offset (the
//     oracle keeps that ceiling). Otherwise a failure is recorded as *expected* (the skew
//     bound was broken by a fault, or by drift past a clock's horizon): it shows the fault
//     had an effect, but it is not a bug.
//  3. A receive's resulting timestamp is strictly above the send's. Always sound.
//  4. Each node's timestamps strictly increase. Sound while the HLC keeps its state; call
//     OnRestart when a node's HLC restarts from scratch.
//
// Contract for soundness: every node that runs an HLC registers its clock, reports every
// timestamp with the pt it used (a reading taken now), and every jump is reported (right
// after PhysicalClock::Jump). Only checks 1-4 failing with expected == false are bugs.
#ifndef HINDCAST_CLOCK_ORACLE_H_
#define HINDCAST_CLOCK_ORACLE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "clock/hlc.h"
#include "clock/physical_clock.h"
#include "sim/simulator.h"
#include "sim/time.h"

namespace hindcast::clock {

// Which check failed. Values go into the event log (`a` of a kHlcViolation): never renumber.
enum class HlcCheck : uint8_t {
  kBelowPhysical = 1,         // l < pt.
  kSkewBound = 2,             // l - pt > 2 * max_offset.
  kSendNotBeforeReceive = 3,  // receive timestamp <= send timestamp (a causal reverse).
  kNotMonotonic = 4,          // A node's timestamp did not exceed its previous one.
};
std::string_view HlcCheckName(HlcCheck check);

// Bit set in a kHlcViolation event's `a` when the violation was expected (see kSkewBound).
inline constexpr uint64_t kExpectedViolationBit = 0x100;

struct HlcViolation {
  HlcCheck check;
  sim::NodeId node;
  sim::Instant time;
  bool expected;       // The skew bound was broken on purpose; not a bug.
  HlcTimestamp ts;     // The timestamp that failed the check.
  int64_t pt;          // The event's physical reading (checks 1 and 2), else 0.
  HlcTimestamp other;  // The send's timestamp (check 3) or the node's previous one (check 4).
  uint64_t event_seq;  // Its kHlcViolation event in the log.
  std::string description;
};

// A clock observed beyond max_offset of true time.
struct SkewBreach {
  sim::NodeId node;
  sim::Instant time;
  sim::Duration skew;
  bool by_jump;  // Caused by a reported jump (a fault), else by drift.
  std::string ToString() const;
};

class TrueTimeOracle {
 public:
  // `sim` must outlive the oracle; its Now() is true time for every check.
  TrueTimeOracle(sim::Simulator& sim, sim::Duration max_offset);
  TrueTimeOracle(const TrueTimeOracle&) = delete;
  TrueTimeOracle& operator=(const TrueTimeOracle&) = delete;

  // `clock` must outlive the oracle. A node registers once; its clock survives restarts.
  void Register(sim::NodeId node, const PhysicalClock* clock);

  // A timestamp `ts` produced by node's HLC from physical reading `pt` (taken now). Every
  // timestamp goes through here, sends and receives included.
  void OnHlcEvent(sim::NodeId node, HlcTimestamp ts, int64_t pt);
  // A send stamped `ts`; the token identifies it to OnReceive (carry it beside the message,
  // so the check does not trust the message's bytes). Each send costs the oracle 24 bytes
  // for the rest of the run.
  [[nodiscard]] uint64_t OnSend(sim::NodeId node, HlcTimestamp ts);
  // Node received the send `send_token` and its HLC produced `received`. Duplicated
  // deliveries may present the same token again.
  void OnReceive(sim::NodeId node, uint64_t send_token, HlcTimestamp received);
  // The same check when only the send's timestamp is at hand.
  void OnReceive(sim::NodeId node, HlcTimestamp sent, HlcTimestamp received);
  // Node's clock just jumped by `delta` (call right after PhysicalClock::Jump).
  void OnClockJump(sim::NodeId node, sim::Duration delta);
  // Node's HLC restarted without its state: its next timestamp may be below its last one.
  void OnRestart(sim::NodeId node);

  // Every registered clock is within max_offset of true time at `true_now`.
  bool SkewBoundHolds(sim::Instant true_now) const;
  // Check 2 is in effect for an event on `node` now (see the file comment).
  bool SkewBoundInEffect(sim::NodeId node);

  sim::Duration max_offset() const { return max_offset_; }
  // The bound of check 2: the largest skew between two clocks that keep max_offset.
  sim::Duration hlc_bound() const { return max_offset_ * 2; }
  const std::vector<HlcViolation>& violations() const { return violations_; }
  size_t real_violation_count() const { return violations_.size() - expected_count_; }
  size_t expected_violation_count() const { return expected_count_; }
  const std::vector<SkewBreach>& breaches() const { return breaches_; }
  uint64_t checked_events() const { return checked_events_; }
  // One line per violation and breach, then counts; for failure messages and summaries.
  std::string Summary() const;

 private:
  struct ClockState {
    const PhysicalClock* clock = nullptr;
    bool out_of_bound = false;  // As of the last observation.
    bool has_last = false;
    HlcTimestamp last;  // The node's last reported timestamp.
  };
  struct Send {
    sim::NodeId node;
    HlcTimestamp ts;
  };

  ClockState& State(sim::NodeId node);
  // Brings every clock's out-of-bound state and the reading ceiling up to true time `now`.
  void ObserveAll(sim::Instant now);
  void ObserveOne(sim::NodeId node, ClockState& state, int64_t reading, sim::Instant now,
                  bool by_jump);
  void CheckReceive(sim::NodeId node, sim::NodeId sender, HlcTimestamp sent, HlcTimestamp received);
  void Report(HlcCheck check, sim::NodeId node, bool expected, HlcTimestamp ts, int64_t pt,
              HlcTimestamp other, uint64_t amount_ns, std::string description);

  sim::Simulator& sim_;
  sim::Duration max_offset_;
  absl::btree_map<sim::NodeId, ClockState> clocks_;
  std::vector<Send> sends_;
  // The largest reading any clock may have taken while beyond max_offset of true time.
  int64_t breach_ceiling_ns_ = std::numeric_limits<int64_t>::min();
  std::vector<SkewBreach> breaches_;
  std::vector<HlcViolation> violations_;
  size_t expected_count_ = 0;
  uint64_t checked_events_ = 0;
};

}  // namespace hindcast::clock

#endif  // HINDCAST_CLOCK_ORACLE_H_
