// Tn: the transaction node of a MatrixOne-style cluster.
//
//   world.AddServer(kTn, "tn", [&](NodeEnv& env) {
//     return std::make_unique<txn::Tn>(env, txn::TnOptions{.log_replicas = {1, 2, 3},
//                                                         .object_store = 4});
//   });
//
// The TN turns CN commit requests into durable commits:
//  1. It fetches the transaction's workspace spills from the object store, if any.
//  2. Commit requests are group-committed in batches, one batch in the log at a time. Each
//     request gets its commit timestamp from the TN's HLC (so commit order is timestamp
//     order); optimistic ones are checked for write-write conflicts against commits in
//     (snapshot, commit]; pessimistic ones are aborted if their lock-table bind changed.
//  3. The batch is appended to the Raft log service; once committed it is applied to the
//     LogTail (an MVCC table), acknowledged to the CNs, and pushed to every subscribed CN.
//  4. Periodically the LogTail is flushed into an immutable object in the object store, a
//     checkpoint record naming all objects is appended, and the log is truncated.
// A log append whose outcome is unknown is resolved, never guessed: the TN appends a fence
// and re-reads the log; whatever committed before the fence is applied, and the batch's
// transactions are answered by what was found.
//
// Exactly once: a CN sends a commit again until it hears a decided outcome, so copies
// arrive late and twice. The TN remembers every outcome it decided, aborts included, until
// the CN's `decided_below` says it will never ask again (a fenced CN incarnation's stay: it
// may be alive after all); commits are also in the log. An abort is not logged, so a
// request names the TN incarnation (epoch) it is for, and a new incarnation runs none
// addressed to an earlier one: the CN asks again if it still waits. A subscription is
// served one snapshot, however many copies of its subscribe arrive; a subscribe of a CN
// incarnation the TN has fenced off is answered `Retired`, so that one, if alive, starts over.
//
// LogTail protocol: every push carries a watermark — all commits with commit_ts <= watermark
// have been pushed — advanced by heartbeats, and never past a promise the TN has logged: a
// restarted TN starts its clock past every promise, so it commits nothing below a watermark
// an earlier incarnation advertised (TnAudit checks it). A CN resubscribes (and gets a
// snapshot: the object list plus the unflushed LogTail) when it sees a new TN epoch or a gap
// in `seq`.
//
// Recovery after a restart claims the log (txn.proto, LogRecord, says why and how an append
// that lands late is voided) and reads it whole: the newest checkpoint that counts holds
// everything up to its covered index in objects, and later records that count are replayed
// on top. The HLC is moved past every replayed commit so new commit timestamps stay
// increasing.
#ifndef HINDCAST_NODES_TXN_TN_H_
#define HINDCAST_NODES_TXN_TN_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "nodes/logservice/log_client.h"
#include "nodes/node_env.h"
#include "nodes/objectstore/object_client.h"
#include "nodes/txn/node_clock.h"
#include "nodes/txn/txn.pb.h"
#include "sim/node.h"
#include "storage/mvcc.h"
#include "storage/wal.h"

namespace hindcast::nodes::txn {

// Where a reader of the TN's log stands in the lease over it (txn.proto, LogRecord): the
// current holder's claim index, its epoch (0 if its claim was not read), and the seq below
// which the holder's records are void.
struct LogLease {
  uint64_t claim = 0;
  uint64_t epoch = 0;
  uint64_t void_below = 0;
};

// Whether the TN log record at `index` counts, read in log order under `lease`, which it
// moves on.
bool CountsUnderLease(uint64_t index, const LogRecord& record, LogLease& lease);

// Watches the TN, across its incarnations, for the promise its LogTail makes: every commit
// at or below a watermark it advertised is already pushed. So no commit may get a timestamp
// at or below an advertised watermark, by the incarnation that advertised it or a later one
// (a CN may have read a snapshot under it, and the commit would be missing from it). Kept
// outside the TN (by the Cluster) so it survives crashes; runs report `violation()`.
class TnAudit {
 public:
  void Advertised(storage::Timestamp watermark) { advertised_ = std::max(advertised_, watermark); }
  void Committed(storage::Timestamp commit_ts);
  // Empty while the promise holds; else what broke it first.
  const std::string& violation() const { return violation_; }

