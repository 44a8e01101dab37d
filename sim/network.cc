#include "sim/network.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/assert.h"

namespace hindcast::sim {

absl::Status ValidateLinkParams(const LinkParams& p) {
  if (p.latency_min < Duration::Zero()) {
    return absl::InvalidArgumentError("latency_min must not be negative");
  }
  if (p.latency_max < p.latency_min) {
    return absl::InvalidArgumentError("latency_max must be at least latency_min");
  }
  if (p.tail_latency_max < p.latency_max) {
    return absl::InvalidArgumentError("tail_latency_max must be at least latency_max");
  }
  if (p.tail_latency_max > kMaxLinkLatency) {
    return absl::InvalidArgumentError(
        absl::StrCat("latencies are limited to ", kMaxLinkLatency.ToString()));
  }
  if (p.tail_ppm > kPartsPerMillion || p.drop_ppm > kPartsPerMillion ||
      p.duplicate_ppm > kPartsPerMillion || p.late_copy_ppm > kPartsPerMillion) {
    return absl::InvalidArgumentError("probabilities are parts per million, at most 1000000");
  }
  if (p.late_copy_ppm != 0 && !p.reorder) {
    return absl::InvalidArgumentError("late copies need a reordering link");
  }
  if (p.late_copy_latency_max < p.latency_max || p.late_copy_latency_max > kMaxLinkLatency) {
    return absl::InvalidArgumentError(absl::StrCat(
        "late_copy_latency_max must be between latency_max and ", kMaxLinkLatency.ToString()));
  }
  return absl::OkStatus();
}

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kRandom:
      return "random";
    case DropReason::kPartitionAtSend:
      return "partition-at-send";
    case DropReason::kPartitionAtDelivery:
      return "partition-at-delivery";
    case DropReason::kDestinationDown:
      return "destination-down";
    case DropReason::kSenderDown:
      return "sender-down";
  }
  return "unknown";
}

uint64_t LinkCounters::dropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped_by_reason) total += n;
  return total;
}

void LinkCounters::Add(const LinkCounters& o) {
  sent += o.sent;
  duplicated += o.duplicated;
  delivered += o.delivered;
  for (size_t i = 0; i < kDropReasonSlots; ++i) dropped_by_reason[i] += o.dropped_by_reason[i];
  in_flight += o.in_flight;
  held += o.held;
  bytes_sent += o.bytes_sent;
  bytes_delivered += o.bytes_delivered;
}

Network::Network(Simulator& sim, const NetworkOptions& options)
    : sim_(sim),
      options_(options),
      link_rng_root_(sim.root_rng().Child("network")),
      swizzle_rng_(link_rng_root_.Child("swizzle")) {
  HC_ASSERT_MSG(ValidateLinkParams(options.default_link).ok(), "invalid default LinkParams");
}

// Pending tasks point at this object; cancelling them makes destroying the network before
// the simulator finishes safe (the messages simply vanish with it).
Network::~Network() {
  for (const Message& m : messages_) {
    if (m.live) sim_.Cancel(m.timer);
  }
  for (const Link& link : links_) sim_.Cancel(link.pump);
  for (const PendingClog& clog : pending_clogs_) sim_.Cancel(clog.timer);
}

// --- Links --------------------------------------------------------------------------------

Network::Endpoint& Network::EndpointOf(NodeId node) {
  HC_ASSERT_MSG(node <= kMaxNetworkNodeId, "node ids are dense small integers");
  if (endpoints_.size() <= node) endpoints_.resize(node + 1);
  return endpoints_[node];
}

uint32_t Network::LinkSlot(NodeId from, NodeId to) {
  // Every send comes here: an existing link is found with no call and no growth.
  if (from < endpoints_.size() && to < endpoints_.size()) {
    const std::vector<uint32_t>& out = endpoints_[from].out;
    if (to < out.size() && out[to] != 0) return out[to] - 1;
  }
  EndpointOf(to);
  Endpoint& e = EndpointOf(from);
  if (e.out.size() <= to) e.out.resize(to + 1, 0);
  if (e.out[to] != 0) return e.out[to] - 1;
  HC_ASSERT(links_.size() < kNil - 1);
  Link link{
      .from = from, .to = to, .rng = link_rng_root_.Child("link", (uint64_t{from} << 32) | to)};
  links_.push_back(std::move(link));
  e.out[to] = static_cast<uint32_t>(links_.size());
  return static_cast<uint32_t>(links_.size() - 1);
}

