// The final line, exit code and sweep JSON line that each verdict gives.
#include "cli/report.h"

#include <gtest/gtest.h>

namespace hindcast::cli {
namespace {

// A checker that gives up proves nothing: its run must not read as passed (it once printed
// verdict=ok, exited 0 and was left out of a sweep's JSON lines).
TEST(ReportTest, AnUnknownVerdictIsNeitherOkNorAViolation) {
  properties::RunSummary r{.seed = 5, .fingerprint = 0x13c484a1c686c9f9};
  r.verdict = properties::Verdict::kUnknown;
  r.explanation = "search gave up after 20000000 steps";
  EXPECT_EQ(FinalLine(r), "fingerprint=13c484a1c686c9f9 verdict=unknown");
  EXPECT_EQ(VerdictExitCode(r.verdict), 3);
  const std::string json = SeedJson(r, "hindcast run --seed=5");
  EXPECT_EQ(json.rfind("{\"seed\":5,\"verdict\":\"unknown\",", 0), 0u) << json;
  EXPECT_NE(json.find("\"detail\":\"search gave up after 20000000 steps\""), std::string::npos);

  r.verdict = properties::Verdict::kOk;
  EXPECT_EQ(FinalLine(r), "fingerprint=13c484a1c686c9f9 verdict=ok");
  EXPECT_EQ(VerdictExitCode(r.verdict), 0);
  r.verdict = properties::Verdict::kViolation;
  EXPECT_EQ(FinalLine(r), "fingerprint=13c484a1c686c9f9 verdict=violation");
  EXPECT_EQ(VerdictExitCode(r.verdict), 1);
}

}  // namespace
}  // namespace hindcast::cli
