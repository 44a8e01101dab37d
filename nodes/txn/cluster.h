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

#include <vector>

#include "nodes/txn/cn.h"
#include "nodes/txn/tn.h"
#include "nodes/world.h"

namespace hindcast::nodes::txn {

struct ClusterBugs {
  CnBugs cn;
  bool lock_forget_on_restart = false;
  bool hlc_no_update_on_receive = false;
  bool ack_before_quorum = false;
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
