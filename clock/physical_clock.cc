#include "clock/physical_clock.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "sim/assert.h"

namespace hindcast::clock {
namespace {

constexpr int64_t kPpmDenominator = 1'000'000;

// A clock whose drift reaches -10^6 ppm would stand still or run backwards, which no real
// oscillator does; readings would then stop being non-decreasing without a jump.
bool DriftIsSane(int64_t drift_ppm) {
  return drift_ppm > -kPpmDenominator && drift_ppm < kPpmDenominator;
}

}  // namespace

PhysicalClock::PhysicalClock(const PhysicalClockOptions& options)
    : offset_ns_(options.offset_ns),
      drift_ppm_(options.drift_ppm),
      max_offset_(options.max_offset),
      epoch_(options.epoch),
      last_jump_(options.epoch) {
  HC_ASSERT(DriftIsSane(drift_ppm_));
  HC_ASSERT(max_offset_ >= sim::Duration::Zero());
}

PhysicalClock PhysicalClock::Random(sim::Rng& rng, sim::Duration max_offset, sim::Duration horizon,
                                    sim::Instant epoch) {
  HC_ASSERT(max_offset >= sim::Duration::Zero());
  HC_ASSERT(horizon > sim::Duration::Zero());
  const int64_t half_ns = max_offset.ns() / 2;
  // |drift| * horizon / 10^6 <= half_ns, so drift spends at most the second half of the
  // budget within the horizon (the offset spends the first).
  const __int128 drift_budget = static_cast<__int128>(half_ns) * kPpmDenominator / horizon.ns();
  const int64_t drift_max = static_cast<int64_t>(std::min<__int128>(kMaxDriftPpm, drift_budget));
  PhysicalClockOptions options;
  options.offset_ns = rng.UniformRange(-half_ns, half_ns);
  options.drift_ppm = rng.UniformRange(-drift_max, drift_max);
  options.max_offset = max_offset;
  options.epoch = epoch;
  PhysicalClock clock(options);
  HC_ASSERT(clock.WithinBound(epoch) && clock.WithinBound(epoch + horizon));
  return clock;
}

int64_t PhysicalClock::Read(sim::Instant true_now) const {
  const int64_t elapsed_ns = (true_now - epoch_).ns();
  // Division truncates toward zero, which is monotone, so the reading stays non-decreasing
  // in true_now for |drift_ppm| < 10^6 (the drift term moves by less than one nanosecond
  // per nanosecond). The product is taken in 64 bits when it fits (2.9 years from the epoch
  // at the 100 ppm that Random draws at most): the same quotient as in 128 bits, without a
  // call to a 128-bit division.
  const uint64_t drift_abs = drift_ppm_ < 0 ? -static_cast<uint64_t>(drift_ppm_) : drift_ppm_;
  const uint64_t elapsed_abs =
      elapsed_ns < 0 ? -static_cast<uint64_t>(elapsed_ns) : static_cast<uint64_t>(elapsed_ns);
  __int128 drift_ns;
  if (drift_abs == 0 || elapsed_abs <= static_cast<uint64_t>(INT64_MAX) / drift_abs) {
    drift_ns = elapsed_ns * drift_ppm_ / kPpmDenominator;
  } else {
    drift_ns = static_cast<__int128>(elapsed_ns) * drift_ppm_ / kPpmDenominator;
  }
  const __int128 reading = static_cast<__int128>(true_now.ns()) + offset_ns_ + drift_ns;
  HC_ASSERT_MSG(reading >= std::numeric_limits<int64_t>::min() &&
                    reading <= std::numeric_limits<int64_t>::max(),
                "physical clock reading overflows int64");
  return static_cast<int64_t>(reading);
}

void PhysicalClock::Jump(sim::Duration delta, sim::Instant true_now) {
  // Faults arrive in true-time order; a jump "before" an earlier one means a confused caller.
  HC_ASSERT(true_now >= last_jump_ || jump_count_ == 0);
  offset_ns_ += delta.ns();
  last_jump_ = true_now;
  ++jump_count_;
}

sim::Duration PhysicalClock::Skew(sim::Instant true_now) const {
  return sim::Duration::Nanos(Read(true_now) - true_now.ns());
}

bool PhysicalClock::WithinBound(sim::Instant true_now) const {
  const sim::Duration skew = Skew(true_now);
  return skew <= max_offset_ && -skew <= max_offset_;
}

std::string PhysicalClock::ToString() const {
  const sim::Duration offset = sim::Duration::Nanos(offset_ns_);
  return absl::StrCat("offset=", offset_ns_ >= 0 ? "+" : "", offset.ToString(),
                      " drift=", drift_ppm_, "ppm max_offset=", max_offset_.ToString(),
                      " jumps=", jump_count_);
}

}  // namespace hindcast::clock
