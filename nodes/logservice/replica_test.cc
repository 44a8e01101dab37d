// Unit tests of the Raft replicas and LogClient in a fault-free World, with faults placed by
// hand where a test needs one.
#include "nodes/logservice/replica.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/log_client.h"
#include "nodes/logservice/log_file.h"
#include "nodes/world.h"

namespace hindcast::nodes::logservice {
namespace {

const std::vector<sim::NodeId> kMembers = {0, 1, 2};
constexpr sim::NodeId kTn = 3;

// A client node the test drives by hand.
class TestTn : public sim::Node {
 public:
  TestTn(NodeEnv& env, std::vector<sim::NodeId> replicas)
      : client(env, {.replicas = std::move(replicas)}) {}
  void Receive(sim::NodeId from, sim::Payload& payload) override { client.Receive(from, payload); }
  LogClient client;
};

class RecordingObserver : public RaftObserver {
 public:
  void OnRoleChange(sim::NodeId node, Role role, uint64_t term) override {
    if (role == Role::kLeader) leaders.push_back({term, node});
  }
  std::vector<std::pair<uint64_t, sim::NodeId>> leaders;
};

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(/*seed=*/1); }

  void Build(uint64_t seed, std::vector<sim::NodeId> members = kMembers) {
    members_ = std::move(members);
    world_ = std::make_unique<World>(WorldOptions{.seed = seed});
    options_ = {.members = members_, .observer = &observer_};
    for (sim::NodeId id : members_) {
      world_->AddServer(id, absl::StrCat("log-", id),
                        [this](NodeEnv& env) { return std::make_unique<Replica>(env, options_); });
    }
    world_->AddClient(kTn, "tn",
                      [this](NodeEnv& env) { return std::make_unique<TestTn>(env, members_); });
  }

  void RunFor(sim::Duration d) { world_->sim().Run({.time_limit = world_->sim().Now() + d}); }
  Replica* replica(sim::NodeId id) { return dynamic_cast<Replica*>(world_->sim().node(id)); }
  LogClient& client() { return dynamic_cast<TestTn*>(world_->sim().node(kTn))->client; }

  std::optional<sim::NodeId> Leader() {
    std::optional<sim::NodeId> leader;
    for (sim::NodeId id : members_) {
      if (replica(id) != nullptr && replica(id)->role() == Role::kLeader) leader = id;
    }
    return leader;
  }

  // Appends `n` payloads named prefix-i, each after the previous one is acknowledged (so
  // their indexes ascend); returns their indexes.
  std::vector<uint64_t> AppendAll(const std::string& prefix, int n) {
    // Shared with the callbacks, which may outlive this call if the cluster is stuck.
    auto indexes = std::make_shared<std::vector<uint64_t>>();
    auto next = std::make_shared<std::function<void()>>();
    *next = [this, indexes, weak = std::weak_ptr<std::function<void()>>(next), prefix, n] {
      if (static_cast<int>(indexes->size()) == n) return;
      client().Append(absl::StrCat(prefix, "-", indexes->size()),
                      [indexes, weak](absl::StatusOr<uint64_t> r) {
                        ASSERT_TRUE(r.ok()) << r.status();
                        indexes->push_back(*r);
                        if (auto next = weak.lock()) (*next)();
                      });
    };
    (*next)();
    RunFor(sim::Duration::Seconds(2));
    EXPECT_EQ(static_cast<int>(indexes->size()), n);
    std::vector<uint64_t> out = *indexes;
    out.resize(n, 0);
    return out;
  }

  ReadResult ReadAll(uint64_t from) {
    auto result = std::make_shared<std::optional<ReadResult>>();
    client().Read(from, [result](absl::StatusOr<ReadResult> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      *result = std::move(*r);
    });
    RunFor(sim::Duration::Seconds(1));
    EXPECT_TRUE(result->has_value());
    return result->value_or(ReadResult{});
  }

  std::vector<sim::NodeId> members_;
  RecordingObserver observer_;
  ReplicaOptions options_;
  std::unique_ptr<World> world_;
};

