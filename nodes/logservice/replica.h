// Replica: one member of the log service, a Raft group (Ongaro & Ousterhout) of three
// replicas, each on its own simulated disk. Clients (the TN, through LogClient) append
// payloads, read committed entries and truncate the log.
//
//   ReplicaOptions options{.members = {0, 1, 2}};
//   world.AddServer(0, "log-0", [&](NodeEnv& env) {
//     return std::make_unique<logservice::Replica>(env, options);
//   });
//
// Raft. Terms, RequestVote with the up-to-date check, randomized election timeouts drawn
// from env.rng() (a tick every `tick`, timeouts of [election_ticks_min, election_ticks_max]
// ticks), AppendEntries with the consistency check, conflict truncation and optimistic
// pipelining, a no-op entry at the start of each leader's term, and InstallSnapshot for a
// follower whose next entry the leader has compacted away. The leader commits an index only
// when it holds an entry of its own term there and a quorum — the leader counted by its own
// synced entries — has synced and verified it (LogStore::durable_index()); a follower acks
// only entries its store reports durable. The term and vote are durable before the replica
// says anything in a term: a vote is granted, a candidacy announced, an append acked only
// once LogStore::durable_hard_state() covers it (messages that arrive earlier are answered
// by the sender's retransmission).
//
// Client requests (logservice.proto). ClientAppend is answered with the entry's index once
// committed; (client_id, seq) is looked up in the retained log first, so a retry gets the
// original index (the window is the retained log: an append retried after its entry was
// truncated away is appended again). The leader serves ClientRead once a quorum has
// acknowledged a heartbeat round it started after the read arrived (ReadIndex) and once it
// has committed an entry of its own term, so a read never misses a committed entry.
// ClientTruncate(upto) appends a TRUNCATE entry; every replica compacts its log through
// `upto` when it applies it, and the leader answers once it commits.
//
// Disk faults and what the replica assumes (see log_store.h for the mechanics):
//  - Crashes lose or tear unsynced writes only. Nothing unsynced was acked, so recovery cuts
//    the log at its last well-formed record and carries on.
//  - Write corruption, misdirected writes and lost writes are caught by reading every write
//    back after its sync and repaired before anything in it is acked. Read corruption is
//    transient and is retried.
//  - A crash between a damaging write and its repair can still destroy synced, acked
//    entries (a misdirected write lands on older records). Recovery detects this because the
//    metadata's watermark — raised only after a verified sync — names more entries than the
//    log holds. Such a replica may have acked entries it no longer has, so its vote could
//    elect a leader without a committed entry: it raises a vote barrier (persisted) and
//    neither votes nor campaigns until its log matches a current leader's through the
//    barrier. It still follows and acks, because what it acks now is really on its disk.
//    With three replicas one barred replica leaves the other two to elect; committed
//    entries live on a quorum, which intersects any two electors.
//  - The metadata (term, vote) is kept in two sector-sized copies (meta_store.h); losing
//    both needs a write that is both misdirected and corrupted over the last verified copy.
//    A replica that finds no valid copy (amnesia) cannot know its term or vote, so it stays
//    out of the group for good: it neither votes nor acks. That costs availability, never
//    safety.
//  - Two replicas barred at once (or one barred and one amnesiac) leave no quorum that can
//    elect: the group stops rather than risk electing a leader without a committed entry.
//  - Deduplication covers the retained log: a retry that reaches a leader after its original
//    entry was truncated away is appended again. A caller that truncates only through
//    entries it has read back never meets this.
//
// Planted bug `ack_before_quorum` (off by default): the leader answers an append as soon as
// the entry is in its own log (in memory), before any quorum holds it; a crash or a deposed
// leader then loses an entry the client was told is committed.
#ifndef HINDCAST_NODES_LOGSERVICE_REPLICA_H_
#define HINDCAST_NODES_LOGSERVICE_REPLICA_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "nodes/logservice/log_store.h"
#include "nodes/logservice/logservice.pb.h"
#include "nodes/logservice/raft_log.h"
#include "nodes/node_env.h"
#include "sim/node.h"

