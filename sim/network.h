// The simulated network: per-link latency, loss, duplication and reordering, partitions
// (symmetric and one-way) and FoundationDB-style clogs, all driven by the simulator's clock
// and seeded streams.
//
//   Simulator sim({.seed = 42});
//   Network net(sim, {.default_link = {.latency_min = Duration::Micros(100),
//                                      .latency_max = Duration::Millis(2),
//                                      .drop_ppm = 1000}});
//   net.SetLink(1, 2, {.latency_min = Duration::Millis(20), .latency_max = Duration::Millis(40),
//                      .reorder = false});
//   net.Send(1, 2, request.SerializeAsString());   // Node 2's Receive(1, payload) runs later.
//   net.Partition({1, 2}, {3});                      // Nothing crosses between {1,2} and {3}.
//   net.Swizzle({1, 2, 3}, Duration::Millis(100), Duration::Seconds(1));
//   net.Heal();
//
// Messages are opaque payloads (sim/payload.h): bytes, or an object the receiver takes as the
// sender built it; the network sees only their encoded size. A message
// sent at time s on the directed link from -> to goes through these steps, each recorded in
// the simulator's event log:
//   1. kSend {node = from, a = to, b = size}. Its seq is the message's identity.
//   2. At send time it is dropped (kDrop, cause = the send) if the sender is down, the link is
//      blocked, or the link's drop draw says so. Otherwise it may be duplicated (kDuplicate,
//      cause = the send): the copy is an independent message with its own latency whose
//      events name the kDuplicate event as their cause.
//   3. It leaves when no clog holds it (the sender's send side, the receiver's receive side
//      or the link itself) and arrives one latency draw later. On a link without `reorder`
//      it never arrives before a message sent earlier on that link.
//   4. At arrival it is dropped if the link is blocked now, held until the clog ends if the
//      receiver's receive side or the link is clogged now (checked again when the hold ends),
//      dropped if the receiver is down, and otherwise delivered: kDeliver {node = to,
//      cause = the send, a = from, b = size} becomes the trigger of the receiver's handler,
//      so the messages the handler sends name the delivery as their cause.
// So no message is ever delivered while its link is blocked, nor if the link was blocked
// when it was sent.
//
// Randomness: each directed link draws from its own stream,
// `sim.root_rng().Child("network").Child("link", from << 32 | to)`, so traffic on one link,
// or a link created later, never shifts another link's draws. Swizzles that shuffle their
// unclog order draw from `Child("network").Child("swizzle")`.
//
// Lifetime: the Network keeps raw pointers in scheduled tasks and cancels them on
// destruction, so it must be constructed after and destroyed before its Simulator. It is
// not thread-safe; nothing in a simulation is.
#ifndef HINDCAST_SIM_NETWORK_H_
#define HINDCAST_SIM_NETWORK_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "sim/payload.h"
#include "sim/random.h"
#include "sim/simulator.h"
#include "sim/time.h"

namespace hindcast::sim {

// Probabilities are integer parts per million (kPartsPerMillion, sim/random.h), so no
// floating point decides anything in a run.
//
// The longest latency a link may be configured with; longer is a configuration mistake.
inline constexpr Duration kMaxLinkLatency = Duration::Seconds(3600);
// Node ids are dense small integers (the simulator enforces the same bound).
inline constexpr NodeId kMaxNetworkNodeId = (1u << 20) - 1;
// Messages in flight at once, across all links; a run past this has a runaway sender.
inline constexpr uint32_t kMaxInFlightMessages = 1u << 26;
// Nodes in one swizzle.
inline constexpr size_t kMaxSwizzleNodes = 4096;

struct LinkParams {
  // Each message's latency is uniform in [latency_min, latency_max], except that with
  // probability tail_ppm it is uniform in [latency_max, tail_latency_max] (a slow packet).
  Duration latency_min = Duration::Micros(100);
  Duration latency_max = Duration::Millis(1);
  uint32_t tail_ppm = 0;
  Duration tail_latency_max = Duration::Millis(50);
  uint32_t drop_ppm = 0;
  uint32_t duplicate_ppm = 0;
  // Without reorder, a message never arrives before one sent earlier on the same directed
  // link (TCP-like). The guarantee covers messages sent while the link is in this mode.
  bool reorder = true;
  // Late copies (TigerBeetle's VOPR replays packets the same way): with probability
  // late_copy_ppm a message is also delivered again, uniform in [latency_max,
  // late_copy_latency_max] after it leaves, long after everything sent with it. A protocol
  // that keys state by incarnation must survive the late copy of any message. Reordering
  // links only: a TCP-like link never delivers an old message again.
  uint32_t late_copy_ppm = 0;
  Duration late_copy_latency_max = Duration::Seconds(2);
};

// OK when `params` is usable; callers building params from user input check this first,
// because the Network asserts it (bad params reaching it are a programmer error).
absl::Status ValidateLinkParams(const LinkParams& params);

// Why a message was dropped; recorded in kDrop's `b`. Values are part of the fingerprint:
// never renumber, only append.
enum class DropReason : uint8_t {
  kRandom = 1,               // The link's drop_ppm draw.
  kPartitionAtSend = 2,      // The link was blocked when the message was sent.
  kPartitionAtDelivery = 3,  // The link was blocked when the message arrived.
  kDestinationDown = 4,      // The receiver was down when the message arrived.
  kSenderDown = 5,           // The sender was down when it sent (a harness sending for it).
};
inline constexpr size_t kDropReasonSlots = 6;  // Index 0 is unused.
std::string_view DropReasonName(DropReason reason);

// Which side of a node a clog stalls. Values are recorded in kClog's `b`.
enum class ClogDirection : uint8_t { kSend = 1, kReceive = 2, kBoth = 3 };

// How a swizzle releases its nodes once all are clogged.
enum class SwizzleUnclogOrder : uint8_t {
  kReverse,   // Last clogged, first released.
  kShuffled,  // A seeded random order, as FoundationDB's documentation describes.
};

// Counts for one directed link, or summed over all links. Every message (original or copy)
// ends exactly one way, so at any moment
//   sent + duplicated == delivered + dropped() + in_flight.
struct LinkCounters {
  uint64_t sent = 0;        // Send calls, including those dropped at once.
  uint64_t duplicated = 0;  // Extra copies the network made.
  uint64_t delivered = 0;   // Receive calls made.
  std::array<uint64_t, kDropReasonSlots> dropped_by_reason{};
  uint64_t in_flight = 0;  // Accepted, not yet delivered or dropped.
  uint64_t held = 0;       // Times a clog held a message (at send or at arrival).
  uint64_t bytes_sent = 0;
  uint64_t bytes_delivered = 0;

