// Properties of whole runs of the demo replicated register.
#include "properties/register_run.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "properties/generators.h"
#include "properties/scenario.h"

namespace hindcast::properties {
namespace {

RegisterScenario Light(uint64_t seed, bool bug = false) {
  return {.seed = seed, .faults = sim::FaultProfile::kLight, .bug_ack_before_replicate = bug};
}

TEST(RegisterRunTest, SameSeedGivesSameFingerprintAndDifferentSeedsDiffer) {
  const RunReport a = RunRegister(Light(11), {});
  const RunReport b = RunRegister(Light(11), {});
  const RunReport c = RunRegister(Light(12), {});
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.events, b.events);
  EXPECT_NE(a.fingerprint, c.fingerprint);
}

TEST(RegisterRunTest, KeepingTheFullLogDoesNotChangeTheRun) {
  size_t kept = 0;
  const RunReport lean = RunRegister(Light(5), {});
  const RunReport full =
      RunRegister(Light(5), {.retention = sim::EventLog::Retention::kFull,
                             .inspect_log = [&](const sim::EventLog& log) { kept = log.kept(); }});
  EXPECT_EQ(lean.fingerprint, full.fingerprint);
  EXPECT_EQ(kept, full.events);
  EXPECT_GT(kept, 100u);
}

TEST(RegisterRunTest, FaultProfilesActuallyInjectFaults) {
  uint64_t light = 0, heavy = 0, none = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    none += RunRegister({.seed = seed, .faults = sim::FaultProfile::kNone}, {}).faults.applied;
    light += RunRegister({.seed = seed, .faults = sim::FaultProfile::kLight}, {}).faults.applied;
    heavy += RunRegister({.seed = seed, .faults = sim::FaultProfile::kHeavy}, {}).faults.applied;
  }
  EXPECT_EQ(none, 0u);
  EXPECT_GE(light, 20u);
  EXPECT_GT(heavy, light);
}

TEST(RegisterRunTest, WorkloadCompletesMostOperationsWithoutFaults) {
  const RunReport r = RunRegister({.seed = 3, .faults = sim::FaultProfile::kNone}, {});
  EXPECT_EQ(r.verdict, Verdict::kOk);
  // 3 clients x 30 operations plus final reads. On a healthy network nothing times out;
  // only an operation that reaches the primary while it recovers (at boot, and after the
  // durability phase's restart) may be refused, and the last operation is a read that
  // succeeded.
  EXPECT_EQ(r.ops_info, 0u);
  EXPECT_GE(r.ops_ok, 88u);
  EXPECT_LE(r.ops_fail, 6u);
  ASSERT_FALSE(r.history.ops().empty());
  EXPECT_EQ(r.history.ops().back().type, OpType::kOk);
  EXPECT_EQ(r.history.ops().back().mops[0].kind, MopKind::kRead);
}

// Short versions of the sweeps; the full ones carry the "sweep" label.
TEST(RegisterRunTest, CorrectRegisterSurvivesHeavyFaults) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const RunReport r = RunRegister({.seed = seed, .faults = sim::FaultProfile::kHeavy}, {});
    ASSERT_NE(r.verdict, Verdict::kViolation)
        << "seed " << seed << ": " << r.explanation
        << "\nreplay: " << ReplayCommand({.seed = seed, .faults = sim::FaultProfile::kHeavy});
  }
}

TEST(RegisterRunTest, AckBeforeReplicateIsFoundAndReplaysExactly) {
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    const RunReport r = RunRegister(Light(seed, /*bug=*/true), {});
    if (r.verdict != Verdict::kViolation) continue;
    EXPECT_NE(r.explanation.find("stale read"), std::string::npos) << r.explanation;
    const RunReport again = RunRegister(Light(seed, /*bug=*/true), {});
    EXPECT_EQ(again.verdict, Verdict::kViolation);
    EXPECT_EQ(again.fingerprint, r.fingerprint);
    // The same seed with the bug switched off holds.
    EXPECT_EQ(RunRegister(Light(seed), {}).verdict, Verdict::kOk) << "seed " << seed;
    return;
  }
  FAIL() << "ack_before_replicate was not found in seeds 1..1000 with light faults";
}

RC_GTEST_PROP(RegisterRunProperty, SameSeedAndFaultPlanGiveTheSameFingerprint, ()) {
  const RegisterScenario s = *GenRegisterScenario(/*bug=*/false);
  const RunReport a = RunRegister(s, {});
  const RunReport b = RunRegister(s, {});
  RC_ASSERT(a.fingerprint == b.fingerprint);
  RC_ASSERT(a.events == b.events);
  RC_ASSERT(a.faults.planned == s.plan->actions.size());
}

RC_GTEST_PROP(RegisterRunProperty, CorrectRegisterIsLinearizableUnderArbitraryFaultPlans, ()) {
  const RegisterScenario s = *GenRegisterScenario(/*bug=*/false);
  const RunReport r = RunRegister(s, {});
  SeedCase failing;
  *failing.mutable_scenario() = ToProto(s);
  failing.set_expected_verdict("ok");
  RC_LOG() << r.explanation << "\nTo replay the (shrunk) case, save these lines as case.textproto "
           << "and run: hindcast replay case.textproto\n"
           << ToTextproto(failing);
  RC_ASSERT(r.verdict != Verdict::kViolation);
}

}  // namespace
}  // namespace hindcast::properties
