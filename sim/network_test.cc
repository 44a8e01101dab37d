#include "sim/network.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"

namespace hindcast::sim {
namespace {

Instant At(Duration d) { return Instant::Zero() + d; }
Duration Ms(int64_t ms) { return Duration::Millis(ms); }

LinkParams Fixed(Duration latency) {
  return {.latency_min = latency, .latency_max = latency, .tail_latency_max = latency};
}

struct Received {
  Instant at;
  NodeId from;
  NodeId to;
  std::string bytes;
};

class SinkNode : public Node {
 public:
  SinkNode(Simulator* sim, NodeId id, std::vector<Received>* inbox)
      : sim_(sim), id_(id), inbox_(inbox) {}
  void Receive(NodeId from, Payload& payload) override {
    inbox_->push_back({sim_->Now(), from, id_, std::string(payload.bytes())});
  }

 private:
  Simulator* sim_;
  NodeId id_;
  std::vector<Received>* inbox_;
};

// Nodes 1..node_count that record every message they receive, over a network with `params`.
struct Harness {
  explicit Harness(uint64_t seed, const LinkParams& params = {}, NodeId node_count = 3)
      : sim({.seed = seed, .retention = EventLog::Retention::kFull}),
        net(sim, {.default_link = params}) {
    for (NodeId id = 1; id <= node_count; ++id) {
      sim.AddNode(id, absl::StrCat("n", id),
                  [this](NodeId self) { return std::make_unique<SinkNode>(&sim, self, &inbox); });
    }
  }
  void Run() { sim.Run({}); }

