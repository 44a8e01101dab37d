// World: one simulated deployment — the simulator, network, disks, clocks and the true-time
// oracle — and the NodeEnv each node sees. It is also the FaultTarget that fault plans act
// on, so every fault goes through one place that knows all the pieces.
//
//   World world({.seed = 42});
//   world.AddServer(0, "replica-0", [&](NodeEnv& env) {
//     return std::make_unique<reg::Replica>(env, options);
//   });
//   world.AddClient(3, "client-3", ...);
//   sim::ScheduleFaultPlan(world.sim(), plan, world, &world.fault_stats());
//   world.sim().Run({});
//
// Servers have a disk and may be crashed; clients have neither a disk nor crashes. The
// NodeEnv of a node outlives its incarnations; each incarnation gets a fresh random stream.
#ifndef HINDCAST_NODES_WORLD_H_
#define HINDCAST_NODES_WORLD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "clock/oracle.h"
#include "clock/physical_clock.h"
#include "nodes/node_env.h"
#include "sim/disk.h"
#include "sim/fault_plan.h"
#include "sim/network.h"
#include "sim/simulator.h"

namespace hindcast::nodes {

struct WorldOptions {
  uint64_t seed = 1;
  sim::EventLog::Retention retention = sim::EventLog::Retention::kFingerprintOnly;
  bool shuffle_ties = true;
  sim::NetworkOptions network;
  sim::DiskOptions disk;
  sim::Duration max_clock_offset = sim::Duration::Millis(250);
};

class World : public sim::FaultTarget {
 public:
  using Factory = absl::AnyInvocable<std::unique_ptr<sim::Node>(NodeEnv&)>;

  explicit World(const WorldOptions& options);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void AddServer(sim::NodeId id, std::string name, Factory factory);
  void AddClient(sim::NodeId id, std::string name, Factory factory);

  sim::Simulator& sim() { return sim_; }
  sim::Network& network() { return network_; }
  sim::DiskSet& disks() { return disks_; }
  clock::TrueTimeOracle& oracle() { return oracle_; }
  clock::PhysicalClock& physical_clock(sim::NodeId id);
  sim::FaultStats& fault_stats() { return fault_stats_; }
  const std::vector<sim::NodeId>& servers() const { return servers_; }
  // Servers whose loss of durable data the system survives, one at a time (FaultTopology).
  void set_rot_tolerant(std::vector<sim::NodeId> nodes) { rot_tolerant_ = std::move(nodes); }
  const std::vector<sim::NodeId>& all_nodes() const { return all_; }
  sim::FaultTopology topology() const;

  // Crashes `node` and restarts it at once, after the running task (NodeEnv::FailStop).
  void FailStop(sim::NodeId node);

  // FaultTarget.
  bool CrashNode(sim::NodeId node) override;
  bool RestartNode(sim::NodeId node) override;
  bool Partition(const std::vector<sim::NodeId>& a, const std::vector<sim::NodeId>& b) override;
  bool BlockOneWay(sim::NodeId from, sim::NodeId to) override;
  bool HealAll() override;
  bool ClogNode(sim::NodeId node, sim::Duration duration) override;
  bool Swizzle(const std::vector<sim::NodeId>& nodes, sim::Duration step,
               sim::Duration hold) override;
  bool JumpClock(sim::NodeId node, int64_t delta_ns) override;
  bool SetDiskFaults(sim::NodeId node, const sim::DiskFaultRates& rates,
                     sim::Duration duration) override;
  bool RotDisk(sim::NodeId node) override;

 private:
  class Env;
  void Add(sim::NodeId id, std::string name, Factory factory, bool server);

  WorldOptions options_;
  sim::Simulator sim_;
  sim::Network network_;
  sim::DiskSet disks_;
  clock::TrueTimeOracle oracle_;
  sim::Rng clock_rng_;
  // By node id (ids are dense small integers); null for ids never added.
  std::vector<std::unique_ptr<clock::PhysicalClock>> clocks_;
  absl::btree_map<sim::NodeId, std::unique_ptr<Env>> envs_;
  std::vector<sim::NodeId> servers_;
  std::vector<sim::NodeId> all_;
  std::vector<sim::NodeId> rot_tolerant_;
  bool partitioned_ = false;
  sim::FaultStats fault_stats_;
};

}  // namespace hindcast::nodes

#endif  // HINDCAST_NODES_WORLD_H_
