#include "nodes/logservice/log_cluster.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "nodes/logservice/log_client.h"
#include "nodes/logservice/replica.h"
#include "nodes/world.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::nodes::logservice {
namespace {

constexpr sim::NodeId kClient = 3;
const std::vector<sim::NodeId> kReplicas = {0, 1, 2};
constexpr sim::Duration kSettleStep = sim::Duration::Millis(200);

// Sees every role change and applied entry of every incarnation; keeps the first violation.
class SafetyObserver : public RaftObserver {
 public:
  void OnRoleChange(sim::NodeId node, Role role, uint64_t term) override {
    if (role != Role::kLeader) return;
    auto [it, inserted] = leaders_.insert({term, node});
    if (!inserted && it->second != node) {
      Violate(
          absl::StrCat("(a) two leaders in term ", term, ": replicas ", it->second, " and ", node));
    }
  }
  void OnApply(sim::NodeId node, const Entry& entry) override {
    if (entry.kind() == Entry::DATA) {
      auto [at, fresh] = payload_index_.insert({entry.payload(), entry.index()});
      if (!fresh && at->second != entry.index()) {
        Violate(absl::StrCat("(e) payload '", Sv(entry.payload()), "' committed twice, at index ",
                             at->second, " and at index ", entry.index()));
      }
    }
    auto [it, inserted] = applied_.insert({entry.index(), entry});
    const Entry& first = it->second;
    if (!inserted && (first.term() != entry.term() || first.payload() != entry.payload() ||
                      first.kind() != entry.kind())) {
      Violate(absl::StrCat("(c) replica ", node, " applied term ", entry.term(), " payload '",
                           Sv(entry.payload()), "' at index ", entry.index(),
                           " where another applied term ", first.term(), " payload '",
                           Sv(first.payload()), "'"));
    }
  }
  void Violate(std::string what) {
    if (failure_.empty()) failure_ = std::move(what);
  }
  const std::string& failure() const { return failure_; }
  const absl::btree_map<uint64_t, Entry>& applied() const { return applied_; }

 private:
  absl::btree_map<uint64_t, sim::NodeId> leaders_;
  absl::btree_map<uint64_t, Entry> applied_;
  absl::btree_map<std::string, uint64_t> payload_index_;
  std::string failure_;
};

// What the client saw; owned by the harness so it outlives the client node.
struct WorkloadState {
  absl::btree_map<uint64_t, std::string> acked;  // index -> payload
  std::string failure;
  int issued = 0;
  int completed = 0;
  int failed = 0;
  int truncations = 0;
  uint64_t highest_acked = 0;
  sim::Duration latency_min = sim::Duration::Max();
  sim::Duration latency_max;
  sim::Duration latency_total;
  bool read_done = false;
  std::optional<ReadResult> final_read;
};

// The TN stand-in: appends unique payloads, truncates behind them, reads the log back.
class Workload : public sim::Node {
 public:
  Workload(NodeEnv& env, sim::Simulator& sim, const ClusterOptions& options, WorkloadState& state)
      : env_(env),
        sim_(sim),
        options_(options),
        state_(state),
        client_(env, {.replicas = kReplicas, .deadline = sim::Duration::Seconds(3)}) {}

  void Start() override {
    env_.SetTimer(options_.start_after, [this] {
      for (int i = 0; i < options_.concurrency; ++i) IssueNext();
    });
  }
  void Receive(sim::NodeId from, sim::Payload& payload) override { client_.Receive(from, payload); }
  bool done() const { return state_.completed == options_.appends && client_.in_flight() == 0; }

  void FinalRead() {
    client_.Read(1, [this](absl::StatusOr<ReadResult> r) {
      if (r.ok()) {
        state_.final_read = std::move(*r);
        state_.read_done = true;
      } else {
        FinalRead();  // The cluster has healed; keep asking.
      }
    });
  }