const Network::Link* Network::FindLink(NodeId from, NodeId to) const {
  if (from >= endpoints_.size()) return nullptr;
  const std::vector<uint32_t>& out = endpoints_[from].out;
  if (to >= out.size() || out[to] == 0) return nullptr;
  return &links_[out[to] - 1];
}

void Network::SetDefaultLink(const LinkParams& params) {
  HC_ASSERT_MSG(ValidateLinkParams(params).ok(), "invalid LinkParams");
  options_.default_link = params;
}

void Network::SetLink(NodeId from, NodeId to, const LinkParams& params) {
  HC_ASSERT_MSG(ValidateLinkParams(params).ok(), "invalid LinkParams");
  Link& link = links_[LinkSlot(from, to)];
  link.params = params;
  link.has_override = true;
}

void Network::ResetLink(NodeId from, NodeId to) {
  Link& link = links_[LinkSlot(from, to)];
  link.has_override = false;
}

const LinkParams& Network::link_params(NodeId from, NodeId to) const {
  const Link* link = FindLink(from, to);
  return link == nullptr ? options_.default_link : ParamsOf(*link);
}

Duration Network::DrawLatency(Link& link, const LinkParams& p) {
  if (link.rng.Chance(p.tail_ppm, kPartsPerMillion)) {
    return link.rng.UniformDuration(p.latency_max, p.tail_latency_max);
  }
  return link.rng.UniformDuration(p.latency_min, p.latency_max);
}

// --- Messages -----------------------------------------------------------------------------

uint32_t Network::AllocateMessage() {
  uint32_t m = free_messages_;
  if (m != kNil) {
    free_messages_ = messages_[m].next;
  } else {
    HC_ASSERT_MSG(messages_.size() < kMaxInFlightMessages, "too many messages in flight");
    messages_.emplace_back();
    m = static_cast<uint32_t>(messages_.size() - 1);
  }
  Message& msg = messages_[m];
  HC_ASSERT(!msg.live);
  msg.live = true;
  msg.next = kNil;
  msg.timer = TimerId{};
  return m;
}

void Network::FreeMessage(uint32_t m) {
  Message& msg = messages_[m];
  HC_ASSERT(msg.live);
  msg.live = false;
  msg.payload = Payload();
  msg.link = kNil;
  msg.next = free_messages_;
  free_messages_ = m;
}

uint64_t Network::Send(NodeId from, NodeId to, Payload&& payload) {
  HC_ASSERT_MSG(sim_.HasNode(from) && sim_.HasNode(to), "Send between unregistered nodes");
  const uint32_t slot = LinkSlot(from, to);
  Link& link = links_[slot];
  const LinkParams& p = ParamsOf(link);
  const uint64_t size = payload.size();
  const uint64_t send = sim_.Record({.node = from, .kind = EventKind::kSend, .a = to, .b = size});
  if (tap_ != nullptr) tap_(from, to, payload.bytes());
  ++link.counters.sent;
  ++totals_.sent;
  link.counters.bytes_sent += size;
  totals_.bytes_sent += size;

  DropReason reason = DropReason::kRandom;
  bool drop = true;
  if (!sim_.IsUp(from)) {
    reason = DropReason::kSenderDown;
  } else if (link.blocked) {
    reason = DropReason::kPartitionAtSend;
  } else {
    // Draw order (fixed, part of the replay contract): drop, duplicate, latency, the late copy
    // (on a link with late copies only), the duplicate's latency, the late copy's latency.
    drop = link.rng.Chance(p.drop_ppm, kPartsPerMillion);
  }
  if (drop) {
    sim_.Record({.node = from,
                 .kind = EventKind::kDrop,
                 .cause = send,
                 .a = to,
                 .b = static_cast<uint64_t>(reason)});
    CountDrop(link, reason);
    return send;
  }

  const Endpoint& sender = endpoints_[from];
  const Endpoint& receiver = endpoints_[to];
  const Instant now = sim_.Now();
  const Instant leave =
      std::max({now, sender.send_clog_end, receiver.receive_clog_end, link.clog_end});
  const bool duplicate = link.rng.Chance(p.duplicate_ppm, kPartsPerMillion);
  Payload copy;
  if (duplicate) copy = payload.Copy();
  const Instant arrival = leave + DrawLatency(link, p);
  std::optional<Payload> late_copy;
  if (p.late_copy_ppm != 0 && link.rng.Chance(p.late_copy_ppm, kPartsPerMillion)) {
    late_copy = payload.Copy();
  }
  if (leave > now) {
    ++link.counters.held;
    ++totals_.held;
  }
  Launch(slot, std::move(payload), send, arrival);
  if (duplicate) {
    Link& same = links_[slot];
    LaunchCopy(slot, std::move(copy), send, leave + DrawLatency(same, ParamsOf(same)));
  }
  if (late_copy.has_value()) {
    Link& same = links_[slot];
    const LinkParams& q = ParamsOf(same);
    LaunchCopy(slot, *std::move(late_copy), send,
               leave + same.rng.UniformDuration(q.latency_max, q.late_copy_latency_max));
  }
  CheckCounters();
  return send;
}

