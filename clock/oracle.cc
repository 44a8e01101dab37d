#include "clock/oracle.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::clock {
namespace {

// "n2 at 1.250ms: ", the prefix of every description.
std::string Where(sim::NodeId node, sim::Instant time) {
  return absl::StrCat("n", node, " at ", time.ToString(), ": ");
}

uint64_t NonNegative(__int128 value) { return value > 0 ? static_cast<uint64_t>(value) : 0; }

}  // namespace

std::string_view HlcCheckName(HlcCheck check) {
  switch (check) {
    case HlcCheck::kBelowPhysical:
      return "below_physical";
    case HlcCheck::kSkewBound:
      return "skew_bound";
    case HlcCheck::kSendNotBeforeReceive:
      return "send_not_before_receive";
    case HlcCheck::kNotMonotonic:
      return "not_monotonic";
  }
  return "unknown";
}

std::string SkewBreach::ToString() const {
  return absl::StrCat(Where(node, time), "clock skew ", skew.ToString(), " past the bound (",
                      by_jump ? "clock jump" : "drift", ")");
}

TrueTimeOracle::TrueTimeOracle(sim::Simulator& sim, sim::Duration max_offset)
    : sim_(sim), max_offset_(max_offset) {
  HC_ASSERT(max_offset_ >= sim::Duration::Zero());
}

void TrueTimeOracle::Register(sim::NodeId node, const PhysicalClock* clock) {
  HC_ASSERT(clock != nullptr);
  HC_ASSERT_MSG(!clocks_.contains(node), absl::StrCat("clock of n", node, " registered twice"));
  ClockState& state = clocks_[node];
  state.clock = clock;
  ObserveOne(node, state, clock->Read(sim_.Now()), sim_.Now(), /*by_jump=*/false);
}

TrueTimeOracle::ClockState& TrueTimeOracle::State(sim::NodeId node) {
  auto it = clocks_.find(node);
  HC_ASSERT_MSG(it != clocks_.end(), absl::StrCat("n", node, " has no registered clock"));
  return it->second;
}

void TrueTimeOracle::ObserveOne(sim::NodeId node, ClockState& state, int64_t reading,
                                sim::Instant now, bool by_jump) {
  const sim::Duration skew = sim::Duration::Nanos(reading - now.ns());
  const bool out = skew > max_offset_ || -skew > max_offset_;
  // Between two observations a clock does not jump (jumps are observed as they happen), so
  // its readings are non-decreasing and its skew is monotone: if it was out of bound at any
  // moment since the last observation, it was out at that observation or is out now, and
  // every reading it took meanwhile is <= `reading`.
  if (out || state.out_of_bound) breach_ceiling_ns_ = std::max(breach_ceiling_ns_, reading);
  if (out && !state.out_of_bound) {
    breaches_.push_back({.node = node, .time = now, .skew = skew, .by_jump = by_jump});
  }
  state.out_of_bound = out;
}

void TrueTimeOracle::ObserveAll(sim::Instant now) {
  for (auto& [node, state] : clocks_) {
    ObserveOne(node, state, state.clock->Read(now), now, /*by_jump=*/false);
  }
}

bool TrueTimeOracle::SkewBoundHolds(sim::Instant true_now) const {
  for (const auto& [node, state] : clocks_) {
    const sim::Duration skew = state.clock->Skew(true_now);
    if (skew > max_offset_ || -skew > max_offset_) return false;
  }
  return true;
}

bool TrueTimeOracle::SkewBoundInEffect(sim::NodeId node) {
  const sim::Instant now = sim_.Now();
  ObserveAll(now);
  return !State(node).out_of_bound && static_cast<__int128>(breach_ceiling_ns_) <=
                                          static_cast<__int128>(now.ns()) + max_offset_.ns();
}

