// Scenarios as data: the textproto form of a run (properties/scenario.proto), its
// validation, and the conversion to the runner's structs.
//
//   absl::StatusOr<SeedCase> c = ReadSeedCaseFile("seeds/register_ack_bug_17.textproto");
//   if (!c.ok()) { std::cerr << c.status().message() << "\n"; return 2; }
//   absl::StatusOr<RegisterScenario> s = ToRegisterScenario(c->scenario());
//
// Every error names the problem in one line: a malformed textproto names the line and
// column, an unknown fault type or profile names the value.
#ifndef HINDCAST_PROPERTIES_SCENARIO_H_
#define HINDCAST_PROPERTIES_SCENARIO_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "properties/cluster_run.h"
#include "properties/register_run.h"
#include "properties/scenario.pb.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

// The planted bugs of both systems; `--bug=list` prints them.
struct BugInfo {
  std::string_view name;
  std::string_view exposing_settings;  // key=value words matching the CLI flags.
  std::string_view breaks;
};
const std::vector<BugInfo>& AllBugs();

// What any run reports, whichever system ran.
struct RunSummary {
  uint64_t seed = 0;
  uint64_t fingerprint = 0;
  Verdict verdict = Verdict::kOk;
  std::string failure;
  std::string explanation;
  std::string outcomes;  // "90 ok, 2 fail, 1 info" or "50 committed, 9 aborted, 1 unknown".
  sim::FaultStats faults;
  sim::Instant end_time;
  uint64_t events = 0;
  uint64_t steps = 0;
  sim::FaultPlan plan;  // The plan the run used (generated or given).
  // The isolation checker's findings (cluster list-append and register runs): every anomaly
  // found, and those below the promised level as information.
  std::vector<std::string> anomalies;
  std::string info;
  // Cluster runs with random knobs: those that differ from their defaults.
  std::string knobs;
};

// OK when `scenario` names a system, workload, profile, bug and sizes that exist.
absl::Status ValidateScenario(const Scenario& scenario);
// Runs a valid scenario (asserts ValidateScenario).
RunSummary RunScenario(const Scenario& scenario, const RunOptions& options);
// "system=cluster workload=bank isolation=si ..." for summaries.
std::string DescribeScenario(const Scenario& scenario);
// The one-line command that replays `scenario` (a scenario with a hand-written plan is
// replayed from its seed file instead).
std::string ReplayCommand(const Scenario& scenario);
absl::StatusOr<ClusterScenario> ToClusterScenario(const Scenario& scenario);

// Nodes [0, servers) are the system's servers and [servers, node_count) its clients, which
// are never crashed or restarted (the harness drives them).
absl::StatusOr<sim::FaultPlan> FromProto(const FaultPlanProto& proto, int servers, int node_count);
FaultPlanProto ToProto(const sim::FaultPlan& plan);

absl::StatusOr<RegisterScenario> ToRegisterScenario(const Scenario& scenario);
Scenario ToProto(const RegisterScenario& scenario);
Scenario ToProto(const ClusterScenario& scenario);

absl::StatusOr<std::string> ReadTextFile(const std::string& path);
absl::StatusOr<SeedCase> ParseSeedCase(std::string_view text, std::string_view source_name);
absl::StatusOr<SeedCase> ReadSeedCaseFile(const std::string& path);
absl::StatusOr<FaultPlanProto> ReadFaultPlanFile(const std::string& path);
std::string ToTextproto(const google::protobuf::Message& message);
// Writes `contents` to `path` atomically (a temporary file renamed over it), so a failure
// never leaves a half-written file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

std::string FingerprintHex(uint64_t fingerprint);

std::string ReplayCommand(const RegisterScenario& scenario);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_SCENARIO_H_
