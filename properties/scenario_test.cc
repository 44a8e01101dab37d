#include "properties/scenario.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace hindcast::properties {
namespace {

TEST(ScenarioTest, MalformedTextprotoNamesLineAndColumn) {
  const absl::StatusOr<SeedCase> c =
      ParseSeedCase("scenario {\n  seed: banana\n}\n", "x.textproto");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("x.textproto: malformed textproto: line 2"),
            std::string::npos)
      << c.status().message();
}

TEST(ScenarioTest, RejectsUnknownNamesAndBadFingerprints) {
  Scenario s;
  s.set_faults("medium");
  EXPECT_NE(std::string(ToRegisterScenario(s).status().message()).find("unknown fault profile"),
            std::string::npos);
  s.set_faults("light");
  s.set_bug("typo");
  EXPECT_NE(std::string(ToRegisterScenario(s).status().message()).find("unknown bug \"typo\""),
            std::string::npos);
  EXPECT_FALSE(ParseSeedCase("expected_fingerprint: \"123\"", "f").ok());
  EXPECT_FALSE(ParseSeedCase("expected_verdict: \"maybe\"", "f").ok());
}

TEST(ScenarioTest, FaultPlanValidation) {
  FaultPlanProto p;
  FaultActionProto* a = p.add_actions();
  a->set_type("explode");
  EXPECT_NE(std::string(FromProto(p, 4, 6).status().message()).find("unknown type \"explode\""),
            std::string::npos);
  a->set_type("crash");
  EXPECT_NE(std::string(FromProto(p, 4, 6).status().message()).find("crash needs nodes"),
            std::string::npos);
  a->add_nodes(9);
  EXPECT_NE(std::string(FromProto(p, 4, 6).status().message()).find("no node 9"),
            std::string::npos);
}

// Each of these once reached an assertion (or signed overflow) in the network or a clock
// instead of being refused as bad input.
TEST(ScenarioTest, FaultPlanValidationRefusesWhatTheNetworkAndClocksCannotDo) {
  auto error = [](const std::string& action) {
    FaultPlanProto p;
    *p.add_actions() = [&] {
      FaultActionProto a;
      EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(action, &a)) << action;
      return a;
    }();
    return std::string(FromProto(p, 4, 6).status().message());
  };
  EXPECT_EQ(error(R"(type: "swizzle" nodes: 1 nodes: 2 nodes: 1 duration_ns: 100)"),
            "fault action 1: swizzle names node 1 twice");
  EXPECT_EQ(error(R"(type: "swizzle" nodes: 1 duration_ns: 1800000000001)"),
            "fault action 1: a swizzle's duration_ns must be at most 1800 s");
  EXPECT_EQ(error(R"(type: "swizzle" nodes: 1 nodes: 2 duration_ns: 1800000000000)"), "");
  EXPECT_EQ(error(R"(type: "clock_jump" nodes: 1 jump_ns: 9223372036854775807)"),
            "fault action 1: jump_ns must lie in [-3600 s, 3600 s]");
  EXPECT_EQ(error(R"(type: "clock_jump" nodes: 1 jump_ns: -3600000000001)"),
            "fault action 1: jump_ns must lie in [-3600 s, 3600 s]");
  EXPECT_EQ(error(R"(type: "clock_jump" nodes: 1 jump_ns: -3600000000000)"), "");
  // A crashed client freed the workload's driver state under the harness.
  EXPECT_EQ(error(R"(type: "crash" nodes: 4)"),
            "fault action 1: node 4 is a client; only servers (nodes 0..3) crash and restart");
  EXPECT_EQ(error(R"(type: "restart" nodes: 5)"),
            "fault action 1: node 5 is a client; only servers (nodes 0..3) crash and restart");
  EXPECT_EQ(error(R"(type: "crash" nodes: 3)"), "");
}

TEST(ScenarioTest, ScenarioRoundTripsThroughTextproto) {
  RegisterScenario r{.seed = 42, .faults = sim::FaultProfile::kHeavy, .clients = 2};
  r.plan = sim::FaultPlan{
      {{.at = sim::Duration::Millis(5), .type = sim::FaultType::kCrash, .nodes = {0}},
       {.at = sim::Duration::Millis(9), .type = sim::FaultType::kRestart, .nodes = {0}}}};
  SeedCase c;
  *c.mutable_scenario() = ToProto(r);
  const absl::StatusOr<SeedCase> parsed = ParseSeedCase(ToTextproto(c), "round-trip");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const absl::StatusOr<RegisterScenario> back = ToRegisterScenario(parsed->scenario());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->seed, 42u);
  EXPECT_EQ(back->clients, 2);
  ASSERT_TRUE(back->plan.has_value());
  ASSERT_EQ(back->plan->actions.size(), 2u);
  EXPECT_EQ(back->plan->actions[1].type, sim::FaultType::kRestart);
  EXPECT_EQ(RunRegister(r, {}).fingerprint, RunRegister(*back, {}).fingerprint);
}

}  // namespace
}  // namespace hindcast::properties
