#include "nodes/txn/tn.h"

#include <algorithm>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nodes/wire.h"
#include "sim/assert.h"
#include "storage/object.h"
#include "storage/pb_util.h"

namespace hindcast::nodes::txn {
namespace {

constexpr sim::Duration kRetryBackoff = sim::Duration::Millis(20);
constexpr uint64_t kLockTableId = 1;
// How far past its clock a TN promises watermarks (LogRecord.promise); it renews the
// promise at half of this. Batches carry one, so only an idle TN appends promise records.
constexpr int64_t kPromiseAheadNs = 1'000'000'000;

LogRecord FenceRecord() {
  LogRecord r;
  r.set_fence(1);
  return r;
}

// What recovery replays: the newest checkpoint that counts (or none), the index replay
// starts after (its cover), the lease there, and the lease at the end of the read.
struct ReplayPlan {
  const Checkpoint* checkpoint = nullptr;
  uint64_t from = 0;
  LogLease start;
  LogLease end;
};

// A checkpoint counts if it does in a replay from its own cover with the lease it carries.
// One that landed late (its TN gone) is passed over: the claims after its cover moved the
// lease on. One whose cover the log no longer reaches is older than the one the truncation
// was for.
ReplayPlan PlanReplay(const std::vector<std::pair<uint64_t, LogRecord>>& records,
                      uint64_t compacted_through) {
  for (size_t c = records.size(); c-- > 0;) {
    if (!records[c].second.has_checkpoint()) continue;
    const Checkpoint& checkpoint = records[c].second.checkpoint();
    if (checkpoint.covers_index() < compacted_through) continue;
    const LogLease start{.claim = checkpoint.lease().claim(),
                         .void_below = checkpoint.lease().void_below()};
    LogLease lease = start;
    bool counts = false;
    for (const auto& [index, record] : records) {
      if (index <= checkpoint.covers_index()) continue;
      const bool counted = CountsUnderLease(index, record, lease);
      if (index == records[c].first) counts = counted;
    }
    if (counts) {
      return {.checkpoint = &checkpoint,
              .from = checkpoint.covers_index(),
              .start = start,
              .end = lease};
    }
  }
  LogLease lease;
  for (const auto& [index, record] : records) CountsUnderLease(index, record, lease);
  return {.end = lease};
}

Write ToWire(std::string_view key, const std::optional<std::string>& value) {
  Write w;
  w.set_key(std::string(key));
  w.set_is_delete(!value.has_value());
  if (value.has_value()) w.set_value(*value);
  return w;
}

}  // namespace

void TnAudit::Committed(storage::Timestamp commit_ts) {
  if (commit_ts > advertised_ || !violation_.empty()) return;
  violation_ = absl::StrCat("tn: a commit got timestamp ", commit_ts.ToString(),
                            ", at or below the LogTail watermark ", advertised_.ToString(),
                            " already advertised (a snapshot read under it misses the commit)");
}

bool CountsUnderLease(uint64_t index, const LogRecord& record, LogLease& lease) {
  if (record.has_claim()) {
    if (record.claim().prev() != lease.claim) return false;  // Late, or raced by another.
    lease = {.claim = index, .epoch = record.claim().epoch()};
    return true;
  }
  if (record.holder() != lease.claim) return false;
  if (record.has_commit_batch()) {
    // A holder appends one batch at a time, so the batches that count come in seq order. One
    // below the last is a late copy (the log service dedups a copy against the original
    // only while the original is in its retained log) or was voided by a fence.
    if (record.seq() < lease.void_below) return false;
    lease.void_below = record.seq() + 1;
  }
  if (record.has_fence()) lease.void_below = std::max(lease.void_below, record.seq());
  return true;
}

Tn::Tn(NodeEnv& env, const TnOptions& options)
    : env_(env),
      options_(options),
      clock_(env, options.hlc),
      log_(env, {.replicas = options.log_replicas}),
      store_(env, options.object_store, {}),
      epoch_(env.rng().Next()) {
  HC_ASSERT(!options.log_replicas.empty());
  HC_ASSERT(options.object_store != sim::kNoNode);
}

void Tn::Start() {
  Recover();
  env_.SetTimer(options_.heartbeat_interval, [this] { Heartbeat(); });
  env_.SetTimer(options_.flush_interval, [this] { FlushTick(); });
}

void Tn::Send(sim::NodeId to, Message m) { SendMessage(env_, to, std::move(m)); }

// --- Recovery -------------------------------------------------------------------------

void Tn::Recover() {
  // The claim decides every entry before it (an append of an earlier incarnation still in
  // the log either committed before the claim or never counts), so the read below sees
  // every commit there will ever be from before this incarnation.
  LogRecord claim;
  claim.mutable_claim()->set_epoch(epoch_);
  claim.mutable_claim()->set_prev(claim_prev_);
  log_.Append(Encode(claim), [this](absl::StatusOr<uint64_t> at) {
    if (!at.ok()) {
      env_.SetTimer(kRetryBackoff, [this] { Recover(); });
      return;
    }
    // A newly elected leader may report a commit index behind the claim until it commits
    // in its own term: a read that does not reach the claim is incomplete, so try again.
    log_.Read(1, [this, at = *at](absl::StatusOr<logservice::ReadResult> result) {
      if (!result.ok() || result->commit_index < at) {
        env_.SetTimer(kRetryBackoff, [this] { Recover(); });
        return;
      }
      OnRecoveryRead(*result);
    });
  });
}

void Tn::OnRecoveryRead(const logservice::ReadResult& result) {
  std::vector<std::pair<uint64_t, LogRecord>> records;
  for (const logservice::CommittedEntry& e : result.entries) {
    LogRecord r;
    HC_ASSERT_MSG(ParseMessage(e.payload, &r), "the TN's own log record does not parse");
    records.emplace_back(e.index, std::move(r));
  }
  const ReplayPlan plan = PlanReplay(records, result.compacted_through);
  // Every promise in the log, whether its record counts or not: a promise only bounds the
  // watermarks advertised, so a higher one costs nothing but a later clock, while a promise
  // its writer saw acknowledged may count for nothing (a fence the writer sent after it
  // landed first).
  for (const auto& [index, r] : records) {
    if (r.has_promise()) promised_ = std::max(promised_, storage::FromProto(r.promise()));
    if (r.has_checkpoint() && r.checkpoint().has_promise()) {
      promised_ = std::max(promised_, storage::FromProto(r.checkpoint().promise()));
    }
  }
  if (plan.end.epoch != epoch_) {
    // The claim named a holder that was not the current one (a restart names none): claim
    // again from the one the log shows.
    claim_prev_ = plan.end.claim;
    env_.Record({.kind = sim::EventKind::kNodeState, .a = 15, .b = claim_prev_});
    Recover();
    return;
  }
  if (plan.checkpoint != nullptr) {
    const Checkpoint& c = *plan.checkpoint;
    objects_.assign(c.objects().begin(), c.objects().end());
    covered_ts_ = storage::FromProto(c.covers_ts());
    covered_index_ = c.covers_index();
    bind_version_ = std::max(bind_version_, c.bind_version());
    for (const CnIncarnation& i : c.cn_incarnations()) {
      cn_incarnations_[i.cn()] = {.incarnation = i.incarnation(),
                                  .epoch = i.epoch(),
                                  .retired = {i.retired().begin(), i.retired().end()}};
    }
    for (const CommittedTxn& committed : c.committed()) {
      outcomes_[storage::FromProto(committed.txn())] = {CommitReply::COMMITTED,
                                                        storage::FromProto(committed.commit_ts())};
    }
    for (const CnDecided& d : c.decided()) Retire(d.cn(), d.below());
  }
  last_commit_ts_ = covered_ts_;
  // The versions the objects hold are not replayed, so none at or below the cover can be
  // conflict-checked.
  if (!objects_.empty()) tail_.Truncate(covered_ts_.Next());
  LogLease lease = plan.start;
  uint64_t voided = 0;
  for (const auto& [index, r] : records) {
    if (index <= plan.from) continue;
    if (CountsUnderLease(index, r, lease)) {
      ApplyLogRecord(index, r);
    } else {
      ++voided;
    }
  }
  lease_ = lease;
  applied_index_ = std::max(applied_index_, result.commit_index);
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 13, .b = result.entries.size()});
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 14, .b = result.compacted_through});
  if (voided != 0) env_.Record({.kind = sim::EventKind::kNodeState, .a = 16, .b = voided});
  clock_.Observe(last_commit_ts_);
  // Past every watermark an earlier incarnation may have advertised: a commit below one
  // would be missing from a snapshot a CN read in full (and from its conflict window).
  clock_.Observe(promised_);
  sent_promise_ = promised_;
  FinishRecovery();
}