  Simulator sim;
  Network net;
  std::vector<Received> inbox;
};

std::vector<Event> EventsOfKind(const Simulator& sim, EventKind kind) {
  std::vector<Event> out;
  for (size_t i = 0; i < sim.log().kept(); ++i) {
    Event e = sim.log().event(i);
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

void ExpectCountersAddUp(const LinkCounters& c) {
  EXPECT_EQ(c.sent + c.duplicated, c.delivered + c.dropped() + c.in_flight);
}

// --- Parameters and latency -----------------------------------------------------------------

TEST(NetworkTest, ValidateLinkParamsRejectsInconsistentParams) {
  EXPECT_TRUE(ValidateLinkParams({}).ok());
  EXPECT_FALSE(ValidateLinkParams({.latency_min = Ms(2), .latency_max = Ms(1)}).ok());
  EXPECT_FALSE(ValidateLinkParams({.latency_min = -Ms(1)}).ok());
  EXPECT_FALSE(ValidateLinkParams({.latency_max = Ms(60), .tail_latency_max = Ms(50)}).ok());
  EXPECT_FALSE(ValidateLinkParams({.tail_latency_max = kMaxLinkLatency + Ms(1)}).ok());
  EXPECT_FALSE(ValidateLinkParams({.drop_ppm = kPartsPerMillion + 1}).ok());
  EXPECT_FALSE(ValidateLinkParams({.duplicate_ppm = kPartsPerMillion + 1}).ok());
  EXPECT_FALSE(ValidateLinkParams({.tail_ppm = kPartsPerMillion + 1}).ok());
  EXPECT_FALSE(ValidateLinkParams({.late_copy_ppm = kPartsPerMillion + 1}).ok());
  EXPECT_FALSE(ValidateLinkParams({.reorder = false, .late_copy_ppm = 1}).ok());
  EXPECT_FALSE(
      ValidateLinkParams(
          {.latency_max = Ms(5), .tail_latency_max = Ms(50), .late_copy_latency_max = Ms(4)})
          .ok());
  EXPECT_TRUE(ValidateLinkParams({.late_copy_ppm = 1}).ok());
}

TEST(NetworkTest, LatencyStaysWithinLinkBounds) {
  const LinkParams params{.latency_min = Duration::Micros(300), .latency_max = Ms(3)};
  Harness h(7, params);
  for (int i = 0; i < 2000; ++i) h.net.Send(1, 2, "x");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 2000u);
  Instant lo = Instant::Max(), hi = Instant::Zero();
  for (const Received& r : h.inbox) {
    lo = std::min(lo, r.at);
    hi = std::max(hi, r.at);
  }
  EXPECT_GE(lo, At(params.latency_min));
  EXPECT_LE(hi, At(params.latency_max));
  // The draws spread over the range rather than sticking to one end.
  EXPECT_LT(lo, At(Duration::Micros(400)));
  EXPECT_GT(hi, At(Duration::Micros(2900)));
}

TEST(NetworkTest, LongTailDrawsStayWithinTheTailAndAreRare) {
  const LinkParams params{
      .latency_min = Ms(1), .latency_max = Ms(2), .tail_ppm = 50'000, .tail_latency_max = Ms(100)};
  Harness h(11, params);
  constexpr int kMessages = 20'000;
  for (int i = 0; i < kMessages; ++i) h.net.Send(1, 2, "");
  h.Run();
  ASSERT_EQ(h.inbox.size(), size_t{kMessages});
  int slow = 0;
  for (const Received& r : h.inbox) {
    EXPECT_GE(r.at, At(Ms(1)));
    EXPECT_LE(r.at, At(Ms(100)));
    if (r.at > At(Ms(2))) ++slow;
  }
  // 5% of 20000 is 1000, with a standard deviation near 31.
  EXPECT_GT(slow, 800);
  EXPECT_LT(slow, 1200);
}

TEST(NetworkTest, LinkOverrideAppliesToItsDirectionOnlyAndResetRestoresTheDefault) {
  Harness h(1, Fixed(Ms(1)));
  h.net.SetLink(1, 2, Fixed(Ms(7)));
  h.net.Send(1, 2, "a");
  h.net.Send(2, 1, "b");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 2u);
  EXPECT_EQ(h.inbox[0].bytes, "b");
  EXPECT_EQ(h.inbox[0].at, At(Ms(1)));
  EXPECT_EQ(h.inbox[1].at, At(Ms(7)));
  h.net.ResetLink(1, 2);
  EXPECT_EQ(h.net.link_params(1, 2).latency_max, Ms(1));
  h.net.SetDefaultLink(Fixed(Ms(3)));
  h.net.Send(1, 2, "c");
  h.Run();
  EXPECT_EQ(h.inbox.back().at, At(Ms(7 + 3)));
}

// --- Ordering -------------------------------------------------------------------------------

std::vector<int> ArrivalOrder(bool reorder) {
  Harness h(3, {.latency_min = Duration::Micros(10), .latency_max = Ms(5), .reorder = reorder});
  for (int i = 0; i < 500; ++i) {
    h.sim.ScheduleAt(At(Duration::Micros(i * 5)), [&h, i] { h.net.Send(1, 2, std::to_string(i)); });
  }
  h.Run();
  std::vector<int> order;
  for (const Received& r : h.inbox) order.push_back(std::stoi(r.bytes));
  return order;
}

TEST(NetworkTest, FifoLinkDeliversInSendOrder) {
  std::vector<int> order = ArrivalOrder(/*reorder=*/false);
  ASSERT_EQ(order.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(order[i], i);
}

TEST(NetworkTest, ReorderingLinkDoesReorder) {
  // Guards the FIFO test against passing vacuously: the same traffic does reorder here.
  std::vector<int> order = ArrivalOrder(/*reorder=*/true);
  ASSERT_EQ(order.size(), 500u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

// --- Loss and duplication -------------------------------------------------------------------

TEST(NetworkTest, DropAndDuplicateRatesMatchTheConfiguration) {
  Harness h(2024, {.drop_ppm = 100'000, .duplicate_ppm = 20'000});
  constexpr uint64_t kMessages = 100'000;
  for (uint64_t i = 0; i < kMessages; ++i) h.net.Send(1 + i % 3, 1 + (i / 3) % 3, "payload");
  h.Run();
  const LinkCounters& t = h.net.totals();
  EXPECT_EQ(t.sent, kMessages);
  // 10% drops: mean 10000, sd ~95. 2% duplicates of the 90% kept: mean 1800, sd ~42.
  EXPECT_NEAR(static_cast<double>(t.dropped(DropReason::kRandom)), 10'000.0, 500.0);
  EXPECT_NEAR(static_cast<double>(t.duplicated), 1'800.0, 250.0);
  EXPECT_EQ(t.dropped(), t.dropped(DropReason::kRandom));
  EXPECT_EQ(t.in_flight, 0u);
  EXPECT_EQ(t.delivered, h.inbox.size());
  ExpectCountersAddUp(t);
  EXPECT_EQ(EventsOfKind(h.sim, EventKind::kDuplicate).size(), t.duplicated);
  EXPECT_EQ(EventsOfKind(h.sim, EventKind::kDrop).size(), t.dropped());
}

// A late copy is a second delivery of the same bytes, later than the first, within its
// bound; as many as the rate says, each a kDuplicate event.
TEST(NetworkTest, LateCopiesArriveAgainLaterAtTheConfiguredRate) {
  LinkParams params = Fixed(Ms(1));
  params.late_copy_ppm = 50'000;
  params.late_copy_latency_max = Ms(500);
  Harness h(11, params);
  constexpr int kMessages = 20'000;
  for (int i = 0; i < kMessages; ++i) h.net.Send(1, 2, absl::StrCat(i));
  h.Run();
  const LinkCounters& t = h.net.totals();
  // 5% of 20000: mean 1000, sd ~31.
  EXPECT_NEAR(static_cast<double>(t.duplicated), 1'000.0, 150.0);
  EXPECT_EQ(t.delivered, kMessages + t.duplicated);
  ExpectCountersAddUp(t);
  EXPECT_EQ(EventsOfKind(h.sim, EventKind::kDuplicate).size(), t.duplicated);
  std::map<std::string, std::vector<Instant>> arrivals;
  for (const Received& r : h.inbox) arrivals[r.bytes].push_back(r.at);
  uint64_t late = 0;
  for (const auto& [bytes, at] : arrivals) {
    ASSERT_LE(at.size(), 2u) << bytes;
    EXPECT_EQ(at[0], At(Ms(1))) << bytes;
    if (at.size() == 2) {
      ++late;
      EXPECT_GE(at[1], At(Ms(1))) << bytes;
      EXPECT_LE(at[1], At(Ms(500))) << bytes;
    }
  }
  EXPECT_EQ(late, t.duplicated);
}

// The tap sees every send once, in order, whatever becomes of it (dropped ones too, not the
// duplicates the network makes), and watching changes nothing: same fingerprint as without.
TEST(NetworkTest, TheTapSeesEverySendAndChangesNothing) {
  const LinkParams lossy = {.drop_ppm = 300'000, .duplicate_ppm = 200'000};
  Harness watched(8, lossy), unwatched(8, lossy);
  std::vector<std::string> seen;
  watched.net.set_tap([&](NodeId from, NodeId to, std::string_view bytes) {
    seen.push_back(absl::StrCat(from, ">", to, ":", Sv(bytes)));
  });
  for (Harness* h : {&watched, &unwatched}) {
    for (int i = 0; i < 200; ++i) h->net.Send(1 + i % 3, 1 + (i + 1) % 3, absl::StrCat("m", i));
    h->Run();
  }
  ASSERT_EQ(seen.size(), 200u);
  EXPECT_EQ(seen[0], "1>2:m0");
  EXPECT_EQ(seen[199], "2>3:m199");
  EXPECT_GT(watched.net.totals().dropped(), 0u);
  EXPECT_GT(watched.net.totals().duplicated, 0u);
  EXPECT_EQ(watched.sim.log().fingerprint(), unwatched.sim.log().fingerprint());
}

TEST(NetworkTest, EventsNameTheSendAsTheirCause) {
  Harness h(5, {.duplicate_ppm = kPartsPerMillion});  // Every message is duplicated.
  const uint64_t send = h.net.Send(1, 2, "abc");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 2u);
  std::vector<Event> dups = EventsOfKind(h.sim, EventKind::kDuplicate);
  std::vector<Event> delivers = EventsOfKind(h.sim, EventKind::kDeliver);
  ASSERT_EQ(dups.size(), 1u);
  ASSERT_EQ(delivers.size(), 2u);
  EXPECT_EQ(dups[0].cause, send);
  std::set<uint64_t> causes{delivers[0].cause, delivers[1].cause};
  EXPECT_EQ(causes, (std::set<uint64_t>{send, dups[0].seq}));
  for (const Event& d : delivers) {
    EXPECT_EQ(d.node, 2u);
    EXPECT_EQ(d.a, 1u);
    EXPECT_EQ(d.b, 3u);
  }
  const Event s = h.sim.log().event(send - 1);
  EXPECT_EQ(s.kind, EventKind::kSend);
  EXPECT_EQ(s.node, 1u);
  EXPECT_EQ(s.a, 2u);
  EXPECT_EQ(s.b, 3u);
}

// A node that answers every "ping" with a "pong" on the same link pair.
class EchoNode : public Node {
 public:
  EchoNode(Network* net, NodeId id, std::vector<std::string>* log)
      : net_(net), id_(id), log_(log) {}
  void Receive(NodeId from, Payload& payload) override {
    const std::string_view bytes = payload.bytes();
    log_->push_back(std::string(bytes));
    if (bytes.substr(0, 4) == "ping") {
      net_->Send(id_, from, absl::StrCat("pong", Sv(bytes.substr(4))));
    }
  }

 private:
  Network* net_;
  NodeId id_;
  std::vector<std::string>* log_;
};

TEST(NetworkTest, HandlerSendsAreCausedByTheDeliveryAndMayReuseTheLink) {
  Simulator sim({.seed = 9, .retention = EventLog::Retention::kFull});
  Network net(sim, {.default_link = {.reorder = false}});
  std::vector<std::string> log;
  for (NodeId id = 1; id <= 2; ++id) {
    sim.AddNode(id, "echo",
                [&](NodeId self) { return std::make_unique<EchoNode>(&net, self, &log); });
  }
  for (int i = 0; i < 50; ++i) net.Send(1, 2, absl::StrCat("ping", i));
  sim.Run({});
  EXPECT_EQ(log.size(), 100u);
  EXPECT_EQ(net.totals().delivered, 100u);
  // Every pong's send was recorded inside the delivery of its ping.
  std::map<uint64_t, Event> deliveries;
  for (const Event& d : EventsOfKind(sim, EventKind::kDeliver)) deliveries[d.seq] = d;
  int pongs = 0;
  for (const Event& s : EventsOfKind(sim, EventKind::kSend)) {
    if (s.node != 2) continue;
    ++pongs;
    ASSERT_TRUE(deliveries.contains(s.cause));
    EXPECT_EQ(deliveries[s.cause].node, 2u);
  }
  EXPECT_EQ(pongs, 50);
}

// --- Partitions -----------------------------------------------------------------------------

TEST(NetworkTest, SymmetricPartitionBlocksBothDirectionsAndHealRestores) {
  Harness h(1, Fixed(Ms(1)));
  h.net.Partition({1}, {2, 3});
  EXPECT_TRUE(h.net.IsBlocked(1, 2) && h.net.IsBlocked(2, 1));
  EXPECT_TRUE(h.net.IsBlocked(1, 3) && h.net.IsBlocked(3, 1));
  EXPECT_FALSE(h.net.IsBlocked(2, 3));
  h.net.Send(1, 2, "a");
  h.net.Send(3, 1, "b");
  h.net.Send(2, 3, "c");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 1u);
  EXPECT_EQ(h.inbox[0].bytes, "c");
  EXPECT_EQ(h.net.totals().dropped(DropReason::kPartitionAtSend), 2u);
  EXPECT_EQ(EventsOfKind(h.sim, EventKind::kPartition).size(), 4u);
  h.net.Heal();
  EXPECT_EQ(EventsOfKind(h.sim, EventKind::kHeal).size(), 4u);
  h.net.Send(1, 2, "d");
  h.Run();
  EXPECT_EQ(h.inbox.back().bytes, "d");
}

TEST(NetworkTest, OneWayBlockAndHealLinkAffectOneDirection) {
  Harness h(1, Fixed(Ms(1)));
  h.net.BlockOneWay(1, 2);
  h.net.Send(1, 2, "lost");
  h.net.Send(2, 1, "kept");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 1u);
  EXPECT_EQ(h.inbox[0].bytes, "kept");
  h.net.Partition({1}, {2});
  h.net.HealLink(2, 1);
  EXPECT_TRUE(h.net.IsBlocked(1, 2));
  EXPECT_FALSE(h.net.IsBlocked(2, 1));
}

TEST(NetworkTest, PartitionRaisedWhileInFlightDropsAtDelivery) {
  Harness h(1, Fixed(Ms(5)));
  const uint64_t send = h.net.Send(1, 2, "x");
  h.sim.ScheduleAt(At(Ms(2)), [&] { h.net.Partition({1}, {2}); });
  h.Run();
  EXPECT_TRUE(h.inbox.empty());
  std::vector<Event> drops = EventsOfKind(h.sim, EventKind::kDrop);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].cause, send);
  EXPECT_EQ(drops[0].node, 2u);
  EXPECT_EQ(drops[0].a, 1u);
  EXPECT_EQ(drops[0].b, static_cast<uint64_t>(DropReason::kPartitionAtDelivery));
  EXPECT_EQ(drops[0].time, At(Ms(5)));
}

// --- Clogs ----------------------------------------------------------------------------------

TEST(NetworkTest, ClogHoldsMessagesUntilItEndsThenDelivers) {
  Harness h(1, Fixed(Ms(1)));
  h.net.Clog(2, Ms(10));
  EXPECT_TRUE(h.net.IsClogged(2));
  h.net.Send(1, 2, "to-clogged");    // Leaves when 2 unclogs, then travels.
  h.net.Send(2, 1, "from-clogged");  // Likewise.
  h.net.Send(1, 3, "bystander");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 3u);
  EXPECT_EQ(h.inbox[0].bytes, "bystander");
  EXPECT_EQ(h.inbox[0].at, At(Ms(1)));
  EXPECT_EQ(h.inbox[1].at, At(Ms(11)));
  EXPECT_EQ(h.inbox[2].at, At(Ms(11)));
  EXPECT_EQ(h.net.totals().held, 2u);
  EXPECT_FALSE(h.net.IsClogged(2));
}

TEST(NetworkTest, SendOnlyClogLeavesReceivingAlone) {
  Harness h(1, Fixed(Ms(1)));
  h.net.Clog(1, Ms(10), ClogDirection::kSend);
  h.net.Send(2, 1, "in");
  h.net.Send(1, 2, "out");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 2u);
  EXPECT_EQ(h.inbox[0].bytes, "in");
  EXPECT_EQ(h.inbox[0].at, At(Ms(1)));
  EXPECT_EQ(h.inbox[1].at, At(Ms(11)));
}

TEST(NetworkTest, ClogBegunWhileInFlightHoldsAtArrivalAndExtensionsExtend) {
  Harness h(1, Fixed(Ms(5)));
  h.net.Send(1, 2, "x");
  h.sim.ScheduleAt(At(Ms(1)), [&] { h.net.Clog(2, Ms(10)); });  // Until 11ms.
  h.sim.ScheduleAt(At(Ms(9)), [&] { h.net.Clog(2, Ms(6)); });   // Until 15ms.
  h.sim.ScheduleAt(At(Ms(10)), [&] { h.net.Clog(2, Ms(1)); });  // Shorter: no effect.
  h.Run();
  ASSERT_EQ(h.inbox.size(), 1u);
  EXPECT_EQ(h.inbox[0].at, At(Ms(15)));
  EXPECT_EQ(h.net.totals().held, 2u);  // Held at 5ms, and again at 11ms.
}

TEST(NetworkTest, ClogLinkHoldsOnlyThatDirectedLink) {
  Harness h(1, Fixed(Ms(1)));
  h.net.ClogLink(1, 2, Ms(20));
  h.net.Send(1, 2, "held");
  h.net.Send(2, 1, "free");
  h.net.Send(1, 3, "free");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 3u);
  EXPECT_EQ(h.inbox[2].bytes, "held");
  EXPECT_EQ(h.inbox[2].at, At(Ms(21)));
  EXPECT_EQ(h.inbox[1].at, At(Ms(1)));
}

struct ClogRecord {
  Instant start;
  NodeId node;
  Instant end;
  bool operator==(const ClogRecord&) const = default;
};

std::vector<ClogRecord> ClogEvents(const Simulator& sim) {
  std::vector<ClogRecord> out;
  for (const Event& e : EventsOfKind(sim, EventKind::kClog)) {
    out.push_back({e.time, e.node, Instant::FromNanos(static_cast<int64_t>(e.a))});
  }
  return out;
}

TEST(NetworkTest, SwizzleClogsOneByOneThenReleasesInReverse) {
  Harness h(1, Fixed(Ms(1)), 5);
  const Instant done = h.net.Swizzle({1, 2, 3, 4}, Ms(10), Ms(100));
  EXPECT_EQ(done, At(Ms(160)));
  // Node 5 sends to each swizzled node while all are clogged; each message leaves when its
  // node is released, so they arrive in release order.
  h.sim.ScheduleAt(At(Ms(35)), [&] {
    for (NodeId n = 1; n <= 4; ++n) h.net.Send(5, n, "probe");
  });
  std::vector<int> clogged_counts;
  for (int t : {0, 10, 20, 30, 129, 130, 140, 150, 160}) {
    h.sim.ScheduleAt(At(Ms(t) + Duration::Nanos(1)), [&] {
      int n = 0;
      for (NodeId id = 1; id <= 4; ++id) n += h.net.IsClogged(id);
      clogged_counts.push_back(n);
    });
  }
  h.Run();
  EXPECT_EQ(ClogEvents(h.sim), (std::vector<ClogRecord>{{At(Ms(0)), 1, At(Ms(160))},
                                                        {At(Ms(10)), 2, At(Ms(150))},
                                                        {At(Ms(20)), 3, At(Ms(140))},
                                                        {At(Ms(30)), 4, At(Ms(130))}}));
  EXPECT_EQ(clogged_counts, (std::vector<int>{1, 2, 3, 4, 4, 3, 2, 1, 0}));
  ASSERT_EQ(h.inbox.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(h.inbox[i].to, NodeId(4 - i));
    EXPECT_EQ(h.inbox[i].at, At(Ms(131 + 10 * i)));
  }
}

std::vector<NodeId> ShuffledReleaseOrder(uint64_t seed) {
  Harness h(seed, Fixed(Ms(1)), 6);
  h.net.Swizzle({1, 2, 3, 4, 5, 6}, Ms(1), Ms(10), SwizzleUnclogOrder::kShuffled);
  h.Run();
  std::map<Instant, NodeId> by_end;
  for (const ClogRecord& c : ClogEvents(h.sim)) {
    EXPECT_EQ(c.start, At(Ms(c.node - 1)));  // Clogs still start in the given order.
    EXPECT_TRUE(by_end.emplace(c.end, c.node).second);
  }
  std::vector<NodeId> order;
  int64_t release_ms = 15;  // All clogged at 5ms, held 10ms, then one per step.
  for (const auto& [end, node] : by_end) {
    EXPECT_EQ(end, At(Ms(release_ms++)));
    order.push_back(node);
  }
  return order;
}

TEST(NetworkTest, ShuffledSwizzleReleasesEveryNodeOnceInASeededOrder) {
  EXPECT_EQ(ShuffledReleaseOrder(4), ShuffledReleaseOrder(4));
  std::set<std::vector<NodeId>> orders;
  for (uint64_t seed = 1; seed <= 10; ++seed) orders.insert(ShuffledReleaseOrder(seed));
  EXPECT_GT(orders.size(), 5u);
}

// --- Crashes --------------------------------------------------------------------------------

TEST(NetworkTest, MessagesToACrashedNodeAreDropped) {
  Harness h(1, Fixed(Ms(1)));
  const uint64_t send = h.net.Send(1, 2, "x");
  h.sim.ScheduleAt(At(Duration::Micros(500)), [&] { h.sim.Crash(2); });
  h.Run();
  EXPECT_TRUE(h.inbox.empty());
  std::vector<Event> drops = EventsOfKind(h.sim, EventKind::kDrop);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].cause, send);
  EXPECT_EQ(drops[0].b, static_cast<uint64_t>(DropReason::kDestinationDown));
  EXPECT_EQ(h.net.link_counters(1, 2).dropped(DropReason::kDestinationDown), 1u);
  // A message from the crashed node (a harness sending for it) is dropped at once.
  h.net.Send(2, 1, "ghost");
  EXPECT_EQ(h.net.totals().dropped(DropReason::kSenderDown), 1u);
  h.sim.Restart(2);
  h.net.Send(1, 2, "y");
  h.Run();
  ASSERT_EQ(h.inbox.size(), 1u);
  EXPECT_EQ(h.inbox[0].bytes, "y");
}

