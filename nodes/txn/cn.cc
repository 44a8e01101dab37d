#include "nodes/txn/cn.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nodes/wire.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "storage/pb_util.h"

namespace hindcast::nodes::txn {
namespace {

constexpr sim::Duration kLoadRetry = sim::Duration::Millis(20);
// Out-of-order pushes held at once; more means a push was lost, and a snapshot is cheaper.
constexpr size_t kPendingPushesMax = 256;

int64_t AsInt(const std::optional<std::string>& v) {
  int64_t n = 0;
  if (v.has_value() && !absl::SimpleAtoi(Sv(*v), &n)) n = 0;  // Not a number: start over at 0.
  return n;
}

}  // namespace

Cn::Cn(NodeEnv& env, const CnOptions& options)
    : env_(env),
      options_(options),
      clock_(env, options.hlc),
      store_(env, options.object_store, {}),
      incarnation_bits_(env.rng().Next() << 32) {
  HC_ASSERT(options.tn != sim::kNoNode && options.object_store != sim::kNoNode);
  // Subscription and lock request ids are unique across incarnations too: a push or a lock
  // grant still in flight to an earlier incarnation must never pass for one of this
  // incarnation's (a grant for an earlier incarnation's transaction, taken for another's,
  // let two transactions hold one row lock).
  subscription_ = incarnation_bits_;
  next_lock_req_ = incarnation_bits_ | 1;
}

void Cn::Start() {
  Subscribe();  // The first snapshot also releases the previous incarnation's locks.
  env_.SetTimer(options_.resubscribe_after, [this] { CheckSubscription(); });
}

Cn::Txn* Cn::Find(uint64_t id) {
  auto it = txns_.find(id);
  return it == txns_.end() ? nullptr : &it->second;
}

// --- LogTail --------------------------------------------------------------------------

void Cn::Subscribe() {
  Message m;
  *m.mutable_subscribe()->mutable_hlc() = clock_.Stamp();
  m.mutable_subscribe()->set_subscription(++subscription_);
  // Until this subscription's snapshot arrives no push is applied: its numbering restarts,
  // so continuing the previous subscription's sequence could skip commits. Reads may go on
  // at timestamps the current state's watermark already covers.
  subscribed_ = false;
  pending_pushes_.clear();
  m.mutable_subscribe()->set_incarnation(incarnation_bits_ >> 32);
  SendMessage(env_, options_.tn, std::move(m));
}

void Cn::CheckSubscription() {
  // A whole interval without a push (heartbeats come far more often): the TN restarted or
  // pushes were lost. Ask for a snapshot.
  if (!subscribed_ || silent_ticks_++ >= 1) Subscribe();
  env_.SetTimer(options_.resubscribe_after, [this] { CheckSubscription(); });
}

// Pushes may arrive out of order (the network reorders) or before the subscription's
// snapshot: those ahead of the next expected seq wait in pending_pushes_ until the gap
// fills. A gap that never fills (a lost push) leaves the CN silent, and CheckSubscription
// resubscribes.
void Cn::OnLogTail(LogTailPush push) {
  clock_.Observe(push.hlc());
  if (push.subscription() != subscription_) return;  // From a subscription given up on.
  if (push.snapshot() && subscribed_) {
    // This subscription's snapshot again: a late copy, whose state is older than what the
    // pushes since have built (a read already past its watermark wait, fetching an object,
    // would finish against it and miss commits below its snapshot); or another TN
    // incarnation's answer to a late copy of the subscribe, which means starting over.
    if (push.epoch() != tn_epoch_) Subscribe();
    return;
  }
  if (push.snapshot()) {
    ApplySnapshot(push);
  } else if (subscribed_ && push.epoch() != tn_epoch_) {
    Subscribe();  // Another TN incarnation answered: start over.
    return;
  } else if (subscribed_ && push.seq() <= push_seq_) {
    return;  // A duplicate.
  } else if (!subscribed_ || push.seq() != push_seq_ + 1) {
    if (pending_pushes_.size() >= kPendingPushesMax) {
      Subscribe();
      return;
    }
    pending_pushes_.emplace(push.seq(), std::move(push));
    return;
  } else {
    ApplyPush(push);
  }
  // Apply what the gap held back, in order.
  while (subscribed_ && !pending_pushes_.empty()) {
    auto first = pending_pushes_.begin();
    if (first->first > push_seq_ + 1) break;
    LogTailPush next = std::move(first->second);
    pending_pushes_.erase(first);
    if (next.seq() == push_seq_ + 1 && next.epoch() == tn_epoch_) ApplyPush(next);
  }
}

void Cn::OnRetired(const Retired& retired) {
  clock_.Observe(retired.hlc());
  // Of an earlier incarnation: a late copy, or the answer to a late copy of its subscribe.
  if (retired.incarnation() != incarnation_bits_ >> 32) return;
  // The TN has fenced this incarnation off (a late subscribe of an earlier one it never
  // heard of made that one current): nothing of it can commit again, and it is never
  // served a snapshot. Start over as a new incarnation, which the TN fences this one for;
  // the clients hear of their requests as of a restarted CN.
  // State 31: this incarnation was retired; b is its incarnation.
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 31, .b = retired.incarnation()});
  env_.FailStop();
}