std::string Tn::Stamped(LogRecord record) {
  record.set_holder(lease_.claim);
  record.set_seq(next_record_seq_++);
  return Encode(record);
}

// Applies one committed log record to the in-memory state. Commit batches at or below the
// covered index are already in objects and are skipped.
void Tn::ApplyLogRecord(uint64_t index, const LogRecord& r) {
  if (r.has_bind_version()) bind_version_ = std::max(bind_version_, r.bind_version());
  if (r.has_cn_incarnation()) {
    ApplyCnFence(r.cn_incarnation().cn(), r.cn_incarnation().incarnation(), index);
  }
  if (!r.has_commit_batch() || index <= covered_index_) return;
  absl::StatusOr<std::vector<storage::CommitRecord>> records =
      storage::DecodeCommitRecords(r.commit_batch());
  HC_ASSERT_MSG(records.ok(), "the TN's own commit batch does not decode");
  for (const storage::CommitRecord& rec : *records) ApplyCommit(rec);
}

// Applies one committed transaction to the LogTail, in commit order.
void Tn::ApplyCommit(const storage::CommitRecord& rec) {
  HC_ASSERT(rec.commit_ts > last_commit_ts_);
  outcomes_[rec.txn] = {CommitReply::COMMITTED, rec.commit_ts};
  for (const storage::WriteOp& w : rec.writes) tail_.Apply(w.key, rec.commit_ts, w.value);
  last_commit_ts_ = rec.commit_ts;
}

