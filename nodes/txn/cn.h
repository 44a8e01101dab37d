// Cn: a compute node of a MatrixOne-style cluster: it runs client transactions.
//
//   world.AddServer(kCn, "cn-5", [&](NodeEnv& env) {
//     return std::make_unique<txn::Cn>(env, txn::CnOptions{.tn = kTn, .object_store = kStore,
//                                                          .lock_service = kLocks});
//   });
//   // Clients send TxnRequest messages; the CN answers each with a TxnReply.
//
// A transaction reads at a snapshot timestamp from the CN's HLC — one per transaction under
// snapshot isolation, one per statement under read committed — and only once the CN's
// LogTail apply watermark has reached it, so every commit below the snapshot is visible.
// Reads merge the flushed objects (fetched from the object store and cached), the LogTail
// pushed by the TN, and the transaction's own workspace. Writes go to the workspace, which
// spills to the object store past `spill_threshold_bytes`; nothing reaches the TN before
// commit.
//
// Pessimistic mode (the default) takes an exclusive row lock before every write, asking the
// lock service again every `lock_retry` (a lost message, a restarting service) until
// `lock_wait_max`, when the transaction aborts. After a
// lock is granted the CN waits until its LogTail covers the grant's timestamp and checks
// whether the key changed after the snapshot: under SI that is a write conflict (abort);
// under RC the statement retries with a fresh snapshot. Optimistic mode takes no locks and
// leaves the write-write check to the TN. Commit sends the workspace to the TN and retries
// until it gets a definite answer, holding the locks until then. A refusal counts only from
// the TN incarnation the CN now addresses: refusals are not logged, and once the CN has
// asked a restarted TN again, that one may commit what its predecessor refused. A refusal
// "lock table bind changed" names the TN's bind, which the CN passes on with the unlock.
//
// Each incarnation (a restart) draws its own incarnation bits, and the TN fences the earlier
// ones before it serves the new one a snapshot. A late subscribe of an earlier incarnation
// the TN never heard of fences the live one instead; told so (`Retired`), the CN fail-stops
// and comes back as a new incarnation.
//
// Planted bugs: `rc_lost_update` (RC does not refresh the snapshot after a lock wait, so an
// update overwrites a commit it never saw), `workspace_spill_lost` (a spilled part of the
// workspace is forgotten: invisible to the transaction and missing from its commit), and
// `read_before_watermark` (reads do not wait for the apply watermark: stale reads).
#ifndef HINDCAST_NODES_TXN_CN_H_
#define HINDCAST_NODES_TXN_CN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/any_invocable.h"
#include "nodes/node_env.h"
#include "nodes/objectstore/object_client.h"
#include "nodes/txn/node_clock.h"
#include "nodes/txn/txn.pb.h"
#include "sim/node.h"
#include "storage/mvcc.h"
#include "storage/object.h"
#include "storage/txn_id.h"

namespace hindcast::nodes::txn {

enum class Isolation { kSnapshot, kReadCommitted };
enum class Mode { kPessimistic, kOptimistic };

struct CnBugs {
  bool rc_lost_update = false;
  bool workspace_spill_lost = false;
  bool read_before_watermark = false;
};

struct CnOptions {
  sim::NodeId tn = sim::kNoNode;
  sim::NodeId object_store = sim::kNoNode;
  sim::NodeId lock_service = sim::kNoNode;
  Isolation isolation = Isolation::kSnapshot;
  Mode mode = Mode::kPessimistic;
  size_t spill_threshold_bytes = 1 << 20;
  sim::Duration lock_wait_max = sim::Duration::Millis(300);
  // A lock request unanswered for this long is sent again (the request or its grant may be
  // lost, or the lock service may be restarting); a queued request is not duplicated.
  sim::Duration lock_retry = sim::Duration::Millis(100);
  sim::Duration watermark_wait_max = sim::Duration::Seconds(1);
  sim::Duration commit_retry = sim::Duration::Millis(100);
  // A subscription silent for a whole such interval is renewed. The TN pushes at least every
  // two heartbeat intervals (TnOptions::heartbeat_interval, 20ms), so this is well above.
  sim::Duration resubscribe_after = sim::Duration::Millis(60);
  CnBugs bugs;
  clock::HlcOptions hlc;
};

class Cn : public sim::Node {
 public:
  Cn(NodeEnv& env, const CnOptions& options);
  void Start() override;
  // Subscribed to the TN's LogTail, with its previous incarnations fenced: ready to serve.
  bool serving() const { return subscribed_ && fenced_; }
  void Receive(sim::NodeId from, sim::Payload& payload) override;

