// LockService: the row-lock table of pessimistic transactions (MatrixOne's lock service).
//
//   world.AddServer(kLocks, "lock-service", [&](NodeEnv& env) {
//     return std::make_unique<txn::LockService>(env, txn::LockServiceOptions{.tn = kTn});
//   });
//
// Exclusive locks on keys, granted first come first served; a request that would close a
// cycle in the wait-for graph is refused with DEADLOCK (the requester aborts). A CN sends an
// unanswered request again under the same req: a request already queued is not queued twice,
// and one already granted is granted again. Every grant
// carries the lock table's bind version, which the TN checks at commit: the table is volatile,
// so after a restart the service renews its bind before granting anything, and commits whose
// locks were taken under the old bind are rejected ("lock table bind changed").
//
// Planted bug `lock_forget_on_restart`: after a restart the service keeps the old bind, so
// the TN cannot tell that the locks were forgotten, and two transactions can hold "the same"
// lock across the restart (a lost update).
#ifndef HINDCAST_NODES_TXN_LOCK_SERVICE_H_
#define HINDCAST_NODES_TXN_LOCK_SERVICE_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "nodes/node_env.h"
#include "nodes/txn/node_clock.h"
#include "nodes/txn/txn.pb.h"
#include "sim/node.h"
#include "storage/txn_id.h"

namespace hindcast::nodes::txn {

struct LockServiceOptions {
  sim::NodeId tn = sim::kNoNode;
  bool bug_lock_forget_on_restart = false;
  sim::Duration bind_retry = sim::Duration::Millis(30);
  clock::HlcOptions hlc;
};

class LockService : public sim::Node {
 public:
  LockService(NodeEnv& env, const LockServiceOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, std::string_view bytes) override;

 private:
  struct Waiter {
    sim::NodeId cn;
    uint64_t req;
    storage::TxnId txn;
  };
  struct Lock {
    storage::TxnId holder;
    std::deque<Waiter> waiters;
  };

  void AskBind();
  void OnLock(sim::NodeId from, const LockRequest& r);
  void OnUnlock(const UnlockRequest& r);
  void Grant(sim::NodeId cn, uint64_t req);
  void Refuse(sim::NodeId cn, uint64_t req, LockReply::Status status);
  // Whether `waiter` waiting for `holder` closes a cycle in the wait-for graph.
  bool WouldDeadlock(const storage::TxnId& waiter, const storage::TxnId& holder) const;
  void Release(const storage::TxnId& txn);

  NodeEnv& env_;
  LockServiceOptions options_;
  NodeClock clock_;
  uint64_t bind_version_ = 0;  // 0 until the TN has answered.
  uint64_t bind_req_ = 0;
  absl::btree_map<std::string, Lock> locks_;
  absl::btree_map<storage::TxnId, absl::btree_set<std::string>> held_;
  absl::btree_map<storage::TxnId, std::string> waiting_for_;  // Key each waiter waits on.
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_LOCK_SERVICE_H_