void Tn::FinishRecovery() {
  serving_ = true;
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 10, .b = applied_index_});
  MaybePromise();
  MaybeStartBatch();
}

// --- Commit pipeline ------------------------------------------------------------------

void Tn::ReplyCommit(sim::NodeId cn, const storage::TxnId& txn, CommitReply::Status status,
                     storage::Timestamp commit_ts) {
  // Every decided outcome is remembered, aborts included: a late copy of the request must
  // get the same answer, not run again (its CN may have told its client it aborted).
  if (status != CommitReply::OUTCOME_UNKNOWN) outcomes_[txn] = {status, commit_ts};
  in_progress_.erase(txn);
  Message m;
  CommitReply* r = m.mutable_commit_reply();
  *r->mutable_txn() = storage::ToProto(txn);
  r->set_status(status);
  *r->mutable_commit_ts() = storage::ToProto(commit_ts);
  // Binds only move up, so the current one is still past the refused commit's.
  if (status == CommitReply::BIND_CHANGED) r->set_bind_version(bind_version_);
  r->set_tn_epoch(epoch_);
  *r->mutable_hlc() = clock_.Stamp();
  Send(cn, std::move(m));
}

void Tn::Retire(uint32_t cn, uint64_t below) {
  uint64_t& known = decided_below_[cn];
  // Seqs of one incarnation share their high half; a new incarnation replaces the old mark.
  if ((known >> 32) == (below >> 32) && known >= below) return;
  known = below;
  const uint64_t incarnation_first = below & ~uint64_t{0xffff'ffff};
  outcomes_.erase(outcomes_.lower_bound({.cn = cn, .seq = incarnation_first}),
                  outcomes_.lower_bound({.cn = cn, .seq = below}));
}

bool Tn::Fenced(const storage::TxnId& txn) const {
  const auto inc = cn_incarnations_.find(txn.cn);
  return inc != cn_incarnations_.end() && inc->second.incarnation != (txn.seq >> 32);
}

bool Tn::Retired(const storage::TxnId& txn) const {
  auto it = decided_below_.find(txn.cn);
  return it != decided_below_.end() && (it->second >> 32) == (txn.seq >> 32) &&
         txn.seq < it->second;
}

void Tn::OnCommit(sim::NodeId cn, CommitRequest request) {
  clock_.Observe(request.hlc());
  const storage::TxnId txn = storage::FromProto(request.txn());
  // The CN finished this one and waits for no answer; running it again could commit a
  // transaction its client was told had aborted.
  if (Retired(txn)) return;
  // A mark of an incarnation since replaced (a late request) must not replace the live
  // one's: the outcomes that mark covered are gone, so their late copies would run again.
  if (request.decided_below() != 0 && !Fenced(txn)) Retire(txn.cn, request.decided_below());
  if (!serving_) {
    // Not "unavailable": the previous incarnation may have committed this very request, and
    // only recovery can tell. The CN keeps retrying.
    ReplyCommit(cn, txn, CommitReply::OUTCOME_UNKNOWN, {});
    return;
  }
  if (auto done = outcomes_.find(txn); done != outcomes_.end()) {
    ReplyCommit(cn, txn, done->second.status, done->second.commit_ts);  // A retry.
    return;
  }
  if (in_progress_.contains(txn)) return;  // A copy of one in the pipeline, which answers.
  if (request.tn_epoch() != epoch_) {
    // Addressed to an earlier incarnation, which may have aborted it (aborts are not in the
    // log): a late copy must not run. The CN asks again under this epoch if it still waits.
    ReplyCommit(cn, txn, CommitReply::OUTCOME_UNKNOWN, {});
    return;
  }
  if (Fenced(txn)) {
    // The CN restarted since: its locks may be gone, so this commit must never happen.
    ReplyCommit(cn, txn, CommitReply::UNAVAILABLE, {});
    return;
  }
  in_progress_.insert(txn);
  FetchSpills(cn, std::move(request), 0);
}

// Reads the transaction's spilled workspace objects into its writes so that they end up
// oldest spill first and the in-memory writes, newest, last: the last write of a key wins.
// Each object's entries go in front of the writes gathered so far, so the objects are read
// newest first. (Read oldest first, an earlier spill's value of a key written in two spills
// came after the later one's and won: a transaction that appended to one list twice, with
// a spill after each append, lost its second append.)
void Tn::FetchSpills(sim::NodeId cn, CommitRequest request, size_t next) {
  const size_t spills = static_cast<size_t>(request.spill_objects_size());
  if (next == spills) {
    Enqueue(cn, std::move(request));
    return;
  }
  const std::string name = request.spill_objects(static_cast<int>(spills - 1 - next));
  store_.Get(name, [this, cn, next,
                    request = std::move(request)](absl::StatusOr<std::string> bytes) mutable {
    absl::StatusOr<storage::ObjectReader> object =
        bytes.ok() ? storage::ObjectReader::Open(*bytes)
                   : absl::StatusOr<storage::ObjectReader>(bytes.status());
    if (!object.ok()) {
      ReplyCommit(cn, storage::FromProto(request.txn()), CommitReply::UNAVAILABLE, {});
      return;
    }
    google::protobuf::RepeatedPtrField<Write> merged;
    object->ForEachEntry(
        [&](const storage::ObjectEntry& e) { *merged.Add() = ToWire(e.key, e.value); });
    for (Write& w : *request.mutable_writes()) *merged.Add() = std::move(w);
    *request.mutable_writes() = std::move(merged);
    FetchSpills(cn, std::move(request), next + 1);
  });
}

void Tn::Enqueue(sim::NodeId cn, CommitRequest request) {
  queue_.push_back({.cn = cn, .request = std::move(request)});
  MaybeStartBatch();
}

void Tn::MaybeStartBatch() {
  if (!serving_ || batch_in_flight_ || queue_.empty()) return;
  HC_ASSERT(batch_.empty());
  const size_t take = std::min(queue_.size(), options_.batch_requests_max);
  std::vector<Pending> taking(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.begin() + take));
  queue_.erase(queue_.begin(), queue_.begin() + take);

  absl::btree_set<std::string> batch_keys;
  std::string payload;
  for (Pending& p : taking) {
    CommitRequest& req = p.request;  // Its writes are moved out below.
    const storage::TxnId txn = storage::FromProto(req.txn());
    const storage::Timestamp snapshot = storage::FromProto(req.snapshot_ts());
    const storage::Timestamp commit_ts = clock_.Now();
    HC_ASSERT(commit_ts > last_commit_ts_);
    if (Fenced(txn)) {
      // Its CN restarted while it waited here (a queue stuck behind an undecided batch, say):
      // the new incarnation has dropped its locks, on the word that this never commits. A
      // commit now would get a timestamp past the floor the lock service set for those locks.
      ReplyCommit(p.cn, txn, CommitReply::UNAVAILABLE, {});
      continue;
    }
    if (req.lock_bind_version() != 0 && req.lock_bind_version() != bind_version_) {
      ReplyCommit(p.cn, txn, CommitReply::BIND_CHANGED, {});
      continue;
    }
    // Last write of a key wins; the record wants keys ascending and unique.
    absl::btree_map<std::string, std::optional<std::string>> writes;
    for (Write& w : *req.mutable_writes()) {
      std::optional<std::string> value;
      if (!w.is_delete()) value = std::move(*w.mutable_value());
      writes[std::move(*w.mutable_key())] = std::move(value);
    }
    if (writes.empty()) {
      ReplyCommit(p.cn, txn, CommitReply::COMMITTED, commit_ts);
      continue;
    }
    if (req.check_conflicts()) {
      // tail_ no longer holds every version the snapshot did not see: too old to check.
      bool conflict = snapshot < tail_.truncated_below();
      for (const auto& [key, value] : writes) {
        if (conflict) break;
        conflict = tail_.HasWriteUnseenBy(key, snapshot, commit_ts) || batch_keys.contains(key);
      }
      if (conflict) {
        ReplyCommit(p.cn, txn, CommitReply::WRITE_CONFLICT, {});
        continue;
      }
    }
    p.record = {.txn = txn, .snapshot_ts = snapshot, .commit_ts = commit_ts};
    if (options_.audit != nullptr) options_.audit->Committed(commit_ts);
    for (auto& [key, value] : writes) {
      batch_keys.insert(key);
      p.record.writes.push_back({key, std::move(value)});
    }
    if (req.lock_bind_version() != 0) {
      p.record.lock_binds.push_back(
          {.table_id = kLockTableId, .service_id = "lock-service", .version = bind_version_});
    }
    storage::AppendCommitRecord(&payload, p.record);
    batch_.push_back(std::move(p));
  }
  if (batch_.empty()) {
    MaybeStartBatch();
    return;
  }
  batch_in_flight_ = true;
  LogRecord record;
  record.set_commit_batch(std::move(payload));
  const storage::Timestamp promise = AddPromise(record);
  const uint64_t seq = next_record_seq_;
  log_.Append(Stamped(std::move(record)), [this, promise, seq](absl::StatusOr<uint64_t> index) {
    OnBatchAppended(index, promise, seq);
  });
}

