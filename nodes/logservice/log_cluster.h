// LogCluster: a test harness that runs the log service end to end — three replicas and one
// appending client in a World, under a fault plan — and checks Raft's safety properties.
//
//   ClusterRun r = RunLogCluster({.seed = 7, .faults = sim::FaultProfile::kHeavy});
//   EXPECT_TRUE(r.safe) << r.failure;
//
// A run has three phases. (1) The workload: the client appends `appends` unique payloads
// through LogClient, `concurrency` at a time, and (with `truncate_every`) truncates the log
// behind its acknowledged entries, while the fault plan runs over `fault_horizon`. (2) Heal
// the network, lift disk faults, then crash and restart every replica at once (the whole
// cluster recovers from its disks). (3) Settle until the client is done and every replica
// has committed the same index; then the client reads the log back.
//
// The checks, each naming what failed in `failure`:
//   (a) at most one leader per term (RaftObserver role changes, every incarnation);
//   (b) every acknowledged append is, at its index, in the final committed log of every
//       replica (or below its truncation point) and is what every replica applied there;
//   (c) committed prefixes agree: no two replicas ever applied different entries at one
//       index, and the final committed logs agree where they overlap;
//   (d) the final read returns every acknowledged entry past the truncation point;
//   (e) no payload is committed twice (retries are deduplicated).
// Liveness (the cluster converged after the heal) is reported apart, in `converged`.
#ifndef HINDCAST_NODES_LOGSERVICE_LOG_CLUSTER_H_
#define HINDCAST_NODES_LOGSERVICE_LOG_CLUSTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "sim/event_log.h"
#include "sim/fault_plan.h"
#include "sim/time.h"

namespace hindcast::nodes::logservice {

struct ClusterOptions {
  uint64_t seed = 1;
  sim::FaultProfile faults = sim::FaultProfile::kNone;
  std::optional<sim::FaultPlan> plan;  // Replaces the generated plan when set.
  sim::Duration fault_horizon = sim::Duration::Seconds(2);
  bool ack_before_quorum = false;
  sim::Duration start_after;  // The client's first append waits this long.
  int appends = 60;
  int concurrency = 3;
  // Each append slot waits up to this long (a seeded draw) before its next append, so the
  // workload spans the fault plan.
  sim::Duration think_max = sim::Duration::Millis(100);
  int truncate_every = 0;  // After every this many acks, truncate behind them (0 = never).
  // Extra disk-fault windows, at rates far above the heavy profile's, added to the plan:
  // they exercise repair of damaged writes and recovery from damaged synced entries.
  int harsh_disk_windows = 0;
  // Latent sector errors: this many times, one durable sector of a replica's disk goes bad
  // (FaultType::kDiskRot) and the replica crashes at once, so its recovery reads the damage;
  // it restarts 50-300 ms later. At most one replica is hit per run (a majority that lost
  // synced entries is beyond what Raft can survive).
  int rot_restarts = 0;
  // Crash and restart every replica after the heal (phase 2).
  bool restart_all = true;
  sim::Duration settle_limit = sim::Duration::Seconds(30);
  sim::EventLog::Retention retention = sim::EventLog::Retention::kFingerprintOnly;
};

struct ClusterRun {
  bool safe = true;
  bool converged = false;
  std::string failure;  // Empty when safe; otherwise the first violation, in words.
  uint64_t fingerprint = 0;
  uint64_t events = 0;
  sim::FaultPlan plan;
  sim::FaultStats faults;
  uint64_t disk_faults = 0;  // Disk faults the run applied (corruptions, misdirects, lost).
  // Client outcomes.
  int acked = 0;
  int failed = 0;  // Deadline exceeded (ambiguous) or rejected.
  sim::Duration commit_latency_min = sim::Duration::Max();
  sim::Duration commit_latency_max;
  sim::Duration commit_latency_total;
  int truncations = 0;
  // What the replicas recorded (kNodeState events).
  uint64_t leaders_elected = 0;
  uint64_t max_term = 0;
  uint64_t lost_synced_entries = 0;  // Recoveries that raised a vote barrier.
  uint64_t barriers_cleared = 0;
  uint64_t amnesia = 0;
  uint64_t compactions = 0;
  uint64_t final_commit_index = 0;
  uint64_t snapshot_installs = 0;
  sim::Instant end_time;
};

ClusterRun RunLogCluster(const ClusterOptions& options);

// One line for failure messages: the options that replay a run.
std::string DescribeRun(const ClusterOptions& options, const ClusterRun& run);

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_LOG_CLUSTER_H_
