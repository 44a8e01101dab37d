// Replica: log replication, commit, apply and compaction (see replica.h).
#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "nodes/logservice/replica.h"
#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::logservice {

void Replica::AppendLocal(Entry entry) {
  HC_ASSERT(role_ == Role::kLeader);
  entry.set_index(log_.last_index() + 1);
  entry.set_term(current_term_);
  std::vector<Entry> batch = {entry};
  log_.Append(std::move(entry));
  store_.Append(std::move(batch));
}

void Replica::ScheduleReplicate() {
  // Appends arriving at the same instant go out in one message per follower.
  if (replicate_scheduled_) return;
  replicate_scheduled_ = true;
  env_.SetTimer(sim::Duration::Zero(), [this] {
    replicate_scheduled_ = false;
    if (role_ == Role::kLeader) BroadcastAppend();
  });
}

void Replica::BroadcastAppend() {
  HC_ASSERT(role_ == Role::kLeader);
  ++round_;
  heartbeat_countdown_ = options_.heartbeat_ticks;
  for (const auto& [peer, progress] : progress_) SendAppend(peer);
  // A lone replica is a quorum by itself: its round is confirmed as it starts, and no
  // acknowledgement will come to serve the reads waiting for it.
  if (progress_.empty()) ServeReads();
}

void Replica::SendAppend(sim::NodeId peer) {
  HC_ASSERT_MSG(Speakable(), "a leader's term is durable: it voted for itself in it");
  Progress& p = progress_.at(peer);
  Message m;
  if (p.next <= log_.start_index()) {
    InstallSnapshot* is = m.mutable_install_snapshot();
    is->set_term(current_term_);
    is->set_index(log_.start_index());
    is->set_snapshot_term(log_.start_term());
    is->set_commit_index(commit_index_);
    is->set_round(round_);
    SendMessage(env_, peer, std::move(m));
    return;
  }
  const uint64_t prev = p.next - 1;
  AppendEntries* ae = m.mutable_append_entries();
  ae->set_term(current_term_);
  ae->set_prev_index(prev);
  ae->set_prev_term(*log_.TermAt(prev));
  ae->set_commit_index(commit_index_);
  ae->set_round(round_);
  const uint64_t last = std::min(log_.last_index(), prev + options_.max_entries_per_message);
  for (Entry& e : log_.Slice(p.next, last)) *ae->add_entries() = std::move(e);
  // Optimistic pipelining: a loss shows up as a rejected consistency check and rewinds.
  p.next = std::max(p.next, last + 1);
  SendMessage(env_, peer, std::move(m));
}

bool Replica::AcceptLeader(sim::NodeId from, uint64_t term, uint64_t round) {
  if (!IsMember(from) || from == env_.id()) return false;
  if (term < current_term_) {
    RejectAppend(from, 0, round);  // Tells the stale leader the newer term.
    return false;
  }
  if (term > current_term_) AdoptTerm(term);
  HC_ASSERT_MSG(role_ != Role::kLeader, "two leaders in one term");
  HC_ASSERT_MSG(!leader_.has_value() || *leader_ == from, "two leaders in one term");
  if (role_ != Role::kFollower || !leader_.has_value()) SetRole(Role::kFollower, from);
  ticks_since_heard_ = 0;
  return true;
}