TEST_F(ReplicaTest, ExactlyOneLeaderIsElectedAndTheOthersFollowIt) {
  RunFor(sim::Duration::Seconds(2));
  const std::optional<sim::NodeId> leader = Leader();
  ASSERT_TRUE(leader.has_value());
  for (sim::NodeId id : kMembers) {
    EXPECT_EQ(replica(id)->term(), replica(*leader)->term());
    if (id != *leader) {
      EXPECT_EQ(replica(id)->role(), Role::kFollower);
    }
  }
  // Without faults one election settles it, and the leader's no-op commits everywhere.
  EXPECT_EQ(observer_.leaders.size(), 1u);
  for (sim::NodeId id : kMembers) EXPECT_EQ(replica(id)->commit_index(), 1u);
}

// A group of one is its own quorum. Its reads once waited for a heartbeat round that only
// a follower's acknowledgement could confirm, so a TN recovering from it never finished.
TEST_F(ReplicaTest, ALoneReplicaLeadsCommitsAndServesReads) {
  Build(/*seed=*/1, {0});
  RunFor(sim::Duration::Seconds(1));
  ASSERT_EQ(Leader(), std::optional<sim::NodeId>(0));
  const std::vector<uint64_t> indexes = AppendAll("solo", 5);
  const ReadResult read = ReadAll(1);
  ASSERT_EQ(read.entries.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(read.entries[i].index, indexes[i]);
    EXPECT_EQ(read.entries[i].payload, absl::StrCat("solo-", i));
  }
  EXPECT_GE(replica(0)->store().durable_index(), indexes.back());
}

TEST_F(ReplicaTest, ANewLeaderIsElectedAfterTheLeaderCrashes) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId old_leader = *Leader();
  const uint64_t old_term = replica(old_leader)->term();
  world_->CrashNode(old_leader);
  RunFor(sim::Duration::Seconds(2));
  const std::optional<sim::NodeId> leader = Leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_NE(*leader, old_leader);
  EXPECT_GT(replica(*leader)->term(), old_term);
}

// A booted replica's first election timeout starts part-way (etcd's
// initial-election-tick-advance), but still leaves more than a heartbeat interval: a
// follower that restarts under a live leader hears it before it would campaign, so the
// leader keeps its term.
TEST_F(ReplicaTest, ARestartedFollowerRejoinsWithoutAnElection) {
  int disrupted = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Build(seed);
    RunFor(sim::Duration::Seconds(1));
    const std::optional<sim::NodeId> leader = Leader();
    ASSERT_TRUE(leader.has_value()) << "seed " << seed;
    const uint64_t term = replica(*leader)->term();
    const sim::NodeId follower = (*leader + 1) % kMembers.size();
    world_->CrashNode(follower);
    RunFor(sim::Duration::Millis(100));
    world_->RestartNode(follower);
    RunFor(sim::Duration::Seconds(1));
    if (Leader() != leader || replica(*leader)->term() != term) ++disrupted;
  }
  EXPECT_EQ(disrupted, 0);
}

TEST_F(ReplicaTest, AppendsCommitAtDistinctIndexesOnEveryReplica) {
  RunFor(sim::Duration::Seconds(1));
  const std::vector<uint64_t> indexes = AppendAll("a", 20);
  const uint64_t highest = *std::max_element(indexes.begin(), indexes.end());
  EXPECT_EQ(std::set<uint64_t>(indexes.begin(), indexes.end()).size(), 20u);
  for (sim::NodeId id : kMembers) {
    const Replica* r = replica(id);
    ASSERT_GE(r->commit_index(), highest);
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(r->log().At(indexes[i]).payload(), absl::StrCat("a-", i));
    // Acked entries are synced and verified on this replica's disk.
    EXPECT_GE(r->store().durable_index(), highest);
  }
}

