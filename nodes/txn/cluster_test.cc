// Smoke tests of the transaction cluster: it commits, reads its own and others' commits,
// keeps them across restarts of every node, and aborts what it must.
#include "nodes/txn/cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nodes/logservice/logservice.pb.h"
#include "nodes/txn/tn.h"
#include "nodes/wire.h"
#include "storage/pb_util.h"

namespace hindcast::nodes::txn {
namespace {

// A client node the test drives: one transaction at a time, to a chosen CN.
class TestClient : public sim::Node {
 public:
  explicit TestClient(NodeEnv& env) : env_(env) {}
  void Receive(sim::NodeId, sim::Payload& payload) override {
    const Message* m = ReadMessage<Message>(payload);
    if (m == nullptr) return;
    received.push_back(*m);
    if (m->has_txn_reply() && m->txn_reply().req() == req_) reply = m->txn_reply();
  }
  // Anything else, as this client (a lock request of a made-up transaction, say).
  void SendRaw(sim::NodeId to, const Message& m) { SendMessage(env_, to, m); }
  void Send(sim::NodeId cn, std::vector<Op> ops) {
    reply.reset();
    Message m;
    m.mutable_txn_request()->set_req(++req_);
    for (Op& op : ops) *m.mutable_txn_request()->add_ops() = std::move(op);
    SendMessage(env_, cn, m);
  }
  std::optional<TxnReply> reply;
  std::vector<Message> received;  // Everything, in order.

