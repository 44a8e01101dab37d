// The scenario flags shared by `run`, `sweep` and `shrink`, and their validation.
#ifndef HINDCAST_CLI_SCENARIO_FLAGS_H_
#define HINDCAST_CLI_SCENARIO_FLAGS_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "properties/scenario.h"

ABSL_DECLARE_FLAG(std::string, system);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, faults);
ABSL_DECLARE_FLAG(std::string, bug);
ABSL_DECLARE_FLAG(int32_t, clients);
ABSL_DECLARE_FLAG(int32_t, ops);
ABSL_DECLARE_FLAG(std::string, plan);
ABSL_DECLARE_FLAG(std::string, workload);
ABSL_DECLARE_FLAG(std::string, isolation);
ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(int32_t, cns);
ABSL_DECLARE_FLAG(int32_t, txns);
ABSL_DECLARE_FLAG(uint64_t, spill);

namespace hindcast::cli {

// Flag names that describe a scenario, for CommandSpec::flags.
const std::vector<std::string>& ScenarioFlagNames();

// The scenario the flags describe (the seed from --seed), validated. A bad value is an
// error naming it.
absl::StatusOr<properties::Scenario> ScenarioFromFlags();
// The command that replays `scenario` as the flags gave it (with --plan if one was given).
std::string ReplayCommandFor(const properties::Scenario& scenario);

// Prints one line per planted bug: name, exposing key=value settings, what it breaks.
void PrintBugList();

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_SCENARIO_FLAGS_H_
