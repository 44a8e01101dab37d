#include "cli/scenario_flags.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "properties/scenario.h"
#include "sim/absl_compat.h"

ABSL_FLAG(std::string, system, "register",
          "The system under test: register (the demo replicated register).");
ABSL_FLAG(uint64_t, seed, 1, "The run seed; every draw of the run derives from it.");
ABSL_FLAG(std::string, faults, "light", "Fault profile: none, light or heavy.");
ABSL_FLAG(std::string, bug, "none", "A planted bug to switch on, or 'list' to list them.");
ABSL_FLAG(int32_t, clients, 3, "Client sessions.");
ABSL_FLAG(int32_t, ops, 30, "Operations per client.");
ABSL_FLAG(std::string, plan, "",
          "A fault plan textproto (FaultPlanProto) to use instead of the generated one.");

namespace hindcast::cli {

const std::vector<std::string>& ScenarioFlagNames() {
  static const std::vector<std::string> kNames = {"system", "faults",  "bug",
                                                  "clients", "ops", "plan"};
  return kNames;
}

absl::StatusOr<properties::RegisterScenario> ScenarioFromFlags() {
  properties::Scenario s;
  s.set_system(absl::GetFlag(FLAGS_system));
  s.set_seed(absl::GetFlag(FLAGS_seed));
  s.set_faults(absl::GetFlag(FLAGS_faults));
  s.set_bug(absl::GetFlag(FLAGS_bug));
  const int32_t clients = absl::GetFlag(FLAGS_clients);
  const int32_t ops = absl::GetFlag(FLAGS_ops);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be at least 1");
  if (ops < 1) return absl::InvalidArgumentError("--ops must be at least 1");
  s.set_clients(static_cast<uint32_t>(clients));
  s.set_ops_per_client(static_cast<uint32_t>(ops));
  const std::string plan_path = absl::GetFlag(FLAGS_plan);
  if (!plan_path.empty()) {
    absl::StatusOr<properties::FaultPlanProto> plan = properties::ReadFaultPlanFile(plan_path);
    if (!plan.ok()) return plan.status();
    *s.mutable_plan() = *plan;
  }
  return properties::ToRegisterScenario(s);
}

void PrintBugList() {
  for (const properties::BugInfo& bug : properties::RegisterBugs()) {
    std::printf("%s %s %s\n", std::string(bug.name).c_str(),
                std::string(bug.exposing_settings).c_str(), std::string(bug.breaks).c_str());
  }
}

}  // namespace hindcast::cli