 private:
  NodeEnv& env_;
  uint64_t req_ = 0;
};

Op MakeOp(Op::Kind kind, std::string key, std::string value = "", int64_t delta = 0) {
  Op op;
  op.set_kind(kind);
  op.set_key(std::move(key));
  op.set_value(std::move(value));
  op.set_delta(delta);
  return op;
}

struct Harness {
  explicit Harness(ClusterOptions options, uint64_t seed = 1)
      : world({.seed = seed}), cluster(world, options) {
    for (int i = 0; i < 2; ++i) {
      world.AddClient(cluster.first_free_id() + i, "client", [this, i](NodeEnv& env) {
        auto c = std::make_unique<TestClient>(env);
        (i == 0 ? client : other) = c.get();
        return c;
      });
    }
    Settle(sim::Duration::Seconds(2));  // Elect a log leader, recover the TN, subscribe.
  }
  void Settle(sim::Duration d) { world.sim().Run({.time_limit = world.sim().Now() + d}); }
  // Crashes `node`, restarts it at once, and lets the cluster settle.
  void Restart(sim::NodeId node, sim::Duration settle = sim::Duration::Seconds(1)) {
    world.CrashNode(node);
    world.RestartNode(node);
    Settle(settle);
  }
  TxnReply Run(sim::NodeId cn, std::vector<Op> ops) { return RunOn(client, cn, std::move(ops)); }
  TxnReply RunOn(TestClient* c, sim::NodeId cn, std::vector<Op> ops) {
    c->Send(cn, std::move(ops));
    return Await(c);
  }
  // Commits k = 1, then has `holder` add `delta` to k on the first CN and cuts that CN off
  // the TN once k is locked: the lock's holder stays live, its commit request retrying.
  void HoldKWithAStuckCommit(TestClient* holder, int64_t delta) {
    const sim::NodeId cn0 = cluster.cns()[0];
    ASSERT_EQ(Run(cn0, {MakeOp(Op::PUT, "k", "1")}).outcome(), TxnReply::COMMITTED);
    holder->Send(cn0, {MakeOp(Op::ADD, "k", "", delta)});
    Settle(sim::Duration::Millis(5));  // Locked; the commit request is on its way.
    world.network().Partition({cn0}, {cluster.layout().tn()});
  }
  // From now on, keeps the bytes of the last message of each kind `from` sends `to`.
  void TapMessages(sim::NodeId from, sim::NodeId to) {
    world.network().set_tap([this, from, to](sim::NodeId f, sim::NodeId t, std::string_view b) {
      Message m;
      if (f == from && t == to && ParseMessage(b, &m)) last_sent[m.kind_case()] = b;
    });
  }
  // A transaction on `cn` the TN must refuse: its workspace spills (with a small spill
  // threshold), and the TN cannot read the spill while it is cut off the object store.
  // The partition stays until the caller heals it.
  TxnReply RunWithUnreadableSpill(sim::NodeId cn) {
    world.network().Partition({cluster.layout().tn()}, {cluster.layout().object_store()});
    std::vector<Op> ops;
    for (int i = 0; i < 20; ++i) ops.push_back(MakeOp(Op::PUT, absl::StrCat("k", i), "v"));
    return Run(cn, ops);
  }
  // That transaction's writes are nowhere.
  void ExpectTheUnreadableSpillNeverCommitted(sim::NodeId cn) {
    const TxnReply read = Run(cn, {MakeOp(Op::READ, "k0"), MakeOp(Op::READ, "k19")});
    ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
    EXPECT_FALSE(read.results(0).has_value()) << "the refused transaction committed";
    EXPECT_FALSE(read.results(1).has_value()) << "the refused transaction committed";
  }
  TxnReply Await(TestClient* c) {
    for (int i = 0; i < 200 && !c->reply.has_value(); ++i) Settle(sim::Duration::Millis(10));
    EXPECT_TRUE(c->reply.has_value()) << "no reply within 2 s";
    return c->reply.value_or(TxnReply());
  }
  World world;
  Cluster cluster;
  TestClient* client = nullptr;
  TestClient* other = nullptr;  // A second session, for two transactions at once.
  std::map<Message::KindCase, std::string> last_sent;  // See TapMessages.
};

TEST(ClusterTest, CommitsAndReadsAcrossCns) {
  Harness h({});
  const TxnReply w =
      h.Run(h.cluster.cns()[0], {MakeOp(Op::PUT, "x", "1"), MakeOp(Op::ADD, "n", "", 5)});
  ASSERT_EQ(w.outcome(), TxnReply::COMMITTED) << w.reason();
  const TxnReply r = h.Run(h.cluster.cns()[1], {MakeOp(Op::READ, "x"), MakeOp(Op::READ, "n")});
  ASSERT_EQ(r.outcome(), TxnReply::COMMITTED) << r.reason();
  ASSERT_EQ(r.results_size(), 2);
  EXPECT_EQ(r.results(0).value(), "1");
  EXPECT_EQ(r.results(1).value(), "5");
}

TEST(ClusterTest, CommitsSurviveRestartOfEveryNode) {
  Harness h({});
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(h.Run(h.cluster.cns()[i % 3], {MakeOp(Op::ADD, "n", "", 1)}).outcome(),
              TxnReply::COMMITTED);
  }
  h.Settle(sim::Duration::Seconds(1));  // Let a flush and a checkpoint happen.
  for (sim::NodeId id : h.world.servers()) h.world.CrashNode(id);
  for (sim::NodeId id : h.world.servers()) h.world.RestartNode(id);
  h.Settle(sim::Duration::Seconds(2));
  const TxnReply r = h.Run(h.cluster.cns()[2], {MakeOp(Op::READ, "n")});
  ASSERT_EQ(r.outcome(), TxnReply::COMMITTED) << r.reason();
  EXPECT_EQ(r.results(0).value(), "5");
}

TEST(ClusterTest, WorkspaceSpillsAreReadBackAndCommitted) {
  Harness h({.spill_threshold_bytes = 64});
  std::vector<Op> ops;
  for (int i = 0; i < 20; ++i)
    ops.push_back(MakeOp(Op::PUT, absl::StrCat("k", i), absl::StrCat("value", i)));
  ops.push_back(MakeOp(Op::READ, "k3"));
  const TxnReply w = h.Run(h.cluster.cns()[0], ops);
  ASSERT_EQ(w.outcome(), TxnReply::COMMITTED) << w.reason();
  EXPECT_EQ(w.results(20).value(), "value3");
  const TxnReply r = h.Run(h.cluster.cns()[1], {MakeOp(Op::READ, "k0"), MakeOp(Op::READ, "k19")});
  EXPECT_EQ(r.results(0).value(), "value0");
  EXPECT_EQ(r.results(1).value(), "value19");
}

TEST(ClusterTest, ReserveRefusesWhenStockIsShort) {
  Harness h({.mode = Mode::kOptimistic});
  ASSERT_EQ(h.Run(h.cluster.cns()[0], {MakeOp(Op::PUT, "x", "0")}).outcome(), TxnReply::COMMITTED);
  const TxnReply r = h.Run(h.cluster.cns()[0], {MakeOp(Op::RESERVE, "x", "", 1)});
  EXPECT_EQ(r.outcome(), TxnReply::COMMITTED);
  EXPECT_EQ(r.results(0).value(), "short");
}

// A lock whose holder is over for good (its unlock was lost, or a late duplicate of a lock
// request granted the key again after it finished) is an orphan: the lock service asks the
// holder's CN, which says the transaction is gone, and the waiter gets the lock.
TEST(ClusterTest, AnOrphanedLockIsFreedForTheNextTransaction) {
  Harness h({});
  ASSERT_EQ(h.Run(h.cluster.cns()[0], {MakeOp(Op::PUT, "k", "1")}).outcome(), TxnReply::COMMITTED);
  // A lock request of a transaction of cns[0] that is not running there (seq 7 of no
  // incarnation of it), as a duplicate delivered after the end of its transaction would be.
  Message lock;
  LockRequest* r = lock.mutable_lock();
  r->set_req(1);
  *r->mutable_txn() = storage::ToProto(storage::TxnId{.cn = h.cluster.cns()[0], .seq = 7});
  r->set_key("k");
  h.client->SendRaw(h.cluster.layout().lock_service(), lock);
  h.Settle(sim::Duration::Millis(20));
  const TxnReply add = h.Run(h.cluster.cns()[1], {MakeOp(Op::ADD, "k", "", 2)});
  ASSERT_EQ(add.outcome(), TxnReply::COMMITTED) << add.reason();
  EXPECT_EQ(add.results(0).value(), "3");
}

// The check never frees the lock of a live transaction: one whose commit is stuck (its CN is
// cut off from the TN, so it retries) keeps its lock, and a second writer of the key gives up.
TEST(ClusterTest, AStuckButLiveHolderKeepsItsLock) {
  Harness h({});
  const sim::NodeId cn1 = h.cluster.cns()[1];
  h.HoldKWithAStuckCommit(h.client, 2);
  h.Settle(sim::Duration::Millis(200));
  ASSERT_FALSE(h.client->reply.has_value());
  const TxnReply second = h.RunOn(h.other, cn1, {MakeOp(Op::ADD, "k", "", 10)});
  EXPECT_EQ(second.outcome(), TxnReply::ABORTED);
  EXPECT_EQ(second.reason(), "lock wait timeout");
  h.world.network().Heal();
  const TxnReply first = h.Await(h.client);
  ASSERT_EQ(first.outcome(), TxnReply::COMMITTED) << first.reason();
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "k")});
  EXPECT_EQ(read.results(0).value(), "3");
}

// A lock grant addressed to an earlier incarnation of a CN (a reply still in flight when
// the CN restarted) must not pass for the grant of this incarnation's waiting transaction.
// Every incarnation used to number its lock requests from 1, so a stale grant of request 1
// let a transaction write a row another transaction held locked: a lost update. Here the
// stale grant is forged, and the row's holder is kept alive by cutting its CN off the TN.
TEST(ClusterTest, AStaleLockGrantIsNotTakenByANewTransaction) {
  Harness h({});
  const sim::NodeId cn1 = h.cluster.cns()[1];
  h.HoldKWithAStuckCommit(h.other, 10);
  h.client->Send(cn1, {MakeOp(Op::ADD, "k", "", 2)});
  h.Settle(sim::Duration::Millis(20));  // cn1's first lock request waits behind cn0's.
  Message stale;
  stale.mutable_lock_reply()->set_req(1);
  stale.mutable_lock_reply()->set_status(LockReply::GRANTED);
  h.client->SendRaw(cn1, stale);
  h.Settle(sim::Duration::Millis(20));
  EXPECT_FALSE(h.client->reply.has_value())
      << "the waiting transaction finished: " << h.client->reply->reason();
  h.world.network().Heal();
  const TxnReply first = h.Await(h.other);
  ASSERT_EQ(first.outcome(), TxnReply::COMMITTED) << first.reason();
  const TxnReply second = h.Await(h.client);
  const int64_t expected = second.outcome() == TxnReply::COMMITTED ? 13 : 11;
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "k")});
  EXPECT_EQ(read.results(0).value(), absl::StrCat(expected));
}