void Tn::OnBatchAppended(absl::StatusOr<uint64_t> index, storage::Timestamp promise, uint64_t seq) {
  if (!index.ok()) {
    ResolveUnknownBatch();
    return;
  }
  // As a reader of the log counts it (CountsUnderLease): a late copy of this batch is void.
  lease_.void_below = std::max(lease_.void_below, seq + 1);
  applied_index_ = std::max(applied_index_, *index);
  promised_ = std::max(promised_, promise);
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 12, .b = *index});
  for (const Pending& p : batch_) ApplyCommit(p.record);
  for (const Pending& p : batch_) {
    ReplyCommit(p.cn, p.record.txn, CommitReply::COMMITTED, p.record.commit_ts);
  }
  std::vector<storage::CommitRecord> records;
  records.reserve(batch_.size());
  for (Pending& p : batch_) records.push_back(std::move(p.record));  // The batch is done.
  FinishBatch();
  PushEntries(records, /*objects_changed=*/false);
}

// The append's outcome is unknown. Append a fence and read the log back: the batch either
// committed before the fence or never will (see Recover).
void Tn::ResolveUnknownBatch() {
  log_.Append(Stamped(FenceRecord()), [this](absl::StatusOr<uint64_t> fence) {
    if (!fence.ok()) {
      env_.SetTimer(kRetryBackoff, [this] { ResolveUnknownBatch(); });
      return;
    }
    log_.Read(applied_index_ + 1,
              [this, fence = *fence](absl::StatusOr<logservice::ReadResult> result) {
                if (!result.ok() || result->commit_index < fence) {  // Incomplete: see Recover.
                  env_.SetTimer(kRetryBackoff, [this] { ResolveUnknownBatch(); });
                  return;
                }
                absl::btree_set<storage::TxnId> found;
                std::vector<storage::CommitRecord> records;
                for (const logservice::CommittedEntry& e : result->entries) {
                  LogRecord r;
                  HC_ASSERT(ParseMessage(e.payload, &r));
                  // An earlier copy of the batch landing after an earlier fence counts no
                  // more than it would in a recovery.
                  if (!CountsUnderLease(e.index, r, lease_) || !r.has_commit_batch()) continue;
                  absl::StatusOr<std::vector<storage::CommitRecord>> decoded =
                      storage::DecodeCommitRecords(r.commit_batch());
                  HC_ASSERT(decoded.ok());
                  for (storage::CommitRecord& rec : *decoded) found.insert(rec.txn);
                  ApplyLogRecord(e.index, r);
                  for (storage::CommitRecord& rec : *decoded) records.push_back(std::move(rec));
                }
                applied_index_ = std::max(applied_index_, result->commit_index);
                for (const Pending& p : batch_) {
                  const bool committed = found.contains(p.record.txn);
                  ReplyCommit(p.cn, p.record.txn,
                              committed ? CommitReply::COMMITTED : CommitReply::UNAVAILABLE,
                              p.record.commit_ts);
                }
                FinishBatch();
                PushEntries(records, /*objects_changed=*/false);
              });
  });
}