void Cn::ApplySnapshot(const LogTailPush& push) {
  epoch_ = std::max(epoch_, push.cn_epoch());
  if (!fenced_ && options_.mode == Mode::kPessimistic) {
    // The TN now refuses the previous incarnation's commits, so its locks can go.
    Unlock({.cn = env_.id(), .seq = incarnation_bits_}, std::nullopt);
  }
  fenced_ = true;
  env_.Record({.kind = sim::EventKind::kNodeState,
               .a = 30,
               .b = static_cast<uint64_t>(push.entries_size())});
  tail_ = storage::VersionedTable();
  snapshot_objects_ = static_cast<size_t>(push.objects_size());  // Their commits are not in it.
  tn_epoch_ = push.epoch();
  subscribed_ = true;
  ApplyPush(push);
  for (const uint64_t id : std::exchange(awaiting_first_snapshot_, {})) {
    if (Txn* t = Find(id)) {
      env_.CancelTimer(t->timer);
      Run(*t);
    }
  }
}

void Cn::ApplyPush(const LogTailPush& push) {
  push_seq_ = push.seq();
  silent_ticks_ = 0;
  for (const LogTailEntry& e : push.entries()) {
    const storage::Timestamp ts = storage::FromProto(e.commit_ts());
    if (ts < tail_.truncated_below()) continue;  // Already merged from an object.
    for (const Write& w : e.writes()) {
      // A version the table already has (from the snapshot) is skipped.
      (void)tail_.ApplyIfNewer(
          w.key(), ts, w.is_delete() ? std::nullopt : std::optional<std::string_view>(w.value()));
    }
  }
  if (push.has_objects()) {
    objects_.assign(push.objects().begin(), push.objects().end());
    objects_cover_ = storage::FromProto(push.objects_cover());
    objects_merged_ = false;
    (void)MergeLocally();  // The rest is fetched when a read needs it.
  }
  const storage::Timestamp mark = storage::FromProto(push.watermark());
  if (mark > watermark_ || push.snapshot()) watermark_ = mark;
  // Wake every waiter the watermark now covers.
  while (!watermark_waiters_.empty() && watermark_waiters_.begin()->first <= watermark_) {
    Waiter w = std::move(watermark_waiters_.begin()->second);
    watermark_waiters_.erase(watermark_waiters_.begin());
    if (Find(w.txn) != nullptr) w.then();
  }
}

void Cn::WaitWatermark(uint64_t id, storage::Timestamp ts, Then then) {
  if (options_.bugs.read_before_watermark || watermark_ >= ts) {
    then();
    return;
  }
  watermark_waiters_.emplace(ts, Waiter{id, std::move(then)});
  Message m;
  *m.mutable_advance()->mutable_hlc() = storage::ToProto(ts);
  SendMessage(env_, options_.tn, std::move(m));
  Txn* t = Find(id);
  env_.CancelTimer(t->timer);
  t->timer = env_.SetTimer(options_.watermark_wait_max, [this, id] {
    if (Find(id) != nullptr) Finish(id, TxnReply::ABORTED, "logtail did not catch up");
  });
}