// Exactly once: a commit the TN refused (its spilled workspace was unreadable) stays refused,
// even when a late copy of its request reaches the TN after the cause is gone — also a new
// TN incarnation, which never heard the refusal. The CN told its client it aborted.
void ExpectALateCopyOfARefusedCommitDoesNotCommit(bool restart_tn) {
  Harness h({.spill_threshold_bytes = 64});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  h.TapMessages(cn0, tn);
  const TxnReply refused = h.RunWithUnreadableSpill(cn0);
  ASSERT_EQ(refused.outcome(), TxnReply::ABORTED);
  ASSERT_EQ(refused.reason(), "tn unavailable");
  const std::string commit = h.last_sent[Message::kCommit];
  ASSERT_FALSE(commit.empty());
  h.world.network().Heal();
  if (restart_tn) h.Restart(tn, sim::Duration::Seconds(2));
  h.world.network().Send(cn0, tn, commit);  // The late copy.
  h.Settle(sim::Duration::Millis(500));
  h.ExpectTheUnreadableSpillNeverCommitted(cn1);
}

TEST(ClusterTest, ALateCopyOfARefusedCommitDoesNotCommit) {
  ExpectALateCopyOfARefusedCommitDoesNotCommit(/*restart_tn=*/false);
}

TEST(ClusterTest, ALateCopyOfARefusedCommitDoesNotCommitAfterTheTnRestarts) {
  ExpectALateCopyOfARefusedCommitDoesNotCommit(/*restart_tn=*/true);
}

// The same, when a late commit request of the CN's previous incarnation lands first: its
// decided_below mark, from another incarnation, must not replace the live one's, or the
// refusal the mark covers is forgotten.
TEST(ClusterTest, ALateCommitOfAReplacedCnIncarnationForgetsNoRefusal) {
  Harness h({.spill_threshold_bytes = 64});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  h.TapMessages(cn0, tn);
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "a", "1")}).outcome(), TxnReply::COMMITTED);
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "b", "1")}).outcome(), TxnReply::COMMITTED);
  const std::string earlier = h.last_sent[Message::kCommit];
  Message parsed;
  ASSERT_TRUE(ParseMessage(earlier, &parsed));
  ASSERT_NE(parsed.commit().decided_below(), 0u);
  h.Restart(cn0);
  const TxnReply refused = h.RunWithUnreadableSpill(cn0);
  ASSERT_EQ(refused.outcome(), TxnReply::ABORTED);
  ASSERT_EQ(refused.reason(), "tn unavailable");
  const std::string refused_commit = h.last_sent[Message::kCommit];
  h.world.network().Heal();
  // The next commit's mark covers the refusal: the TN forgets its outcome.
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "c", "1")}).outcome(), TxnReply::COMMITTED);
  h.world.network().Send(cn0, tn, earlier);  // Late, from the previous incarnation.
  h.Settle(sim::Duration::Millis(50));
  h.world.network().Send(cn0, tn, refused_commit);  // Late.
  h.Settle(sim::Duration::Millis(500));
  h.ExpectTheUnreadableSpillNeverCommitted(cn1);
}

// A TN refuses a commit request addressed to an earlier incarnation, and the CN asks again
// under the new epoch once it hears of it; the new incarnation may then commit what the old
// one refused (an abort is not logged, and here the spill it could not read is readable
// now). A refusal of the old incarnation that arrives after that, held in the network, must
// not tell the client the transaction aborted.
TEST(ClusterTest, ALateRefusalOfARestartedTnAbortsNothingTheNextOneRuns) {
  Harness h({.spill_threshold_bytes = 64});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  std::string refusal;
  uint64_t first_epoch = 0;
  bool asked_again = false;  // cn0 sent the commit to a later TN incarnation.
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId t, std::string_view b) {
    Message m;
    if (!ParseMessage(b, &m)) return;
    if (f == tn && t == cn0 && m.has_commit_reply() &&
        m.commit_reply().status() == CommitReply::UNAVAILABLE) {
      refusal = b;
    }
    if (f == cn0 && t == tn && m.has_commit()) {
      if (first_epoch == 0) first_epoch = m.commit().tn_epoch();
      asked_again = asked_again || m.commit().tn_epoch() != first_epoch;
    }
  });
  h.world.network().Partition({tn}, {h.cluster.layout().object_store()});
  std::vector<Op> ops;
  for (int i = 0; i < 20; ++i) ops.push_back(MakeOp(Op::PUT, absl::StrCat("k", i), "v"));
  h.client->Send(cn0, ops);
  for (int i = 0; i < 100000 && first_epoch == 0; ++i) h.Settle(sim::Duration::Micros(10));
  ASSERT_NE(first_epoch, 0u) << "the CN sent no commit request";
  h.world.network().BlockOneWay(tn, cn0);  // The answer is held up (kept by the tap).
  for (int i = 0; i < 300 && refusal.empty(); ++i) h.Settle(sim::Duration::Millis(10));
  ASSERT_FALSE(refusal.empty()) << "the TN did not refuse the commit";
  h.world.CrashNode(tn);
  h.world.network().Heal();
  h.world.RestartNode(tn);
  for (int i = 0; i < 30000 && !asked_again; ++i) h.Settle(sim::Duration::Micros(100));
  ASSERT_TRUE(asked_again) << "the CN did not ask the new TN incarnation";
  ASSERT_FALSE(h.client->reply.has_value());
  h.world.network().Send(tn, cn0, refusal);  // Late, from the first incarnation.
  const TxnReply reply = h.Await(h.client);
  h.Settle(sim::Duration::Millis(500));
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "k0")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).has_value(), reply.outcome() == TxnReply::COMMITTED)
      << "the client was told " << TxnReply::Outcome_Name(reply.outcome()) << " (" << reply.reason()
      << ")";
  EXPECT_EQ(reply.outcome(), TxnReply::COMMITTED) << reply.reason();
}