void Tn::FinishBatch() {
  batch_.clear();
  batch_in_flight_ = false;
  if (flush_due_) Flush();
  MaybeStartBatch();
}

// --- LogTail --------------------------------------------------------------------------

// Never past promised_: a later incarnation starts its clock past every promise that
// counts, so it commits nothing at or below a watermark this one advertised. (Its clock
// may be far behind this one's, which a CN with a fast clock can pull ahead; without the
// promise it committed below a watermark a CN had read a snapshot under, and a read of all
// accounts that straddled the TN restart saw half a transfer.)
storage::Timestamp Tn::Watermark() {
  MaybePromise();
  storage::Timestamp watermark = clock_.Now();
  if (batch_in_flight_) {
    storage::Timestamp lowest = storage::Timestamp::Max();
    for (const Pending& p : batch_) lowest = std::min(lowest, p.record.commit_ts);
    watermark = lowest.Prev();
  }
  return std::min(watermark, promised_);
}

storage::Timestamp Tn::AddPromise(LogRecord& record) {
  const storage::Timestamp promise{.physical_ns = clock_.Now().physical_ns + kPromiseAheadNs};
  sent_promise_ = std::max(sent_promise_, promise);
  *record.mutable_promise() = storage::ToProto(promise);
  return promise;
}

void Tn::MaybePromise() {
  if (!serving_ || promise_in_flight_) return;
  if (clock_.Now().physical_ns + kPromiseAheadNs / 2 < promised_.physical_ns) return;
  LogRecord record;
  const storage::Timestamp promise = AddPromise(record);
  promise_in_flight_ = true;
  log_.Append(Stamped(std::move(record)), [this, promise](absl::StatusOr<uint64_t> at) {
    promise_in_flight_ = false;
    if (at.ok()) promised_ = std::max(promised_, promise);
  });
}

// Fills in the per-CN fields of the push in `m` (whose seq the caller set) and sends it.
void Tn::SendPush(sim::NodeId cn, Message m) {
  Subscriber& sub = subscribers_.at(cn);
  sub.pushed = true;
  LogTailPush* push = m.mutable_logtail();
  push->set_epoch(epoch_);
  push->set_subscription(sub.subscription);
  const storage::Timestamp watermark = Watermark();
  if (options_.audit != nullptr) options_.audit->Advertised(watermark);
  *push->mutable_watermark() = storage::ToProto(watermark);
  *push->mutable_hlc() = clock_.Stamp();
  Send(cn, std::move(m));
}