TEST_F(ReplicaTest, ARetriedAppendGetsItsOriginalIndex) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId leader = *Leader();
  // The leader's replies to the client are lost, so the client retries the same request.
  world_->BlockOneWay(leader, kTn);
  auto result = std::make_shared<std::optional<absl::StatusOr<uint64_t>>>();
  client().Append("once", [result](absl::StatusOr<uint64_t> r) { *result = r; });
  RunFor(sim::Duration::Millis(350));
  EXPECT_FALSE(result->has_value());
  world_->HealAll();
  RunFor(sim::Duration::Seconds(1));
  ASSERT_TRUE(result->has_value() && (*result)->ok());
  int copies = 0;
  for (uint64_t i = 1; i <= replica(leader)->log().last_index(); ++i) {
    copies += replica(leader)->log().At(i).payload() == "once";
  }
  EXPECT_EQ(copies, 1);
  EXPECT_EQ(replica(leader)->log().At(***result).payload(), "once");
}

TEST_F(ReplicaTest, AnAppendWithoutAQuorumFailsWithDeadlineExceeded) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId leader = *Leader();
  world_->CrashNode((leader + 1) % 3);
  world_->CrashNode((leader + 2) % 3);
  auto result = std::make_shared<std::optional<absl::StatusOr<uint64_t>>>();
  const uint64_t seq =
      client().Append("lonely", [result](absl::StatusOr<uint64_t> r) { *result = r; });
  RunFor(sim::Duration::Seconds(6));
  ASSERT_TRUE(result->has_value());
  // Ambiguous: the entry sits in the leader's log and may still commit.
  EXPECT_EQ((*result)->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(replica(leader)->log().FindClientEntry(client().client_id(), seq).has_value());
}

TEST_F(ReplicaTest, ATruncationWaitsForTheAppendsStartedBeforeIt) {
  RunFor(sim::Duration::Seconds(1));
  const std::vector<uint64_t> indexes = AppendAll("t", 3);
  const sim::NodeId leader = *Leader();
  // The append's acknowledgement is lost for a while, so the client keeps retrying it.
  world_->BlockOneWay(leader, kTn);
  auto appended = std::make_shared<std::optional<absl::StatusOr<uint64_t>>>();
  auto truncated = std::make_shared<std::optional<absl::Status>>();
  client().Append("late", [appended](absl::StatusOr<uint64_t> r) { *appended = r; });
  RunFor(sim::Duration::Millis(50));
  client().Truncate(indexes.back(), [truncated](absl::Status s) { *truncated = s; });
  RunFor(sim::Duration::Millis(300));
  // Held by the client: the leader has not even seen it, so nothing was compacted.
  EXPECT_FALSE(truncated->has_value());
  EXPECT_EQ(replica(leader)->log().start_index(), 0u);
  world_->HealAll();
  RunFor(sim::Duration::Seconds(1));
  ASSERT_TRUE(appended->has_value() && (*appended)->ok());
  ASSERT_TRUE(truncated->has_value() && (*truncated)->ok());
  EXPECT_EQ(replica(leader)->log().start_index(), indexes.back());
}

TEST_F(ReplicaTest, ALaggingFollowerCatchesUp) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId leader = *Leader();
  const sim::NodeId follower = (leader + 1) % 3;
  world_->CrashNode(follower);
  const std::vector<uint64_t> indexes = AppendAll("b", 30);
  world_->RestartNode(follower);
  RunFor(sim::Duration::Seconds(1));
  const Replica* f = replica(follower);
  ASSERT_GE(f->commit_index(), indexes.back());
  for (int i = 0; i < 30; ++i) EXPECT_EQ(f->log().At(indexes[i]).payload(), absl::StrCat("b-", i));
}

TEST_F(ReplicaTest, AFullClusterCrashKeepsEveryCommittedEntry) {
  RunFor(sim::Duration::Seconds(1));
  const std::vector<uint64_t> indexes = AppendAll("c", 25);
  for (sim::NodeId id : kMembers) world_->CrashNode(id);
  for (sim::NodeId id : kMembers) world_->RestartNode(id);
  RunFor(sim::Duration::Seconds(2));
  const ReadResult read = ReadAll(1);
  std::map<uint64_t, std::string> expected;
  for (int i = 0; i < 25; ++i) expected[indexes[i]] = absl::StrCat("c-", i);
  std::map<uint64_t, std::string> got;
  for (const CommittedEntry& e : read.entries) got[e.index] = e.payload;
  EXPECT_EQ(got, expected);
}