  uint64_t dropped() const;
  uint64_t dropped(DropReason reason) const {
    return dropped_by_reason[static_cast<size_t>(reason)];
  }
  void Add(const LinkCounters& other);
};

struct LinkSummary {
  NodeId from;
  NodeId to;
  LinkCounters counters;
};

struct NetworkOptions {
  LinkParams default_link;
};

class Network {
 public:
  Network(Simulator& sim, const NetworkOptions& options);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  // Sends `payload` from `from` to `to` (both registered simulator nodes; a node may send to
  // itself). Returns the kSend event's seq, the message's identity.
  uint64_t Send(NodeId from, NodeId to, Payload&& payload);
  uint64_t Send(NodeId from, NodeId to, std::string bytes) {
    return Send(from, to, Payload(std::move(bytes)));
  }

  // Sees every message as it is sent (before any fault decides its fate), in send order:
  // for tests that capture a message to deliver a late copy of it, and for tracers. It must
  // not send, schedule or draw randomness; the run is the same with or without it.
  using Tap = absl::AnyInvocable<void(NodeId from, NodeId to, std::string_view bytes)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }

  // --- Link parameters -------------------------------------------------------------------
  // The default applies to every link without an override, including links already used.
  void SetDefaultLink(const LinkParams& params);
  void SetLink(NodeId from, NodeId to, const LinkParams& params);
  // Removes the override of from -> to; the default applies again.
  void ResetLink(NodeId from, NodeId to);
  const LinkParams& link_params(NodeId from, NodeId to) const;