void Tn::SendEmptyPush(sim::NodeId cn, Subscriber& sub) {
  Message m;
  m.mutable_logtail()->set_seq(++sub.seq);
  SendPush(cn, std::move(m));
}

void Tn::PushEntries(const std::vector<storage::CommitRecord>& records, bool objects_changed) {
  Message m;
  LogTailPush& push = *m.mutable_logtail();
  for (const storage::CommitRecord& rec : records) {
    LogTailEntry* e = push.add_entries();
    *e->mutable_commit_ts() = storage::ToProto(rec.commit_ts);
    for (const storage::WriteOp& w : rec.writes) *e->add_writes() = ToWire(w.key, w.value);
  }
  if (objects_changed) {
    push.set_has_objects(true);
    for (const std::string& o : objects_) push.add_objects(o);
    *push.mutable_objects_cover() = storage::ToProto(covered_ts_);
  }
  // Each CN but the last gets a copy; the last gets the message itself.
  size_t left = subscribers_.size();
  for (auto& [cn, sub] : subscribers_) {
    push.set_seq(++sub.seq);
    SendPush(cn, --left == 0 ? std::move(m) : Message(m));
  }
}

void Tn::OnSubscribe(sim::NodeId cn, const Subscribe& subscribe) {
  if (!serving_) return;  // The CN asks again.
  // A late copy of a subscribe of a subscription already served (a CN numbers its
  // subscriptions upwards from its incarnation bits): served again, the same subscription's
  // push numbering restarts, and the CN takes a push of the first numbering, still in
  // flight, for the second's push of that seq and drops the real one as a duplicate,
  // missing its commits. An older one served again does the same once its own late copy
  // follows the current one's; a CN whose snapshot was lost subscribes anew.
  if (Served(cn, subscribe.subscription())) return;
  auto known = cn_incarnations_.find(cn);
  if (known != cn_incarnations_.end() && known->second.incarnation == subscribe.incarnation()) {
    SendSnapshot(cn, subscribe.subscription());
    return;
  }
  if (KnownIncarnation(cn, subscribe.incarnation())) {
    // A late copy from an incarnation already replaced: fencing the current one in its
    // favour would let that dead incarnation's late commits in, past locks its successor
    // has released. It is told it was retired. One that never reached this TN before it
    // died cannot be told from a new one: it fences the live incarnation, whose next
    // subscribe lands here, and which then starts over as a new incarnation (fail-stop).
    // State 17: b is the CN.
    env_.Record({.kind = sim::EventKind::kNodeState, .a = 17, .b = cn});
    Message m;
    m.mutable_retired()->set_incarnation(subscribe.incarnation());
    *m.mutable_retired()->mutable_hlc() = clock_.Stamp();
    SendMessage(env_, cn, std::move(m));
    return;
  }
  // A new incarnation: fence the old one durably before the CN may drop its locks. One
  // record per incarnation at a time: the CN subscribes again while it waits, and a record
  // per subscribe would feed back on a slow log. The answer serves the newest of them, the
  // subscription the CN now waits on.
  auto [fencing, first] =
      fencing_.try_emplace({cn, subscribe.incarnation()}, subscribe.subscription());
  if (!first) {
    fencing->second = std::max(fencing->second, subscribe.subscription());
    return;
  }
  LogRecord record;
  record.mutable_cn_incarnation()->set_cn(cn);
  record.mutable_cn_incarnation()->set_incarnation(subscribe.incarnation());
  log_.Append(Stamped(std::move(record)),
              [this, cn, incarnation = subscribe.incarnation()](absl::StatusOr<uint64_t> at) {
                auto fenced = fencing_.find({cn, incarnation});
                HC_ASSERT(fenced != fencing_.end());
                const uint64_t subscription = fenced->second;
                fencing_.erase(fenced);
                if (!at.ok() || !serving_) return;  // The CN subscribes again.
                ApplyCnFence(cn, incarnation, *at);
                // The outcomes of the incarnations it replaced stay: one of them may be alive after
                // all (a late subscribe of a dead one fenced it) and ask again, and must hear what
                // was decided, not a refusal. The Served check is defensive: this incarnation
                // became current just now (one fence record per incarnation is in flight, a lost
                // answer serves nothing, and ResolveUnknownBatch applies commit batches only), so
                // nothing has served it yet. It is kept in case another path ever applies fences.
                if (cn_incarnations_[cn].incarnation == incarnation && !Served(cn, subscription)) {
                  SendSnapshot(cn, subscription);
                }
              });
}

