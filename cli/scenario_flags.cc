#include "cli/scenario_flags.h"

#include <algorithm>
#include <cstdio>
#include <span>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "properties/scenario.h"
#include "sim/absl_compat.h"

ABSL_FLAG(std::string, system, "register",
          "The system under test: register (the demo replicated register) or cluster (the "
          "MatrixOne-style transaction cluster).");
ABSL_FLAG(uint64_t, seed, 1, "The run seed; every draw of the run derives from it.");
ABSL_FLAG(std::string, faults, "light", "Fault profile: none, light or heavy.");
ABSL_FLAG(std::string, bug, "none", "A planted bug to switch on, or 'list' to list them.");
ABSL_FLAG(int32_t, clients, 3, "Client sessions.");
ABSL_FLAG(int32_t, ops, 30, "Operations per client (register).");
ABSL_FLAG(std::string, workload, "bank",
          "Cluster workload: bank, counter, list-append, register, inventory, profile or "
          "flight.");
ABSL_FLAG(std::string, isolation, "si", "Cluster isolation: si (snapshot) or rc (read committed).");
ABSL_FLAG(std::string, mode, "pessimistic",
          "Cluster concurrency control: pessimistic or optimistic.");
ABSL_FLAG(int32_t, cns, 3, "Compute nodes (cluster).");
ABSL_FLAG(int32_t, log_replicas, 3,
          "Raft replicas of the log service (cluster): odd, at most 7; a majority must be up.");
ABSL_FLAG(int32_t, txns, 20, "Transactions per client (cluster).");
ABSL_FLAG(uint64_t, spill, 1 << 20, "Workspace spill threshold in bytes (cluster).");
ABSL_FLAG(int32_t, accounts, 0,
          "Accounts the bank workload's transfers spread over (cluster; 0: the default, 5).");
ABSL_FLAG(uint32_t, late_copy_ppm, 0,
          "Per million messages, one more copy delivered late, up to 2 s after (cluster): late "
          "messages of earlier incarnations, as TigerBeetle's VOPR replays packets.");
ABSL_FLAG(std::string, knobs, "default",
          "The cluster's knobs (timeouts, batch and message sizes, heartbeat and flush "
          "periods): default, or random (drawn from the seed, as FoundationDB randomizes its "
          "knobs; the run prints those it changed).");
ABSL_FLAG(std::string, plan, "",
          "A fault plan textproto (FaultPlanProto) to use instead of the generated one.");

namespace hindcast::cli {

const std::vector<std::string>& ScenarioFlagNames() {
  static const std::vector<std::string> kNames = {
      "system",   "faults",       "bug",           "clients", "ops",  "plan",
      "workload", "isolation",    "mode",          "cns",     "txns", "spill",
      "accounts", "log_replicas", "late_copy_ppm", "knobs"};
  return kNames;
}

namespace {

// A flag of the other system, set to other than its default, would silently change nothing
// (`hindcast run --workload=flight` without --system=cluster ran the register).
absl::Status CheckFlagsApply(const std::string& system) {
  const bool cluster = system == "cluster";
  static constexpr const char* kClusterOnly[] = {
      "workload", "isolation", "mode",         "cns",           "txns",
      "spill",    "accounts",  "log_replicas", "late_copy_ppm", "knobs"};
  static constexpr const char* kRegisterOnly[] = {"ops"};
  for (const char* name : cluster ? std::span<const char* const>(kRegisterOnly)
                                  : std::span<const char* const>(kClusterOnly)) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      return absl::InvalidArgumentError(absl::StrCat(
          "--", dashed, " applies to --system=", cluster ? "register" : "cluster", " only"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<properties::Scenario> ScenarioFromFlags() {
  properties::Scenario s;
  if (const absl::Status applies = CheckFlagsApply(absl::GetFlag(FLAGS_system)); !applies.ok()) {
    return applies;
  }
  s.set_system(absl::GetFlag(FLAGS_system));
  s.set_seed(absl::GetFlag(FLAGS_seed));
  s.set_faults(absl::GetFlag(FLAGS_faults));
  s.set_bug(absl::GetFlag(FLAGS_bug));
  const int32_t clients = absl::GetFlag(FLAGS_clients);
  const int32_t ops = absl::GetFlag(FLAGS_ops);
  const int32_t cns = absl::GetFlag(FLAGS_cns);
  const int32_t txns = absl::GetFlag(FLAGS_txns);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be at least 1");
  if (ops < 1) return absl::InvalidArgumentError("--ops must be at least 1");
  if (cns < 1) return absl::InvalidArgumentError("--cns must be at least 1");
  if (txns < 1) return absl::InvalidArgumentError("--txns must be at least 1");
  if (absl::GetFlag(FLAGS_spill) < 1)
    return absl::InvalidArgumentError("--spill must be at least 1");
  s.set_clients(static_cast<uint32_t>(clients));
  if (s.system() == "cluster") {
    s.set_workload(absl::GetFlag(FLAGS_workload));
    s.set_isolation(absl::GetFlag(FLAGS_isolation));
    s.set_mode(absl::GetFlag(FLAGS_mode));
    s.set_cns(static_cast<uint32_t>(cns));
    if (absl::GetFlag(FLAGS_log_replicas) < 1) {
      return absl::InvalidArgumentError("--log-replicas must be at least 1");
    }
    s.set_log_replicas(static_cast<uint32_t>(absl::GetFlag(FLAGS_log_replicas)));
    s.set_txns_per_client(static_cast<uint32_t>(txns));
    s.set_spill_threshold_bytes(absl::GetFlag(FLAGS_spill));
    if (absl::GetFlag(FLAGS_accounts) < 0) {
      return absl::InvalidArgumentError("--accounts must be at least 2");
    }
    s.set_accounts(static_cast<uint32_t>(absl::GetFlag(FLAGS_accounts)));
    s.set_late_copy_ppm(absl::GetFlag(FLAGS_late_copy_ppm));
    const std::string knobs = absl::GetFlag(FLAGS_knobs);
    if (knobs != "default" && knobs != "random") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown --knobs \"", knobs, "\" (default, random)"));
    }
    s.set_random_knobs(knobs == "random");
  } else {
    s.set_ops_per_client(static_cast<uint32_t>(ops));
  }
  const std::string plan_path = absl::GetFlag(FLAGS_plan);
  if (!plan_path.empty()) {
    absl::StatusOr<properties::FaultPlanProto> plan = properties::ReadFaultPlanFile(plan_path);
    if (!plan.ok()) return plan.status();
    *s.mutable_plan() = *plan;
  }
  const absl::Status valid = properties::ValidateScenario(s);
  if (!valid.ok()) return valid;
  return s;
}

std::string ReplayCommandFor(const properties::Scenario& scenario) {
  std::string command = properties::ReplayCommand(scenario);
  const std::string plan_path = absl::GetFlag(FLAGS_plan);
  if (!plan_path.empty()) absl::StrAppend(&command, " --plan=", plan_path);
  return command;
}

void PrintBugList() {
  for (const properties::BugInfo& bug : properties::AllBugs()) {
    std::printf("%s %s %s\n", std::string(bug.name).c_str(),
                std::string(bug.exposing_settings).c_str(), std::string(bug.breaks).c_str());
  }
}

}  // namespace hindcast::cli
