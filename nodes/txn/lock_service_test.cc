// The lock service on its own, driven by scripted messages from a stand-in TN and CN.
#include "nodes/txn/lock_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/wire.h"
#include "nodes/world.h"
#include "storage/pb_util.h"
#include "storage/timestamp.h"

namespace hindcast::nodes::txn {
namespace {

constexpr sim::NodeId kTn = 0;
constexpr sim::NodeId kLocks = 1;
constexpr sim::NodeId kCn = 2;

// Answers every bind request with bind version 1 and a clock at zero.
class BindingTn : public sim::Node {
 public:
  explicit BindingTn(NodeEnv& env) : env_(env) {}
  void Receive(sim::NodeId from, sim::Payload& payload) override {
    const Message* m = ReadMessage<Message>(payload);
    if (m == nullptr || !m->has_bind()) return;
    Message reply;
    reply.mutable_bind_reply()->set_req(m->bind().req());
    reply.mutable_bind_reply()->set_bind_version(1);
    *reply.mutable_bind_reply()->mutable_hlc() = storage::ToProto(storage::Timestamp{0, 0});
    SendMessage(env_, from, std::move(reply));
  }

 private:
  NodeEnv& env_;
};

// Runs one script step per lock reply; keeps each grant's last_commit by request.
class ScriptedCn : public sim::Node {
 public:
  explicit ScriptedCn(NodeEnv& env) : env(env) {}
  void Receive(sim::NodeId, sim::Payload& payload) override {
    const Message* m = ReadMessage<Message>(payload);
    if (m == nullptr || !m->has_lock_reply()) return;
    ASSERT_EQ(m->lock_reply().status(), LockReply::GRANTED);
    last_commit[m->lock_reply().req()] = storage::FromProto(m->lock_reply().last_commit());
    if (auto next = after_grant.find(m->lock_reply().req()); next != after_grant.end()) {
      next->second();
    }
  }
  void Lock(uint64_t req, uint64_t txn, const std::string& key) {
    Message m;
    m.mutable_lock()->set_req(req);
    *m.mutable_lock()->mutable_txn() = storage::ToProto(storage::TxnId{.cn = kCn, .seq = txn});
    m.mutable_lock()->set_key(key);
    SendMessage(env, kLocks, std::move(m));
  }
  void CommitAndUnlock(uint64_t txn, storage::Timestamp commit_ts) {
    Message m;
    *m.mutable_unlock()->mutable_txn() = storage::ToProto(storage::TxnId{.cn = kCn, .seq = txn});
    *m.mutable_unlock()->mutable_commit_ts() = storage::ToProto(commit_ts);
    SendMessage(env, kLocks, std::move(m));
  }

  NodeEnv& env;
  std::map<uint64_t, storage::Timestamp> last_commit;
  std::map<uint64_t, std::function<void()>> after_grant;
};

// Ten keys commit one after another (k<i> at ts 100 + i) with a generation of four keys:
// k0..k3 fill one generation, k4..k7 the next (forgetting k0..k3 and raising the floor to
// their newest commit, 103), k8 and k9 start a third. A grant then bounds each key's last
// commit by what is remembered of it, or by the floor: never below its real last commit.
TEST(LockServiceTest, ForgottenGenerationsRaiseTheFloorToTheirNewestCommit) {
  World world({.seed = 5});
  world.AddServer(kTn, "tn", [](NodeEnv& env) { return std::make_unique<BindingTn>(env); });
  world.AddServer(kLocks, "lock-service", [](NodeEnv& env) {
    return std::make_unique<LockService>(
        env, LockServiceOptions{.tn = kTn, .last_commit_generation = 4});
  });
  ScriptedCn* cn = nullptr;
  world.AddClient(kCn, "cn", [&cn](NodeEnv& env) {
    auto node = std::make_unique<ScriptedCn>(env);
    cn = node.get();
    return node;
  });
  ASSERT_NE(cn, nullptr);
  const auto key = [](int i) { return absl::StrCat("k", i); };
  const auto seq = [](int txn) { return (uint64_t{1} << 32) | static_cast<uint64_t>(txn); };
  // Transaction i locks k<i> (request i + 1) and commits at 100 + i; then the next one.
  for (int i = 0; i < 10; ++i) {
    cn->after_grant[i + 1] = [&, i] {
      cn->CommitAndUnlock(seq(i + 1), storage::Timestamp{100 + i, 0});
      if (i + 1 < 10) {
        cn->env.SetTimer(sim::Duration::Millis(10),
                         [&, i] { cn->Lock(i + 2, seq(i + 2), key(i + 1)); });
      }
    };
  }
  // Once the bind is in, the first lock; once all have committed, one lock per key.
  cn->env.SetTimer(sim::Duration::Millis(100), [&] { cn->Lock(1, seq(1), key(0)); });
  cn->env.SetTimer(sim::Duration::Millis(500), [&] {
    for (int i = 0; i < 10; ++i) cn->Lock(100 + i, seq(100 + i), key(i));
  });
  world.sim().Run({.time_limit = sim::Instant::Zero() + sim::Duration::Seconds(1)});

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cn->last_commit.contains(i + 1)) << "lock " << i;
  const auto bound = [&](int i) { return cn->last_commit.at(100 + i); };
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bound(i), (storage::Timestamp{103, 0})) << key(i);
  for (int i = 4; i < 10; ++i) EXPECT_EQ(bound(i), (storage::Timestamp{100 + i, 0})) << key(i);
}

}  // namespace
}  // namespace hindcast::nodes::txn