// --- Transactions -----------------------------------------------------------------------

void Cn::Begin(sim::NodeId client, TxnRequest& request) {
  if (request.session() != 0 && request.session() != session()) {
    // Sent over a session with an earlier incarnation, which may have run it: this one
    // never does. The client learns the outcome is unknown, and its session here.
    ReplyRequestStatus(client, request.req(), /*running=*/false);
    return;
  }
  uint64_t& floor = client_req_floor_[client];
  if (request.req() < floor) return;  // A duplicate, or given up on by its client.
  floor = request.req() + 1;
  const uint64_t seq = incarnation_bits_ | next_txn_++;
  Txn& t = txns_[seq];
  t.id = {.cn = env_.id(), .seq = seq};
  t.client = client;
  t.req = request.req();
  t.ops.Swap(request.mutable_ops());
  if (!fenced_) {
    // This incarnation has not heard from the TN yet, so its clock may be behind commits
    // the previous incarnation acknowledged: a snapshot taken now could miss the client's
    // own last write. The first snapshot push carries the TN's clock past every commit.
    awaiting_first_snapshot_.push_back(seq);
    t.timer = env_.SetTimer(options_.watermark_wait_max, [this, seq] {
      if (Find(seq) != nullptr) Finish(seq, TxnReply::ABORTED, "not subscribed to the TN yet");
    });
    return;
  }
  Run(t);
}

void Cn::Run(Txn& t) {
  const uint64_t id = t.id.seq;
  if (options_.isolation == Isolation::kSnapshot) {
    t.snapshot = clock_.Now();
    WaitWatermark(id, t.snapshot, [this, id] { RunOp(id); });
    return;
  }
  RunOp(id);
}

// Statements that complete at once (a read of loaded data, say) call RunOp again from
// inside Step; that call only marks the loop to go on, so a transaction of many statements
// runs in a loop rather than in a recursion as deep as its statement count.
void Cn::RunOp(uint64_t id) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  if (t->stepping) {
    t->step_again = true;
    return;
  }
  t->stepping = true;
  do {
    t->step_again = false;
    Step(id);
    t = Find(id);  // Step may finish the transaction (or other ones may have been added).
  } while (t != nullptr && t->step_again);
  if (t != nullptr) t->stepping = false;
}

void Cn::Step(uint64_t id) {
  Txn* t = Find(id);
  if (t->next_op == static_cast<size_t>(t->ops.size())) {
    Commit(id);
    return;
  }
  if (options_.isolation == Isolation::kReadCommitted) {
    t->snapshot = clock_.Now();  // A fresh snapshot per statement.
    WaitWatermark(id, t->snapshot, [this, id] { Execute(id); });
    return;
  }
  Execute(id);
}

// Moves to the next statement once the current one has its result.
void Cn::NextOp(uint64_t id) {
  if (Txn* t = Find(id)) {
    ++t->next_op;
    RunOp(id);
  }
}

// The statement being executed: ops[next_op] until it completes, so callbacks find it by
// the transaction's id rather than carrying a copy.
const Op& Cn::CurrentOp(const Txn& t) const { return t.ops[static_cast<int>(t.next_op)]; }

