// Whole runs of the transaction cluster: no violation without a planted bug, and the
// planted bugs are caught.
#include "properties/cluster_run.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace hindcast::properties {
namespace {

using nodes::txn::Isolation;
using nodes::txn::Mode;

std::string Describe(const ClusterScenario& s, const ClusterReport& r) {
  return absl::StrCat("seed ", s.seed, " workload ", s.workload, ": ", r.failure, " ",
                      r.explanation, " (committed ", r.committed, ", aborted ", r.aborted,
                      ", unknown ", r.unknown, ")");
}

TEST(ClusterRunTest, SameSeedSameFingerprint) {
  const ClusterScenario s{.seed = 3};
  EXPECT_EQ(RunCluster(s, {}).fingerprint, RunCluster(s, {}).fingerprint);
}

TEST(ClusterRunTest, BankWithoutFaultsCommitsAndHolds) {
  for (Isolation iso : {Isolation::kSnapshot, Isolation::kReadCommitted}) {
    for (Mode mode : {Mode::kPessimistic, Mode::kOptimistic}) {
      const ClusterScenario s{
          .seed = 1, .faults = sim::FaultProfile::kNone, .isolation = iso, .mode = mode};
      const ClusterReport r = RunCluster(s, {});
      EXPECT_EQ(r.verdict, Verdict::kOk)
          << Describe(s, r) << " iso " << (iso == Isolation::kSnapshot ? "si" : "rc") << " mode "
          << (mode == Mode::kPessimistic ? "pess" : "opt");
      EXPECT_GT(r.committed, 30u) << Describe(s, r);
    }
  }
}

TEST(ClusterRunTest, NoViolationUnderFaultsShort) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    for (sim::FaultProfile f : {sim::FaultProfile::kLight, sim::FaultProfile::kHeavy}) {
      for (const char* w : {"bank", "counter"}) {
        const ClusterScenario s{.seed = seed, .workload = w, .faults = f};
        const ClusterReport r = RunCluster(s, {});
        EXPECT_NE(r.verdict, Verdict::kViolation) << Describe(s, r);
      }
    }
  }
}

// The planted-bug matrix on a short budget: each bug, switched on, breaks its workload's
// invariant or the durability check within a bounded number of seeds, and the failing seed
// replays to the same fingerprint.
struct BugCase {
  const char* name;
  ClusterScenario base;
  uint64_t seeds_max;
};

class PlantedBugTest : public testing::TestWithParam<BugCase> {};

TEST_P(PlantedBugTest, IsFoundAndReplays) {
  const BugCase& c = GetParam();
  for (uint64_t seed = 1; seed <= c.seeds_max; ++seed) {
    ClusterScenario s = c.base;
    s.seed = seed;
    const ClusterReport r = RunCluster(s, {});
    if (r.verdict != Verdict::kViolation) continue;
    EXPECT_EQ(RunCluster(s, {}).fingerprint, r.fingerprint) << c.name << " seed " << seed;
    return;
  }
  FAIL() << c.name << " was not found in seeds 1.." << c.seeds_max;
}

ClusterScenario WithBug(ClusterScenario s, void (*set)(nodes::txn::ClusterBugs&)) {
  set(s.bugs);
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, PlantedBugTest,
    testing::Values(
        BugCase{"rc_lost_update",
                WithBug({.workload = "counter", .isolation = Isolation::kReadCommitted},
                        [](nodes::txn::ClusterBugs& b) { b.cn.rc_lost_update = true; }),
                20},
        BugCase{"workspace_spill_lost",
                WithBug({.workload = "bank", .spill_threshold_bytes = 16},
                        [](nodes::txn::ClusterBugs& b) { b.cn.workspace_spill_lost = true; }),
                20},
        BugCase{"read_before_watermark",
                WithBug({.workload = "counter"},
                        [](nodes::txn::ClusterBugs& b) { b.cn.read_before_watermark = true; }),
                200},
        BugCase{"hlc_no_update_on_receive",
                WithBug({.workload = "counter", .isolation = Isolation::kReadCommitted},
                        [](nodes::txn::ClusterBugs& b) { b.hlc_no_update_on_receive = true; }),
                50},
        BugCase{"ack_before_quorum",
                WithBug({.workload = "bank", .faults = sim::FaultProfile::kHeavy},
                        [](nodes::txn::ClusterBugs& b) { b.ack_before_quorum = true; }),
                200}),
    [](const testing::TestParamInfo<BugCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hindcast::properties