// A client that asks about a request its CN does not have (RequestStatus) is told it is not
// there, and the CN then never runs it: a copy that lands later (held in the network, say)
// is dropped, so a request the client gave up on cannot take effect behind the client's
// next one. A duplicate of a request runs once.
TEST(ClusterTest, ARequestTheCnSaidItDoesNotHaveNeverRuns) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0];
  auto request = [](uint64_t req, int64_t delta) {
    Message m;
    m.mutable_txn_request()->set_req(req);
    *m.mutable_txn_request()->add_ops() = MakeOp(Op::ADD, "n", "", delta);
    return m;
  };
  Message probe;
  probe.mutable_request_status()->set_req(7);
  h.client->SendRaw(cn0, probe);
  h.Settle(sim::Duration::Millis(50));
  ASSERT_FALSE(h.client->received.empty());
  ASSERT_TRUE(h.client->received.back().has_request_status_reply());
  EXPECT_EQ(h.client->received.back().request_status_reply().req(), 7u);
  EXPECT_FALSE(h.client->received.back().request_status_reply().running());
  h.client->SendRaw(cn0, request(7, 1));   // The late copy.
  h.client->SendRaw(cn0, request(8, 10));  // The next request, twice.
  h.client->SendRaw(cn0, request(8, 10));
  h.Settle(sim::Duration::Millis(500));
  int replies = 0;
  for (const Message& m : h.client->received) replies += m.has_txn_reply() ? 1 : 0;
  EXPECT_EQ(replies, 1);
  const TxnReply read = h.RunOn(h.other, h.cluster.cns()[1], {MakeOp(Op::READ, "n")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "10");
}

// A restarted CN's earlier incarnation stays fenced: a late copy of its subscribe (held in the
// network past two restarts, say) must not make it the CN's current incarnation again, or a
// late copy of one of its commits, whose outcome the TN dropped when it fenced it, would
// commit a second time.
TEST(ClusterTest, ALateSubscribeOfAReplacedCnIncarnationDoesNotRevive) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  h.TapMessages(cn0, tn);
  h.Restart(cn0);
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::ADD, "n", "", 1)}).outcome(), TxnReply::COMMITTED);
  const std::string late_subscribe = h.last_sent[Message::kSubscribe];
  const std::string late_commit = h.last_sent[Message::kCommit];
  ASSERT_FALSE(late_subscribe.empty());
  ASSERT_FALSE(late_commit.empty());
  h.Restart(cn0);
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::ADD, "n", "", 10)}).outcome(), TxnReply::COMMITTED);
  h.world.network().Send(cn0, tn, late_subscribe);
  h.Settle(sim::Duration::Millis(50));
  h.world.network().Send(cn0, tn, late_commit);
  h.Settle(sim::Duration::Millis(500));
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "n")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "11") << "a commit of the replaced incarnation ran twice";
  const TxnReply next = h.Run(cn0, {MakeOp(Op::ADD, "n", "", 100)});
  EXPECT_EQ(next.outcome(), TxnReply::COMMITTED) << next.reason();
}

// A bind request of a lock-service incarnation that has since restarted reaches the TN after
// the live one bound: the TN renews the bind for nobody, and refuses every commit under the
// live one's. The refusal's news of the TN's bind reaches the service, which binds again.
TEST(ClusterTest, ALateBindRequestOfARestartedLockServiceStrandsNoCommit) {
  Harness h({});
  const sim::NodeId locks = h.cluster.layout().lock_service(), tn = h.cluster.layout().tn();
  const sim::NodeId cn0 = h.cluster.cns()[0];
  h.TapMessages(locks, tn);
  h.Restart(locks);
  const std::string late_bind = h.last_sent[Message::kBind];
  ASSERT_FALSE(late_bind.empty());
  h.Restart(locks);
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::ADD, "n", "", 1)}).outcome(), TxnReply::COMMITTED);
  h.world.network().Send(locks, tn, late_bind);
  h.Settle(sim::Duration::Millis(50));
  const TxnReply stranded = h.Run(cn0, {MakeOp(Op::ADD, "n", "", 10)});
  ASSERT_EQ(stranded.outcome(), TxnReply::ABORTED) << "the late bind request was not renewed";
  EXPECT_EQ(stranded.reason(), "lock table bind changed");
  h.Settle(sim::Duration::Millis(100));
  for (int i = 0; i < 3; ++i) {
    const TxnReply next = h.Run(h.cluster.cns()[i], {MakeOp(Op::ADD, "n", "", 100)});
    EXPECT_EQ(next.outcome(), TxnReply::COMMITTED) << next.reason();
  }
  const TxnReply read = h.Run(cn0, {MakeOp(Op::READ, "n")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "301");
}

// While the log is out of reach, a lock service that lost its locks asks the TN for a new
// bind again and again, and a restarted CN subscribes again and again. Each must cost one
// log record, not one per retry: on a slow log, records per retry make it slower still and
// starve it (a lock service retrying every 5 ms did, under random knobs).
TEST(ClusterTest, RetriedBindAndSubscribeRequestsAppendOneRecordEach) {
  Harness h({});
  const sim::NodeId tn = h.cluster.layout().tn(), locks = h.cluster.layout().lock_service();
  const sim::NodeId cn0 = h.cluster.cns()[0];
  // The records the TN appends, each once however often its log client retries it.
  std::set<std::pair<uint64_t, uint64_t>> binds, fences;
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId, std::string_view b) {
    logservice::Message m;
    LogRecord r;
    if (f != tn || !ParseMessage(b, &m) || !m.has_client_append()) return;
    if (!ParseMessage(m.client_append().payload(), &r)) return;
    const std::pair<uint64_t, uint64_t> id{m.client_append().client_id(), m.client_append().seq()};
    if (r.has_bind_version()) binds.insert(id);
    if (r.has_cn_incarnation()) fences.insert(id);
  });
  h.world.network().Partition({tn}, h.cluster.log_replicas());
  h.world.CrashNode(locks);
  h.world.RestartNode(locks);
  h.world.CrashNode(cn0);
  h.world.RestartNode(cn0);
  h.Settle(sim::Duration::Millis(600));  // Ten bind retries, ten subscribes.
  h.world.network().Heal();
  h.Settle(sim::Duration::Seconds(1));
  EXPECT_EQ(binds.size(), 1u);
  EXPECT_EQ(fences.size(), 1u);
  // Both were answered: the lock service is bound and the CN serves.
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::ADD, "n", "", 1)}).outcome(), TxnReply::COMMITTED);
}