void TrueTimeOracle::OnHlcEvent(sim::NodeId node, HlcTimestamp ts, int64_t pt) {
  ClockState& state = State(node);
  const sim::Instant now = sim_.Now();
  HC_ASSERT_MSG(pt == state.clock->Read(now),
                absl::StrCat("n", node, " reported pt=", pt, " but its clock reads ",
                             state.clock->Read(now), " now"));
  ++checked_events_;
  const bool in_effect = SkewBoundInEffect(node);
  const __int128 ahead = static_cast<__int128>(ts.l) - pt;
  if (ahead < 0) {
    Report(HlcCheck::kBelowPhysical, node, false, ts, pt, {}, NonNegative(-ahead),
           absl::StrCat(Where(node, now), "HLC ", ts.ToString(), " is below its physical reading ",
                        pt, " (l < pt)"));
  }
  const __int128 bound = hlc_bound().ns();
  if (ahead > bound) {
    std::string description =
        absl::StrCat(Where(node, now), "HLC ", ts.ToString(), " is ",
                     sim::Duration::Nanos(static_cast<int64_t>(ahead)).ToString(),
                     " ahead of its physical reading ", pt,
                     ", more than 2*max_offset = ", hlc_bound().ToString());
    if (!in_effect) {
      const bool by_jump = !breaches_.empty() && breaches_.back().by_jump;
      absl::StrAppend(&description, "; expected (skew bound broken by ",
                      by_jump ? "fault" : "drift", ")");
      if (!breaches_.empty()) absl::StrAppend(&description, ": ", breaches_.back().ToString());
    }
    Report(HlcCheck::kSkewBound, node, !in_effect, ts, pt, {}, NonNegative(ahead - bound),
           std::move(description));
  }
  if (state.has_last && ts <= state.last) {
    Report(HlcCheck::kNotMonotonic, node, false, ts, pt, state.last,
           NonNegative(static_cast<__int128>(state.last.l) - ts.l),
           absl::StrCat(Where(node, now), "HLC ", ts.ToString(),
                        " does not exceed the node's previous timestamp ", state.last.ToString()));
  }
  state.has_last = true;
  state.last = ts;
}

uint64_t TrueTimeOracle::OnSend(sim::NodeId node, HlcTimestamp ts) {
  State(node);  // Only registered nodes send; asserts otherwise.
  sends_.push_back({.node = node, .ts = ts});
  return sends_.size() - 1;
}

void TrueTimeOracle::OnReceive(sim::NodeId node, uint64_t send_token, HlcTimestamp received) {
  HC_ASSERT_MSG(send_token < sends_.size(), absl::StrCat("unknown send token ", send_token));
  const Send& send = sends_[send_token];
  CheckReceive(node, send.node, send.ts, received);
}

void TrueTimeOracle::OnReceive(sim::NodeId node, HlcTimestamp sent, HlcTimestamp received) {
  CheckReceive(node, sim::kNoNode, sent, received);
}

void TrueTimeOracle::CheckReceive(sim::NodeId node, sim::NodeId sender, HlcTimestamp sent,
                                  HlcTimestamp received) {
  ++checked_events_;
  if (received > sent) return;
  const std::string from = sender == sim::kNoNode ? "" : absl::StrCat(" n", sender);
  Report(HlcCheck::kSendNotBeforeReceive, node, false, received, 0, sent,
         NonNegative(static_cast<__int128>(sent.l) - received.l),
         absl::StrCat(Where(node, sim_.Now()), "received a message", from, " sent at ",
                      sent.ToString(), " and stamped it ", received.ToString(),
                      ", not above the send (causal reverse)"));
}

void TrueTimeOracle::OnClockJump(sim::NodeId node, sim::Duration delta) {
  ClockState& state = State(node);
  const sim::Instant now = sim_.Now();
  // The readings just before the jump may be the largest this clock took while out of
  // bound (a forward jump later undone), so they are observed before the jump's effect.
  for (auto& [other, other_state] : clocks_) {
    const int64_t reading = other_state.clock->Read(now) - (other == node ? delta.ns() : 0);
    ObserveOne(other, other_state, reading, now, /*by_jump=*/false);
  }
  ObserveOne(node, state, state.clock->Read(now), now, /*by_jump=*/true);
}

void TrueTimeOracle::OnRestart(sim::NodeId node) { State(node).has_last = false; }

void TrueTimeOracle::Report(HlcCheck check, sim::NodeId node, bool expected, HlcTimestamp ts,
                            int64_t pt, HlcTimestamp other, uint64_t amount_ns,
                            std::string description) {
  const uint64_t code = static_cast<uint64_t>(check) | (expected ? kExpectedViolationBit : 0);
  const uint64_t seq =
      sim_.Record({.node = node, .kind = sim::EventKind::kHlcViolation, .a = code, .b = amount_ns});
  violations_.push_back({.check = check,
                         .node = node,
                         .time = sim_.Now(),
                         .expected = expected,
                         .ts = ts,
                         .pt = pt,
                         .other = other,
                         .event_seq = seq,
                         .description = std::move(description)});
  if (expected) ++expected_count_;
}

std::string TrueTimeOracle::Summary() const {
  std::string out;
  for (const SkewBreach& breach : breaches_) absl::StrAppend(&out, breach.ToString(), "\n");
  for (const HlcViolation& v : violations_) {
    absl::StrAppend(&out, v.expected ? "expected " : "VIOLATION ", Sv(HlcCheckName(v.check)), " ",
                    v.description, "\n");
  }
  absl::StrAppend(&out, checked_events_, " checks, ", real_violation_count(), " violations, ",
                  expected_count_, " expected, ", breaches_.size(), " skew breaches\n");
  return out;
}

}  // namespace hindcast::clock
