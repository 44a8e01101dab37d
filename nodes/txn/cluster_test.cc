// Smoke tests of the transaction cluster: it commits, reads its own and others' commits,
// keeps them across restarts of every node, and aborts what it must.
#include "nodes/txn/cluster.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "nodes/wire.h"

namespace hindcast::nodes::txn {
namespace {

// A client node the test drives: one transaction at a time, to a chosen CN.
class TestClient : public sim::Node {
 public:
  explicit TestClient(NodeEnv& env) : env_(env) {}
  void Receive(sim::NodeId, std::string_view bytes) override {
    Message m;
    if (ParseMessage(bytes, &m) && m.has_txn_reply() && m.txn_reply().req() == req_) {
      reply = m.txn_reply();
    }
  }
  void Send(sim::NodeId cn, std::vector<Op> ops) {
    reply.reset();
    Message m;
    m.mutable_txn_request()->set_req(++req_);
    for (Op& op : ops) *m.mutable_txn_request()->add_ops() = std::move(op);
    SendMessage(env_, cn, m);
  }
  std::optional<TxnReply> reply;

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
    world.AddClient(cluster.first_free_id(), "client", [this](NodeEnv& env) {
      auto c = std::make_unique<TestClient>(env);
      client = c.get();
      return c;
    });
    Settle(sim::Duration::Seconds(2));  // Elect a log leader, recover the TN, subscribe.
  }
  void Settle(sim::Duration d) { world.sim().Run({.time_limit = world.sim().Now() + d}); }
  TxnReply Run(sim::NodeId cn, std::vector<Op> ops) {
    client->Send(cn, std::move(ops));
    for (int i = 0; i < 200 && !client->reply.has_value(); ++i) Settle(sim::Duration::Millis(10));
    EXPECT_TRUE(client->reply.has_value()) << "no reply within 2 s";
    return client->reply.value_or(TxnReply());
  }
  World world;
  Cluster cluster;
  TestClient* client = nullptr;
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
    ops.push_back(MakeOp(Op::PUT, "k" + std::to_string(i), "value" + std::to_string(i)));
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

}  // namespace
}  // namespace hindcast::nodes::txn
