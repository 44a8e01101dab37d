// Cluster: lays out a MatrixOne-style deployment in a World.
//
//   World world({.seed = 7});
//   Cluster cluster(world, {.cns = 3, .isolation = Isolation::kSnapshot});
//   world.AddClient(cluster.first_free_id(), "client", ...);  // Sends TxnRequests to a CN.
//
// Node ids: log replicas 0..2, the object store 3, the TN 4, the lock service 5, then the
// CNs. Everything except clients is a server: it has a disk and fault plans may crash it.
#ifndef HINDCAST_NODES_TXN_CLUSTER_H_
#define HINDCAST_NODES_TXN_CLUSTER_H_

#include <vector>

#include "nodes/txn/cn.h"
#include "nodes/world.h"

namespace hindcast::nodes::txn {

struct ClusterBugs {
  CnBugs cn;
  bool lock_forget_on_restart = false;
  bool hlc_no_update_on_receive = false;
  bool ack_before_quorum = false;
};

struct ClusterOptions {
  int cns = 3;
  Isolation isolation = Isolation::kSnapshot;
  Mode mode = Mode::kPessimistic;
  size_t spill_threshold_bytes = 1 << 20;
  ClusterBugs bugs;
};

class Cluster {
 public:
  static constexpr sim::NodeId kObjectStore = 3;
  static constexpr sim::NodeId kTn = 4;
  static constexpr sim::NodeId kLockService = 5;
  static constexpr sim::NodeId kFirstCn = 6;

  Cluster(World& world, const ClusterOptions& options);

  const std::vector<sim::NodeId>& log_replicas() const { return log_replicas_; }
  const std::vector<sim::NodeId>& cns() const { return cns_; }
  sim::NodeId first_free_id() const { return kFirstCn + static_cast<sim::NodeId>(cns_.size()); }

 private:
  std::vector<sim::NodeId> log_replicas_{0, 1, 2};
  std::vector<sim::NodeId> cns_;
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_CLUSTER_H_
