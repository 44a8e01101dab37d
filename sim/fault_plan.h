// Fault plans: a timed list of fault actions, generated from the seed or written by hand.
//
//   FaultPlan plan = GenerateFaultPlan(sim.root_rng().Child("faults"), FaultProfile::kLight,
//                                      {.crashable = {0, 1, 2}, .all = {0, 1, 2, 3}},
//                                      Duration::Seconds(2));
//   FaultStats stats;
//   ScheduleFaultPlan(sim, plan, world, &stats);  // world implements FaultTarget
//   sim.Run({});
//   // stats.applied counts actions that changed something; a fault test asserts on it.
//
// A plan is plain data, so rapidcheck can generate and shrink it and a textproto can hold
// it (see properties/scenario.proto). Applying it goes through `FaultTarget`, which the
// harness that owns the network, disks and clocks implements, so the kernel stays below
// them. An action that finds nothing to do (crashing a node that is already down) is
// counted as skipped, not applied: a fault test can never be green while injecting nothing.
#ifndef HINDCAST_SIM_FAULT_PLAN_H_
#define HINDCAST_SIM_FAULT_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/disk.h"
#include "sim/random.h"
#include "sim/simulator.h"
#include "sim/time.h"

namespace hindcast::sim {

enum class FaultType : uint8_t {
  kCrash,        // nodes[0] crashes.
  kRestart,      // nodes[0] restarts.
  kPartition,    // nodes | others cannot talk, both directions.
  kBlockOneWay,  // messages from nodes[0] to others[0] are dropped.
  kHeal,         // every partition and block is lifted.
  kClog,         // nodes[0]'s traffic is held for `duration`.
  kSwizzle,      // rolling clog over `nodes`: one more every `duration` / (2 * nodes.size()),
                 // all held for `duration`, then released one by one (Network::Swizzle).
  kClockJump,    // nodes[0]'s physical clock jumps by `jump_ns`.
  kDiskFaults,   // nodes[0]'s disk corrupts/misdirects at the given rates for `duration`.
  kDiskRot,      // one durable sector of nodes[0]'s disk goes bad at rest (Disk::RotSector).
};

std::string_view FaultTypeName(FaultType type);
std::optional<FaultType> ParseFaultType(std::string_view name);

struct FaultAction {
  Duration at;  // From the start of the run.
  FaultType type = FaultType::kHeal;
  std::vector<NodeId> nodes;
  std::vector<NodeId> others;
  Duration duration;
  int64_t jump_ns = 0;
  DiskFaultRates disk;

  std::string ToString() const;
};

struct FaultPlan {
  std::vector<FaultAction> actions;  // Sorted by `at`; equal times keep list order.
};

// How long after `at` the action's effects last: a clog's or a disk-fault window's
// `duration`, a swizzle's last release; zero for the rest (their effects last until undone).
Duration FaultExtent(const FaultAction& action);

// Puts `actions` in FaultPlan order: by `at`, equal times keeping their list order.
void SortByTime(std::vector<FaultAction>* actions);

enum class FaultProfile { kNone, kLight, kHeavy };
std::string_view FaultProfileName(FaultProfile profile);
std::optional<FaultProfile> ParseFaultProfile(std::string_view name);

struct FaultTopology {
  std::vector<NodeId> crashable;  // Servers; clients are never crashed.
  std::vector<NodeId> all;        // Everything on the network, for partitions.
  // Servers of which the system survives one losing durable data (the replicas of a Raft
  // group): heavy plans may rot a sector of one of them (kDiskRot), at most once per plan.
  std::vector<NodeId> rot_tolerant;
  Duration max_clock_offset = Duration::Millis(250);
};

// Draws a plan for `horizon` from `rng` (pass the run's "faults" child stream). Every crash
// is followed by a restart of the same node within the horizon, and the plan ends healed.
// The optional latent sector error of a heavy plan is drawn from rng.Child("rot"), so
// topologies without rot-tolerant nodes get the plans they always got.
// Heavy plans may jump a clock past `max_clock_offset` on purpose.
FaultPlan GenerateFaultPlan(Rng rng, FaultProfile profile, const FaultTopology& topology,
                            Duration horizon);

// What the harness must do for each action. Each returns true if the action changed state.
class FaultTarget {
 public:
  virtual ~FaultTarget() = default;
  virtual bool CrashNode(NodeId node) = 0;
  virtual bool RestartNode(NodeId node) = 0;
  virtual bool Partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b) = 0;
  virtual bool BlockOneWay(NodeId from, NodeId to) = 0;
  virtual bool HealAll() = 0;
  virtual bool ClogNode(NodeId node, Duration duration) = 0;
  virtual bool Swizzle(const std::vector<NodeId>& nodes, Duration step, Duration hold) = 0;
  virtual bool JumpClock(NodeId node, int64_t delta_ns) = 0;
  virtual bool SetDiskFaults(NodeId node, const DiskFaultRates& rates, Duration duration) = 0;
  virtual bool RotDisk(NodeId node) = 0;
};

struct FaultStats {
  uint64_t planned = 0;
  uint64_t applied = 0;
  uint64_t skipped = 0;
};

// Schedules every action of `plan` on `sim` (unowned tasks; they fire whatever is up).
// Each firing records an EventKind::kFault event (a = type, b = 1 if applied) and updates
// `stats`, which must outlive the run.
void ScheduleFaultPlan(Simulator& sim, const FaultPlan& plan, FaultTarget& target,
                       FaultStats* stats);

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_FAULT_PLAN_H_