// Puts a copy the network made of message `send` (a duplicate or a late copy) in flight.
void Network::LaunchCopy(uint32_t slot, Payload&& copy, uint64_t send, Instant arrival) {
  Link& link = links_[slot];
  const uint64_t event = sim_.Record({.node = link.from,
                                      .kind = EventKind::kDuplicate,
                                      .cause = send,
                                      .a = link.to,
                                      .b = copy.size()});
  ++link.counters.duplicated;
  ++totals_.duplicated;
  Launch(slot, std::move(copy), event, arrival);
}

// Puts an accepted message in flight: an arrival task of its own on a reordering link, a
// place in the link's queue otherwise.
void Network::Launch(uint32_t slot, Payload&& payload, uint64_t cause, Instant arrival) {
  const uint32_t m = AllocateMessage();
  Link& link = links_[slot];
  Message& msg = messages_[m];
  msg.payload = std::move(payload);
  msg.cause = cause;
  msg.link = slot;
  ++link.counters.in_flight;
  ++totals_.in_flight;
  HC_ASSERT((link.fifo_head == kNil) == !link.pump.valid());
  if (ParamsOf(link).reorder) {
    msg.arrival = arrival;
    msg.timer = sim_.ScheduleAt(arrival, ArriveTask{this, m});
    return;
  }
  // The pump delivers the head no earlier than its own arrival and no earlier than the
  // message before it, which is the FIFO rule: delivery = max(drawn, previous delivery).
  msg.arrival = arrival;
  if (link.fifo_tail == kNil) {
    link.fifo_head = m;
  } else {
    messages_[link.fifo_tail].next = m;
  }
  link.fifo_tail = m;
  if (!link.pump.valid()) SchedulePump(slot, msg.arrival);
}

void Network::SchedulePump(uint32_t slot, Instant when) {
  Link& link = links_[slot];
  HC_ASSERT(!link.pump.valid());
  link.pump = sim_.ScheduleAt(std::max(when, sim_.Now()), PumpTask{this, slot});
}

// What happens to a message arriving now on `link`. The partition check comes first, so a
// message held by a clog is checked against partitions again when the hold ends.
Network::Verdict Network::Judge(const Link& link, Instant* hold_until) const {
  if (link.blocked) return Verdict::kDropPartition;
  const Instant now = sim_.Now();
  const Instant clog_end = std::max(endpoints_[link.to].receive_clog_end, link.clog_end);
  if (clog_end > now) {
    *hold_until = clog_end;
    return Verdict::kHold;
  }
  if (!sim_.IsUp(link.to)) return Verdict::kDropDown;
  return Verdict::kDeliver;
}

void Network::Arrive(uint32_t m) {
  Message& msg = messages_[m];
  HC_ASSERT(msg.live && msg.link != kNil);
  msg.timer = TimerId{};
  Link& link = links_[msg.link];
  Instant hold_until;
  const Verdict verdict = Judge(link, &hold_until);
  if (verdict == Verdict::kHold) {
    ++link.counters.held;
    ++totals_.held;
    msg.arrival = hold_until;
    msg.timer = sim_.ScheduleAt(hold_until, ArriveTask{this, m});
    return;
  }
  Resolve(m, verdict);
}