void Replica::HandleAppendEntries(sim::NodeId from, AppendEntries& ae) {
  if (!AcceptLeader(from, ae.term(), ae.round())) return;
  uint64_t prev = ae.prev_index();
  int skip = 0;
  if (prev < log_.start_index()) {
    // Entries through the compaction point are committed, so they equal the leader's.
    const uint64_t covered = log_.start_index() - prev;
    skip = static_cast<int>(std::min<uint64_t>(covered, ae.entries_size()));
    if (static_cast<uint64_t>(skip) < covered) {
      SendAck(from, ae.round());
      return;
    }
    prev = log_.start_index();
  } else if (prev > log_.last_index()) {
    RejectAppend(from, log_.last_index() + 1, ae.round());
    return;
  } else if (*log_.TermAt(prev) != ae.prev_term()) {
    const uint64_t hint = prev > log_.start_index() ? log_.FirstIndexOfTermAt(prev) : prev;
    RejectAppend(from, std::max<uint64_t>(hint, 1), ae.round());
    return;
  }
  // Validate before changing anything: the entries must follow `prev` one by one.
  uint64_t term_floor = *log_.TermAt(prev);
  for (int i = skip; i < ae.entries_size(); ++i) {
    const Entry& e = ae.entries(i);
    if (e.index() != prev + 1 + (i - skip) || e.term() < term_floor) return;  // Malformed.
    term_floor = e.term();
  }
  std::vector<Entry> fresh;
  for (int i = skip; i < ae.entries_size(); ++i) {
    Entry& e = *ae.mutable_entries(i);
    if (log_.Contains(e.index())) {
      const Entry& have = log_.At(e.index());
      if (have.term() == e.term()) {
        HC_ASSERT_MSG(have.payload() == e.payload() && have.kind() == e.kind() &&
                          have.seq() == e.seq() && have.client_id() == e.client_id(),
                      "log matching: same index and term, different entries");
        continue;
      }
      HC_ASSERT_MSG(e.index() > commit_index_, "a leader overwrote a committed entry");
      HC_ASSERT(e.index() > leader_match_ && fresh.empty());
      log_.TruncateSuffix(e.index());
      store_.TruncateSuffix(e.index());
    }
    log_.Append(e);
    fresh.push_back(std::move(e));  // The message is done with.
  }
  const bool fresh_empty = fresh.empty();
  store_.Append(std::move(fresh));
  const uint64_t match_end = prev + static_cast<uint64_t>(ae.entries_size() - skip);
  leader_match_ = std::max(leader_match_, match_end);
  const uint64_t commit = std::min(ae.commit_index(), match_end);
  if (commit > commit_index_) AdvanceCommitTo(commit);
  MaybeClearBarrier();
  if (!fresh_empty && Speakable()) {
    // New entries are acked once synced (OnStoreProgress), carrying this round. An ack now
    // would tell the leader only what its pipelining already assumes, at one message per
    // follower per append. Heartbeats still answer at once, so no round waits longer.
    deferred_round_ = std::max(deferred_round_, ae.round());
    return;
  }
  SendAck(from, ae.round());
}

void Replica::HandleInstallSnapshot(sim::NodeId from, const InstallSnapshot& is) {
  if (!AcceptLeader(from, is.term(), is.round())) return;
  const uint64_t index = is.index();
  if (index > log_.start_index()) {
    const std::optional<uint64_t> have = log_.TermAt(index);
    HC_ASSERT_MSG(!(have.has_value() && *have != is.snapshot_term() && index <= commit_index_),
                  "a snapshot disagrees with a committed entry");
    log_.CompactTo(index, is.snapshot_term());
    store_.Compact(index, is.snapshot_term(), log_.Slice(index + 1, log_.last_index()));
    RecordEvent(RaftEvent::kSnapshotInstalled, index);
    compact_target_ = std::max(compact_target_, index);
    // The entries up to `index` are committed and their data lives in the object store:
    // they count as applied here without being seen.
    if (index > commit_index_) commit_index_ = index;
    applied_index_ = std::max(applied_index_, index);
  }
  leader_match_ = std::max(leader_match_, index);
  const uint64_t commit = std::min(is.commit_index(), index);
  if (commit > commit_index_) AdvanceCommitTo(commit);
  MaybeClearBarrier();
  SendAck(from, is.round());
}

void Replica::RejectAppend(sim::NodeId to, uint64_t hint, uint64_t round) {
  if (!Speakable()) return;  // The leader retransmits.
  Message m;
  AppendReply* r = m.mutable_append_reply();
  r->set_term(current_term_);
  r->set_success(false);
  r->set_hint_index(hint);
  r->set_round(round);
  SendMessage(env_, to, std::move(m));
}

