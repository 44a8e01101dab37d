// The hybrid logical clock (HLC) of Kulkarni, Demirbas et al., "Logical Physical Clocks"
// (OPODIS 2014).
//
// A timestamp is (l, c): l is the largest physical reading the node has heard of, in
// nanoseconds, and c counts events that share that l. Timestamps are totally ordered by
// (l, c) and respect causality: if e happened before f, then ts(e) < ts(f).
//
//   Hlc hlc;
//   HlcTimestamp send = hlc.Now(clock.Read(sim.Now()));          // Local event or send.
//   HlcTimestamp recv = peer.Receive(send, peer_clock.Read(...));  // recv > send.
//   std::string key = send.Pack();                                // 12 bytes, order-keeping.
//
// `HlcOptions::update_on_receive = false` plants a bug: Receive ignores the message's
// timestamp, so a receive can be stamped below its send (a causal reverse). It exists so the
// checkers and the oracle can be shown to catch it.
#ifndef HINDCAST_CLOCK_HLC_H_
#define HINDCAST_CLOCK_HLC_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace hindcast::clock {

struct HlcTimestamp {
  int64_t l = 0;   // Nanoseconds of some node's physical clock; may be negative early on.
  uint32_t c = 0;  // Logical counter among timestamps with this l.

  // Lexicographic over (l, c), the HLC order (member order matters).
  auto operator<=>(const HlcTimestamp&) const = default;

  // "1234.5" (l, a dot, c). Negative l prints with its sign: "-20.0".
  std::string ToString() const;

  // The fixed-width binary form: l as big-endian with its sign bit flipped, then c big-endian.
  // Byte-wise comparison of two packed timestamps gives the same order as operator<=>, so
  // packed timestamps can be used directly as ordered keys. Full nanosecond precision.
  static constexpr size_t kPackedSize = 12;
  std::string Pack() const;
  // Inverse of Pack. Input of the wrong size is an error (it comes from disk or the wire).
  static absl::StatusOr<HlcTimestamp> Unpack(std::string_view bytes);
  // Inverse of ToString, for timestamps typed by a user (e.g. on the command line).
  static absl::StatusOr<HlcTimestamp> Parse(std::string_view text);
};

struct HlcOptions {
  // The paper's receive rule. False is the planted bug `hlc_no_update_on_receive`.
  bool update_on_receive = true;
};

// One node's HLC. Not thread-safe (nothing in a simulation is). Every timestamp it returns
// is strictly greater than the previous one it returned, and l >= the pt passed in.
class Hlc {
 public:
  Hlc() : Hlc(HlcOptions{}) {}
  explicit Hlc(const HlcOptions& options) : options_(options) {}

  // Local event or send at physical reading `pt`:
  //   l' = max(l, pt);  c' = (l' == l) ? c + 1 : 0.
  HlcTimestamp Now(int64_t pt);

  // Receipt of a message stamped `m` at physical reading `pt`:
  //   l' = max(l, m.l, pt);
  //   c' = l' == l == m.l ? max(c, m.c) + 1 : l' == l ? c + 1 : l' == m.l ? m.c + 1 : 0.
  // The result is strictly greater than both the previous timestamp and `m`. With the
  // planted bug it is Now(pt) instead, which need not exceed `m`.
  HlcTimestamp Receive(HlcTimestamp m, int64_t pt);

  // The last timestamp returned ({0, 0} before any event, as in the paper).
  HlcTimestamp last() const { return last_; }
  const HlcOptions& options() const { return options_; }

 private:
  HlcOptions options_;
  HlcTimestamp last_;
};

}  // namespace hindcast::clock

#endif  // HINDCAST_CLOCK_HLC_H_