 private:
  using Then = absl::AnyInvocable<void()>;
  using ValueThen = absl::AnyInvocable<void(std::optional<std::string>)>;

  struct Txn {
    storage::TxnId id;
    sim::NodeId client = sim::kNoNode;
    uint64_t req = 0;
    google::protobuf::RepeatedPtrField<Op> ops;  // Taken from the request, not copied.
    size_t next_op = 0;
    google::protobuf::RepeatedPtrField<OpResult> results;  // Handed to the reply.
    storage::Timestamp snapshot;
    std::optional<storage::Timestamp> first_write_snapshot;
    absl::btree_map<std::string, std::optional<std::string>> workspace;
    size_t workspace_bytes = 0;
    std::vector<std::string> spills;  // Object names, oldest first.
    absl::btree_map<std::string, storage::ObjectReader> spill_cache;
    // Keys locked (or asked for), each with its grant's bound on the key's last commit
    // (LockReply::last_commit; Max until granted).
    absl::btree_map<std::string, storage::Timestamp> locked;
    uint64_t bind_version = 0;
    uint64_t bind_changed_to = 0;  // The TN's bind, when it refused the commit BIND_CHANGED.
    uint64_t lock_req = 0;         // The lock request in flight, 0 if none.
    std::string lock_key;          // Its key.
    int lock_retries_left = 0;
    sim::TimerId timer;  // Lock wait or commit retry.
    bool committing = false;
    bool stepping = false;    // RunOp's loop is on the stack.
    bool step_again = false;  // A statement completed inside it: run the next one.
  };

  // Transactions.
  void Begin(sim::NodeId client, TxnRequest& request);
  // Takes the snapshot under SI and runs the first operation.
  void Run(Txn& t);
  void RunOp(uint64_t id);
  void Step(uint64_t id);
  void NextOp(uint64_t id);
  const Op& CurrentOp(const Txn& t) const;
  void Execute(uint64_t id);
  void AfterLock(uint64_t id, const std::string& key, Then then);
  void CheckAfterLock(uint64_t id, storage::Timestamp seen_from, Then then);
  void ReadModifyWrite(uint64_t id);
  void ApplyOp(uint64_t id, std::optional<std::string> current);
  void WriteWorkspace(uint64_t id, const std::string& key, std::optional<std::string> value,
                      Then then);
  void Spill(uint64_t id, Then then);
  void Commit(uint64_t id);
  void SendCommit(uint64_t id);
  void OnCommitReply(const CommitReply& r);
  void Finish(uint64_t id, TxnReply::Outcome outcome, std::string reason,
              storage::Timestamp commit_ts = {});
  Txn* Find(uint64_t id);

  // Reads.
  void ReadKey(uint64_t id, const std::string& key, ValueThen then);
  // The committed value at `snapshot` from the LogTail and the merged objects (all loaded).
  std::optional<std::string> ReadCommitted(const std::string& key,
                                           storage::Timestamp snapshot) const;
  // The newest committed version's timestamp of `key` (Min if none), from loaded data.
  storage::Timestamp NewestCommitTs(const std::string& key) const;
  // Runs `then` once every listed object is merged into base_.
  void LoadObjects(Then then);
  bool MergeLocally();
  void ObjectsMerged();
  void MergeObject(const storage::ObjectReader& object);
  // The lowest seq this incarnation may still send a commit for (CommitRequest).
  uint64_t DecidedBelow() const;

