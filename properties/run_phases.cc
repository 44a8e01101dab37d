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
  sim::ScheduleFaultPlan(sim, used, world, &world.fault_stats());
  sim::Instant plan_end = sim::Instant::Zero() + horizon;
  for (const sim::FaultAction& a : used.actions) {
    plan_end = std::max(plan_end, sim::Instant::Zero() + a.at + a.duration);
  }
  sim.Run({.time_limit = sim::Instant::Zero() + time_limit});
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
