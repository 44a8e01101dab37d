// Replica: requests from clients (LogClient), served by the leader (see replica.h).
#include <algorithm>
#include <utility>

#include "nodes/logservice/replica.h"
#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::logservice {

void Replica::ReplyAppend(sim::NodeId to, uint64_t client_id, uint64_t seq, ReplyStatus status,
                          uint64_t index) {
  Message m;
  ClientAppendReply* r = m.mutable_client_append_reply();
  r->set_client_id(client_id);
  r->set_seq(seq);
  r->set_status(status);
  r->set_leader_hint(leader_hint());
  r->set_index(index);
  SendMessage(env_, to, std::move(m));
}

void Replica::HandleClientAppend(sim::NodeId from, const ClientAppend& ca) {
  if (role_ != Role::kLeader) {
    ReplyAppend(from, ca.client_id(), ca.seq(), NOT_LEADER, 0);
    return;
  }
  // A retry of a request still in the log gets the original entry, committed or not.
  if (const std::optional<uint64_t> index = log_.FindClientEntry(ca.client_id(), ca.seq())) {
    if (log_.At(*index).payload() != ca.payload()) {
      ReplyAppend(from, ca.client_id(), ca.seq(), REJECTED, 0);
    } else if (*index <= commit_index_) {
      ReplyAppend(from, ca.client_id(), ca.seq(), OK, *index);
    } else {
      append_waiters_[*index].push_back({from, ca.client_id(), ca.seq()});
    }
    return;
  }
  Entry e;
  e.set_kind(Entry::DATA);
  e.set_client_id(ca.client_id());
  e.set_seq(ca.seq());
  e.set_payload(ca.payload());
  AppendLocal(std::move(e));
  const uint64_t index = log_.last_index();
  if (options_.ack_before_quorum) {
    ReplyAppend(from, ca.client_id(), ca.seq(), OK, index);  // The planted bug.
  } else {
    append_waiters_[index].push_back({from, ca.client_id(), ca.seq()});
  }
  ScheduleReplicate();
}

void Replica::HandleClientRead(sim::NodeId from, const ClientRead& cr) {
  if (role_ != Role::kLeader) {
    Message m;
    m.mutable_client_read_reply()->set_req(cr.req());
    m.mutable_client_read_reply()->set_status(NOT_LEADER);
    m.mutable_client_read_reply()->set_leader_hint(leader_hint());
    SendMessage(env_, from, std::move(m));
    return;
  }
  // ReadIndex: the next heartbeat round, once a quorum acknowledges it, proves this replica
  // was still the leader after the read arrived, so its commit index then covers every
  // entry committed before the read.
  const uint32_t max_entries =
      std::clamp<uint32_t>(cr.max_entries(), 1, options_.max_entries_per_read);
  reads_.push_back({from, cr.req(), cr.from_index(), max_entries, round_ + 1});
  ScheduleReplicate();
}

void Replica::ServeReads() {
  if (role_ != Role::kLeader || reads_.empty()) return;
  // Until an entry of its own term commits, a new leader's commit index may lag.
  if (*log_.TermAt(commit_index_) != current_term_) return;
  const uint64_t confirmed = QuorumAckedRound();
  std::vector<PendingRead> waiting;
  for (const PendingRead& read : reads_) {
    if (read.round > confirmed) {
      waiting.push_back(read);
      continue;
    }
    Message m;
    ClientReadReply* r = m.mutable_client_read_reply();
    r->set_req(read.req);
    r->set_status(OK);
    r->set_leader_hint(leader_hint());
    r->set_compacted_through(log_.start_index());
    r->set_commit_index(commit_index_);
    uint64_t next = std::max(read.from_index, log_.start_index() + 1);
    uint32_t taken = 0;
    for (; next <= commit_index_ && taken < read.max_entries; ++next, ++taken) {
      const Entry& e = log_.At(next);
      if (e.kind() == Entry::DATA) *r->add_entries() = e;
    }
    r->set_next_index(next);
    SendMessage(env_, read.node, std::move(m));
  }
  reads_ = std::move(waiting);
}

uint64_t Replica::QuorumAckedRound() const {
  std::vector<uint64_t> rounds = {round_};
  for (const auto& [peer, p] : progress_) rounds.push_back(p.acked_round);
  std::sort(rounds.begin(), rounds.end(), std::greater<uint64_t>());
  return rounds[quorum() - 1];
}

void Replica::HandleClientTruncate(sim::NodeId from, const ClientTruncate& ct) {
  Message m;
  ClientTruncateReply* r = m.mutable_client_truncate_reply();
  r->set_req(ct.req());
  r->set_leader_hint(leader_hint());
  if (role_ != Role::kLeader) {
    r->set_status(NOT_LEADER);
  } else if (ct.upto() > commit_index_) {
    r->set_status(REJECTED);  // Only committed entries may be discarded.
  } else if (ct.upto() <= log_.start_index()) {
    r->set_status(OK);
  } else {
    Entry e;
    e.set_kind(Entry::TRUNCATE);
    e.set_truncate_upto(ct.upto());
    AppendLocal(std::move(e));
    truncate_waiters_[log_.last_index()].push_back({from, ct.req()});
    ScheduleReplicate();
    return;
  }
  SendMessage(env_, from, std::move(m));
}

void Replica::ReplyWaiters() {
  HC_ASSERT(role_ == Role::kLeader);
  while (!append_waiters_.empty() && append_waiters_.begin()->first <= commit_index_) {
    const uint64_t index = append_waiters_.begin()->first;
    for (const AppendWaiter& w : append_waiters_.begin()->second) {
      ReplyAppend(w.node, w.client_id, w.seq, OK, index);
    }
    append_waiters_.erase(append_waiters_.begin());
  }
  while (!truncate_waiters_.empty() && truncate_waiters_.begin()->first <= commit_index_) {
    for (const TruncateWaiter& w : truncate_waiters_.begin()->second) {
      Message m;
      m.mutable_client_truncate_reply()->set_req(w.req);
      m.mutable_client_truncate_reply()->set_status(OK);
      m.mutable_client_truncate_reply()->set_leader_hint(leader_hint());
      SendMessage(env_, w.node, std::move(m));
    }
    truncate_waiters_.erase(truncate_waiters_.begin());
  }
}

void Replica::FailClientRequests() {
  // A deposed leader's pending requests may still commit under the next leader; NOT_LEADER
  // sends the client there, where a retried append finds its entry by (client_id, seq).
  for (const auto& [index, waiters] : append_waiters_) {
    for (const AppendWaiter& w : waiters) ReplyAppend(w.node, w.client_id, w.seq, NOT_LEADER, 0);
  }
  append_waiters_.clear();
  truncate_waiters_.clear();
  reads_.clear();
}

}  // namespace hindcast::nodes::logservice