TEST_F(ReplicaTest, TruncationCompactsEveryLogAndALaggardGetsASnapshot) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId leader = *Leader();
  const sim::NodeId laggard = (leader + 1) % 3;
  world_->CrashNode(laggard);
  const std::vector<uint64_t> indexes = AppendAll("d", 20);
  auto truncated = std::make_shared<std::optional<absl::Status>>();
  client().Truncate(indexes[14], [truncated](absl::Status s) { *truncated = s; });
  RunFor(sim::Duration::Seconds(1));
  ASSERT_TRUE(truncated->has_value() && (*truncated)->ok());
  EXPECT_EQ(replica(leader)->log().start_index(), indexes[14]);

  world_->RestartNode(laggard);
  RunFor(sim::Duration::Seconds(1));
  const Replica* l = replica(laggard);
  EXPECT_EQ(l->log().start_index(), indexes[14]);
  EXPECT_GE(l->commit_index(), indexes.back());
  EXPECT_EQ(l->log().At(indexes[15]).payload(), "d-15");
  // The laggard's disk holds the compacted log too: one generation, starting at the point.
  sim::Disk& disk = world_->disks().disk(laggard);
  world_->CrashNode(laggard);
  world_->RestartNode(laggard);
  RunFor(sim::Duration::Millis(100));
  EXPECT_EQ(replica(laggard)->log().start_index(), indexes[14]);
  int log_files = 0;
  for (const std::string& name : disk.List()) log_files += IsLogFileName(name);
  EXPECT_EQ(log_files, 1);

  // Reads start after the truncation point; truncating past the commit index is refused.
  const ReadResult read = ReadAll(1);
  EXPECT_EQ(read.compacted_through, indexes[14]);
  ASSERT_EQ(read.entries.size(), 5u);
  EXPECT_EQ(read.entries[0].payload, "d-15");
  truncated->reset();
  client().Truncate(1'000'000, [truncated](absl::Status s) { *truncated = s; });
  RunFor(sim::Duration::Seconds(1));
  ASSERT_TRUE(truncated->has_value());
  EXPECT_EQ((*truncated)->code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ReplicaTest, AReplicaThatLostSyncedEntriesDoesNotVoteUntilCaughtUp) {
  RunFor(sim::Duration::Seconds(1));
  const sim::NodeId leader = *Leader();
  const sim::NodeId damaged = (leader + 1) % 3;
  const std::vector<uint64_t> indexes = AppendAll("e", 10);
  // A disk fault the replica never saw: bytes in the middle of its synced log change.
  sim::Disk& disk = world_->disks().disk(damaged);
  const std::string file = LogFileName(0);
  disk.Write(file, *disk.Size(file) / 2, std::string(16, '\x5a'), [](absl::Status) {});
  RunFor(sim::Duration::Millis(1));
  disk.Sync(file, [](absl::Status) {});
  RunFor(sim::Duration::Millis(5));
  // Cut it off from the leader so it cannot simply catch up at once.
  world_->Partition({damaged}, {leader});
  world_->CrashNode(damaged);
  world_->RestartNode(damaged);
  RunFor(sim::Duration::Millis(50));
  ASSERT_GT(replica(damaged)->vote_barrier(), 0u);
  EXPECT_LT(replica(damaged)->log().last_index(), replica(damaged)->vote_barrier());

  // With the leader down, the damaged replica must neither help elect the third one nor
  // campaign itself.
  world_->CrashNode(leader);
  world_->HealAll();
  RunFor(sim::Duration::Seconds(2));
  EXPECT_FALSE(Leader().has_value());
  // Once the leader is back, it catches the damaged replica up, which votes again.
  world_->RestartNode(leader);
  RunFor(sim::Duration::Seconds(3));
  ASSERT_TRUE(Leader().has_value());
  EXPECT_EQ(replica(damaged)->vote_barrier(), 0u);
  EXPECT_EQ(replica(damaged)->log().At(indexes[9]).payload(), "e-9");
}

}  // namespace
}  // namespace hindcast::nodes::logservice