TEST(NetworkTest, MessageInFlightAcrossCrashAndRestartReachesTheNewIncarnation) {
  // The network does not know about incarnations; the receiving protocol must cope.
  Harness h(1, Fixed(Ms(5)));
  h.net.Send(1, 2, "x");
  h.sim.ScheduleAt(At(Ms(1)), [&] { h.sim.Crash(2); });
  h.sim.ScheduleAt(At(Ms(2)), [&] { h.sim.Restart(2); });
  h.Run();
  ASSERT_EQ(h.inbox.size(), 1u);
  EXPECT_EQ(h.inbox[0].at, At(Ms(5)));
}

// --- Counters, determinism, streams, lifetime -------------------------------------------------

// A workload with every fault on: random traffic, loss, duplicates, a long tail, partitions,
// clogs, a swizzle and a crash. Returns the run's fingerprint.
struct ChaosResult {
  uint64_t fingerprint;
  LinkCounters totals;
};

ChaosResult RunChaos(uint64_t seed, std::vector<LinkCounters>* samples = nullptr) {
  Harness h(seed,
            {.latency_min = Duration::Micros(50),
             .latency_max = Ms(3),
             .tail_ppm = 10'000,
             .tail_latency_max = Ms(40),
             .drop_ppm = 20'000,
             .duplicate_ppm = 20'000},
            5);
  h.net.SetLink(1, 2, {.reorder = false});
  Rng workload = h.sim.root_rng().Child("workload");
  for (int i = 0; i < 3000; ++i) {
    const Instant t = At(Duration::Micros(workload.UniformRange(0, 200'000)));
    const NodeId from = 1 + workload.Uniform(5), to = 1 + workload.Uniform(5);
    h.sim.ScheduleAt(t, [&h, from, to, i] {
      if (h.sim.IsUp(from)) h.net.Send(from, to, std::string(i % 200, 'z'));
    });
  }
  h.sim.ScheduleAt(At(Ms(20)), [&] { h.net.Partition({1, 2}, {3, 4}); });
  h.sim.ScheduleAt(At(Ms(60)), [&] { h.net.Heal(); });
  h.sim.ScheduleAt(At(Ms(70)), [&] { h.net.BlockOneWay(5, 1); });
  h.sim.ScheduleAt(At(Ms(80)), [&] { h.net.Clog(3, Ms(30)); });
  h.sim.ScheduleAt(At(Ms(90)), [&] {
    h.net.Swizzle({2, 4, 5}, Ms(5), Ms(20), SwizzleUnclogOrder::kShuffled);
  });
  h.sim.ScheduleAt(At(Ms(120)), [&] { h.sim.Crash(4); });
  h.sim.ScheduleAt(At(Ms(150)), [&] { h.sim.Restart(4); });
  for (int t = 10; t <= 250; t += 10) {
    h.sim.ScheduleAt(At(Ms(t)), [&] {
      if (samples != nullptr) samples->push_back(h.net.totals());
      LinkCounters sum;
      for (const LinkSummary& l : h.net.Links()) sum.Add(l.counters);
      EXPECT_EQ(sum.sent, h.net.totals().sent);
      EXPECT_EQ(sum.delivered, h.net.totals().delivered);
      EXPECT_EQ(sum.dropped(), h.net.totals().dropped());
      EXPECT_EQ(sum.in_flight, h.net.totals().in_flight);
    });
  }
  h.Run();
  EXPECT_EQ(h.net.totals().delivered, h.inbox.size());
  return {h.sim.log().fingerprint(), h.net.totals()};
}

TEST(NetworkTest, CountersAddUpAtEveryMomentAndDrainToZeroInFlight) {
  std::vector<LinkCounters> samples;
  const ChaosResult r = RunChaos(77, &samples);
  ASSERT_EQ(samples.size(), 25u);
  bool saw_in_flight = false;
  for (const LinkCounters& c : samples) {
    ExpectCountersAddUp(c);
    saw_in_flight |= c.in_flight > 0;
  }
  EXPECT_TRUE(saw_in_flight);
  ExpectCountersAddUp(r.totals);
  EXPECT_EQ(r.totals.in_flight, 0u);
  EXPECT_GT(r.totals.held, 0u);
  EXPECT_GT(r.totals.duplicated, 0u);
  for (DropReason reason :
       {DropReason::kRandom, DropReason::kPartitionAtSend, DropReason::kDestinationDown}) {
    EXPECT_GT(r.totals.dropped(reason), 0u) << DropReasonName(reason);
  }
}

TEST(NetworkTest, SameSeedSameFingerprintDifferentSeedDifferentFingerprint) {
  const uint64_t a = RunChaos(123).fingerprint;
  EXPECT_EQ(a, RunChaos(123).fingerprint);
  EXPECT_NE(a, RunChaos(124).fingerprint);
}

std::vector<Instant> LatenciesOnLinkOneTwo(bool other_traffic) {
  Harness h(99, {.latency_min = Ms(1), .latency_max = Ms(50), .drop_ppm = 100'000});
  for (int i = 0; i < 200; ++i) {
    if (other_traffic) {
      h.net.Send(1, 3, "noise");
      h.net.Send(3, 2, "noise");
    }
    h.net.Send(1, 2, std::to_string(i));
  }
  h.Run();
  std::vector<Instant> out;
  for (const Received& r : h.inbox) {
    if (r.from == 1 && r.to == 2) out.push_back(r.at);
  }
  return out;
}

TEST(NetworkTest, TrafficOnOtherLinksDoesNotShiftALinksDraws) {
  std::vector<Instant> quiet = LatenciesOnLinkOneTwo(false);
  EXPECT_GT(quiet.size(), 150u);
  EXPECT_EQ(quiet, LatenciesOnLinkOneTwo(true));
}

TEST(NetworkTest, DestroyingTheNetworkCancelsItsPendingTasks) {
  Simulator sim({.seed = 1});
  std::vector<Received> inbox;
  for (NodeId id = 1; id <= 2; ++id) {
    sim.AddNode(id, "n",
                [&](NodeId self) { return std::make_unique<SinkNode>(&sim, self, &inbox); });
  }
  sim.Run({});  // Boots the nodes (Start runs as a task).
  {
    Network net(sim, {.default_link = Fixed(Ms(1))});
    net.Send(1, 2, "reorder-path");
    net.SetLink(1, 2, {.reorder = false});
    net.Send(1, 2, "fifo-path");
    net.Swizzle({1, 2}, Ms(1), Ms(1));  // Node 2's clog is a pending task.
  }
  const RunResult r = sim.Run({});
  EXPECT_EQ(r.steps, 0u);
  EXPECT_TRUE(inbox.empty());
}

// --- Properties -----------------------------------------------------------------------------

// Random traffic interleaved with random partitions, one-way blocks, heals and clogs on a
// random schedule. An independent model of which directed links are blocked, kept by the
// test beside the network, judges every kSend, kDrop and kDeliver as the log records it.
struct PartitionModel {
  std::set<std::pair<NodeId, NodeId>> blocked;
  std::map<uint64_t, bool> blocked_at_send;  // kSend seq -> was its link blocked?
  std::map<uint64_t, uint64_t> original;     // kDuplicate seq -> its kSend seq.
  std::vector<std::string> violations;
  uint64_t deliveries = 0;

  bool Blocked(NodeId from, NodeId to) const { return blocked.contains({from, to}); }
  void Observe(const Event& e) {
    switch (e.kind) {
      case EventKind::kSend:
        blocked_at_send[e.seq] = Blocked(e.node, static_cast<NodeId>(e.a));
        break;
      case EventKind::kDuplicate:
        original[e.seq] = e.cause;
        break;
      case EventKind::kDeliver: {
        ++deliveries;
        const uint64_t send = original.contains(e.cause) ? original[e.cause] : e.cause;
        if (!blocked_at_send.contains(send)) violations.push_back("delivery of unknown send");
        if (blocked_at_send[send]) violations.push_back(e.ToString() + ": blocked at send");
        if (Blocked(static_cast<NodeId>(e.a), e.node)) {
          violations.push_back(e.ToString() + ": blocked at delivery");
        }
        break;
      }
      case EventKind::kDrop: {
        const auto reason = static_cast<DropReason>(e.b);
        const bool at_send = reason == DropReason::kPartitionAtSend;
        const bool at_delivery = reason == DropReason::kPartitionAtDelivery;
        const NodeId from = at_send ? e.node : static_cast<NodeId>(e.a);
        const NodeId to = at_send ? static_cast<NodeId>(e.a) : e.node;
        if ((at_send || at_delivery) && !Blocked(from, to)) {
          violations.push_back(e.ToString() + ": partition drop on an open link");
        }
        if (!at_send && !at_delivery && reason != DropReason::kRandom) {
          violations.push_back(e.ToString() + ": unexpected drop reason");
        }
        const uint64_t send = original.contains(e.cause) ? original[e.cause] : e.cause;
        if (!at_send && blocked_at_send[send]) {
          violations.push_back(e.ToString() + ": blocked at send but not dropped then");
        }
        break;
      }
      default:
        break;
    }
  }
};

enum OpKind {
  kOpSend,
  kOpPartition,
  kOpBlockOneWay,
  kOpHealLink,
  kOpHeal,
  kOpClog,
  kOpClogLink,
  kOpKinds
};

RC_GTEST_PROP(NetworkProperty, NoMessageCrossesAnActivePartition, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto n = *rc::gen::inRange<NodeId>(2, 6);
  const auto latency_max_us = *rc::gen::inRange<int64_t>(0, 20'000);
  const auto latency_min_us = *rc::gen::inRange<int64_t>(0, latency_max_us + 1);
  const auto reorder = *rc::gen::arbitrary<bool>();
  // (kind, x, y, time in us, length in us); sends dominate.
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, int, int, int, int>>>(
      rc::gen::tuple(rc::gen::weightedElement<int>({{12, kOpSend},
                                                    {2, kOpPartition},
                                                    {2, kOpBlockOneWay},
                                                    {2, kOpHealLink},
                                                    {1, kOpHeal},
                                                    {1, kOpClog},
                                                    {1, kOpClogLink}}),
                     rc::gen::inRange(0, 64), rc::gen::inRange(0, 64), rc::gen::inRange(0, 100'000),
                     rc::gen::inRange(0, 30'000)));

  Simulator sim({.seed = seed});
  Network net(sim, {.default_link = {.latency_min = Duration::Micros(latency_min_us),
                                     .latency_max = Duration::Micros(latency_max_us),
                                     .drop_ppm = 10'000,
                                     .duplicate_ppm = 50'000,
                                     .reorder = reorder}});
  std::vector<Received> inbox;
  for (NodeId id = 0; id < n; ++id) {
    sim.AddNode(id, "n",
                [&](NodeId self) { return std::make_unique<SinkNode>(&sim, self, &inbox); });
  }
  PartitionModel model;
  sim.log().add_observer([&model](const Event& e) { model.Observe(e); });
  for (const auto& op : ops) {
    const int kind = std::get<0>(op), x = std::get<1>(op), y = std::get<2>(op);
    const NodeId a = x % n, b = y % n;
    const Duration d = Duration::Micros(std::get<4>(op));
    sim.ScheduleAt(At(Duration::Micros(std::get<3>(op))), [&, kind, x, y, a, b, d] {
      switch (kind) {
        case kOpSend:
          net.Send(a, b, "m");
          break;
        case kOpPartition: {
          // Bits of x choose a side for each node in y's mask; others stay out.
          std::vector<NodeId> side_a, side_b;
          for (NodeId id = 0; id < n; ++id) {
            if ((y >> id & 1) == 0) continue;
            ((x >> id & 1) ? side_a : side_b).push_back(id);
          }
          net.Partition(side_a, side_b);
          for (NodeId p : side_a) {
            for (NodeId q : side_b) {
              model.blocked.insert({p, q});
              model.blocked.insert({q, p});
            }
          }
          break;
        }
        case kOpBlockOneWay:
          net.BlockOneWay(a, b);
          model.blocked.insert({a, b});
          break;
        case kOpHealLink:
          net.HealLink(a, b);
          model.blocked.erase({a, b});
          break;
        case kOpHeal:
          net.Heal();
          model.blocked.clear();
          break;
        case kOpClog:
          net.Clog(a, d, static_cast<ClogDirection>(1 + y % 3));
          break;
        case kOpClogLink:
          net.ClogLink(a, b, d);
          break;
      }
    });
  }
  sim.Run({});
  RC_ASSERT(model.violations.empty());
  const LinkCounters& t = net.totals();
  RC_ASSERT(t.in_flight == 0u);
  RC_ASSERT(t.sent + t.duplicated == t.delivered + t.dropped());
  RC_ASSERT(t.delivered == model.deliveries);
  RC_ASSERT(inbox.size() == model.deliveries);
  RC_TAG(model.deliveries > 0 ? "some delivered" : "none delivered");
  RC_TAG(t.dropped(DropReason::kPartitionAtDelivery) > 0 ? "dropped at delivery" : "-");
}

// FIFO links keep send order even while clogs hold messages, partitions drop some, the
// network duplicates others and receivers crash.
RC_GTEST_PROP(NetworkProperty, FifoLinksNeverDeliverOutOfSendOrder, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto n = *rc::gen::inRange<NodeId>(2, 5);
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, int, int, int, int>>>(
      rc::gen::tuple(rc::gen::inRange(0, 20), rc::gen::inRange(0, 64), rc::gen::inRange(0, 64),
                     rc::gen::inRange(0, 50'000), rc::gen::inRange(0, 20'000)));
  Simulator sim({.seed = seed});
  Network net(sim, {.default_link = {.latency_min = Duration::Zero(),
                                     .latency_max = Ms(10),
                                     .tail_ppm = 100'000,
                                     .tail_latency_max = Ms(30),
                                     .drop_ppm = 20'000,
                                     .duplicate_ppm = 100'000,
                                     .reorder = false}});
  std::vector<Received> inbox;
  for (NodeId id = 0; id < n; ++id) {
    sim.AddNode(id, "n",
                [&](NodeId self) { return std::make_unique<SinkNode>(&sim, self, &inbox); });
  }
  int next = 0;
  for (const auto& op : ops) {
    const int kind = std::get<0>(op);
    const NodeId a = std::get<1>(op) % n, b = std::get<2>(op) % n;
    const Duration d = Duration::Micros(std::get<4>(op));
    sim.ScheduleAt(At(Duration::Micros(std::get<3>(op))), [&, kind, a, b, d] {
      if (kind < 14) {
        if (sim.IsUp(a)) net.Send(a, b, std::to_string(next++));
      } else if (kind < 16) {
        net.Clog(a, d);
      } else if (kind < 17) {
        net.ClogLink(a, b, d);
      } else if (kind < 18) {
        if (a != b) net.Partition({a}, {b});
      } else if (kind < 19) {
        net.Heal();
      } else if (!sim.Crash(a)) {
        sim.Restart(a);
      }
    });
  }
  sim.Run({});
  std::map<std::pair<NodeId, NodeId>, int> last;
  for (const Received& r : inbox) {
    const int id = std::stoi(r.bytes);
    auto [it, inserted] = last.try_emplace({r.from, r.to}, id);
    RC_ASSERT(inserted || it->second <= id);  // A duplicate may repeat, never go back.
    it->second = id;
  }
  RC_ASSERT(net.totals().in_flight == 0u);
}

}  // namespace
}  // namespace hindcast::sim