void Cn::Execute(uint64_t id) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  const Op& op = CurrentOp(*t);
  switch (op.kind()) {
    case Op::READ:
      ReadKey(id, op.key(), [this, id](std::optional<std::string> v) {
        Txn* t = Find(id);
        if (t == nullptr) return;
        OpResult* r = t->results.Add();
        r->set_has_value(v.has_value());
        if (v.has_value()) r->set_value(*std::move(v));
        NextOp(id);
      });
      return;
    case Op::PUT:
    case Op::DELETE: {
      auto write = [this, id] {
        Txn* t = Find(id);
        if (t == nullptr) return;
        if (!t->first_write_snapshot) t->first_write_snapshot = t->snapshot;
        t->results.Add();
        const Op& op = CurrentOp(*t);
        WriteWorkspace(id, op.key(),
                       op.kind() == Op::PUT ? std::optional<std::string>(op.value()) : std::nullopt,
                       [this, id] { NextOp(id); });
      };
      if (options_.mode == Mode::kPessimistic && options_.isolation == Isolation::kSnapshot) {
        LockKey(id, op.key(), [this, id, write = std::move(write)]() mutable {
          if (Txn* t = Find(id)) AfterLock(id, CurrentOp(*t).key(), std::move(write));
        });
      } else if (options_.mode == Mode::kPessimistic) {
        LockKey(id, op.key(), std::move(write));  // RC: a blind write needs no fresh snapshot.
      } else {
        write();
      }
      return;
    }
    default:
      if (options_.mode == Mode::kPessimistic) {
        LockKey(id, op.key(), [this, id] { ReadModifyWrite(id); });
      } else {
        ReadModifyWrite(id);
      }
      return;
  }
}

// After a pessimistic lock the statement must work on the newest committed value: wait
// until the LogTail covers the key's last commit, which the grant bounds, then if the key
// changed after the snapshot, SI aborts (first committer wins; this holds for blind writes
// too, or two transactions that read the same version could both overwrite it) and RC moves
// the statement's snapshot past that commit.
void Cn::AfterLock(uint64_t id, const std::string& key, Then then) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  if (t->workspace.contains(key)) {  // Locked and checked at its first write.
    then();
    return;
  }
  auto lock = t->locked.find(key);
  HC_ASSERT(lock != t->locked.end() && lock->second != storage::Timestamp::Max());
  const storage::Timestamp seen_from = lock->second.Next();
  WaitWatermark(id, seen_from, [this, id, seen_from, then = std::move(then)]() mutable {
    if (Find(id) == nullptr) return;
    if (objects_merged_) {
      CheckAfterLock(id, seen_from, std::move(then));
      return;
    }
    LoadObjects([this, id, seen_from, then = std::move(then)]() mutable {
      CheckAfterLock(id, seen_from, std::move(then));
    });
  });
}

void Cn::CheckAfterLock(uint64_t id, storage::Timestamp seen_from, Then then) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  if (NewestCommitTs(CurrentOp(*t).key()) >= t->snapshot) {
    if (options_.isolation == Isolation::kSnapshot) {
      Finish(id, TxnReply::ABORTED, "write conflict after lock");
      return;
    }
    if (!options_.bugs.rc_lost_update) t->snapshot = seen_from;
  }
  then();
}

void Cn::ReadModifyWrite(uint64_t id) {
  auto read_and_apply = [this, id] {
    Txn* t = Find(id);
    if (t == nullptr) return;
    ReadKey(id, CurrentOp(*t).key(),
            [this, id](std::optional<std::string> v) { ApplyOp(id, std::move(v)); });
  };
  if (options_.mode == Mode::kOptimistic) {
    read_and_apply();
    return;
  }
  Txn* t = Find(id);
  if (t == nullptr) return;
  AfterLock(id, CurrentOp(*t).key(), std::move(read_and_apply));
}

void Cn::ApplyOp(uint64_t id, std::optional<std::string> current) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  if (!t->first_write_snapshot) t->first_write_snapshot = t->snapshot;
  const Op& op = CurrentOp(*t);
  std::optional<std::string> next;
  OpResult result;
  switch (op.kind()) {
    case Op::ADD:
      next = absl::StrCat(AsInt(current) + op.delta());
      result.set_has_value(true);
      result.set_value(*next);
      break;
    case Op::APPEND:
      next = current.has_value() && !current->empty() ? absl::StrCat(*current, ",", op.value())
                                                      : op.value();
      result.set_has_value(true);
      result.set_value(*next);
      break;
    case Op::RESERVE: {
      const int64_t have = AsInt(current);
      result.set_has_value(true);
      if (have < op.delta()) {
        if (op.abort_if_short()) {
          Finish(id, TxnReply::ABORTED, "short: the application rolled back");
          return;
        }
        result.set_value("short");
        *t->results.Add() = std::move(result);
        NextOp(id);
        return;
      }
      next = absl::StrCat(have - op.delta());
      result.set_value("ok");
      break;
    }
    default:
      HC_ASSERT_MSG(false, "not a read-modify-write op");
  }
  *t->results.Add() = std::move(result);
  WriteWorkspace(id, op.key(), std::move(next), [this, id] { NextOp(id); });
}

