#include "nodes/txn/lock_service.h"

#include <algorithm>

#include "nodes/wire.h"
#include "sim/assert.h"
#include "storage/pb_util.h"

namespace hindcast::nodes::txn {
namespace {

// Wait-for chains longer than this are a bug, not a workload: every hop is a distinct txn.
constexpr int kWaitChainMax = 1 << 16;

}  // namespace

LockService::LockService(NodeEnv& env, const LockServiceOptions& options)
    : env_(env),
      options_(options),
      clock_(env, options.hlc),
      // Unique across incarnations: a bind reply still in flight to an earlier incarnation
      // must not pass for an answer to this one's request.
      bind_req_(env.rng().Next() << 32) {
  HC_ASSERT(options.tn != sim::kNoNode);
}

void LockService::Start() { AskBind(); }

// Until the TN answers, lock requests are refused as UNAVAILABLE (the transaction aborts).
void LockService::AskBind() {
  if (bind_version_ != 0) return;
  Message m;
  BindRequest* b = m.mutable_bind();
  b->set_req(++bind_req_);
  b->set_renew(!options_.bug_lock_forget_on_restart);
  *b->mutable_hlc() = clock_.Stamp();
  SendMessage(env_, options_.tn, std::move(m));
  env_.SetTimer(options_.bind_retry, [this] { AskBind(); });
}

void LockService::Receive(sim::NodeId from, sim::Payload& payload) {
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kBindReply:
      clock_.Observe(m.bind_reply().hlc());
      if (m.bind_reply().req() == bind_req_ && bind_version_ == 0) {
        bind_version_ = m.bind_reply().bind_version();
        // The TN's clock is past every commit so far, including those of keys this
        // incarnation never hears an unlock for.
        last_commit_floor_ = std::max(last_commit_floor_, storage::FromProto(m.bind_reply().hlc()));
        // State 20: bound; b is the bind version.
        env_.Record({.kind = sim::EventKind::kNodeState, .a = 20, .b = bind_version_});
      }
      break;
    case Message::kLock:
      OnLock(from, m.lock());
      break;
    case Message::kUnlock:
      OnUnlock(m.unlock());
      break;
    case Message::kTxnStatusReply:
      OnTxnStatusReply(m.txn_status_reply());
      break;
    default:
      break;
  }
}

void LockService::RecordCommit(const std::string& key, storage::Timestamp commit_ts) {
  storage::Timestamp& last = last_commit_young_[key];
  last = std::max(last, commit_ts);
  young_max_ = std::max(young_max_, commit_ts);
  if (last_commit_young_.size() < options_.last_commit_generation) return;
  last_commit_floor_ = std::max(last_commit_floor_, old_max_);
  last_commit_old_ = std::move(last_commit_young_);
  last_commit_young_.clear();
  old_max_ = young_max_;
  young_max_ = storage::Timestamp::Min();
}

storage::Timestamp LockService::LastCommit(const std::string& key) const {
  storage::Timestamp last = last_commit_floor_;
  if (auto it = last_commit_young_.find(key); it != last_commit_young_.end()) {
    last = std::max(last, it->second);
  }
  if (auto it = last_commit_old_.find(key); it != last_commit_old_.end()) {
    last = std::max(last, it->second);
  }
  return last;
}

void LockService::Grant(sim::NodeId cn, uint64_t req, const std::string& key) {
  Message m;
  LockReply* r = m.mutable_lock_reply();
  r->set_req(req);
  r->set_status(LockReply::GRANTED);
  r->set_bind_version(bind_version_);
  *r->mutable_last_commit() = storage::ToProto(LastCommit(key));
  *r->mutable_hlc() = clock_.Stamp();
  SendMessage(env_, cn, std::move(m));
}

void LockService::Refuse(sim::NodeId cn, uint64_t req, LockReply::Status status) {
  Message m;
  LockReply* r = m.mutable_lock_reply();
  r->set_req(req);
  r->set_status(status);
  *r->mutable_hlc() = clock_.Stamp();
  SendMessage(env_, cn, std::move(m));
}