// A bind record whose append is answered late (its answer was lost, and the log client's
// retry got it) can be covered by a checkpoint built before the answer came: a commit
// appended after it was answered first. The checkpoint must carry that bind, since the
// truncation it allows removes the record: a TN restarted from it otherwise hands the same
// bind version out again, to a lock service that restarted with no locks, and a commit
// whose locks the previous incarnation of that version granted passes as current: a lost
// update.
TEST(ClusterTest, ACheckpointCoveringAnUnansweredBindRecordCarriesItsVersion) {
  ClusterOptions options;
  options.knobs.flush_interval = sim::Duration::Millis(10);
  options.knobs.commit_retry = sim::Duration::Millis(5);
  Harness h(options);
  const sim::NodeId tn = h.cluster.layout().tn(), locks = h.cluster.layout().lock_service();
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  // What the TN appends and the log service answers: the bind record and its index, the
  // checkpoints, the truncations. The first answer to the bind record is dropped.
  std::optional<std::pair<uint64_t, uint64_t>> bind_id;  // (client id, seq)
  uint64_t bind_version = 0, bind_index = 0;
  int bind_answers = 0;  // Sent by the log service, the dropped one included.
  // The checkpoints the TN appended while the bind record was answered only by the dropped
  // answer.
  std::vector<Checkpoint> checkpoints;
  uint64_t truncated_upto = 0;
  std::optional<sim::NodeId> blocked;  // A replica's link to the TN, blocked for one answer.
  bool hold_commit = false;  // Cut cn0 off the TN at its next commit request, until healed.
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId t, std::string_view b) {
    if (blocked.has_value()) {  // The dropped answer was decided after the last call.
      h.world.network().HealLink(*blocked, tn);
      blocked.reset();
    }
    if (Message request;
        hold_commit && f == cn0 && t == tn && ParseMessage(b, &request) && request.has_commit()) {
      h.world.network().BlockOneWay(cn0, tn);
      hold_commit = false;
      return;
    }
    logservice::Message m;
    if (!ParseMessage(b, &m)) return;
    if (f == tn && m.has_client_append()) {
      LogRecord r;
      if (!ParseMessage(m.client_append().payload(), &r)) return;
      if (r.has_bind_version() && !bind_id.has_value()) {
        bind_id = {m.client_append().client_id(), m.client_append().seq()};
        bind_version = r.bind_version();
      }
      if (r.has_checkpoint() && bind_answers == 1) checkpoints.push_back(r.checkpoint());
    }
    if (f == tn && m.has_client_truncate()) {
      truncated_upto = std::max(truncated_upto, m.client_truncate().upto());
    }
    if (t == tn && m.has_client_append_reply() && bind_id.has_value() &&
        std::pair(m.client_append_reply().client_id(), m.client_append_reply().seq()) == *bind_id &&
        m.client_append_reply().status() == logservice::OK && ++bind_answers == 1) {
      bind_index = m.client_append_reply().index();
      h.world.network().BlockOneWay(f, tn);
      blocked = f;
    }
  });
  auto settle_until = [&](const auto& done) {
    for (int i = 0; i < 100 && !done(); ++i) h.Settle(sim::Duration::Millis(1));
  };
  // `c` adds `delta` to k on cn0, which is cut off the TN as it sends the commit request.
  auto add_with_held_commit = [&](TestClient* c, int64_t delta) {
    hold_commit = true;
    c->Send(cn0, {MakeOp(Op::ADD, "k", "", delta)});
    settle_until([&] { return !hold_commit; });
  };
  // T1 adds 10 to k under the lock service's first bind; its commit is held up.
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "k", "1")}).outcome(), TxnReply::COMMITTED);
  add_with_held_commit(h.client, 10);
  ASSERT_FALSE(hold_commit) << "T1 sent no commit request";
  // The lock service loses its locks and asks for a new bind; the first answer to the bind
  // record is lost, so the log client asks again only after its attempt timeout (100 ms).
  h.world.CrashNode(locks);
  h.world.RestartNode(locks);
  settle_until([&] { return bind_index != 0; });
  ASSERT_NE(bind_index, 0u) << "the bind record was never answered";
  // T1's commit goes in after the bind record and is answered first; a flush follows.
  h.world.network().Heal();
  ASSERT_EQ(h.Await(h.client).outcome(), TxnReply::COMMITTED);
  h.Settle(sim::Duration::Millis(500));
  ASSERT_GE(bind_answers, 2) << "the log client did not ask again";
  ASSERT_FALSE(checkpoints.empty()) << "no checkpoint before the bind record was answered";
  const Checkpoint& covering = checkpoints.back();
  ASSERT_GE(covering.covers_index(), bind_index)
      << "the scenario needs a checkpoint built before the answer to cover the bind record";
  ASSERT_GE(truncated_upto, bind_index) << "the bind record was not truncated away";
  EXPECT_GE(covering.bind_version(), bind_version)
      << "the checkpoint forgot the bind record it covers";

  // The TN restarts from that checkpoint. T2 adds 100 to k under the lock service's bind;
  // its commit is held up while the lock service restarts and binds again, and T3 adds 1000.
  h.Restart(tn);
  add_with_held_commit(h.other, 100);
  ASSERT_FALSE(hold_commit) << "T2 sent no commit request";
  h.Restart(locks);
  ASSERT_EQ(h.Run(cn1, {MakeOp(Op::ADD, "k", "", 1000)}).outcome(), TxnReply::COMMITTED);
  h.world.network().Heal();
  const TxnReply t2 = h.Await(h.other);
  EXPECT_EQ(t2.outcome(), TxnReply::ABORTED) << "T2 committed under a bind handed out twice";
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "k")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "1011") << "T3's update was lost";
}

