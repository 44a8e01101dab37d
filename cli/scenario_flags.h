// The scenario flags shared by `run`, `sweep` and `shrink`, and their validation.
#ifndef HINDCAST_CLI_SCENARIO_FLAGS_H_
#define HINDCAST_CLI_SCENARIO_FLAGS_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "properties/register_run.h"

ABSL_DECLARE_FLAG(std::string, system);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, faults);
ABSL_DECLARE_FLAG(std::string, bug);
ABSL_DECLARE_FLAG(int32_t, clients);
ABSL_DECLARE_FLAG(int32_t, ops);
ABSL_DECLARE_FLAG(std::string, plan);

namespace hindcast::cli {

// Flag names that describe a scenario, for CommandSpec::flags.
const std::vector<std::string>& ScenarioFlagNames();

// The scenario the flags describe (the seed from --seed). A bad value is an error naming it.
absl::StatusOr<properties::RegisterScenario> ScenarioFromFlags();

// Prints one line per planted bug: name, exposing key=value settings, what it breaks.
void PrintBugList();

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_SCENARIO_FLAGS_H_