void Cn::WriteWorkspace(uint64_t id, const std::string& key, std::optional<std::string> value,
                        Then then) {
  Txn* t = Find(id);
  t->workspace_bytes += key.size() + value.value_or("").size();
  t->workspace[key] = std::move(value);
  if (t->workspace_bytes < options_.spill_threshold_bytes) {
    then();
    return;
  }
  Spill(id, std::move(then));
}

void Cn::Spill(uint64_t id, Then then) {
  Txn* t = Find(id);
  storage::ObjectWriter writer = storage::ObjectWriter::ForSpill(t->id);
  for (const auto& [key, value] : t->workspace) writer.AddUncommitted(key, value);
  const std::string name = absl::StrFormat("spill/%s/%d", t->id.ToString(), t->spills.size());
  std::string bytes = std::move(writer).Finish();
  store_.Put(name, bytes, [this, id, name, bytes, then = std::move(then)](absl::Status s) mutable {
    Txn* t = Find(id);
    if (t == nullptr) return;
    if (!s.ok()) {
      Finish(id, TxnReply::ABORTED, "workspace spill failed");
      return;
    }
    absl::StatusOr<storage::ObjectReader> reader = storage::ObjectReader::Open(bytes);
    HC_ASSERT(reader.ok());
    if (!options_.bugs.workspace_spill_lost) {  // The planted bug forgets the object.
      t->spills.push_back(name);
      t->spill_cache.emplace(name, *std::move(reader));
    }
    t->workspace.clear();
    t->workspace_bytes = 0;
    then();
  });
}

void Cn::ReadKey(uint64_t id, const std::string& key, ValueThen then) {
  Txn* t = Find(id);
  if (auto w = t->workspace.find(key); w != t->workspace.end()) {
    then(w->second);
    return;
  }
  for (auto s = t->spills.rbegin(); s != t->spills.rend(); ++s) {
    const std::optional<storage::ObjectEntry> e = t->spill_cache.at(*s).GetNewest(key);
    if (e.has_value()) {
      then(e->value);
      return;
    }
  }
  if (objects_merged_) {
    then(ReadCommitted(key, t->snapshot));
    return;
  }
  LoadObjects([this, key, snapshot = t->snapshot, then = std::move(then)]() mutable {
    then(ReadCommitted(key, snapshot));
  });
}

// Brings base_ up to the object list as far as it can without fetching: starts over when
// the list is not an extension of what was merged (a new TN's snapshot), and takes objects
// flushed after this subscription's snapshot from the LogTail itself, which holds every
// commit they do (pushes apply in order, and an object list is pushed after the commits it
// covers). Returns whether every listed object is now merged.
bool Cn::MergeLocally() {
  const bool prefix = base_objects_.size() <= objects_.size() &&
                      std::equal(base_objects_.begin(), base_objects_.end(), objects_.begin());
  if (!prefix) {
    base_ = storage::VersionedTable();
    base_objects_.clear();
  }
  if (base_objects_.size() >= snapshot_objects_ && base_objects_.size() < objects_.size()) {
    tail_.MoveBelow(objects_cover_.Next(), &base_);
    base_objects_ = objects_;
  }
  if (base_objects_.size() < objects_.size()) return false;
  ObjectsMerged();
  return true;
}

void Cn::LoadObjects(Then then) {
  if (MergeLocally()) {
    then();
    return;
  }
  const std::string name = objects_[base_objects_.size()];
  store_.Get(name, [this, name, then = std::move(then)](absl::StatusOr<std::string> bytes) mutable {
    absl::StatusOr<storage::ObjectReader> object =
        bytes.ok() ? storage::ObjectReader::Open(*bytes)
                   : absl::StatusOr<storage::ObjectReader>(bytes.status());
    if (!object.ok()) {
      env_.SetTimer(kLoadRetry,
                    [this, then = std::move(then)]() mutable { LoadObjects(std::move(then)); });
      return;
    }
    // Another read may have merged it meanwhile, or the list may have changed.
    if (base_objects_.size() < objects_.size() && objects_[base_objects_.size()] == name) {
      MergeObject(*object);
      base_objects_.push_back(name);
    }
    LoadObjects(std::move(then));
  });
}

