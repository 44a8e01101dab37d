// Virtual time for the simulation: strong types over int64 nanoseconds.
//
// `Duration` is a signed span, `Instant` a point on the simulation's true-time axis
// (nanoseconds since the run began). No floating point decides anything in a run, so
// both are plain integers with the arithmetic that makes sense between them:
//
//   Instant deadline = sim.Now() + Duration::Millis(5);
//   Duration left = deadline - sim.Now();
#ifndef HINDCAST_SIM_TIME_H_
#define HINDCAST_SIM_TIME_H_

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace hindcast::sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t ns) { return Duration(ns); }
  static constexpr Duration Micros(int64_t us) { return Duration(us * 1000); }
  static constexpr Duration Millis(int64_t ms) { return Duration(ms * 1000 * 1000); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000 * 1000 * 1000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr auto operator<=>(const Duration&) const = default;

  // "1.500ms"-style rendering for logs and summaries; exact (integer arithmetic).
  std::string ToString() const;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant FromNanos(int64_t ns) { return Instant(ns); }
  static constexpr Instant Zero() { return Instant(0); }
  static constexpr Instant Max() { return Instant(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr Instant operator+(Duration d) const { return Instant(ns_ + d.ns()); }
  constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.ns()); }
  constexpr Duration operator-(Instant o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr auto operator<=>(const Instant&) const = default;

  std::string ToString() const { return (*this - Zero()).ToString(); }

 private:
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Node identifiers are small dense integers assigned by whoever builds the cluster.
using NodeId = uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_TIME_H_