namespace hindcast::nodes::logservice {

enum class Role : uint8_t { kFollower = 1, kCandidate = 2, kLeader = 3 };
std::string_view RoleName(Role role);

// What the replicas record with EventKind::kNodeState in `a`; `b` as noted. Values are part
// of the fingerprint: never renumber, only append.
enum class RaftEvent : uint64_t {
  kFollower = 1,            // b = term.
  kCandidate = 2,           // b = term.
  kLeader = 3,              // b = term.
  kCommit = 4,              // The leader's commit index advanced; b = commit index.
  kRecovered = 5,           // Start() loaded the disk; b = last log index.
  kLostSyncedEntries = 6,   // Recovery found synced entries damaged; b = vote barrier.
  kBarrierCleared = 7,      // Caught up past the barrier; votes again. b = barrier.
  kAmnesia = 8,             // No valid metadata: out of the group for good.
  kCompacted = 9,           // Applied a TRUNCATE entry; b = new start index.
  kSnapshotInstalled = 10,  // Jumped to a leader's compaction point; b = its index.
};

// A test hook: sees every role change and every applied entry, never changes the run.
class RaftObserver {
 public:
  virtual ~RaftObserver() = default;
  virtual void OnRoleChange(sim::NodeId node, Role role, uint64_t term) {}
  virtual void OnApply(sim::NodeId node, const Entry& entry) {}
};

struct ReplicaOptions {
  std::vector<sim::NodeId> members;  // Every replica, this one included.
  sim::Duration tick = sim::Duration::Millis(10);
  int election_ticks_min = 15;
  int election_ticks_max = 30;
  int heartbeat_ticks = 3;
  size_t max_entries_per_message = 64;
  uint32_t max_entries_per_read = 256;
  bool ack_before_quorum = false;  // The planted bug (see above).
  RaftObserver* observer = nullptr;
};

class Replica : public sim::Node {
 public:
  Replica(NodeEnv& env, const ReplicaOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;

  // --- Inspection for tests --------------------------------------------------------------
  bool loaded() const { return loaded_; }
  bool amnesia() const { return amnesia_; }
  Role role() const { return role_; }
  uint64_t term() const { return current_term_; }
  uint64_t commit_index() const { return commit_index_; }
  uint64_t vote_barrier() const { return vote_barrier_; }
  const RaftLog& log() const { return log_; }
  const LogStore& store() const { return store_; }

 private:
  struct Progress {
    uint64_t next = 1;
    uint64_t match = 0;
    uint64_t acked_round = 0;
  };
  struct AppendWaiter {
    sim::NodeId node;
    uint64_t client_id;
    uint64_t seq;
  };
  struct TruncateWaiter {
    sim::NodeId node;
    uint64_t req;
  };
  struct PendingRead {
    sim::NodeId node;
    uint64_t req;
    uint64_t from_index;
    uint32_t max_entries;
    uint64_t round;  // Served once a quorum acknowledged this heartbeat round.
  };

  // replica.cc: lifecycle, roles, elections.
  void OnLoaded(LogStore::Loaded loaded);
  void Tick();
  void OnStoreProgress();
  bool Speakable() const { return store_.durable_hard_state().term == current_term_; }
  bool MayVote() const { return vote_barrier_ == 0 && !amnesia_; }
  size_t quorum() const { return options_.members.size() / 2 + 1; }
  bool IsMember(sim::NodeId node) const;
  void ResetElectionTimer();
  void StartElection();
  void SendVoteRequests();
  void AdoptTerm(uint64_t term);
  void SetRole(Role role, std::optional<sim::NodeId> leader);
  void BecomeLeader();
  void HandleRequestVote(sim::NodeId from, const RequestVote& rv);
  void HandleVoteReply(sim::NodeId from, const VoteReply& vr);
  void ReplyVote(sim::NodeId to, bool granted);
  void MaybeClearBarrier();
  void RecordEvent(RaftEvent event, uint64_t b);

  // replication.cc: the log, commit and apply.
  void AppendLocal(Entry entry);
  void ScheduleReplicate();
  void BroadcastAppend();
  void SendAppend(sim::NodeId peer);
  // Takes the new entries out of `ae`.
  void HandleAppendEntries(sim::NodeId from, AppendEntries& ae);
  void HandleInstallSnapshot(sim::NodeId from, const InstallSnapshot& is);
  // Shared by both: accepts `from` as the leader of the message's term, or refuses it.
  bool AcceptLeader(sim::NodeId from, uint64_t term, uint64_t round);
  void RejectAppend(sim::NodeId to, uint64_t hint, uint64_t round);
  void SendAck(sim::NodeId to, uint64_t round);
  void HandleAppendReply(sim::NodeId from, const AppendReply& r);
  void MaybeAdvanceCommit();
  void AdvanceCommitTo(uint64_t index);
  void Apply();
  void MaybeCompact();

  // client_service.cc: requests from LogClient.
  void HandleClientAppend(sim::NodeId from, const ClientAppend& ca);
  void HandleClientRead(sim::NodeId from, const ClientRead& cr);
  void HandleClientTruncate(sim::NodeId from, const ClientTruncate& ct);
  void ReplyAppend(sim::NodeId to, uint64_t client_id, uint64_t seq, ReplyStatus status,
                   uint64_t index);
  void ReplyWaiters();
  void ServeReads();
  uint64_t QuorumAckedRound() const;
  void FailClientRequests();
  uint64_t leader_hint() const { return leader_.has_value() ? *leader_ + 1 : 0; }

  NodeEnv& env_;
  const ReplicaOptions options_;
  LogStore store_;
  bool loaded_ = false;
  bool amnesia_ = false;

  Role role_ = Role::kFollower;
  uint64_t current_term_ = 0;
  std::optional<sim::NodeId> voted_for_;
  std::optional<sim::NodeId> leader_;
  RaftLog log_;
  uint64_t commit_index_ = 0;
  uint64_t applied_index_ = 0;
  uint64_t compact_target_ = 0;  // The highest truncate point applied.
  uint64_t vote_barrier_ = 0;

  int ticks_since_heard_ = 0;
  int election_ticks_ = 0;
  int heartbeat_countdown_ = 0;

  // Follower.
  uint64_t leader_match_ = 0;                 // The log matches leader_'s through here (this term).
  uint64_t last_acked_ = 0;                   // The last match_index sent to leader_.
  uint64_t deferred_round_ = 0;               // leader_'s round to ack once entries sync.
  std::optional<sim::NodeId> pending_grant_;  // A vote granted, sent once durable.
  // Candidate.
  absl::btree_set<sim::NodeId> votes_;
  bool vote_requests_sent_ = false;
  // Leader.
  absl::btree_map<sim::NodeId, Progress> progress_;
  uint64_t round_ = 0;
  bool replicate_scheduled_ = false;
  absl::btree_map<uint64_t, std::vector<AppendWaiter>> append_waiters_;
  absl::btree_map<uint64_t, std::vector<TruncateWaiter>> truncate_waiters_;
  std::vector<PendingRead> reads_;
};

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_REPLICA_H_