// base_ now holds every listed object, so the LogTail versions they cover can go.
void Cn::ObjectsMerged() {
  objects_merged_ = true;
  if (objects_cover_ >= tail_.truncated_below()) tail_.Truncate(objects_cover_.Next());
}

// Entries come key ascending and newest first, so walking them backwards applies each
// key's versions oldest first, as the table requires. A version base_ already has (an
// object overlapping an earlier one) is skipped.
void Cn::MergeObject(const storage::ObjectReader& object) {
  object.ForEachEntryReversed([this](const storage::ObjectEntry& e) {
    (void)base_.ApplyIfNewer(
        e.key, e.commit_ts,
        e.value.has_value() ? std::optional<std::string_view>(*e.value) : std::nullopt);
  });
}

std::optional<std::string> Cn::ReadCommitted(const std::string& key,
                                             storage::Timestamp snapshot) const {
  HC_ASSERT(objects_merged_);
  const storage::Version* best = tail_.VisibleVersion(key, snapshot);
  const storage::Version* flushed = base_.VisibleVersion(key, snapshot);
  if (flushed != nullptr && (best == nullptr || flushed->commit_ts > best->commit_ts)) {
    best = flushed;
  }
  return best != nullptr ? best->value : std::nullopt;
}

storage::Timestamp Cn::NewestCommitTs(const std::string& key) const {
  return std::max(tail_.NewestCommitTs(key).value_or(storage::Timestamp::Min()),
                  base_.NewestCommitTs(key).value_or(storage::Timestamp::Min()));
}

// --- Locks ----------------------------------------------------------------------------

void Cn::LockKey(uint64_t id, const std::string& key, Then then) {
  Txn* t = Find(id);
  if (t->locked.contains(key)) {
    then();
    return;
  }
  const uint64_t req = next_lock_req_++;
  t->lock_req = req;
  t->lock_key = key;
  t->lock_retries_left =
      static_cast<int>(options_.lock_wait_max.ns() / options_.lock_retry.ns()) - 1;
  lock_waits_[req] = {id, std::move(then)};
  // Released at the end whether or not it was granted.
  t->locked.emplace(key, storage::Timestamp::Max());
  SendLock(id);
}

// Sends the transaction's lock request (again, under the same req: the lock service treats
// a request it already queued or granted as a duplicate) and waits `lock_retry` for the
// answer; after `lock_wait_max` in all the transaction aborts.
void Cn::SendLock(uint64_t id) {
  Txn* t = Find(id);
  HC_ASSERT(t != nullptr && t->lock_req != 0);
  Message m;
  LockRequest* l = m.mutable_lock();
  l->set_req(t->lock_req);
  *l->mutable_txn() = storage::ToProto(t->id);
  l->set_key(t->lock_key);
  *l->mutable_hlc() = clock_.Stamp();
  l->set_epoch(epoch_);
  SendMessage(env_, options_.lock_service, std::move(m));
  env_.CancelTimer(t->timer);
  t->timer = env_.SetTimer(options_.lock_retry, [this, id] {
    Txn* t = Find(id);
    if (t == nullptr || t->lock_req == 0) return;
    if (t->lock_retries_left-- > 0) {
      SendLock(id);
      return;
    }
    lock_waits_.erase(t->lock_req);
    t->lock_req = 0;
    Finish(id, TxnReply::ABORTED, "lock wait timeout");
  });
}