 private:
  storage::Timestamp advertised_ = storage::Timestamp::Min();
  std::string violation_;
};

struct TnOptions {
  std::vector<sim::NodeId> log_replicas;
  sim::NodeId object_store = sim::kNoNode;
  sim::Duration heartbeat_interval = sim::Duration::Millis(20);
  sim::Duration flush_interval = sim::Duration::Millis(300);
  size_t batch_requests_max = 64;
  clock::HlcOptions hlc;
  TnAudit* audit = nullptr;  // Optional; must outlive every incarnation.
};

class Tn : public sim::Node {
 public:
  Tn(NodeEnv& env, const TnOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;

  // For tests and invariant checks.
  bool serving() const { return serving_; }
  const storage::VersionedTable& logtail() const { return tail_; }
  uint64_t bind_version() const { return bind_version_; }

 private:
  struct Pending {
    sim::NodeId cn;
    CommitRequest request;
    storage::CommitRecord record;  // Filled when the batch is formed.
  };
  struct Subscriber {
    uint64_t seq = 0;
    uint64_t subscription = 0;
    bool pushed = false;  // Since the last heartbeat.
  };

  // Recovery.
  void Recover();
  void OnRecoveryRead(const logservice::ReadResult& result);
  // `record` with this incarnation's lease stamp, encoded for an append.
  std::string Stamped(LogRecord record);
  void ApplyLogRecord(uint64_t index, const LogRecord& record);
  void ApplyCommit(const storage::CommitRecord& record);
  void FinishRecovery();

  // Commit pipeline.
  void OnCommit(sim::NodeId cn, CommitRequest request);
  // Records that `cn` finished its transactions below `below` and forgets their outcomes.
  void Retire(uint32_t cn, uint64_t below);
  // Whether `txn` is one its CN reported finished (a late copy of its commit request).
  bool Retired(const storage::TxnId& txn) const;
  // Whether `txn` is of a CN incarnation the TN has since fenced off (its CN restarted).
  bool Fenced(const storage::TxnId& txn) const;
  void FetchSpills(sim::NodeId cn, CommitRequest request, size_t next);
  void Enqueue(sim::NodeId cn, CommitRequest request);
  void MaybeStartBatch();
  // `promise` is the one the batch's record carries (AddPromise).
  void OnBatchAppended(absl::StatusOr<uint64_t> index, storage::Timestamp promise, uint64_t seq);
  void ResolveUnknownBatch();
  void FinishBatch();
  void ReplyCommit(sim::NodeId cn, const storage::TxnId& txn, CommitReply::Status status,
                   storage::Timestamp commit_ts);

  // LogTail.
  void OnSubscribe(sim::NodeId cn, const Subscribe& subscribe);
  void SendSnapshot(sim::NodeId cn, uint64_t subscription);
  void PushEntries(const std::vector<storage::CommitRecord>& records, bool objects_changed);
  void SendPush(sim::NodeId cn, Message m);
  void SendEmptyPush(sim::NodeId cn, Subscriber& sub);
  storage::Timestamp Watermark();
  // Appends a promise record if the clock is within half a promise of promised_.
  void MaybePromise();
  // Puts a promise of the clock now plus kPromiseAhead in `record` and returns it;
  // sent_promise_ follows.
  storage::Timestamp AddPromise(LogRecord& record);
  void Heartbeat();

  // Flush and checkpoint.
  void FlushTick();
  // What a flush covers, taken when it starts.
  struct FlushCover {
    storage::Timestamp ts;       // Every commit at or below it is in the flush's objects.
    uint64_t index = 0;          // The log index through which those commits lie.
    LogLease lease;              // The lease just past `index`.
    storage::Timestamp promise;  // The highest promise sent so far.
  };
  void Flush();
  void AppendCheckpoint(const std::string& name, const FlushCover& cover);
  void OnBindRequest(sim::NodeId from, const BindRequest& r);
  void AppendBind();
  void SendBindReply(sim::NodeId to, uint64_t req);

  void Send(sim::NodeId to, Message m);

  NodeEnv& env_;
  TnOptions options_;
  NodeClock clock_;
  logservice::LogClient log_;
  objectstore::ObjectClient store_;
  uint64_t epoch_;
  bool serving_ = false;
  // The claim Recover() names as the one it takes over from: none at first, then whatever
  // the log showed as current when a claim did not count.
  uint64_t claim_prev_ = 0;
  // Once serving: this incarnation's own claim, and its latest fence.
  LogLease lease_;
  uint64_t next_record_seq_ = 1;
  // Watermark promises (LogRecord.promise): the highest that counts, as this incarnation
  // knows (an appended record's, once acknowledged, or a replayed one's), and the highest
  // it sent. A TN that crashed may have advertised watermarks up to the former; a commit
  // of the next incarnation below one would be missed by a snapshot read that relied on it.
  storage::Timestamp promised_ = storage::Timestamp::Min();
  storage::Timestamp sent_promise_ = storage::Timestamp::Min();
  bool promise_in_flight_ = false;

  // Commits replayed or applied this incarnation, less those a checkpoint made old: after
  // each checkpoint the versions at or below the previous one's cover are dropped, so tail_
  // holds about two flush intervals. A snapshot below tail_.truncated_below() cannot be
  // conflict-checked and aborts.
  storage::VersionedTable tail_;
  // Commits at or below this are in objects.
  storage::Timestamp covered_ts_ = storage::Timestamp::Min();
  uint64_t covered_index_ = 0;
  uint64_t applied_index_ = 0;
  storage::Timestamp last_commit_ts_ = storage::Timestamp::Min();
  std::vector<std::string> objects_;
  uint64_t bind_version_ = 0;
  // The newest bind appended, answered or not. Checkpoints carry it: a bind record whose
  // append is answered only after a checkpoint covering its index was built would otherwise
  // be truncated away unrecorded, and a restarted TN would hand out that version again.
  uint64_t bind_version_appended_ = 0;
  // Bind requests waiting for the bind record in flight (at most one is): each answered
  // with the bind it makes. One record per retry instead would feed back on a slow log,
  // each retry's record making the log slower still (found with random knobs: a lock
  // service retrying every 5 ms starved the log of everything else).
  struct BindWaiter {
    sim::NodeId from;
    uint64_t req;
  };
  std::vector<BindWaiter> bind_waiters_;
  bool bind_appending_ = false;
  uint64_t flushes_ = 0;
  bool flushing_ = false;
  // A flush tick found a batch in the log: flush as soon as it is decided, or a TN that is
  // never idle would never flush (and its LogTail would grow without bound).
  bool flush_due_ = false;

  std::vector<Pending> queue_;
  std::vector<Pending> batch_;  // In the log, awaiting its outcome.
  bool batch_in_flight_ = false;

  absl::btree_map<sim::NodeId, Subscriber> subscribers_;
  // Decided transactions, so a CN that retries a commit gets the same answer (replayed
  // commits are re-learned at recovery; an unknown one that is not in the log never will be).
  struct Outcome {
    CommitReply::Status status;
    storage::Timestamp commit_ts;
  };
  absl::btree_map<storage::TxnId, Outcome> outcomes_;
  // Per CN, its latest CommitRequest::decided_below (a TxnId seq, so it names the CN's
  // incarnation too): outcomes below it are forgotten and late commit copies ignored. This
  // keeps outcomes_ as small as the transactions in flight.
  absl::btree_map<uint32_t, uint64_t> decided_below_;
  absl::btree_set<storage::TxnId> in_progress_;
  // The current incarnation of each CN that subscribed; commits of others are refused. The
  // epoch is the log index of the record that fenced the earlier ones: the CN's lock
  // messages carry it, so the lock service can order the CN's incarnations.
  struct CnFence {
    uint64_t incarnation = 0;
    uint64_t epoch = 0;
    // The CN's earlier incarnations this TN has seen fenced, oldest first: a late subscribe
    // of one of them must not fence the current one (see OnSubscribe).
    std::vector<uint64_t> retired;
  };
  // Whether the CN's subscription `subscription`, or a later one of the same incarnation
  // (ids rise within an incarnation), has been served a snapshot.
  bool Served(uint32_t cn, uint64_t subscription) const;
  // Whether `incarnation` is the CN's current one or one it has replaced.
  bool KnownIncarnation(uint32_t cn, uint64_t incarnation) const;
  // Applies the fence record at log `index` naming `incarnation` of `cn`, with the effect it
  // has read in log order (recovery) whatever order the appends completed in: an unknown
  // incarnation past the current one's epoch becomes current, its epoch `index`.
  void ApplyCnFence(uint32_t cn, uint64_t incarnation, uint64_t index);
  absl::btree_map<uint32_t, CnFence> cn_incarnations_;
  // Fence records in flight, by (CN, incarnation): the newest subscription of that
  // incarnation seen meanwhile, which the record's answer serves.
  absl::btree_map<std::pair<uint32_t, uint64_t>, uint64_t> fencing_;
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_TN_H_