// Delivers or drops the head of a FIFO link's queue, then schedules itself for the next
// message. Only one pump per link is ever pending, so the queue drains strictly in order.
void Network::Pump(uint32_t slot) {
  Link& link = links_[slot];
  link.pump = TimerId{};
  const uint32_t m = link.fifo_head;
  HC_ASSERT(m != kNil);
  HC_ASSERT(messages_[m].arrival <= sim_.Now());
  Instant hold_until;
  const Verdict verdict = Judge(link, &hold_until);
  if (verdict == Verdict::kHold) {
    ++link.counters.held;
    ++totals_.held;
    SchedulePump(slot, hold_until);
    return;
  }
  link.fifo_head = messages_[m].next;
  if (link.fifo_head == kNil) {
    link.fifo_tail = kNil;
  } else {
    SchedulePump(slot, messages_[link.fifo_head].arrival);
  }
  Resolve(m, verdict);
}

// Ends message `m` as `verdict` says and frees its slot. The receiver's handler runs last,
// after the network's own state is consistent, because it may send (even on this link).
void Network::Resolve(uint32_t m, Verdict verdict) {
  HC_ASSERT(verdict != Verdict::kHold);
  Message& msg = messages_[m];
  Link& link = links_[msg.link];
  const NodeId from = link.from;
  const NodeId to = link.to;
  const uint64_t cause = msg.cause;
  Payload payload = std::move(msg.payload);
  FreeMessage(m);
  HC_ASSERT(link.counters.in_flight > 0 && totals_.in_flight > 0);
  --link.counters.in_flight;
  --totals_.in_flight;
  if (verdict != Verdict::kDeliver) {
    const DropReason reason = verdict == Verdict::kDropPartition ? DropReason::kPartitionAtDelivery
                                                                 : DropReason::kDestinationDown;
    sim_.Record({.node = to,
                 .kind = EventKind::kDrop,
                 .cause = cause,
                 .a = from,
                 .b = static_cast<uint64_t>(reason)});
    CountDrop(link, reason);
    return;
  }
  ++link.counters.delivered;
  ++totals_.delivered;
  link.counters.bytes_delivered += payload.size();
  totals_.bytes_delivered += payload.size();
  CheckCounters();
  sim_.RecordTrigger(
      {.node = to, .kind = EventKind::kDeliver, .cause = cause, .a = from, .b = payload.size()});
  Node* node = sim_.node(to);
  HC_ASSERT(node != nullptr);
  node->Receive(from, payload);
}

void Network::CountDrop(Link& link, DropReason reason) {
  const size_t index = static_cast<size_t>(reason);
  HC_ASSERT(index > 0 && index < kDropReasonSlots);
  ++link.counters.dropped_by_reason[index];
  ++totals_.dropped_by_reason[index];
  CheckCounters();
}

void Network::CheckCounters() const {
  HC_ASSERT_MSG(totals_.sent + totals_.duplicated ==
                    totals_.delivered + totals_.dropped() + totals_.in_flight,
                "network counters do not add up");
}

// --- Partitions ---------------------------------------------------------------------------

void Network::SetBlocked(NodeId from, NodeId to, bool blocked) {
  Link& link = links_[LinkSlot(from, to)];
  if (link.blocked == blocked) return;
  link.blocked = blocked;
  sim_.Record({.node = from, .kind = blocked ? EventKind::kPartition : EventKind::kHeal, .a = to});
}

void Network::Partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b) {
  for (NodeId a : side_a) {
    for (NodeId b : side_b) HC_ASSERT_MSG(a != b, "partition sides must be disjoint");
  }
  for (NodeId a : side_a) {
    for (NodeId b : side_b) {
      SetBlocked(a, b, true);
      SetBlocked(b, a, true);
    }
  }
}

void Network::BlockOneWay(NodeId from, NodeId to) { SetBlocked(from, to, true); }

void Network::HealLink(NodeId from, NodeId to) {
  if (FindLink(from, to) != nullptr) SetBlocked(from, to, false);
}

void Network::Heal() {
  // (from, to) order, so the kHeal events come out the same way every run.
  for (NodeId from = 0; from < endpoints_.size(); ++from) {
    const std::vector<uint32_t>& out = endpoints_[from].out;
    for (NodeId to = 0; to < out.size(); ++to) {
      if (out[to] != 0 && links_[out[to] - 1].blocked) SetBlocked(from, to, false);
    }
  }
}

bool Network::IsBlocked(NodeId from, NodeId to) const {
  const Link* link = FindLink(from, to);
  return link != nullptr && link->blocked;
}

// --- Clogs --------------------------------------------------------------------------------