// A late copy of a CN's current subscribe request must not make the TN serve that
// subscription a second time: the new snapshot restarts the push numbering under the same
// subscription id, so a late copy of a push of the first numbering passes for the second's
// push of that seq, and the real one is dropped as a duplicate: the CN reads past a commit
// it never applied. (The CN now ignores a second snapshot of its subscription, so it drops
// every push of the second numbering as a duplicate instead, and hears nothing until it
// gives the subscription up and subscribes again.)
TEST(ClusterTest, ALateCopyOfASubscribeDoesNotRestartTheSubscription) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  std::string subscribe, push;
  int subscribes = 0;
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId t, std::string_view b) {
    Message m;
    if (!ParseMessage(b, &m)) return;
    if (f == cn0 && t == tn && m.has_subscribe()) {
      subscribe = b;
      ++subscribes;
    }
    if (f == tn && t == cn0 && m.has_logtail() && m.logtail().entries_size() > 0) push = b;
  });
  // Cut off long enough to subscribe again, so the tap sees the current subscribe.
  h.world.network().Partition({cn0}, {tn});
  h.Settle(sim::Duration::Millis(300));
  h.world.network().Heal();
  h.Settle(sim::Duration::Millis(100));
  ASSERT_FALSE(subscribe.empty());
  // Each commit writes a key of its own, so one the CN misses stays missed.
  std::vector<std::string> written;
  auto put_on_cn1 = [&] {
    const std::string key = absl::StrCat("k", written.size());
    ASSERT_EQ(h.Run(cn1, {MakeOp(Op::PUT, key, "v")}).outcome(), TxnReply::COMMITTED);
    written.push_back(key);
  };
  for (int i = 0; i < 3; ++i) put_on_cn1();
  const std::string late_push = push;  // Of the current numbering.
  ASSERT_FALSE(late_push.empty());
  const int subscribes_before = subscribes;
  h.world.network().Send(cn0, tn, subscribe);  // Late.
  h.Settle(sim::Duration::Millis(10));
  h.world.network().Send(tn, cn0, late_push);  // Late too.
  for (int i = 0; i < 40; ++i) put_on_cn1();
  h.Settle(sim::Duration::Millis(200));
  std::vector<Op> reads;
  for (const std::string& key : written) reads.push_back(MakeOp(Op::READ, key));
  const TxnReply read = h.Run(cn0, reads);
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_TRUE(read.results(static_cast<int>(i)).has_value()) << written[i] << " is missing";
  }
  // The late copy (which the tap saw too) is the only subscribe since.
  EXPECT_EQ(subscribes, subscribes_before + 1)
      << "cn0 dropped the pushes of a second numbering until it subscribed again";
}

// A late copy of a subscribe of an earlier CN incarnation the TN never heard of (it died
// before its subscribe arrived) cannot be told from a new incarnation's: the TN fences the
// live incarnation in its favour. The live one, refused a snapshot from then on, must start
// over as a new incarnation rather than stay fenced, its reads waiting forever.
TEST(ClusterTest, ACnFencedByALateSubscribeOfAnUnknownIncarnationStartsOver) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  ASSERT_EQ(h.Run(cn1, {MakeOp(Op::PUT, "a", "1")}).outcome(), TxnReply::COMMITTED);
  const uint64_t crashes_before = h.world.sim().incarnation(cn0);
  Message late;
  const uint64_t unknown = 0x5eed;  // No incarnation of cn0 draws these bits in this run.
  late.mutable_subscribe()->set_incarnation(unknown);
  late.mutable_subscribe()->set_subscription((unknown << 32) | 1);
  h.world.network().Send(cn0, tn, Encode(late));
  h.Settle(sim::Duration::Seconds(1));
  // cn0 stopped and came back once, as a new incarnation, and is served again.
  EXPECT_EQ(h.world.sim().incarnation(cn0), crashes_before + 1);
  const TxnReply read = h.Run(cn0, {MakeOp(Op::READ, "a")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "1");
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "b", "2")}).outcome(), TxnReply::COMMITTED);
  const TxnReply other = h.Run(cn1, {MakeOp(Op::READ, "b")});
  ASSERT_EQ(other.outcome(), TxnReply::COMMITTED) << other.reason();
  EXPECT_EQ(other.results(0).value(), "2");
}

// The TN keeps the outcomes it decided for a CN incarnation it fences: a live incarnation
// fenced by a late subscribe of an earlier one (which it cannot tell from a new one) may
// still ask for a commit whose answer was lost, and must hear it committed, not be refused
// (the client would be told "aborted" of a committed transaction). Commit retries come
// every 10 ms and subscriptions are renewed only every 500 ms here, so the retry reaches
// the TN before the CN learns it was retired and starts over.
TEST(ClusterTest, AFencedLiveIncarnationHearsTheOutcomeOfItsCommitWhoseAnswerWasLost) {
  ClusterKnobs knobs;
  knobs.commit_retry = sim::Duration::Millis(10);
  knobs.resubscribe_after = sim::Duration::Millis(500);
  Harness h({.knobs = knobs});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  // Once the commit request is on its way, its answer is lost, and its retries' too.
  bool blocked = false;
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId t, std::string_view b) {
    Message m;
    if (!blocked && f == cn0 && t == tn && ParseMessage(b, &m) && m.has_commit()) {
      h.world.network().BlockOneWay(tn, cn0);
      blocked = true;
    }
  });
  h.client->Send(cn0, {MakeOp(Op::PUT, "k", "v")});
  h.Settle(sim::Duration::Millis(50));  // Committed at the TN, the CN retrying.
  Message late;
  const uint64_t unknown = 0x5eed;  // No incarnation of cn0 draws these bits in this run.
  late.mutable_subscribe()->set_incarnation(unknown);
  late.mutable_subscribe()->set_subscription((unknown << 32) | 1);
  h.world.network().Send(cn0, tn, Encode(late));
  h.Settle(sim::Duration::Millis(50));  // The fence record is appended.
  h.world.network().Heal();
  const TxnReply put = h.Await(h.client);
  ASSERT_EQ(put.outcome(), TxnReply::COMMITTED) << put.reason();
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "k")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "v");
}

