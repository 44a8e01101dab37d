// The long sweeps (ctest label "sweep", left out of the default run):
//   ctest --test-dir build -L sweep --output-on-failure
#include <gtest/gtest.h>

#include "properties/register_run.h"
#include "properties/scenario.h"

namespace hindcast::properties {
namespace {

// The long sweeps of the issue: 2,000 seeds of the correct register under heavy faults.
TEST(RegisterSweep, CorrectRegisterSurvives2000HeavySeeds) {
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    const RunReport r = RunRegister({.seed = seed, .faults = sim::FaultProfile::kHeavy}, {});
    ASSERT_NE(r.verdict, Verdict::kViolation)
        << "seed " << seed << ": " << r.explanation << "\nreplay: "
        << ReplayCommand({.seed = seed, .faults = sim::FaultProfile::kHeavy});
  }
}

TEST(RegisterSweep, AckBeforeReplicateFailsOnSomeOf1000LightSeeds) {
  int failing = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    failing += RunRegister({.seed = seed, .faults = sim::FaultProfile::kLight,
                            .bug_ack_before_replicate = true},
                           {})
                   .verdict == Verdict::kViolation;
  }
  EXPECT_GT(failing, 0);
}

}  // namespace
}  // namespace hindcast::properties