void Cn::OnLockReply(const LockReply& r) {
  clock_.Observe(r.hlc());
  auto it = lock_waits_.find(r.req());
  if (it == lock_waits_.end()) return;
  // Not ready (restarting, its bind not yet known): the retry timer asks again.
  if (r.status() == LockReply::UNAVAILABLE) return;
  auto [id, then] = std::move(it->second);
  lock_waits_.erase(it);
  Txn* t = Find(id);
  if (t == nullptr) return;
  env_.CancelTimer(t->timer);
  t->lock_req = 0;
  if (r.status() != LockReply::GRANTED) {
    Finish(id, TxnReply::ABORTED, "deadlock");
    return;
  }
  if (t->bind_version != 0 && t->bind_version != r.bind_version()) {
    Finish(id, TxnReply::ABORTED, "lock table bind changed");
    return;
  }
  t->bind_version = r.bind_version();
  t->locked[t->lock_key] = storage::FromProto(r.last_commit());
  then();
}

void Cn::Unlock(const storage::TxnId& txn, std::optional<storage::Timestamp> commit_ts,
                uint64_t bind_changed_to) {
  Message m;
  *m.mutable_unlock()->mutable_txn() = storage::ToProto(txn);
  if (commit_ts.has_value())
    *m.mutable_unlock()->mutable_commit_ts() = storage::ToProto(*commit_ts);
  *m.mutable_unlock()->mutable_hlc() = clock_.Stamp();
  m.mutable_unlock()->set_epoch(epoch_);
  m.mutable_unlock()->set_bind_changed_to(bind_changed_to);
  SendMessage(env_, options_.lock_service, std::move(m));
}

// --- Commit ---------------------------------------------------------------------------

void Cn::Commit(uint64_t id) {
  Txn* t = Find(id);
  if (t->workspace.empty() && t->spills.empty()) {
    Finish(id, TxnReply::COMMITTED, "", t->snapshot);  // Read-only.
    return;
  }
  t->committing = true;
  SendCommit(id);
}

// Sent again until the TN answers: the TN remembers decided transactions, so a retry gets
// the same answer, and the locks stay held until the answer is definite.
void Cn::SendCommit(uint64_t id) {
  Txn* t = Find(id);
  if (t == nullptr) return;
  Message m;
  CommitRequest* c = m.mutable_commit();
  *c->mutable_txn() = storage::ToProto(t->id);
  *c->mutable_snapshot_ts() = storage::ToProto(t->first_write_snapshot.value_or(t->snapshot));
  for (const auto& [key, value] : t->workspace) {
    Write* w = c->add_writes();
    w->set_key(key);
    w->set_is_delete(!value.has_value());
    if (value.has_value()) w->set_value(*value);
  }
  for (const std::string& s : t->spills) c->add_spill_objects(s);
  c->set_check_conflicts(options_.mode == Mode::kOptimistic);
  c->set_lock_bind_version(options_.mode == Mode::kPessimistic ? t->bind_version : 0);
  c->set_decided_below(DecidedBelow());
  c->set_tn_epoch(tn_epoch_);
  *c->mutable_hlc() = clock_.Stamp();
  SendMessage(env_, options_.tn, std::move(m));
  env_.CancelTimer(t->timer);
  t->timer = env_.SetTimer(options_.commit_retry, [this, id] { SendCommit(id); });
}

uint64_t Cn::DecidedBelow() const {
  // Transactions are numbered in order and finished ones leave txns_ for good.
  return txns_.empty() ? (incarnation_bits_ | next_txn_) : txns_.begin()->first;
}

void Cn::OnCommitReply(const CommitReply& r) {
  clock_.Observe(r.hlc());
  const storage::TxnId txn = storage::FromProto(r.txn());
  Txn* t = Find(txn.seq);
  if (t == nullptr || !(t->id == txn) || !t->committing) return;
  // A refusal by an earlier TN incarnation than the one this CN now addresses, held up in
  // the network: the request may have gone to the later one since (a TN does not run one
  // addressed to an earlier incarnation, and the CN asks again), which may commit it. Its
  // answer decides. A commit is logged, so any incarnation's word for it holds.
  if (r.status() != CommitReply::COMMITTED && r.tn_epoch() != tn_epoch_) return;
  switch (r.status()) {
    case CommitReply::COMMITTED:
      Finish(txn.seq, TxnReply::COMMITTED, "", storage::FromProto(r.commit_ts()));
      return;
    case CommitReply::WRITE_CONFLICT:
      Finish(txn.seq, TxnReply::ABORTED, "write conflict");
      return;
    case CommitReply::BIND_CHANGED:
      t->bind_changed_to = r.bind_version();
      Finish(txn.seq, TxnReply::ABORTED, "lock table bind changed");
      return;
    case CommitReply::UNAVAILABLE:
      Finish(txn.seq, TxnReply::ABORTED, "tn unavailable");
      return;
    default:
      return;  // Keep retrying.
  }
}