bool LockService::WouldDeadlock(const storage::TxnId& waiter, const storage::TxnId& holder) const {
  storage::TxnId at = holder;
  for (int hops = 0; hops < kWaitChainMax; ++hops) {
    if (at == waiter) return true;
    auto wait = waiting_for_.find(at);
    if (wait == waiting_for_.end()) return false;
    auto lock = locks_.find(wait->second);
    HC_ASSERT(lock != locks_.end());
    at = lock->second.holder;
  }
  HC_ASSERT_MSG(false, "wait-for chain limit reached");
  return true;
}

void LockService::OnLock(sim::NodeId from, const LockRequest& r) {
  clock_.Observe(r.hlc());
  const storage::TxnId txn = storage::FromProto(r.txn());
  // From an incarnation the CN has since replaced: nobody is there to hold the lock.
  if (!Admit(txn, r.epoch(), storage::FromProto(r.hlc()))) return;
  if (bind_version_ == 0) {
    Refuse(from, r.req(), LockReply::UNAVAILABLE);
    return;
  }
  auto [it, inserted] = locks_.try_emplace(r.key());
  Lock& lock = it->second;
  if (inserted || lock.holder == txn) {
    if (inserted) lock.since_ns = env_.PhysicalNowNs();
    lock.holder = txn;
    held_[txn].insert(r.key());
    Grant(from, r.req(), r.key());
    return;
  }
  if (auto w = waiting_for_.find(txn); w != waiting_for_.end() && w->second == r.key()) {
    return;  // A retry of a queued request: the grant will answer both.
  }
  if (waiting_for_.contains(txn) || WouldDeadlock(txn, lock.holder)) {
    Refuse(from, r.req(), LockReply::DEADLOCK);
    return;
  }
  lock.waiters.push_back({from, r.req(), txn});
  waiting_for_[txn] = r.key();
  if (!orphan_check_scheduled_) {
    orphan_check_scheduled_ = true;
    env_.SetTimer(options_.orphan_after, [this] { CheckOrphans(); });
  }
}

void LockService::CheckOrphans() {
  orphan_check_scheduled_ = false;
  if (waiting_for_.empty()) return;
  const int64_t now = env_.PhysicalNowNs();
  for (const auto& [waiter, key] : waiting_for_) {
    Lock& lock = locks_.at(key);
    if (now - lock.since_ns < options_.orphan_after.ns()) continue;
    lock.since_ns = now;  // Asked: not again for another orphan_after.
    Message m;
    TxnStatusQuery* q = m.mutable_txn_status_query();
    *q->mutable_txn() = storage::ToProto(lock.holder);
    *q->mutable_hlc() = clock_.Stamp();
    SendMessage(env_, lock.holder.cn, std::move(m));
  }
  orphan_check_scheduled_ = true;
  env_.SetTimer(options_.orphan_after, [this] { CheckOrphans(); });
}

void LockService::OnTxnStatusReply(const TxnStatusReply& r) {
  clock_.Observe(r.hlc());
  if (r.active()) return;
  const storage::TxnId txn = storage::FromProto(r.txn());
  auto held = held_.find(txn);
  if (held == held_.end() && !waiting_for_.contains(txn)) return;  // Already released.
  // State 21: an orphan's locks are freed; b is how many it held.
  env_.Record({.kind = sim::EventKind::kNodeState,
               .a = 21,
               .b = held == held_.end() ? 0 : held->second.size()});
  // Over for good: if it committed, its commit ts is below the CN's clock now.
  Release(txn, storage::FromProto(r.hlc()));
}

