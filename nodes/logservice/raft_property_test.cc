// Properties of whole runs of the log service under generated fault plans (log_cluster.h
// states the checks). The long sweeps carry the "sweep" label (raft_sweep_test.cc).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "nodes/logservice/log_cluster.h"

namespace hindcast::nodes::logservice {
namespace {

ClusterOptions Heavy(uint64_t seed) {
  return {.seed = seed, .faults = sim::FaultProfile::kHeavy, .truncate_every = 10};
}

TEST(LogClusterTest, AFaultFreeRunAcknowledgesEveryAppendAndConverges) {
  // The client starts once the first leader is elected, so latencies are the steady state's.
  const ClusterOptions options{.seed = 1,
                               .fault_horizon = sim::Duration::Seconds(5),
                               .start_after = sim::Duration::Seconds(1),
                               .appends = 60,
                               .truncate_every = 20};
  const ClusterRun r = RunLogCluster(options);
  EXPECT_TRUE(r.safe) << r.failure << "\n" << DescribeRun(options, r);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.acked, 60);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(r.leaders_elected, 2u);  // At boot, and after the whole-cluster restart.
  EXPECT_GE(r.truncations, 1);
  EXPECT_GT(r.compactions, 0u);
  // A network round trip plus, on each side, a write, sync and read-back of the entries and
  // of the metadata: a few milliseconds.
  EXPECT_GT(r.commit_latency_min, sim::Duration::Millis(1));
  EXPECT_LT(r.commit_latency_max, sim::Duration::Millis(30));
}

TEST(LogClusterTest, SameSeedGivesTheSameRun) {
  const ClusterRun a = RunLogCluster(Heavy(7));
  const ClusterRun b = RunLogCluster(Heavy(7));
  const ClusterRun c = RunLogCluster(Heavy(8));
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.events, b.events);
  EXPECT_NE(a.fingerprint, c.fingerprint);
}

// A short sweep of seeds with heavy faults; the long one is in the sweep binary.
TEST(LogClusterTest, RaftIsSafeOnHeavySeeds) {
  uint64_t faults = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const ClusterOptions options = Heavy(seed);
    const ClusterRun r = RunLogCluster(options);
    ASSERT_TRUE(r.safe) << r.failure << "\n" << DescribeRun(options, r);
    ASSERT_TRUE(r.converged) << "no progress after the heal\n" << DescribeRun(options, r);
    faults += r.faults.applied;
  }
  EXPECT_GT(faults, 40u);  // The plans really injected faults.
}

RC_GTEST_PROP(LogClusterProperty, RaftIsSafeUnderArbitraryFaults, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const int truncate_every = *rc::gen::element(0, 5, 10);
  const int harsh_disk_windows = *rc::gen::inRange(0, 4);
  const ClusterOptions options{.seed = seed,
                               .faults = sim::FaultProfile::kHeavy,
                               .appends = 40,
                               .truncate_every = truncate_every,
                               .harsh_disk_windows = harsh_disk_windows};
  const ClusterRun r = RunLogCluster(options);
  RC_LOG() << DescribeRun(options, r) << "\n";
  RC_ASSERT(r.failure == "");
  RC_ASSERT(r.converged);
}

// The planted bug must be observable: with ack_before_quorum some seed loses an
// acknowledged entry, and the same seed with the switch off is safe.
TEST(LogClusterTest, AckBeforeQuorumLosesAnAcknowledgedEntryOnSomeSeed) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    ClusterOptions options = Heavy(seed);
    options.ack_before_quorum = true;
    const ClusterRun r = RunLogCluster(options);
    if (r.safe) continue;
    EXPECT_NE(r.failure.find("(b)"), std::string::npos) << r.failure;
    const ClusterRun again = RunLogCluster(options);
    EXPECT_EQ(again.fingerprint, r.fingerprint);
    EXPECT_EQ(again.failure, r.failure);
    options.ack_before_quorum = false;
    EXPECT_TRUE(RunLogCluster(options).safe) << "seed " << seed;
    return;
  }
  FAIL() << "ack_before_quorum lost nothing in seeds 1..300";
}

}  // namespace
}  // namespace hindcast::nodes::logservice