void Network::Clog(NodeId node, Duration d, ClogDirection direction) {
  HC_ASSERT(d >= Duration::Zero() && d <= kMaxLinkLatency);
  HC_ASSERT(sim_.HasNode(node));
  const Instant end = sim_.Now() + d;
  Endpoint& e = EndpointOf(node);
  if (direction != ClogDirection::kReceive) e.send_clog_end = std::max(e.send_clog_end, end);
  if (direction != ClogDirection::kSend) {
    e.receive_clog_end = std::max(e.receive_clog_end, end);
  }
  sim_.Record({.node = node,
               .kind = EventKind::kClog,
               .a = static_cast<uint64_t>(end.ns()),
               .b = static_cast<uint64_t>(direction)});
}

void Network::ClogLink(NodeId from, NodeId to, Duration d) {
  HC_ASSERT(d >= Duration::Zero() && d <= kMaxLinkLatency);
  HC_ASSERT(sim_.HasNode(from) && sim_.HasNode(to));
  const Instant end = sim_.Now() + d;
  Link& link = links_[LinkSlot(from, to)];
  link.clog_end = std::max(link.clog_end, end);
  sim_.Record({.node = from,
               .kind = EventKind::kClog,
               .a = static_cast<uint64_t>(end.ns()),
               .b = 4 + uint64_t{to}});
}

Instant Network::Swizzle(const std::vector<NodeId>& nodes, Duration step, Duration hold,
                         SwizzleUnclogOrder order) {
  HC_ASSERT(!nodes.empty() && nodes.size() <= kMaxSwizzleNodes);
  HC_ASSERT(step >= Duration::Zero() && step <= kMaxLinkLatency);
  HC_ASSERT(hold >= Duration::Zero() && hold <= kMaxLinkLatency);
  const int64_t k = static_cast<int64_t>(nodes.size());
  HC_ASSERT_MSG(step * (2 * k) + hold <= kMaxLinkLatency, "swizzle longer than the clog limit");
  std::vector<NodeId> release(nodes.rbegin(), nodes.rend());
  for (size_t i = 0; i < release.size(); ++i) {
    HC_ASSERT(sim_.HasNode(release[i]));
    for (size_t j = 0; j < i; ++j) HC_ASSERT_MSG(release[i] != release[j], "nodes repeat");
  }
  if (order == SwizzleUnclogOrder::kShuffled) {
    for (size_t i = release.size(); i > 1; --i) {
      std::swap(release[i - 1], release[swizzle_rng_.Uniform(i)]);
    }
  }
  const Instant start = sim_.Now();
  std::erase_if(pending_clogs_, [&](const PendingClog& c) { return c.when < start; });
  const Instant all_clogged = start + step * (k - 1);
  for (int64_t r = 0; r < k; ++r) {
    const NodeId node = release[r];
    const int64_t i = std::find(nodes.begin(), nodes.end(), node) - nodes.begin();
    const Instant clog_at = start + step * i;
    const Duration length = (all_clogged + hold + step * r) - clog_at;
    if (clog_at == start) {
      // Clogs due now start inside this call, so a message sent right after Swizzle
      // returns is already held.
      Clog(node, length);
    } else {
      const TimerId timer = sim_.ScheduleAt(clog_at, [this, node, length] { Clog(node, length); });
      pending_clogs_.push_back({clog_at, timer});
    }
  }
  return start + SwizzleSpan(nodes.size(), step, hold);
}

Instant Network::send_clog_end(NodeId node) const {
  return node < endpoints_.size() ? endpoints_[node].send_clog_end : Instant::Zero();
}

Instant Network::receive_clog_end(NodeId node) const {
  return node < endpoints_.size() ? endpoints_[node].receive_clog_end : Instant::Zero();
}

bool Network::IsClogged(NodeId node) const {
  return std::max(send_clog_end(node), receive_clog_end(node)) > sim_.Now();
}

// --- Counters -----------------------------------------------------------------------------

LinkCounters Network::link_counters(NodeId from, NodeId to) const {
  const Link* link = FindLink(from, to);
  return link == nullptr ? LinkCounters{} : link->counters;
}

std::vector<LinkSummary> Network::Links() const {
  std::vector<LinkSummary> out;
  out.reserve(links_.size());
  for (NodeId from = 0; from < endpoints_.size(); ++from) {
    const std::vector<uint32_t>& slots = endpoints_[from].out;
    for (NodeId to = 0; to < slots.size(); ++to) {
      if (slots[to] != 0) out.push_back({from, to, links_[slots[to] - 1].counters});
    }
  }
  return out;
}

}  // namespace hindcast::sim