void Cn::Finish(uint64_t id, TxnReply::Outcome outcome, std::string reason,
                storage::Timestamp commit_ts) {
  Txn* t = Find(id);
  HC_ASSERT(t != nullptr);
  env_.CancelTimer(t->timer);
  if (t->lock_req != 0) lock_waits_.erase(t->lock_req);
  if (!t->locked.empty()) {
    Unlock(t->id,
           outcome == TxnReply::COMMITTED && t->committing
               ? std::optional<storage::Timestamp>(commit_ts)
               : std::nullopt,
           t->bind_changed_to);
  }
  Message m;
  TxnReply* r = m.mutable_txn_reply();
  r->set_req(t->req);
  r->set_outcome(outcome);
  r->set_reason(std::move(reason));
  if (outcome == TxnReply::COMMITTED) {
    r->mutable_results()->Swap(&t->results);
    *r->mutable_commit_ts() = storage::ToProto(commit_ts);
  }
  SendMessage(env_, t->client, std::move(m));
  txns_.erase(id);
}

// A transaction of this CN that is not in txns_ is over for good: it committed (and the
// reply, whose ts the clock has observed, arrived) or it aborted, or it belonged to an
// earlier incarnation. That last answer waits for the fence: until the TN refuses the
// earlier incarnation's commits, one of them may still commit.
void Cn::OnTxnStatusQuery(sim::NodeId from, const TxnStatusQuery& q) {
  clock_.Observe(q.hlc());
  if (!fenced_) return;  // The lock service asks again.
  const storage::TxnId txn = storage::FromProto(q.txn());
  const Txn* t = Find(txn.seq);
  Message m;
  TxnStatusReply* r = m.mutable_txn_status_reply();
  *r->mutable_txn() = q.txn();
  r->set_active(txn.cn == env_.id() && t != nullptr && t->id == txn);
  *r->mutable_hlc() = clock_.Stamp();
  SendMessage(env_, from, std::move(m));
}

void Cn::OnRequestStatus(sim::NodeId from, const RequestStatus& q) {
  bool running = false;
  for (const auto& [seq, t] : txns_) running |= t.client == from && t.req == q.req();
  // Not here now means never here: a copy still in the network is dropped when it lands.
  if (!running) {
    uint64_t& floor = client_req_floor_[from];
    floor = std::max(floor, q.req() + 1);
  }
  ReplyRequestStatus(from, q.req(), running);
}

void Cn::ReplyRequestStatus(sim::NodeId client, uint64_t req, bool running) {
  Message m;
  m.mutable_request_status_reply()->set_req(req);
  m.mutable_request_status_reply()->set_running(running);
  m.mutable_request_status_reply()->set_session(session());
  SendMessage(env_, client, std::move(m));
}

void Cn::Receive(sim::NodeId from, sim::Payload& payload) {
  if (store_.Receive(from, payload)) return;
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kTxnRequest:
      Begin(from, *m.mutable_txn_request());
      break;
    case Message::kLogtail:
      OnLogTail(std::move(*m.mutable_logtail()));
      break;
    case Message::kCommitReply:
      OnCommitReply(m.commit_reply());
      break;
    case Message::kLockReply:
      OnLockReply(m.lock_reply());
      break;
    case Message::kTxnStatusQuery:
      OnTxnStatusQuery(from, m.txn_status_query());
      break;
    case Message::kRequestStatus:
      OnRequestStatus(from, m.request_status());
      break;
    case Message::kRetired:
      OnRetired(m.retired());
      break;
    default:
      break;
  }
}

}  // namespace hindcast::nodes::txn