  // Locks.
  void LockKey(uint64_t id, const std::string& key, Then then);
  void SendLock(uint64_t id);
  void OnTxnStatusQuery(sim::NodeId from, const TxnStatusQuery& q);
  void OnRequestStatus(sim::NodeId from, const RequestStatus& q);
  void ReplyRequestStatus(sim::NodeId client, uint64_t req, bool running);
  // This incarnation's client session id (TxnRequest::session): never 0.
  uint64_t session() const { return incarnation_bits_ | 1; }
  void OnLockReply(const LockReply& r);
  // `bind_changed_to`: the TN's bind from a BIND_CHANGED refusal, news for the service.
  void Unlock(const storage::TxnId& txn, std::optional<storage::Timestamp> commit_ts,
              uint64_t bind_changed_to = 0);

  // LogTail.
  void Subscribe();
  void OnLogTail(LogTailPush push);
  void OnRetired(const Retired& retired);
  void ApplySnapshot(const LogTailPush& push);
  void ApplyPush(const LogTailPush& push);
  void WaitWatermark(uint64_t id, storage::Timestamp ts, Then then);
  void CheckSubscription();

  NodeEnv& env_;
  CnOptions options_;
  NodeClock clock_;
  objectstore::ObjectClient store_;
  uint64_t incarnation_bits_;
  uint64_t next_txn_ = 1;
  absl::btree_map<uint64_t, Txn> txns_;  // By TxnId::seq.
  // By client: the lowest request number this incarnation still runs. A request runs once,
  // and never after a later one of its client, nor after the client was told it is not
  // here (RequestStatus): a copy that arrives after that is dropped, so a request the client
  // gave up on cannot take effect behind the client's next one.
  absl::btree_map<sim::NodeId, uint64_t> client_req_floor_;

  // LogTail state.
  bool subscribed_ = false;
  // Transactions begun before this incarnation's first snapshot (see Begin).
  std::vector<uint64_t> awaiting_first_snapshot_;
  bool fenced_ = false;  // The TN has fenced this CN's previous incarnations.
  // This incarnation's epoch (LogTailPush::cn_epoch), sent with every lock message: the lock
  // service drops those of an incarnation older than one it has heard from.
  uint64_t epoch_ = 0;
  uint64_t tn_epoch_ = 0;
  uint64_t push_seq_ = 0;
  uint64_t subscription_ = 0;  // The current subscription; pushes of older ones are ignored.
  int silent_ticks_ = 0;       // Subscription checks since the last push.
  // Pushes of the current subscription that arrived ahead of the next one expected, by seq.
  absl::btree_map<uint64_t, LogTailPush> pending_pushes_;
  storage::Timestamp watermark_ = storage::Timestamp::Min();
  // The LogTail applied so far, less the versions the loaded objects hold (dropped once
  // every listed object is merged into base_).
  storage::VersionedTable tail_;
  std::vector<std::string> objects_;  // The TN's flushed objects, oldest first.
  storage::Timestamp objects_cover_ = storage::Timestamp::Min();  // They hold commits <= it.
  // The flushed objects merged into one table, in list order (each covers the commits after
  // the one before it): a read costs two lookups however many objects there are. Invariant:
  // base_objects_ is a prefix of objects_ whenever LoadObjects finishes.
  storage::VersionedTable base_;
  std::vector<std::string> base_objects_;
  bool objects_merged_ = true;  // base_objects_ == objects_: reads need no fetch.
  // The objects listed in the subscription's snapshot, whose commits the LogTail lacks; the
  // ones after them are merged from the LogTail rather than fetched.
  size_t snapshot_objects_ = 0;
  struct Waiter {
    uint64_t txn;
    Then then;
  };
  absl::btree_multimap<storage::Timestamp, Waiter> watermark_waiters_;
  absl::btree_map<uint64_t, std::pair<uint64_t, Then>> lock_waits_;  // lock req -> (txn, then)
  uint64_t next_lock_req_;  // Incarnation bits | a counter from 1.
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_CN_H_
