// A node's physical clock, modelled against the simulation's true time.
//
// The clock reads true time plus an offset plus a linear drift, in integer nanoseconds:
//
//   Read(t) = t + offset_ns + drift_ppm * (t - epoch) / 1'000'000   (truncated toward zero)
//
// Node code sees only the int64 reading (through its environment); the true-time oracle
// (clock/oracle.h) sees the whole clock. A clock-jump fault shifts the offset, forwards or
// backwards.
//
//   sim::Rng rng = sim.root_rng().Child("clock", node_id);
//   PhysicalClock clock = PhysicalClock::Random(rng, sim::Duration::Millis(250));
//   int64_t pt = clock.Read(sim.Now());
//   clock.Jump(sim::Duration::Seconds(-2), sim.Now());  // A fault; may break the skew bound.
//
// Contract (the skew bound): a clock made by `Random(rng, max_offset, horizon)` satisfies
// |Skew(t)| <= max_offset for every t in [epoch, epoch + horizon] as long as it has not
// jumped. Half of the budget goes to the initial offset and half to drift, see `Random`.
// Runs longer than the horizon must pass a longer horizon (which shrinks the drift) or accept
// that drift may break the bound; the oracle then reports the breach, it never hides it.
#ifndef HINDCAST_CLOCK_PHYSICAL_CLOCK_H_
#define HINDCAST_CLOCK_PHYSICAL_CLOCK_H_

#include <cstdint>
#include <string>

#include "sim/random.h"
#include "sim/time.h"

namespace hindcast::clock {

struct PhysicalClockOptions {
  int64_t offset_ns = 0;
  // Signed parts per million; |drift_ppm| < 1'000'000 so the clock never runs backwards
  // unless it jumps.
  int64_t drift_ppm = 0;
  // The bound this clock is meant to keep against true time (see `WithinBound`).
  sim::Duration max_offset = sim::Duration::Zero();
  // The true instant at which drift has accumulated nothing.
  sim::Instant epoch = sim::Instant::Zero();
};

class PhysicalClock {
 public:
  // Real quartz oscillators are specified at tens of ppm; 100 ppm is a pessimistic cap.
  static constexpr int64_t kMaxDriftPpm = 100;
  // One hour of simulated time: far longer than a test run, so drift stays small.
  static constexpr sim::Duration kDefaultHorizon = sim::Duration::Seconds(3600);

  explicit PhysicalClock(const PhysicalClockOptions& options);

  // Draws offset uniformly in [-max_offset/2, +max_offset/2] and drift uniformly in
  // [-d, +d] ppm, d = min(kMaxDriftPpm, floor((max_offset/2) * 10^6 / horizon)), so the
  // drift adds at most max_offset/2 within `horizon`: |Skew(t)| <= max_offset for t in
  // [epoch, epoch + horizon] until the first jump. max_offset >= 0, horizon > 0.
  static PhysicalClock Random(sim::Rng& rng, sim::Duration max_offset,
                              sim::Duration horizon = kDefaultHorizon,
                              sim::Instant epoch = sim::Instant::Zero());

  // The reading at true time `true_now`, in nanoseconds. Without jumps it is non-decreasing
  // in `true_now`. Integer arithmetic only (the drift product is taken in 128 bits).
  int64_t Read(sim::Instant true_now) const;

  // A clock-jump fault at `true_now`: every later reading moves by `delta` (either sign).
  void Jump(sim::Duration delta, sim::Instant true_now);

  // Read(true_now) - true_now.
  sim::Duration Skew(sim::Instant true_now) const;
  // |Skew(true_now)| <= max_offset.
  bool WithinBound(sim::Instant true_now) const;

  int64_t offset_ns() const { return offset_ns_; }
  int64_t drift_ppm() const { return drift_ppm_; }
  sim::Duration max_offset() const { return max_offset_; }
  sim::Instant epoch() const { return epoch_; }
  uint64_t jump_count() const { return jump_count_; }

  // "offset=+1.250ms drift=-12ppm max_offset=250.000ms jumps=0", for logs and failures.
  std::string ToString() const;

 private:
  int64_t offset_ns_;
  int64_t drift_ppm_;
  sim::Duration max_offset_;
  sim::Instant epoch_;
  uint64_t jump_count_ = 0;
  sim::Instant last_jump_;
};

}  // namespace hindcast::clock

#endif  // HINDCAST_CLOCK_PHYSICAL_CLOCK_H_
