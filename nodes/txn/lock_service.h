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
// Every grant also carries a bound on the key's last commit ts (LockReply::last_commit), so
// the CN need only wait for its LogTail to pass that, rather than the present, before it
// checks the key for a newer commit. Every commit of a key holds its lock, and its CN sends
// the commit ts with the unlock, so the service remembers the newest per key, recently
// unlocked keys exactly and the rest under a floor: the largest ts it has forgotten, the
// TN's clock at the bind (everything committed before this incarnation), and the clock of a
// restarted CN whose old incarnation's locks it released (one of them may have committed
// and died before unlocking).
//
// Unlocks are not acknowledged. One that is lost, or a late duplicate of a lock request
// that re-grants a key to a finished transaction, leaves an orphan lock: the service asks a
// holder's CN about it once others have waited `orphan_after`, and frees the locks of a
// transaction the CN says is over, taking the CN's clock as their last commit.
//
// A restarted CN's earlier incarnations are gone, and so are their transactions: once the TN
// has fenced them, the CN announces it (an unlock naming the incarnation) and the service
// releases their locks. Incarnation bits are random and messages arrive late, so every lock
// message carries the CN incarnation's epoch, the TN's log index of its fence: the service
// drops what comes from an incarnation older than one it has heard from, and the first
// message of a later one releases the earlier ones' locks (Admit).
//
// The TN can renew the bind for an incarnation that is gone: a bind request of one that
// restarted can reach it after the live one bound. Every commit under the live bind is then
// refused; the refusal carries the TN's bind, the CN passes it on with the unlock, and a
// service that learns of a newer bind than its own drops its locks and binds again, as
// MatrixOne's lock service does when a "bind changed" error names a new bind (LoseBind).
//
// Planted bug `lock_forget_on_restart`: after a restart the service keeps the old bind, so
// the TN cannot tell that the locks were forgotten, and two transactions can hold "the same"
// lock across the restart (a lost update).
#ifndef HINDCAST_NODES_TXN_LOCK_SERVICE_H_
#define HINDCAST_NODES_TXN_LOCK_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "nodes/node_env.h"
#include "nodes/txn/node_clock.h"
#include "nodes/txn/txn.pb.h"
#include "sim/node.h"
#include "sim/string_order.h"
#include "storage/timestamp.h"
#include "storage/txn_id.h"

namespace hindcast::nodes::txn {

struct LockServiceOptions {
  sim::NodeId tn = sim::kNoNode;
  bool bug_lock_forget_on_restart = false;
  sim::Duration bind_retry = sim::Duration::Millis(30);
  // Orphan check: a lock held this long while another transaction waits for it makes the
  // service ask the holder's CN whether the holder is still alive (and again this often).
  sim::Duration orphan_after = sim::Duration::Millis(100);
  // Keys per generation of remembered last commits (see the header comment); tests make it
  // small to reach the point where a generation is forgotten.
  size_t last_commit_generation = 4096;
  clock::HlcOptions hlc;
};

class LockService : public sim::Node {
 public:
  LockService(NodeEnv& env, const LockServiceOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;

 private:
  struct Waiter {
    sim::NodeId cn;
    uint64_t req;
    storage::TxnId txn;
  };
  struct Lock {
    storage::TxnId holder;
    // FIFO, and short. A vector, not a deque: libstdc++'s deque allocates even when empty
    // and again on every move, and the btree moves locks as keys come and go.
    std::vector<Waiter> waiters;
    int64_t since_ns = 0;  // When `holder` got it or was last asked about (this clock).
  };

  void AskBind();
  // The TN's bind has moved past this service's (CommitReply::bind_version): the TN refuses
  // every commit under it, so the locks go and the service binds again.
  void LoseBind(uint64_t tn_bind);
  void OnLock(sim::NodeId from, const LockRequest& r);
  void OnUnlock(const UnlockRequest& r);
  // Whether a message of `txn` with its CN's `epoch` (0: none yet) comes from that CN's
  // latest incarnation heard from. A later one than any before releases the locks of the
  // CN's other incarnations, taking `hlc` (past the TN's fence of them) as their last commit.
  bool Admit(const storage::TxnId& txn, uint64_t epoch, storage::Timestamp hlc);
  // Frees the locks held and waited for by transactions of txn's CN from other incarnations.
  void ReleaseEarlierIncarnations(const storage::TxnId& txn);
  // Asks the CNs of holders that others have waited on for `orphan_after` whether they are
  // alive, while anyone waits; OnTxnStatusReply releases the locks of those that are not.
  void CheckOrphans();
  void OnTxnStatusReply(const TxnStatusReply& r);
  void Grant(sim::NodeId cn, uint64_t req, const std::string& key);
  void Refuse(sim::NodeId cn, uint64_t req, LockReply::Status status);
  // Whether `waiter` waiting for `holder` closes a cycle in the wait-for graph.
  bool WouldDeadlock(const storage::TxnId& waiter, const storage::TxnId& holder) const;
  // Frees txn's locks and grants them to their next waiters; `commit_ts`, when the txn
  // committed, becomes the last commit of every key it held.
  void Release(const storage::TxnId& txn, std::optional<storage::Timestamp> commit_ts);
  void RecordCommit(const std::string& key, storage::Timestamp commit_ts);
  storage::Timestamp LastCommit(const std::string& key) const;

  NodeEnv& env_;
  LockServiceOptions options_;
  NodeClock clock_;
  uint64_t bind_version_ = 0;  // 0 until the TN has answered.
  uint64_t bind_req_;          // Random high half per incarnation | a counter.
  absl::btree_map<std::string, Lock, sim::StringOrder> locks_;
  absl::btree_map<storage::TxnId, absl::btree_set<std::string, sim::StringOrder>> held_;
  absl::btree_map<storage::TxnId, std::string> waiting_for_;  // Key each waiter waits on.
  // Per CN, the epoch of the latest incarnation heard from (see Admit). A CN's epochs are the
  // TN's log indexes of its fences, so they order its incarnations, where the random
  // incarnation bits and the arrival order of their messages do not.
  absl::btree_map<uint32_t, uint64_t> cn_epochs_;
  bool orphan_check_scheduled_ = false;
  // Last commit ts of recently unlocked keys, in two generations: when the young one fills
  // up the old one is forgotten (raising the floor) and the young one takes its place.
  // Looked up, never walked: forgetting a generation raises the floor to its newest commit,
  // which is kept beside it.
  using LastCommits = absl::flat_hash_map<std::string, storage::Timestamp,  // lookup-only
                                          sim::StringHash, sim::StringEq>;
  LastCommits last_commit_young_;  // lookup-only
  LastCommits last_commit_old_;    // lookup-only
  storage::Timestamp young_max_ = storage::Timestamp::Min();
  storage::Timestamp old_max_ = storage::Timestamp::Min();
  storage::Timestamp last_commit_floor_ = storage::Timestamp::Min();
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_LOCK_SERVICE_H_