// A late copy of the snapshot a CN's subscription began with must not put the CN's LogTail
// back to that state under a read in progress: here a read that fetches an object the
// snapshot listed finishes against the older state, after the watermark let it in.
TEST(ClusterTest, ALateCopyOfASnapshotDoesNotPutTheLogTailBack) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  const sim::NodeId tn = h.cluster.layout().tn();
  std::string snapshot;
  h.world.network().set_tap([&](sim::NodeId f, sim::NodeId t, std::string_view b) {
    Message m;
    if (f == tn && t == cn0 && ParseMessage(b, &m) && m.has_logtail() && m.logtail().snapshot()) {
      snapshot = b;
    }
  });
  // Cut off while a commit is flushed to an object: the snapshot cn0 gets when it subscribes
  // again, which the tap keeps, lists an object cn0 fetches on its first read.
  h.world.network().Partition({cn0}, {tn});
  ASSERT_EQ(h.Run(cn1, {MakeOp(Op::PUT, "a", "1")}).outcome(), TxnReply::COMMITTED);
  h.Settle(sim::Duration::Seconds(1));
  h.world.network().Heal();
  h.Settle(sim::Duration::Millis(100));
  ASSERT_FALSE(snapshot.empty());
  std::vector<Op> reads;
  for (int i = 0; i < 5; ++i) {
    const std::string key = absl::StrCat("k", i);
    ASSERT_EQ(h.Run(cn1, {MakeOp(Op::PUT, key, "v")}).outcome(), TxnReply::COMMITTED);
    reads.push_back(MakeOp(Op::READ, key));
  }
  h.client->Send(cn0, reads);
  h.Settle(sim::Duration::Micros(1100));      // The read has begun: it fetches the object.
  h.world.network().Send(tn, cn0, snapshot);  // Late.
  const TxnReply read = h.Await(h.client);
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(read.results(i).has_value()) << "k" << i << " is missing";
}

// A client's requests name its session, the CN incarnation it opened it with: a late copy
// of one that reaches the CN after a restart is not run again there (it ran, or not, in the
// incarnation it was sent to); the client hears that its outcome is unknown here, and the
// new session.
TEST(ClusterTest, ALateRequestOverASessionWithAnEarlierCnIncarnationDoesNotRun) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  Message hello;
  hello.mutable_request_status()->set_req(0);
  h.client->SendRaw(cn0, hello);
  h.Settle(sim::Duration::Millis(10));
  ASSERT_FALSE(h.client->received.empty());
  const uint64_t session = h.client->received.back().request_status_reply().session();
  ASSERT_NE(session, 0u);
  Message request;
  request.mutable_txn_request()->set_req(1);
  request.mutable_txn_request()->set_session(session);
  *request.mutable_txn_request()->add_ops() = MakeOp(Op::ADD, "n", "", 1);
  h.client->SendRaw(cn0, request);
  h.Settle(sim::Duration::Millis(100));
  h.Restart(cn0);
  h.client->received.clear();
  h.client->SendRaw(cn0, request);  // Late.
  h.Settle(sim::Duration::Millis(100));
  ASSERT_FALSE(h.client->received.empty());
  const RequestStatusReply& answer = h.client->received.back().request_status_reply();
  EXPECT_EQ(answer.req(), 1u);
  EXPECT_FALSE(answer.running());
  EXPECT_NE(answer.session(), session);
  const TxnReply read = h.Run(cn1, {MakeOp(Op::READ, "n")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  EXPECT_EQ(read.results(0).value(), "1") << "the late copy ran again";
}

// A restarted CN runs no transaction before its first LogTail snapshot: its clock starts at
// its physical clock, which may be behind commits its previous incarnation acknowledged (here
// the TN's clock runs ahead, so the commit's timestamp is ahead of every CN's physical clock),
// and a snapshot taken from it would miss the client's own last write. The snapshot carries
// the TN's clock past every commit.
TEST(ClusterTest, ARestartedCnRunsNothingBeforeItsFirstSnapshot) {
  Harness h({});
  const sim::NodeId cn0 = h.cluster.cns()[0];
  ASSERT_TRUE(h.world.JumpClock(h.cluster.layout().tn(), 400'000'000));
  h.Settle(sim::Duration::Millis(10));
  ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, "k", "1")}).outcome(), TxnReply::COMMITTED);
  h.world.CrashNode(cn0);
  h.world.RestartNode(cn0);
  const TxnReply read = h.Run(cn0, {MakeOp(Op::READ, "k")});
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  ASSERT_TRUE(read.results(0).has_value()) << "the restarted CN missed the client's write";
  EXPECT_EQ(read.results(0).value(), "1");
}

// The lease over the TN's log (txn.proto, LogRecord): what a late append counts for.
LogRecord Claimed(uint64_t epoch, uint64_t prev) {
  LogRecord r;
  r.mutable_claim()->set_epoch(epoch);
  r.mutable_claim()->set_prev(prev);
  return r;
}
LogRecord Stamped(uint64_t holder, uint64_t seq, bool fence = false) {
  LogRecord r;
  if (fence) {
    r.set_fence(1);
  } else {
    r.set_commit_batch("batch");
  }
  r.set_holder(holder);
  r.set_seq(seq);
  return r;
}

TEST(TnLeaseTest, ALateRecordOfAnEarlierIncarnationCountsForNothing) {
  LogLease lease;
  EXPECT_TRUE(CountsUnderLease(1, Claimed(/*epoch=*/7, /*prev=*/0), lease));
  EXPECT_TRUE(CountsUnderLease(2, Stamped(/*holder=*/1, /*seq=*/1), lease));
  // A restart claims from the claim at 1; then a batch the first incarnation sent lands.
  EXPECT_FALSE(CountsUnderLease(3, Claimed(9, /*prev=*/0), lease));  // Named no holder.
  EXPECT_EQ(lease.claim, 1u);
  EXPECT_TRUE(CountsUnderLease(4, Claimed(9, /*prev=*/1), lease));
  EXPECT_EQ(lease.claim, 4u);
  EXPECT_EQ(lease.epoch, 9u);
  EXPECT_FALSE(CountsUnderLease(5, Stamped(1, 2), lease));
  EXPECT_TRUE(CountsUnderLease(6, Stamped(4, 1), lease));
  // A claim the first incarnation sent late, naming the holder it knew, takes nothing over.
  EXPECT_FALSE(CountsUnderLease(7, Claimed(7, /*prev=*/0), lease));
  EXPECT_EQ(lease.claim, 4u);
}