  // --- Partitions ------------------------------------------------------------------------
  // Blocks every link between the two disjoint groups, in both directions. Each directed
  // link that becomes blocked records kPartition {node = from, a = to}.
  void Partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b);
  // Blocks from -> to only; to -> from keeps working.
  void BlockOneWay(NodeId from, NodeId to);
  // Unblocks the directed link from -> to (call twice to heal both directions). Each link
  // that becomes unblocked records kHeal {node = from, a = to}.
  void HealLink(NodeId from, NodeId to);
  // Unblocks every link. Clogs are not partitions and are left alone.
  void Heal();
  bool IsBlocked(NodeId from, NodeId to) const;

  // --- Clogs (FoundationDB's clogInterface / clogPair) -------------------------------------
  // Stalls `node`'s network for `d` from now: a message it sends leaves when the send side
  // unclogs, a message to it is held until the receive side unclogs (also when the clog
  // began while the message was in flight). Overlapping clogs extend, never shorten: the
  // side stays clogged until the latest end asked for. Records kClog {node, a = end time in
  // ns, b = direction}.
  void Clog(NodeId node, Duration d, ClogDirection direction = ClogDirection::kBoth);
  // Stalls the directed link from -> to for `d`. Records kClog {node = from, a = end time in
  // ns, b = 4 + to}.
  void ClogLink(NodeId from, NodeId to, Duration d);
  // Swizzle-clogging: clogs `nodes` (both directions) one by one, one every `step`, starting
  // now; once the last is clogged, all stay clogged for `hold`; then they are released one
  // by one, one every `step`, in `order`. Each clog is one Clog call at its start (so one
  // kClog event each) whose length makes it end at the node's release time. Returns when
  // the last node is released. Nodes must be distinct.
  //
  // This is FoundationDB's swizzle (RandomClogging's swizzleClogClient): there, each chosen
  // node's clog starts at a random time in the first half of a window and ends at a random
  // time in the second half, so all are clogged at the midpoint and they come back in an
  // order unrelated to the one they stalled in — which is what exposes bugs in recovery
  // ordering. Here the times are regular (so tests can assert them) and the release order is
  // reversed or seeded-random; choosing which nodes to swizzle is the fault plan's job.
  Instant Swizzle(const std::vector<NodeId>& nodes, Duration step, Duration hold,
                  SwizzleUnclogOrder order = SwizzleUnclogOrder::kReverse);
  // How long a swizzle of `nodes` nodes lasts, from its start to the last release: the last
  // node stalls k - 1 steps in, and is released `hold` plus k - 1 steps after that.
  static Duration SwizzleSpan(size_t nodes, Duration step, Duration hold) {
    const int64_t k = static_cast<int64_t>(nodes);
    return step * (2 * (k - 1)) + hold;
  }
  // When the side(s) of `node` stop being clogged; at or before Now() means not clogged.
  Instant send_clog_end(NodeId node) const;
  Instant receive_clog_end(NodeId node) const;
  bool IsClogged(NodeId node) const;

  // --- Counters --------------------------------------------------------------------------
  // Zero counters for a link never used.
  LinkCounters link_counters(NodeId from, NodeId to) const;
  const LinkCounters& totals() const { return totals_; }
  // Every link ever used or configured, in (from, to) order.
  std::vector<LinkSummary> Links() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;

  struct Link {
    NodeId from;
    NodeId to;
    bool has_override = false;
    bool blocked = false;
    LinkParams params;  // Meaningful only with has_override.
    Rng rng;
    Instant clog_end;
    // Without reorder: the messages in flight in send order, drained by one pump task at a
    // time (`pump` is valid exactly while the queue is not empty).
    uint32_t fifo_head = kNil;
    uint32_t fifo_tail = kNil;
    TimerId pump;
    LinkCounters counters;
  };
  struct Endpoint {
    Instant send_clog_end;
    Instant receive_clog_end;
    std::vector<uint32_t> out;  // Index `to` holds the link slot + 1; 0 = no link yet.
  };
  // A message in flight. Slots are pooled so a send allocates nothing beyond its payload.
  struct Message {
    Payload payload;
    uint64_t cause = 0;  // The kSend (or kDuplicate) event.
    Instant arrival;
    uint32_t link = kNil;
    uint32_t next = kNil;  // Next in the link's FIFO queue, or in the free list.
    TimerId timer;         // The arrival task of a reorder-link message.
    bool live = false;
  };
  enum class Verdict { kDeliver, kHold, kDropPartition, kDropDown };
  // The arrival task of one reorder-link message: 16 bytes, so AnyInvocable stores it
  // inline and scheduling allocates nothing.
  struct ArriveTask {
    Network* network;
    uint32_t message;
    void operator()() { network->Arrive(message); }
  };
  struct PumpTask {
    Network* network;
    uint32_t link;
    void operator()() { network->Pump(link); }
  };

  Endpoint& EndpointOf(NodeId node);
  uint32_t LinkSlot(NodeId from, NodeId to);  // Creates the link on first use.
  const Link* FindLink(NodeId from, NodeId to) const;
  const LinkParams& ParamsOf(const Link& link) const {
    return link.has_override ? link.params : options_.default_link;
  }
  Duration DrawLatency(Link& link, const LinkParams& params);
  uint32_t AllocateMessage();
  void FreeMessage(uint32_t m);
  void Launch(uint32_t slot, Payload&& payload, uint64_t cause, Instant arrival);
  void LaunchCopy(uint32_t slot, Payload&& copy, uint64_t send, Instant arrival);
  void SchedulePump(uint32_t slot, Instant when);
  Verdict Judge(const Link& link, Instant* hold_until) const;
  void Arrive(uint32_t m);
  void Pump(uint32_t slot);
  void Resolve(uint32_t m, Verdict verdict);
  void CountDrop(Link& link, DropReason reason);
  void SetBlocked(NodeId from, NodeId to, bool blocked);
  void CheckCounters() const;

  // A swizzle's clog that has not started yet; cancelled if the network dies first.
  struct PendingClog {
    Instant when;
    TimerId timer;
  };

  Simulator& sim_;
  NetworkOptions options_;
  Rng link_rng_root_;
  Rng swizzle_rng_;
  std::vector<Link> links_;  // In creation order; links are never removed.
  std::vector<Endpoint> endpoints_;
  std::vector<Message> messages_;
  uint32_t free_messages_ = kNil;
  std::vector<PendingClog> pending_clogs_;
  LinkCounters totals_;
  Tap tap_;
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_NETWORK_H_