void Tn::ApplyCnFence(uint32_t cn, uint64_t incarnation, uint64_t index) {
  // A late copy of a fence record (appended again once the original was truncated away)
  // names an incarnation already known: it neither revives a replaced one nor moves the
  // live one's epoch.
  if (KnownIncarnation(cn, incarnation)) return;
  CnFence& fence = cn_incarnations_[cn];
  if (index < fence.epoch) {
    // Appended before the record that made the current incarnation current, and answered
    // after it (appends complete out of order): read in log order, as a recovery reads it,
    // it made its incarnation current, and the later record replaced that one.
    fence.retired.push_back(incarnation);
    return;
  }
  if (fence.epoch != 0) fence.retired.push_back(fence.incarnation);
  fence.incarnation = incarnation;
  fence.epoch = index;
}

bool Tn::Served(uint32_t cn, uint64_t subscription) const {
  auto served = subscribers_.find(cn);
  return served != subscribers_.end() &&
         (served->second.subscription >> 32) == (subscription >> 32) &&
         subscription <= served->second.subscription;
}

bool Tn::KnownIncarnation(uint32_t cn, uint64_t incarnation) const {
  auto known = cn_incarnations_.find(cn);
  return known != cn_incarnations_.end() &&
         (known->second.incarnation == incarnation ||
          absl::c_linear_search(known->second.retired, incarnation));
}

void Tn::SendSnapshot(sim::NodeId cn, uint64_t subscription) {
  subscribers_[cn] = {.seq = 0, .subscription = subscription};
  Message m;
  LogTailPush& push = *m.mutable_logtail();
  push.set_snapshot(true);
  push.set_seq(0);
  if (auto fence = cn_incarnations_.find(cn); fence != cn_incarnations_.end()) {
    push.set_cn_epoch(fence->second.epoch);
  }
  push.set_has_objects(true);
  for (const std::string& o : objects_) push.add_objects(o);
  *push.mutable_objects_cover() = storage::ToProto(covered_ts_);
  // Unflushed versions, grouped by commit ts in ascending order.
  absl::btree_map<storage::Timestamp, std::vector<Write>> by_ts;
  tail_.ForEachVersion([&](std::string_view key, const storage::Version& v) {
    if (v.commit_ts > covered_ts_) by_ts[v.commit_ts].push_back(ToWire(key, v.value));
  });
  for (auto& [ts, writes] : by_ts) {
    LogTailEntry* e = push.add_entries();
    *e->mutable_commit_ts() = storage::ToProto(ts);
    for (Write& w : writes) *e->add_writes() = std::move(w);
  }
  SendPush(cn, std::move(m));
}

// An empty push, to each CN that got no push since the last heartbeat: a push of commits
// carries the watermark too, so a busy CN needs no heartbeat, and an idle one still hears
// from the TN at least every two intervals (see CnOptions::resubscribe_after).
void Tn::Heartbeat() {
  if (serving_) {
    for (auto& [cn, sub] : subscribers_) {
      if (!std::exchange(sub.pushed, false)) {
        SendEmptyPush(cn, sub);
        sub.pushed = false;
      }
    }
  }
  env_.SetTimer(options_.heartbeat_interval, [this] { Heartbeat(); });
}

// --- Flush and checkpoint ---------------------------------------------------------------

void Tn::FlushTick() {
  env_.SetTimer(options_.flush_interval, [this] { FlushTick(); });
  Flush();
}

// Flushes between batches only: the cover is the last applied commit and no batch is half
// applied.
void Tn::Flush() {
  if (batch_in_flight_) {
    flush_due_ = true;
    return;
  }
  flush_due_ = false;
  if (!serving_ || flushing_ || last_commit_ts_ <= covered_ts_) return;
  // Every fence this incarnation appended has been read (none is out between batches), so
  // lease_ is the lease just past the cover; and any promise sent so far may land at or
  // below the cover and be truncated away.
  const FlushCover cover{
      .ts = last_commit_ts_, .index = applied_index_, .lease = lease_, .promise = sent_promise_};
  storage::ObjectWriter writer = storage::ObjectWriter::ForFlush();
  tail_.ForEachVersion([&](std::string_view key, const storage::Version& v) {
    if (v.commit_ts > covered_ts_ && v.commit_ts <= cover.ts) {
      writer.Add(key, v.commit_ts, v.value);
    }
  });
  if (writer.entry_count() == 0) return;
  flushing_ = true;
  const std::string name = absl::StrFormat("flush/%016x-%06d", epoch_, ++flushes_);
  store_.Put(name, std::move(writer).Finish(), [this, name, cover](absl::Status s) {
    if (!s.ok()) {
      flushing_ = false;  // Try again later; an unknown put leaves at most an orphan object.
      return;
    }
    AppendCheckpoint(name, cover);
  });
}

