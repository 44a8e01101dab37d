// Cluster: lays out a MatrixOne-style deployment in a World.
//
//   World world({.seed = 7});
//   Cluster cluster(world, {.cns = 3, .isolation = Isolation::kSnapshot});
//   world.AddClient(cluster.first_free_id(), "client", ...);  // Sends TxnRequests to a CN.
//
// Node ids (ClusterLayout): log replicas 0..L-1 (L = log_replicas, 3 by default), then the
// object store, the TN, the lock service, then the CNs. Everything except clients is a
// server: it has a disk and fault plans may crash it.
#ifndef HINDCAST_NODES_TXN_CLUSTER_H_
#define HINDCAST_NODES_TXN_CLUSTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nodes/logservice/replica.h"
#include "nodes/txn/cn.h"
#include "nodes/txn/lock_service.h"
#include "nodes/txn/tn.h"
#include "nodes/world.h"
#include "sim/random.h"
#include "sim/time.h"

namespace hindcast::nodes::txn {

struct ClusterBugs {
  CnBugs cn;
  bool lock_forget_on_restart = false;
  bool hlc_no_update_on_receive = false;
  bool ack_before_quorum = false;
};

// The cluster's timing and sizing knobs: retry and wait intervals, batch and message sizes,
// heartbeat and flush periods. The defaults are what every run uses unless it asks for
// random knobs (`hindcast run --knobs=random`), as FoundationDB's simulator randomizes its
// knobs: each is left at its default or set to one of a few other values the protocol must
// also be correct under, often extreme ones (batches of one request, a flush every 20 ms,
// Raft messages of one entry, a lock service that forgets commit generations quickly), to
// reach code paths the defaults rarely do. Every value keeps the relations the nodes rely on
// (a CN's resubscribe interval above two TN heartbeats, a Raft election timeout above its
// heartbeat).
struct ClusterKnobs {
  // The defaults are the nodes' own option defaults.
  // TN.
  sim::Duration tn_heartbeat = TnOptions{}.heartbeat_interval;
  sim::Duration flush_interval = TnOptions{}.flush_interval;
  size_t batch_requests_max = TnOptions{}.batch_requests_max;
  // CN.
  sim::Duration lock_wait_max = CnOptions{}.lock_wait_max;
  sim::Duration lock_retry = CnOptions{}.lock_retry;
  sim::Duration watermark_wait_max = CnOptions{}.watermark_wait_max;
  sim::Duration commit_retry = CnOptions{}.commit_retry;
  sim::Duration resubscribe_after = CnOptions{}.resubscribe_after;
  // Log service (Raft).
  sim::Duration raft_tick = logservice::ReplicaOptions{}.tick;
  int election_ticks_min = logservice::ReplicaOptions{}.election_ticks_min;
  int election_ticks_max = logservice::ReplicaOptions{}.election_ticks_max;
  int heartbeat_ticks = logservice::ReplicaOptions{}.heartbeat_ticks;
  size_t max_entries_per_message = logservice::ReplicaOptions{}.max_entries_per_message;
  uint32_t max_entries_per_read = logservice::ReplicaOptions{}.max_entries_per_read;
  // Lock service.
  sim::Duration bind_retry = LockServiceOptions{}.bind_retry;
  sim::Duration orphan_after = LockServiceOptions{}.orphan_after;
  size_t last_commit_generation = LockServiceOptions{}.last_commit_generation;

  // Each knob at its default with probability 1/2, else one of its other values.
  static ClusterKnobs Random(sim::Rng& rng);
  // The knobs that differ from the defaults, as `name=value` words ("" if none).
  std::string Describe() const;
};

// Where each role lives, given the size of the log service.
struct ClusterLayout {
  int log_replicas = 3;
  constexpr sim::NodeId object_store() const { return static_cast<sim::NodeId>(log_replicas); }
  constexpr sim::NodeId tn() const { return object_store() + 1; }
  constexpr sim::NodeId lock_service() const { return object_store() + 2; }
  constexpr sim::NodeId first_cn() const { return object_store() + 3; }
};

struct ClusterOptions {
  int cns = 3;
  int log_replicas = 3;  // Raft replicas of the log service; a majority must be up.
  Isolation isolation = Isolation::kSnapshot;
  Mode mode = Mode::kPessimistic;
  size_t spill_threshold_bytes = 1 << 20;
  ClusterBugs bugs;
  ClusterKnobs knobs;
};

class Cluster {
 public:
  Cluster(World& world, const ClusterOptions& options);

  const ClusterLayout& layout() const { return layout_; }
  const std::vector<sim::NodeId>& log_replicas() const { return log_replicas_; }
  const std::vector<sim::NodeId>& cns() const { return cns_; }
  sim::NodeId first_free_id() const {
    return layout_.first_cn() + static_cast<sim::NodeId>(cns_.size());
  }
  // The TN's watermark promise, watched across its restarts.
  const TnAudit& tn_audit() const { return tn_audit_; }

 private:
  ClusterLayout layout_;
  std::vector<sim::NodeId> log_replicas_;
  std::vector<sim::NodeId> cns_;
  TnAudit tn_audit_;
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_CLUSTER_H_
