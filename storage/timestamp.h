// Commit and snapshot timestamps, as MatrixOne's timestamp.Timestamp (PhysicalTime,
// LogicalTime), which is also the HLC's (l, c). storage/ does not depend on clock/: the
// cluster converts an HLC timestamp with `Timestamp{hlc.l, hlc.c}`.
//
//   Timestamp snapshot{1000, 0};
//   Timestamp commit = snapshot.Next();  // {1000, 1}: the smallest timestamp above snapshot.
//   commit.ToString();                   // "1000.1"
//   Timestamp::Min() < snapshot && commit < Timestamp::Max();
//
// Reserved values. Min() is below and Max() above every timestamp a clock produces (HLC l may
// be negative early in a run, so Min() is not {0, 0}). Neither is ever a commit timestamp:
// Max() marks a write that has no commit timestamp yet (the entries of a workspace spill
// object), and as a snapshot it sees every commit.
#ifndef HINDCAST_STORAGE_TIMESTAMP_H_
#define HINDCAST_STORAGE_TIMESTAMP_H_

#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

namespace hindcast::storage {

struct Timestamp {
  int64_t physical_ns = 0;  // The HLC's l: nanoseconds of some node's physical clock.
  uint32_t logical = 0;     // The HLC's c: orders timestamps that share physical_ns.

  // Lexicographic over (physical_ns, logical), the HLC order (member order matters).
  auto operator<=>(const Timestamp&) const = default;

  static constexpr Timestamp Min() { return {std::numeric_limits<int64_t>::min(), 0}; }
  static constexpr Timestamp Max() {
    return {std::numeric_limits<int64_t>::max(), std::numeric_limits<uint32_t>::max()};
  }

  // The smallest timestamp greater than this one; the logical part carries into the physical
  // part as in MatrixOne. Asserts *this != Max().
  [[nodiscard]] Timestamp Next() const;
  // The greatest timestamp less than this one. Asserts *this != Min().
  [[nodiscard]] Timestamp Prev() const;

  // A timestamp a commit may carry: strictly between Min() and Max().
  bool IsCommittable() const { return Min() < *this && *this < Max(); }

  // "1234.5" (physical_ns, a dot, logical), as HlcTimestamp::ToString; "min" and "max" for
  // the reserved values so they stand out in traces.
  std::string ToString() const;
};

// For test failure messages (gtest and rapidcheck print through it).
std::ostream& operator<<(std::ostream& os, const Timestamp& ts);

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_TIMESTAMP_H_
