#include "properties/run_phases.h"

#include <algorithm>

namespace hindcast::properties {

sim::FaultPlan RunUnderFaults(nodes::World& world, const std::optional<sim::FaultPlan>& plan,
                              sim::FaultProfile profile, sim::Duration horizon,
                              sim::Duration time_limit) {
  sim::Simulator& sim = world.sim();
  sim::FaultPlan used = plan.has_value()
                            ? *plan
                            : sim::GenerateFaultPlan(sim.root_rng().Child("faults"), profile,
                                                     world.topology(), horizon);
  // The plan's times count from the start of this phase (after any setup).
  const sim::Instant start = sim.Now();
  sim::FaultPlan shifted = used;
  for (sim::FaultAction& a : shifted.actions) a.at = a.at + (start - sim::Instant::Zero());
  sim::ScheduleFaultPlan(sim, shifted, world, &world.fault_stats());
  sim::Instant plan_end = start + horizon;
  for (const sim::FaultAction& a : shifted.actions) {
    plan_end = std::max(plan_end, sim::Instant::Zero() + a.at + sim::FaultExtent(a));
  }
  sim.Run({.time_limit = start + time_limit});
  if (sim.Now() < plan_end) sim.Run({.time_limit = plan_end});
  return used;
}

void RestartEverything(nodes::World& world) {
  world.HealAll();
  for (sim::NodeId id : world.servers()) {
    world.disks().disk(id).ClearFaults();
    world.RestartNode(id);
  }
  for (sim::NodeId id : world.servers()) world.CrashNode(id);
  for (sim::NodeId id : world.servers()) world.RestartNode(id);
}

}  // namespace hindcast::properties
