// The phases every scenario runner shares, so that a register run and a cluster run fault,
// heal and restart the world the same way.
//
//   const sim::FaultPlan plan = RunUnderFaults(world, scenario.plan, scenario.faults,
//                                              /*horizon=*/Seconds(1), /*limit=*/Seconds(60));
//   RestartEverything(world);
//   ... final reads ...
#ifndef HINDCAST_PROPERTIES_RUN_PHASES_H_
#define HINDCAST_PROPERTIES_RUN_PHASES_H_

#include <optional>

#include "nodes/world.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

// Phase 1: schedules `plan` (or one generated from the run's "faults" stream under `profile`
// for `horizon`), with its times counted from now, and runs until the workload stops the simulator
// or `time_limit`, and in any case until the whole plan has played out. Returns the plan used.
sim::FaultPlan RunUnderFaults(nodes::World& world, const std::optional<sim::FaultPlan>& plan,
                              sim::FaultProfile profile, sim::Duration horizon,
                              sim::Duration time_limit);

// Phases 2 and 3: heals the network, lifts disk faults and brings every server back; then
// crashes and restarts every server at once, so only what was durable survives.
void RestartEverything(nodes::World& world);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_RUN_PHASES_H_
