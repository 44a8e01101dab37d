#include "nodes/world.h"

#include <utility>

#include "sim/assert.h"

namespace hindcast::nodes {

class World::Env : public NodeEnv {
 public:
  Env(World& world, sim::NodeId id, sim::Disk* disk)
      : world_(world), id_(id), disk_(disk), rng_(0) {}

  void BeginIncarnation() {
    rng_ = world_.sim_.root_rng()
               .Child("node", id_)
               .Child("incarnation", world_.sim_.incarnation(id_));
  }

  sim::NodeId id() const override { return id_; }
  int64_t PhysicalNowNs() override { return world_.physical_clock(id_).Read(world_.sim_.Now()); }
  void Send(sim::NodeId to, sim::Payload payload) override {
    world_.network_.Send(id_, to, std::move(payload));
  }
  sim::TimerId SetTimer(sim::Duration delay, sim::Task task) override {
    return world_.sim_.Schedule(delay, std::move(task), id_);
  }
  void CancelTimer(sim::TimerId id) override { world_.sim_.Cancel(id); }
  sim::Disk* disk() override { return disk_; }
  sim::Rng& rng() override { return rng_; }
  uint64_t Record(sim::Event event) override {
    event.node = id_;
    return world_.sim_.Record(event);
  }
  void FailStop() override { world_.FailStop(id_); }

 private:
  World& world_;
  sim::NodeId id_;
  sim::Disk* disk_;
  sim::Rng rng_;
};

World::World(const WorldOptions& options)
    : options_(options),
      sim_({.seed = options.seed,
            .shuffle_ties = options.shuffle_ties,
            .retention = options.retention}),
      network_(sim_, options.network),
      disks_(sim_, options.disk),
      oracle_(sim_, options.max_clock_offset),
      clock_rng_(sim_.root_rng().Child("clocks")) {}

// Nodes hold references to their environments and disks, so they go first.
World::~World() { sim_.DestroyNodes(); }

void World::AddServer(sim::NodeId id, std::string name, Factory factory) {
  Add(id, std::move(name), std::move(factory), /*server=*/true);
}

void World::AddClient(sim::NodeId id, std::string name, Factory factory) {
  Add(id, std::move(name), std::move(factory), /*server=*/false);
}

void World::Add(sim::NodeId id, std::string name, Factory factory, bool server) {
  HC_ASSERT_MSG(!envs_.contains(id), "node added twice");
  sim::Rng clock_rng = clock_rng_.Child("node", id);
  if (clocks_.size() <= id) clocks_.resize(id + 1);
  clocks_[id] = std::make_unique<clock::PhysicalClock>(
      clock::PhysicalClock::Random(clock_rng, options_.max_clock_offset));
  oracle_.Register(id, clocks_[id].get());
  sim::Disk* disk = server ? &disks_.Add(id) : nullptr;
  envs_[id] = std::make_unique<Env>(*this, id, disk);
  (server ? servers_ : all_).push_back(id);
  if (server) all_.push_back(id);
  Env* env = envs_[id].get();
  sim_.AddNode(id, std::move(name), [env, factory = std::move(factory)](sim::NodeId) mutable {
    env->BeginIncarnation();
    return factory(*env);
  });
}

clock::PhysicalClock& World::physical_clock(sim::NodeId id) {
  HC_ASSERT(id < clocks_.size() && clocks_[id] != nullptr);
  return *clocks_[id];
}

sim::FaultTopology World::topology() const {
  return {.crashable = servers_,
          .all = all_,
          .rot_tolerant = rot_tolerant_,
          .max_clock_offset = options_.max_clock_offset};
}

bool World::CrashNode(sim::NodeId node) { return sim_.Crash(node); }

bool World::RestartNode(sim::NodeId node) {
  if (!sim_.Restart(node)) return false;
  oracle_.OnRestart(node);
  return true;
}

void World::FailStop(sim::NodeId node) {
  // Not owned by the node, so the crash does not cancel it. A fault that crashed the node
  // meanwhile has its own restart coming.
  sim_.Schedule(sim::Duration::Zero(), [this, node] {
    if (CrashNode(node)) RestartNode(node);
  });
}

bool World::Partition(const std::vector<sim::NodeId>& a, const std::vector<sim::NodeId>& b) {
  network_.Partition(a, b);
  partitioned_ = true;
  return true;
}

bool World::BlockOneWay(sim::NodeId from, sim::NodeId to) {
  if (network_.IsBlocked(from, to)) return false;
  network_.BlockOneWay(from, to);
  partitioned_ = true;
  return true;
}

bool World::HealAll() {
  network_.Heal();
  return std::exchange(partitioned_, false);
}

bool World::ClogNode(sim::NodeId node, sim::Duration duration) {
  network_.Clog(node, duration);
  return true;
}

bool World::Swizzle(const std::vector<sim::NodeId>& nodes, sim::Duration step, sim::Duration hold) {
  if (nodes.empty()) return false;
  network_.Swizzle(nodes, step, hold);
  return true;
}

bool World::JumpClock(sim::NodeId node, int64_t delta_ns) {
  if (delta_ns == 0) return false;
  physical_clock(node).Jump(sim::Duration::Nanos(delta_ns), sim_.Now());
  oracle_.OnClockJump(node, sim::Duration::Nanos(delta_ns));
  return true;
}

bool World::RotDisk(sim::NodeId node) { return disks_.Has(node) && disks_.disk(node).RotSector(); }

bool World::SetDiskFaults(sim::NodeId node, const sim::DiskFaultRates& rates,
                          sim::Duration duration) {
  if (!disks_.Has(node)) return false;
  sim::Disk& disk = disks_.disk(node);
  disk.SetFaults(rates);
  sim_.Schedule(duration, [&disk] { disk.ClearFaults(); });
  return true;
}

}  // namespace hindcast::nodes