void Replica::SendAck(sim::NodeId to, uint64_t round) {
  if (!Speakable()) return;  // OnStoreProgress acks once the term is durable.
  // A round deferred by HandleAppendEntries rides on any ack to the same leader.
  round = std::max(round, deferred_round_);
  deferred_round_ = 0;
  // Only entries that are synced, verified and equal to the leader's count.
  const uint64_t match = std::min(store_.durable_index(), leader_match_);
  Message m;
  AppendReply* r = m.mutable_append_reply();
  r->set_term(current_term_);
  r->set_success(true);
  r->set_match_index(match);
  r->set_accepted_index(leader_match_);
  r->set_round(round);
  last_acked_ = std::max(last_acked_, match);
  SendMessage(env_, to, std::move(m));
}

void Replica::HandleAppendReply(sim::NodeId from, const AppendReply& r) {
  if (!IsMember(from)) return;
  if (r.term() > current_term_) {
    AdoptTerm(r.term());
    return;
  }
  if (role_ != Role::kLeader || r.term() != current_term_) return;
  Progress& p = progress_.at(from);
  p.acked_round = std::max(p.acked_round, std::min(r.round(), round_));
  if (r.success()) {
    const uint64_t match = std::min(r.match_index(), log_.last_index());
    const bool advanced = match > p.match;
    p.match = std::max(p.match, match);
    p.next = std::max(p.next, std::min(r.accepted_index(), log_.last_index()) + 1);
    if (advanced) MaybeAdvanceCommit();
  } else if (r.hint_index() > 0 && r.hint_index() < p.next) {
    p.next = r.hint_index();
    SendAppend(from);
  }
  ServeReads();
}

void Replica::MaybeAdvanceCommit() {
  HC_ASSERT(role_ == Role::kLeader);
  absl::InlinedVector<uint64_t, 8> matches = {store_.durable_index()};
  for (const auto& [peer, p] : progress_) matches.push_back(p.match);
  std::sort(matches.begin(), matches.end(), std::greater<uint64_t>());
  const uint64_t quorum_index = matches[quorum() - 1];
  // Only an entry of the leader's own term commits by counting (Raft section 5.4.2).
  if (quorum_index <= commit_index_ || *log_.TermAt(quorum_index) != current_term_) return;
  AdvanceCommitTo(quorum_index);
  RecordEvent(RaftEvent::kCommit, commit_index_);
}

void Replica::AdvanceCommitTo(uint64_t index) {
  HC_ASSERT_MSG(index > commit_index_, "the commit index never decreases");
  HC_ASSERT_MSG(index <= log_.last_index(), "committing past the end of the log");
  commit_index_ = index;
  Apply();
  if (role_ == Role::kLeader) {
    ReplyWaiters();
    ServeReads();
  }
  MaybeCompact();
}

void Replica::Apply() {
  while (applied_index_ < commit_index_) {
    ++applied_index_;
    const Entry& e = log_.At(applied_index_);
    HC_ASSERT(e.index() == applied_index_);
    if (options_.observer != nullptr) options_.observer->OnApply(env_.id(), e);
    if (e.kind() == Entry::TRUNCATE) {
      compact_target_ = std::max(compact_target_, std::min(e.truncate_upto(), applied_index_));
    }
  }
}

void Replica::MaybeCompact() {
  if (compact_target_ <= log_.start_index()) return;
  HC_ASSERT(compact_target_ <= applied_index_);
  const uint64_t index = compact_target_;
  const uint64_t term = *log_.TermAt(index);
  log_.CompactTo(index, term);
  store_.Compact(index, term, log_.Slice(index + 1, log_.last_index()));
  RecordEvent(RaftEvent::kCompacted, index);
}

}  // namespace hindcast::nodes::logservice