 private:
  void IssueNext() {
    if (state_.issued >= options_.appends) return;
    const int n = state_.issued++;
    const std::string payload = absl::StrCat("entry-", n);
    const sim::Instant invoked = sim_.Now();
    client_.Append(payload, [this, payload, invoked](absl::StatusOr<uint64_t> index) {
      ++state_.completed;
      if (index.ok()) {
        OnAcked(*index, payload, sim_.Now() - invoked);
      } else {
        ++state_.failed;
      }
      const sim::Duration think =
          env_.rng().UniformDuration(sim::Duration::Zero(), options_.think_max);
      env_.SetTimer(think, [this] { IssueNext(); });
    });
  }

  void OnAcked(uint64_t index, const std::string& payload, sim::Duration latency) {
    auto [it, inserted] = state_.acked.insert({index, payload});
    if (!inserted && it->second != payload && state_.failure.empty()) {
      state_.failure = absl::StrCat("(b) index ", index, " acknowledged for '", payload,
                                    "' and for '", it->second, "'");
    }
    state_.highest_acked = std::max(state_.highest_acked, index);
    state_.latency_min = std::min(state_.latency_min, latency);
    state_.latency_max = std::max(state_.latency_max, latency);
    state_.latency_total += latency;
    if (options_.truncate_every > 0 && state_.acked.size() % options_.truncate_every == 0) {
      client_.Truncate(state_.highest_acked / 2, [this](absl::Status s) {
        if (s.ok()) ++state_.truncations;
      });
    }
  }

  NodeEnv& env_;
  sim::Simulator& sim_;
  const ClusterOptions& options_;
  WorkloadState& state_;
  LogClient client_;
};

}  // namespace

namespace {

struct Harness {
  World& world;
  const ClusterOptions& options;
  WorkloadState& state;
  SafetyObserver& observer;

  Replica* replica(sim::NodeId id) { return dynamic_cast<Replica*>(world.sim().node(id)); }
  Workload* workload() { return dynamic_cast<Workload*>(world.sim().node(kClient)); }
  // Replicas that take part: up, recovered, and not out of the group for amnesia.
  std::vector<Replica*> live() {
    std::vector<Replica*> out;
    for (sim::NodeId id : kReplicas) {
      Replica* r = replica(id);
      if (r != nullptr && r->loaded() && !r->amnesia()) out.push_back(r);
    }
    return out;
  }

  bool Converged() {
    if (!workload()->done()) return false;
    const std::vector<Replica*> replicas = live();
    const Replica* leader = nullptr;
    for (const Replica* r : replicas) {
      if (r->role() == Role::kLeader) leader = r;
    }
    if (leader == nullptr || leader->commit_index() != leader->log().last_index() ||
        leader->log().TermAt(leader->commit_index()) != leader->term()) {
      return false;
    }
    for (const Replica* r : replicas) {
      if (r->commit_index() != leader->commit_index()) return false;
    }
    return true;
  }

  void SettleUntil(sim::Instant limit, bool (Harness::*done)()) {
    while (world.sim().Now() < limit && !(this->*done)()) {
      world.sim().Run({.time_limit = std::min(limit, world.sim().Now() + kSettleStep)});
    }
  }
  bool ReadDone() { return state.read_done; }