TEST(TnLeaseTest, AFenceVoidsTheHoldersEarlierBatchesThatLandAfterIt) {
  LogLease lease;
  ASSERT_TRUE(CountsUnderLease(1, Claimed(7, 0), lease));
  EXPECT_TRUE(CountsUnderLease(2, Stamped(1, 1), lease));
  // Batch 3 went out, its outcome unknown; the fence (seq 5) finds it absent.
  EXPECT_TRUE(CountsUnderLease(3, Stamped(1, 5, /*fence=*/true), lease));
  EXPECT_FALSE(CountsUnderLease(4, Stamped(1, 3), lease));  // Batch 3, late: void.
  // A checkpoint sent before the fence, landing after it, was acknowledged all the same.
  LogRecord checkpoint = Stamped(1, 4);
  checkpoint.mutable_checkpoint()->set_covers_index(2);
  EXPECT_TRUE(CountsUnderLease(5, checkpoint, lease));
  EXPECT_TRUE(CountsUnderLease(6, Stamped(1, 6), lease));
  // A fence sent before that one, landing late, lowers nothing.
  EXPECT_TRUE(CountsUnderLease(7, Stamped(1, 2, /*fence=*/true), lease));
  EXPECT_FALSE(CountsUnderLease(8, Stamped(1, 3), lease));
  EXPECT_TRUE(CountsUnderLease(9, Stamped(1, 7), lease));
}

// The log service tells a copy of an append from the original only while the original is
// in its retained log: a late copy that lands after a truncation is appended again.
TEST(TnLeaseTest, ABatchCountsOnceALateCopyOfItNever) {
  LogLease lease;
  ASSERT_TRUE(CountsUnderLease(1, Claimed(7, 0), lease));
  EXPECT_TRUE(CountsUnderLease(2, Stamped(1, 1), lease));
  EXPECT_TRUE(CountsUnderLease(3, Stamped(1, 2), lease));
  EXPECT_FALSE(CountsUnderLease(4, Stamped(1, 1), lease));
  EXPECT_FALSE(CountsUnderLease(5, Stamped(1, 2), lease));
  EXPECT_TRUE(CountsUnderLease(6, Stamped(1, 3), lease));
}

TEST(TnAuditTest, ACommitAtOrBelowAnAdvertisedWatermarkBreaksThePromise) {
  TnAudit audit;
  audit.Advertised({.physical_ns = 100});
  audit.Committed({.physical_ns = 100, .logical = 1});
  EXPECT_EQ(audit.violation(), "");
  audit.Advertised({.physical_ns = 200});
  audit.Advertised({.physical_ns = 150});  // An older push sent later lowers nothing.
  audit.Committed({.physical_ns = 200});
  EXPECT_NE(audit.violation().find("at or below the LogTail watermark 200.0"), std::string::npos)
      << audit.violation();
}

// Random knobs: the same seed draws the same knobs; every knob is moved off its default by
// some seed; every draw keeps the relations the nodes rely on.
TEST(ClusterKnobsTest, RandomKnobsMoveEveryKnobAndKeepTheirRelations) {
  const ClusterKnobs d;
  EXPECT_EQ(d.Describe(), "");
  std::map<std::string, int> moved;  // Knob name -> seeds that moved it.
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    sim::Rng a = sim::Rng(seed).Child("knobs"), b = sim::Rng(seed).Child("knobs");
    const ClusterKnobs k = ClusterKnobs::Random(a);
    EXPECT_EQ(k.Describe(), ClusterKnobs::Random(b).Describe()) << "seed " << seed;
    EXPECT_GT(k.resubscribe_after, k.tn_heartbeat * 2) << "seed " << seed;
    EXPECT_GT(k.election_ticks_min, k.heartbeat_ticks) << "seed " << seed;
    EXPECT_GE(k.election_ticks_max * 2, k.election_ticks_min * 3) << "seed " << seed;
    EXPECT_LE(k.raft_tick * k.election_ticks_max, sim::Duration::Millis(1200)) << "seed " << seed;
    EXPECT_GE(k.batch_requests_max, 1u);
    EXPECT_GE(k.max_entries_per_message, 1u);
    EXPECT_GE(k.max_entries_per_read, 1u);
    EXPECT_GE(k.last_commit_generation, 1u);
    for (absl::string_view word : absl::StrSplit(k.Describe(), ' ', absl::SkipEmpty())) {
      ++moved[std::string(word.substr(0, word.find('=')))];
    }
  }
  for (const char* knob :
       {"tn_heartbeat", "flush_interval", "batch_requests_max", "lock_wait_max", "lock_retry",
        "watermark_wait_max", "commit_retry", "resubscribe_after", "raft_tick",
        "election_ticks_min", "election_ticks_max", "heartbeat_ticks", "max_entries_per_message",
        "max_entries_per_read", "bind_retry", "orphan_after", "last_commit_generation"}) {
    EXPECT_GT(moved[knob], 0) << knob << " never moved off its default";
  }
  EXPECT_EQ(moved.size(), 17u) << "a knob Describe names is missing from this test";
}

// A cluster under extreme knobs (batches of one request, a flush every 20 ms, Raft messages
// and reads of one entry, a 5 ms Raft tick) commits, and reads back after a TN restart.
TEST(ClusterKnobsTest, AClusterUnderExtremeKnobsCommitsAndReadsBack) {
  ClusterKnobs knobs;
  knobs.batch_requests_max = 1;
  knobs.flush_interval = sim::Duration::Millis(20);
  knobs.max_entries_per_message = 1;
  knobs.max_entries_per_read = 1;
  knobs.raft_tick = sim::Duration::Millis(5);
  knobs.heartbeat_ticks = 1;
  knobs.last_commit_generation = 1;
  Harness h({.knobs = knobs});
  const sim::NodeId cn0 = h.cluster.cns()[0], cn1 = h.cluster.cns()[1];
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(h.Run(cn0, {MakeOp(Op::PUT, absl::StrCat("k", i), "v")}).outcome(),
              TxnReply::COMMITTED);
  }
  h.Restart(h.cluster.layout().tn());
  std::vector<Op> reads;
  for (int i = 0; i < 10; ++i) reads.push_back(MakeOp(Op::READ, absl::StrCat("k", i)));
  const TxnReply read = h.Run(cn1, reads);
  ASSERT_EQ(read.outcome(), TxnReply::COMMITTED) << read.reason();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(read.results(i).has_value()) << "k" << i;
}

}  // namespace
}  // namespace hindcast::nodes::txn