// Appends the checkpoint naming every object so far and `name`, whose put succeeded; once it
// is in the log, the log is truncated through the cover.
void Tn::AppendCheckpoint(const std::string& name, const FlushCover& cover) {
  std::vector<std::string> objects = objects_;
  objects.push_back(name);
  LogRecord record;
  Checkpoint* c = record.mutable_checkpoint();
  for (const std::string& o : objects) c->add_objects(o);
  *c->mutable_covers_ts() = storage::ToProto(cover.ts);
  c->set_covers_index(cover.index);
  c->mutable_lease()->set_claim(cover.lease.claim);
  c->mutable_lease()->set_void_below(cover.lease.void_below);
  *c->mutable_promise() = storage::ToProto(cover.promise);
  c->set_bind_version(std::max(bind_version_, bind_version_appended_));
  // A cn_incarnation record can be truncated away unrecorded the same way. That is safe:
  // after a restart the lost fence would let through only requests of the CN's previous
  // incarnation, and those name an earlier TN epoch, which a new TN never runs.
  for (const auto& [node, fence] : cn_incarnations_) {
    CnIncarnation* i = c->add_cn_incarnations();
    i->set_cn(node);
    i->set_incarnation(fence.incarnation);
    i->set_epoch(fence.epoch);
    for (const uint64_t r : fence.retired) i->add_retired(r);
  }
  for (const auto& [txn, outcome] : outcomes_) {
    if (outcome.status != CommitReply::COMMITTED || outcome.commit_ts > cover.ts) continue;
    if (Fenced(txn)) continue;
    CommittedTxn* committed = c->add_committed();
    *committed->mutable_txn() = storage::ToProto(txn);
    *committed->mutable_commit_ts() = storage::ToProto(outcome.commit_ts);
  }
  for (const auto& [node, below] : decided_below_) {
    CnDecided* d = c->add_decided();
    d->set_cn(node);
    d->set_below(below);
  }
  log_.Append(Stamped(std::move(record)),
              [this, objects = std::move(objects), cover](absl::StatusOr<uint64_t> at) {
                flushing_ = false;
                if (!at.ok()) return;  // Unknown: the next flush writes a fresh checkpoint.
                // Keep one interval of versions below the new cover for conflict checks of
                // snapshots taken before it; older ones live only in objects now.
                tail_.Truncate(covered_ts_.Next());
                objects_ = objects;
                covered_ts_ = std::max(covered_ts_, cover.ts);
                covered_index_ = std::max(covered_index_, cover.index);
                log_.Truncate(cover.index, [](absl::Status) {});
                env_.Record({.kind = sim::EventKind::kNodeState, .a = 11, .b = cover.index});
                PushEntries({}, /*objects_changed=*/true);
              });
}

void Tn::OnBindRequest(sim::NodeId from, const BindRequest& r) {
  clock_.Observe(r.hlc());
  if (!serving_) return;  // The lock service asks again.
  // A lock service asking for the current bind gets it; if none was ever made (bind 0 means
  // "none"), it gets a new one like a renewal.
  if (!r.renew() && bind_version_ != 0) {
    SendBindReply(from, r.req());
    return;
  }
  // A renewal must get a bind newer than any a lock was granted under. The record in flight,
  // if any, makes one: nobody has been told of it before its append is answered.
  const bool waiting = absl::c_any_of(
      bind_waiters_, [&](const BindWaiter& w) { return w.from == from && w.req == r.req(); });
  if (!waiting) bind_waiters_.push_back({.from = from, .req = r.req()});
  if (!bind_appending_) AppendBind();
}

void Tn::AppendBind() {
  bind_appending_ = true;
  const uint64_t version = bind_version_ + 1;
  LogRecord record;
  record.set_bind_version(version);
  bind_version_appended_ = std::max(bind_version_appended_, version);
  log_.Append(Stamped(std::move(record)), [this, version](absl::StatusOr<uint64_t> at) {
    bind_appending_ = false;
    std::vector<BindWaiter> waiters = std::move(bind_waiters_);
    bind_waiters_.clear();
    if (!at.ok()) return;  // The lock service asks again.
    bind_version_ = std::max(bind_version_, version);
    for (const BindWaiter& w : waiters) SendBindReply(w.from, w.req);
  });
}

void Tn::SendBindReply(sim::NodeId to, uint64_t req) {
  Message m;
  BindReply* b = m.mutable_bind_reply();
  b->set_req(req);
  b->set_bind_version(bind_version_);
  *b->mutable_hlc() = clock_.Stamp();
  Send(to, std::move(m));
}

void Tn::Receive(sim::NodeId from, sim::Payload& payload) {
  if (log_.Receive(from, payload) || store_.Receive(from, payload)) return;
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kCommit:
      OnCommit(from, std::move(*m.mutable_commit()));
      break;
    case Message::kSubscribe:
      clock_.Observe(m.subscribe().hlc());
      OnSubscribe(from, m.subscribe());
      break;
    case Message::kBind:
      OnBindRequest(from, m.bind());
      break;
    case Message::kAdvance:
      clock_.Observe(m.advance().hlc());
      if (auto sub = subscribers_.find(from); serving_ && sub != subscribers_.end()) {
        SendEmptyPush(from, sub->second);
      }
      break;
    default:
      break;
  }
}

}  // namespace hindcast::nodes::txn