void LockService::OnUnlock(const UnlockRequest& r) {
  clock_.Observe(r.hlc());
  const storage::TxnId txn = storage::FromProto(r.txn());
  const bool current = Admit(txn, r.epoch(), storage::FromProto(r.hlc()));
  // From any incarnation: it is news of the TN's bind, which only moves up.
  if (bind_version_ != 0 && r.bind_changed_to() > bind_version_) {
    LoseBind(r.bind_changed_to());
    return;
  }
  if ((txn.seq & 0xffff'ffff) != 0) {
    // Even from a replaced incarnation: these are that transaction's own locks.
    Release(txn,
            r.has_commit_ts() ? std::optional(storage::FromProto(r.commit_ts())) : std::nullopt);
    return;
  }
  // A seq whose counter part is 0 names a CN incarnation that the TN has fenced: its earlier
  // incarnations are gone. One that arrives after a later incarnation was heard from is
  // dropped: it would release the locks of the live one.
  if (!current) return;
  // The restarted CN's clock is past its TN fence, so past any commit of the transactions
  // released below, whose unlocks will never come.
  last_commit_floor_ = std::max(last_commit_floor_, storage::FromProto(r.hlc()));
  ReleaseEarlierIncarnations(txn);
}

void LockService::LoseBind(uint64_t tn_bind) {
  // State 23: the service lost its bind; b is the TN's newer one.
  env_.Record({.kind = sim::EventKind::kNodeState, .a = 23, .b = tn_bind});
  // As a restart would: the holders' commits are refused, and waiters ask again (a request
  // the service does not know is a new one) and wait for the new bind.
  locks_.clear();
  held_.clear();
  waiting_for_.clear();
  bind_version_ = 0;
  AskBind();
}

bool LockService::Admit(const storage::TxnId& txn, uint64_t epoch, storage::Timestamp hlc) {
  if (epoch == 0) return true;  // Sent before the CN learned its epoch: nothing to order.
  uint64_t& known = cn_epochs_[txn.cn];
  if (epoch < known) return false;
  if (epoch == known) return true;
  const bool replaces = known != 0;
  known = epoch;
  if (replaces) {
    // A later incarnation than the one heard from: the TN has fenced the earlier ones,
    // whose locks go now (the incarnation's own announcement may be late, or lost).
    // State 22: b is the later incarnation's epoch.
    env_.Record({.kind = sim::EventKind::kNodeState, .a = 22, .b = epoch});
    last_commit_floor_ = std::max(last_commit_floor_, hlc);
    ReleaseEarlierIncarnations(txn);
  }
  return true;
}

void LockService::ReleaseEarlierIncarnations(const storage::TxnId& txn) {
  auto stale = [&](const storage::TxnId& t) {
    return t.cn == txn.cn && (t.seq >> 32) != (txn.seq >> 32);
  };
  std::vector<storage::TxnId> of_cn;
  for (const auto& [t, keys] : held_) {
    if (stale(t)) of_cn.push_back(t);
  }
  for (const auto& [t, key] : waiting_for_) {
    if (stale(t)) of_cn.push_back(t);
  }
  for (const storage::TxnId& t : of_cn) Release(t, std::nullopt);
}

void LockService::Release(const storage::TxnId& txn, std::optional<storage::Timestamp> commit_ts) {
  // A waiter that gives up (its transaction aborted) leaves the queue.
  if (auto w = waiting_for_.find(txn); w != waiting_for_.end()) {
    Lock& lock = locks_.at(w->second);
    std::erase_if(lock.waiters, [&](const Waiter& x) { return x.txn == txn; });
    waiting_for_.erase(w);
  }
  auto held = held_.find(txn);
  if (held == held_.end()) return;
  // Granting below inserts into held_, which invalidates btree iterators: take the set out.
  const auto keys = std::move(held->second);
  held_.erase(held);
  for (const std::string& key : keys) {
    if (commit_ts.has_value()) RecordCommit(key, *commit_ts);
    auto it = locks_.find(key);
    HC_ASSERT(it != locks_.end() && it->second.holder == txn);
    Lock& lock = it->second;
    if (lock.waiters.empty()) {
      locks_.erase(it);
      continue;
    }
    const Waiter next = lock.waiters.front();
    lock.waiters.erase(lock.waiters.begin());
    lock.holder = next.txn;
    lock.since_ns = env_.PhysicalNowNs();
    waiting_for_.erase(next.txn);
    held_[next.txn].insert(key);
    Grant(next.cn, next.req, key);
  }
}

}  // namespace hindcast::nodes::txn
