// LogClient: what a node (the TN) embeds to use the log service — leader discovery, retries
// and timeouts around the replicas' client protocol (logservice.proto, replica.h).
//
//   LogClient log(env, {.replicas = {0, 1, 2}});
//   log.Append("commit t42", [](absl::StatusOr<uint64_t> index) { ... });
//   log.Read(/*from_index=*/1, [](absl::StatusOr<ReadResult> r) { ... r->entries ... });
//   log.Truncate(/*upto=*/100, [](absl::Status s) { ... });
//   // In the embedding node's Receive:
//   if (log.Receive(from, payload)) return;
//
// Each call is sent to the replica believed to lead; a NOT_LEADER answer redirects it to the
// leader the replica names, and a try that gets no answer within `attempt_timeout` moves on
// to the next replica. A call that has not succeeded by `deadline` fails with
// kDeadlineExceeded. For an append that outcome is ambiguous: the entry may still commit.
// Retries reuse the request's (client_id, seq), which the leader looks up in its retained
// log, so a retried append gets its original index and is not appended twice (unless it
// was truncated away meanwhile; replica.h). The client id is drawn from the node's random
// stream, fresh for each incarnation, so a restarted node never reuses an old (id, seq).
//
// Read returns the committed DATA entries from `from_index` on (or from just after the
// truncation point, if that is later), up to the commit index the first answer names,
// fetched in pages. Truncate(upto) fails with kFailedPrecondition past the commit index.
// A Truncate is sent only once every Append started before it has finished: otherwise a
// retry of an earlier append whose entry the truncation discarded would be appended twice
// (the leader deduplicates against its retained log). Call Truncate with an index this
// client saw acknowledged or read, so appends started later land past it.
//
// Any number of calls may be in flight; callbacks run from Receive or a timer, never from
// inside the call that started them. The LogClient must live as long as its node.
#ifndef HINDCAST_NODES_LOGSERVICE_LOG_CLIENT_H_
#define HINDCAST_NODES_LOGSERVICE_LOG_CLIENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nodes/logservice/logservice.pb.h"
#include "nodes/node_env.h"

namespace hindcast::nodes::logservice {

struct LogClientOptions {
  std::vector<sim::NodeId> replicas;
  sim::Duration attempt_timeout = sim::Duration::Millis(100);
  sim::Duration deadline = sim::Duration::Seconds(5);
  // Pause before retrying when no replica knows a leader (an election is running).
  sim::Duration no_leader_backoff = sim::Duration::Millis(20);
  uint32_t read_page_entries = 256;
};

struct CommittedEntry {
  uint64_t index = 0;
  std::string payload;
  friend bool operator==(const CommittedEntry&, const CommittedEntry&) = default;
};

struct ReadResult {
  uint64_t compacted_through = 0;  // Entries through here were truncated away.
  uint64_t commit_index = 0;       // The read covers the log up to here.
  std::vector<CommittedEntry> entries;
};

class LogClient {
 public:
  using AppendCallback = absl::AnyInvocable<void(absl::StatusOr<uint64_t>)>;
  using ReadCallback = absl::AnyInvocable<void(absl::StatusOr<ReadResult>)>;
  using TruncateCallback = absl::AnyInvocable<void(absl::Status)>;

  LogClient(NodeEnv& env, LogClientOptions options);
  LogClient(const LogClient&) = delete;
  LogClient& operator=(const LogClient&) = delete;

  // Returns the append's seq: the entry carries (client_id(), seq) in the log.
  uint64_t Append(std::string payload, AppendCallback done);
  void Read(uint64_t from_index, ReadCallback done);
  void Truncate(uint64_t upto, TruncateCallback done);

  // Consumes every message from a replica (dropping what it does not understand); returns
  // false for messages from anyone else.
  bool Receive(sim::NodeId from, sim::Payload& payload);

  uint64_t client_id() const { return client_id_; }
  size_t in_flight() const { return calls_.size(); }

 private:
  enum class Kind { kAppend, kRead, kTruncate };
  struct Call {
    Kind kind = Kind::kAppend;
    std::string payload;      // kAppend.
    uint64_t from_index = 0;  // kRead: where the next page starts.
    uint64_t upto = 0;        // kTruncate.
    size_t target = 0;        // Index into options_.replicas.
    sim::TimerId attempt_timer;
    sim::TimerId deadline_timer;
    ReadResult result;  // kRead: pages so far.
    bool read_started = false;
    bool held = false;  // kTruncate: waiting for earlier appends to finish.
    AppendCallback append_done;
    ReadCallback read_done;
    TruncateCallback truncate_done;
  };

  uint64_t Begin(Call call);
  // Sends the held truncations that no earlier append is waiting on any more.
  void ReleaseTruncations();
  void Send(uint64_t req);
  void SendAfter(uint64_t req, sim::Duration delay);
  void OnAttemptTimeout(uint64_t req);
  // Redirects `req` after a NOT_LEADER answer from replica `from`.
  void Redirect(uint64_t req, sim::NodeId from, uint64_t leader_hint);
  void Finish(uint64_t req, absl::Status status, uint64_t index);
  void OnAppendReply(sim::NodeId from, const ClientAppendReply& r);
  void OnReadReply(sim::NodeId from, const ClientReadReply& r);
  void OnTruncateReply(sim::NodeId from, const ClientTruncateReply& r);
  std::optional<size_t> ReplicaIndex(sim::NodeId node) const;

  NodeEnv& env_;
  const LogClientOptions options_;
  const uint64_t client_id_;
  // The client id's high half | a counter: reads and truncations are answered by request id
  // alone, and a late answer to an earlier incarnation's call must match none of this one's.
  uint64_t next_req_;
  size_t leader_guess_ = 0;
  absl::btree_map<uint64_t, Call> calls_;
};

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_LOG_CLIENT_H_