  // (b), (c), (d); returns the first violation or "".
  std::string Check(bool converged) {
    const std::vector<Replica*> replicas = live();
    for (const auto& [index, payload] : state.acked) {
      auto it = observer.applied().find(index);
      if (it == observer.applied().end() || it->second.payload() != payload) {
        return absl::StrCat("(b) acknowledged entry '", payload, "' at index ", index,
                            it == observer.applied().end() ? " was never applied"
                                                           : " was applied as something else");
      }
      for (const Replica* r : replicas) {
        if (converged && r->commit_index() < index) {
          return absl::StrCat("(b) replica's commit index ", r->commit_index(),
                              " is below acknowledged index ", index);
        }
        if (index <= r->log().start_index() || index > r->commit_index()) continue;
        if (r->log().At(index).payload() != payload) {
          return absl::StrCat("(b) acknowledged entry '", payload, "' at index ", index, " is '",
                              Sv(r->log().At(index).payload()), "' in a replica's committed log");
        }
      }
    }
    for (const Replica* a : replicas) {
      for (const Replica* b : replicas) {
        const uint64_t from = std::max(a->log().start_index(), b->log().start_index()) + 1;
        const uint64_t to = std::min(a->commit_index(), b->commit_index());
        for (uint64_t i = from; i <= to; ++i) {
          const Entry& x = a->log().At(i);
          const Entry& y = b->log().At(i);
          if (x.term() != y.term() || x.payload() != y.payload()) {
            return absl::StrCat("(c) committed logs differ at index ", i);
          }
        }
      }
    }
    if (state.final_read.has_value()) {
      const ReadResult& read = *state.final_read;
      absl::btree_map<uint64_t, std::string> got;
      for (const CommittedEntry& e : read.entries) got[e.index] = e.payload;
      for (const auto& [index, payload] : state.acked) {
        if (index <= read.compacted_through) continue;
        auto it = got.find(index);
        if (it == got.end() || it->second != payload) {
          return absl::StrCat("(d) the final read misses acknowledged entry '", payload,
                              "' at index ", index);
        }
      }
    }
    return "";
  }
};

void AddHarshDiskWindows(sim::Rng rng, const ClusterOptions& options, sim::FaultPlan* plan) {
  for (int i = 0; i < options.harsh_disk_windows; ++i) {
    const sim::Duration at = rng.UniformDuration(sim::Duration::Zero(), options.fault_horizon);
    const sim::Duration length =
        rng.UniformDuration(sim::Duration::Millis(100), sim::Duration::Millis(600));
    plan->actions.push_back(
        {.at = at,
         .type = sim::FaultType::kDiskFaults,
         .nodes = {kReplicas[rng.Uniform(kReplicas.size())]},
         .duration = std::min(length, options.fault_horizon - at),
         .disk = {
             .read_corrupt_ppm = 50'000, .write_corrupt_ppm = 30'000, .misdirect_ppm = 30'000}});
  }
  sim::SortByTime(&plan->actions);
}

void AddRotRestarts(sim::Rng rng, const ClusterOptions& options, sim::FaultPlan* plan) {
  if (options.rot_restarts == 0) return;
  const sim::NodeId victim = kReplicas[rng.Uniform(kReplicas.size())];
  for (int i = 0; i < options.rot_restarts; ++i) {
    const sim::Duration at = rng.UniformDuration(sim::Duration::Zero(), options.fault_horizon);
    const sim::Duration down =
        rng.UniformDuration(sim::Duration::Millis(50), sim::Duration::Millis(300));
    plan->actions.push_back({.at = at, .type = sim::FaultType::kDiskRot, .nodes = {victim}});
    plan->actions.push_back({.at = at, .type = sim::FaultType::kCrash, .nodes = {victim}});
    plan->actions.push_back({.at = at + down, .type = sim::FaultType::kRestart, .nodes = {victim}});
  }
  sim::SortByTime(&plan->actions);
}

}  // namespace

ClusterRun RunLogCluster(const ClusterOptions& options) {
  HC_ASSERT(options.appends >= 0 && options.concurrency >= 1);
  ClusterRun run;
  const sim::ScopedAssertContext context(absl::StrCat(
      "log cluster run: seed=", options.seed, " faults=", Sv(sim::FaultProfileName(options.faults)),
      " ack_before_quorum=", options.ack_before_quorum, " appends=", options.appends,
      " truncate_every=", options.truncate_every,
      " harsh_disk_windows=", options.harsh_disk_windows, " rot_restarts=", options.rot_restarts));
  World world({.seed = options.seed, .retention = options.retention});
  sim::Simulator& sim = world.sim();
  sim.log().add_observer([&run](const sim::Event& e) {
    if (e.kind != sim::EventKind::kNodeState) return;
    switch (static_cast<RaftEvent>(e.a)) {
      case RaftEvent::kLeader:
        ++run.leaders_elected;
        run.max_term = std::max(run.max_term, e.b);
        break;
      case RaftEvent::kLostSyncedEntries:
        ++run.lost_synced_entries;
        break;
      case RaftEvent::kBarrierCleared:
        ++run.barriers_cleared;
        break;
      case RaftEvent::kAmnesia:
        ++run.amnesia;
        break;
      case RaftEvent::kCompacted:
        ++run.compactions;
        break;
      case RaftEvent::kSnapshotInstalled:
        ++run.snapshot_installs;
        break;
      default:
        break;
    }
  });
  SafetyObserver observer;
  WorkloadState state;
  const ReplicaOptions replica_options{
      .members = kReplicas, .ack_before_quorum = options.ack_before_quorum, .observer = &observer};
  for (sim::NodeId id : kReplicas) {
    world.AddServer(id, absl::StrCat("log-", id), [&replica_options](NodeEnv& env) {
      return std::make_unique<Replica>(env, replica_options);
    });
  }
  world.AddClient(kClient, "tn", [&](NodeEnv& env) {
    return std::make_unique<Workload>(env, sim, options, state);
  });
  Harness h{world, options, state, observer};

  // Phase 1: the workload under the fault plan.
  run.plan = options.plan.has_value()
                 ? *options.plan
                 : sim::GenerateFaultPlan(sim.root_rng().Child("faults"), options.faults,
                                          world.topology(), options.fault_horizon);
  AddHarshDiskWindows(sim.root_rng().Child("harsh-disk"), options, &run.plan);
  AddRotRestarts(sim.root_rng().Child("rot-restarts"), options, &run.plan);
  sim::ScheduleFaultPlan(sim, run.plan, world, &world.fault_stats());
  sim::Instant plan_end = sim::Instant::Zero() + options.fault_horizon;
  for (const sim::FaultAction& a : run.plan.actions) {
    plan_end = std::max(plan_end, sim::Instant::Zero() + a.at + a.duration);
  }
  sim.Run({.time_limit = plan_end});

  // Phase 2: heal, then the whole cluster crashes and recovers from its disks.
  world.HealAll();
  for (sim::NodeId id : kReplicas) {
    world.disks().disk(id).ClearFaults();
    world.RestartNode(id);
  }
  if (options.restart_all) {
    for (sim::NodeId id : kReplicas) world.CrashNode(id);
    for (sim::NodeId id : kReplicas) world.RestartNode(id);
  }

  // Phase 3: settle, then read the log back.
  const sim::Instant settle_end = sim.Now() + options.settle_limit;
  h.SettleUntil(settle_end, &Harness::Converged);
  h.workload()->FinalRead();
  h.SettleUntil(settle_end, &Harness::ReadDone);
  run.converged = h.Converged() && state.read_done;

  run.failure = observer.failure();
  if (run.failure.empty()) run.failure = state.failure;
  if (run.failure.empty()) run.failure = h.Check(run.converged);
  run.safe = run.failure.empty();

  run.faults = world.fault_stats();
  run.disk_faults = world.disks().TotalFaultCounts().total();
  run.acked = static_cast<int>(state.acked.size());
  run.failed = state.failed;
  run.truncations = state.truncations;
  run.commit_latency_min = state.latency_min;
  run.commit_latency_max = state.latency_max;
  run.commit_latency_total = state.latency_total;
  for (const Replica* r : h.live()) {
    run.final_commit_index = std::max(run.final_commit_index, r->commit_index());
  }
  run.end_time = sim.Now();
  run.events = sim.log().count();
  run.fingerprint = sim.log().fingerprint();
  return run;
}

std::string DescribeRun(const ClusterOptions& options, const ClusterRun& run) {
  std::string out = absl::StrCat(
      "seed=", options.seed, " faults=", Sv(sim::FaultProfileName(options.faults)),
      " ack_before_quorum=", options.ack_before_quorum, " appends=", options.appends,
      " truncate_every=", options.truncate_every, " | acked=", run.acked, " failed=", run.failed,
      " leaders=", run.leaders_elected, " max_term=", run.max_term,
      " commit=", run.final_commit_index, " disk_faults=", run.disk_faults,
      " lost_synced=", run.lost_synced_entries, " converged=", run.converged);
  absl::StrAppend(&out, "\nfault plan (", run.plan.actions.size(), " actions):");
  for (const sim::FaultAction& a : run.plan.actions) absl::StrAppend(&out, "\n  ", a.ToString());
  return out;
}

}  // namespace hindcast::nodes::logservice
