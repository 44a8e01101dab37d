// Replica lifecycle, roles and elections. Replication is in replication.cc, client requests
// in client_service.cc.
#include "nodes/logservice/replica.h"

#include <algorithm>
#include <utility>

#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::logservice {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

Replica::Replica(NodeEnv& env, const ReplicaOptions& options)
    : env_(env), options_(options), store_(env) {
  HC_ASSERT_MSG(IsMember(env.id()), "a replica must be one of its members");
  HC_ASSERT(options.election_ticks_min > options.heartbeat_ticks);
  HC_ASSERT(options.election_ticks_min <= options.election_ticks_max);
  HC_ASSERT(options.max_entries_per_message > 0 && options.max_entries_per_read > 0);
}

bool Replica::IsMember(sim::NodeId node) const {
  return std::find(options_.members.begin(), options_.members.end(), node) !=
         options_.members.end();
}

void Replica::RecordEvent(RaftEvent event, uint64_t b) {
  env_.Record({.kind = sim::EventKind::kNodeState, .a = static_cast<uint64_t>(event), .b = b});
}

void Replica::Start() {
  store_.set_on_progress([this] { OnStoreProgress(); });
  store_.Load([this](LogStore::Loaded loaded) { OnLoaded(std::move(loaded)); });
  env_.SetTimer(options_.tick, [this] { Tick(); });
}

void Replica::OnLoaded(LogStore::Loaded loaded) {
  if (loaded.amnesia) {
    amnesia_ = true;
    RecordEvent(RaftEvent::kAmnesia, 0);
    return;
  }
  current_term_ = loaded.hard_state.term;
  voted_for_ = loaded.hard_state.vote;
  log_ = RaftLog(loaded.start_index, loaded.start_term, std::move(loaded.entries));
  // Entries through the compaction point were committed; nothing later is known to be.
  commit_index_ = applied_index_ = log_.start_index();
  vote_barrier_ = loaded.vote_barrier;
  loaded_ = true;
  ResetElectionTimer();
  // Like etcd's initial-election-tick-advance: a booted replica has heard from no leader
  // anyway, so its first timeout starts part-way, leaving a margin of one tick over the
  // heartbeat interval in which a live leader's heartbeat still reaches it first.
  ticks_since_heard_ = std::max(0, options_.election_ticks_min - options_.heartbeat_ticks - 1);
  RecordEvent(RaftEvent::kRecovered, log_.last_index());
  if (loaded.lost_synced_entries) RecordEvent(RaftEvent::kLostSyncedEntries, vote_barrier_);
  if (options_.observer != nullptr) {
    options_.observer->OnRoleChange(env_.id(), role_, current_term_);
  }
}

void Replica::Receive(sim::NodeId from, sim::Payload& payload) {
  if (!loaded_) return;  // Peers and clients retransmit.
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;  // Garbage is dropped.
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kRequestVote:
      HandleRequestVote(from, m.request_vote());
      break;
    case Message::kVoteReply:
      HandleVoteReply(from, m.vote_reply());
      break;
    case Message::kAppendEntries:
      HandleAppendEntries(from, *m.mutable_append_entries());
      break;
    case Message::kAppendReply:
      HandleAppendReply(from, m.append_reply());
      break;
    case Message::kInstallSnapshot:
      HandleInstallSnapshot(from, m.install_snapshot());
      break;
    case Message::kClientAppend:
      HandleClientAppend(from, m.client_append());
      break;
    case Message::kClientRead:
      HandleClientRead(from, m.client_read());
      break;
    case Message::kClientTruncate:
      HandleClientTruncate(from, m.client_truncate());
      break;
    case Message::kClientAppendReply:
    case Message::kClientReadReply:
    case Message::kClientTruncateReply:
    case Message::KIND_NOT_SET:
      break;
  }
}

void Replica::Tick() {
  env_.SetTimer(options_.tick, [this] { Tick(); });
  if (!loaded_) return;
  if (role_ == Role::kLeader) {
    if (--heartbeat_countdown_ <= 0) BroadcastAppend();
    return;
  }
  if (++ticks_since_heard_ >= election_ticks_) {
    StartElection();
  } else if (role_ == Role::kCandidate && ticks_since_heard_ % options_.heartbeat_ticks == 0) {
    SendVoteRequests();  // Retransmission.
  }
}

void Replica::ResetElectionTimer() {
  ticks_since_heard_ = 0;
  election_ticks_ = static_cast<int>(
      env_.rng().UniformRange(options_.election_ticks_min, options_.election_ticks_max));
}

void Replica::OnStoreProgress() {
  if (!loaded_ || !Speakable()) return;
  switch (role_) {
    case Role::kCandidate:
      if (!vote_requests_sent_) SendVoteRequests();
      if (votes_.size() >= quorum()) BecomeLeader();
      break;
    case Role::kLeader:
      MaybeAdvanceCommit();
      break;
    case Role::kFollower:
      if (pending_grant_.has_value() &&
          store_.durable_hard_state() == HardState{current_term_, pending_grant_}) {
        ReplyVote(*pending_grant_, true);
        pending_grant_.reset();
      }
      if (leader_.has_value() && std::min(store_.durable_index(), leader_match_) > last_acked_) {
        SendAck(*leader_, 0);
      }
      MaybeClearBarrier();
      break;
  }
}

void Replica::SetRole(Role role, std::optional<sim::NodeId> leader) {
  const bool changed = role != role_;
  const bool deposed = role_ == Role::kLeader && role != Role::kLeader;
  if (leader != leader_) deferred_round_ = 0;  // A round is only ever acked to its leader.
  role_ = role;
  leader_ = leader;
  if (deposed) {
    FailClientRequests();
    progress_.clear();
  }
  if (!changed) return;
  RecordEvent(static_cast<RaftEvent>(static_cast<uint64_t>(role)), current_term_);
  if (options_.observer != nullptr) options_.observer->OnRoleChange(env_.id(), role, current_term_);
}

void Replica::AdoptTerm(uint64_t term) {
  HC_ASSERT_MSG(term > current_term_, "terms only move forward");
  current_term_ = term;
  voted_for_.reset();
  pending_grant_.reset();
  leader_match_ = 0;
  last_acked_ = 0;
  store_.SetHardState({current_term_, std::nullopt});
  SetRole(Role::kFollower, std::nullopt);
}

void Replica::StartElection() {
  ResetElectionTimer();
  if (!MayVote()) return;  // A barred replica waits to be caught up by a leader.
  current_term_ += 1;
  voted_for_ = env_.id();
  pending_grant_.reset();
  leader_match_ = 0;
  last_acked_ = 0;
  votes_ = {env_.id()};
  vote_requests_sent_ = false;
  store_.SetHardState({current_term_, env_.id()});
  SetRole(Role::kCandidate, std::nullopt);
  SendVoteRequests();
}

void Replica::SendVoteRequests() {
  // A candidacy is announced only once the term and the self-vote are durable.
  if (role_ != Role::kCandidate || !Speakable()) return;
  HC_ASSERT(store_.durable_hard_state().vote == env_.id());
  vote_requests_sent_ = true;
  Message m;
  RequestVote* rv = m.mutable_request_vote();
  rv->set_term(current_term_);
  rv->set_last_log_index(log_.last_index());
  rv->set_last_log_term(log_.last_term());
  for (sim::NodeId peer : options_.members) {
    if (peer != env_.id() && !votes_.contains(peer)) SendMessage(env_, peer, m);
  }
}

void Replica::HandleRequestVote(sim::NodeId from, const RequestVote& rv) {
  if (!IsMember(from) || from == env_.id() || amnesia_) return;
  if (rv.term() > current_term_) AdoptTerm(rv.term());
  if (rv.term() < current_term_) {
    ReplyVote(from, false);
    return;
  }
  const bool up_to_date =
      rv.last_log_term() > log_.last_term() ||
      (rv.last_log_term() == log_.last_term() && rv.last_log_index() >= log_.last_index());
  const bool free = !voted_for_.has_value() || *voted_for_ == from;
  if (!MayVote() || !up_to_date || !free) {
    ReplyVote(from, false);
    return;
  }
  if (!voted_for_.has_value()) {
    HC_ASSERT(role_ == Role::kFollower);
    voted_for_ = from;
    store_.SetHardState({current_term_, from});
    ResetElectionTimer();
  }
  if (store_.durable_hard_state() == HardState{current_term_, from}) {
    ReplyVote(from, true);
  } else {
    pending_grant_ = from;  // OnStoreProgress answers once the vote is durable.
  }
}

void Replica::ReplyVote(sim::NodeId to, bool granted) {
  if (!Speakable()) return;  // The candidate asks again.
  HC_ASSERT(!granted || store_.durable_hard_state().vote == to);
  Message m;
  m.mutable_vote_reply()->set_term(current_term_);
  m.mutable_vote_reply()->set_granted(granted);
  SendMessage(env_, to, std::move(m));
}

void Replica::HandleVoteReply(sim::NodeId from, const VoteReply& vr) {
  if (!IsMember(from)) return;
  if (vr.term() > current_term_) {
    AdoptTerm(vr.term());
    return;
  }
  if (role_ != Role::kCandidate || vr.term() != current_term_ || !vr.granted()) return;
  votes_.insert(from);
  if (votes_.size() >= quorum() && Speakable()) BecomeLeader();
}

void Replica::BecomeLeader() {
  HC_ASSERT(role_ == Role::kCandidate && Speakable());
  HC_ASSERT(MayVote());
  SetRole(Role::kLeader, env_.id());
  for (sim::NodeId peer : options_.members) {
    if (peer != env_.id()) progress_[peer] = {.next = log_.last_index() + 1};
  }
  heartbeat_countdown_ = 0;
  // A no-op of the new term lets the leader commit (and so serve) the older entries.
  Entry noop;
  noop.set_kind(Entry::NOOP);
  AppendLocal(std::move(noop));
  BroadcastAppend();
}

void Replica::MaybeClearBarrier() {
  if (vote_barrier_ == 0 || role_ != Role::kFollower || !leader_.has_value()) return;
  // The log now equals a current leader's through the barrier, durably: whatever this
  // replica acked before the damage that was committed is back (see the header).
  if (leader_match_ < vote_barrier_ || store_.durable_index() < vote_barrier_) return;
  RecordEvent(RaftEvent::kBarrierCleared, vote_barrier_);
  vote_barrier_ = 0;
  store_.SetVoteBarrier(0);
}

}  // namespace hindcast::nodes::logservice
