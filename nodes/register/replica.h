// The demo replicated register: one primary and two backups, used to exercise the kernel
// until the MatrixOne-style cluster exists.
//
// Protocol. Replica 0 is the primary; clients send it reads and writes. A write gets the
// next version ((epoch << 32) | counter), is persisted on the primary's disk (SlotStore:
// synced and verified) and replicated to both backups, which persist it and ack their
// durable version. Once a majority (two of three) holds a version durably it is committed:
// writes up to it are acknowledged, and reads return the committed value. Retransmission
// covers lost messages. After a crash the primary refuses clients until it has recovered:
// it loads its own slots and asks the backups, and needs two valid votes (its own counts if
// its disk showed no corruption); any two votes intersect the majority that held every
// committed write, so the newest voted version includes them all. It then opens a new
// epoch, persisted before serving, so versions are never reused.
//
// Planted bug `ack_before_replicate`: the primary acknowledges a write as soon as it has
// accepted it in memory, before it is durable anywhere, and counts it as committed. A crash
// of the primary in that window loses an acknowledged write, which the linearizability
// check of the client history reports.
#ifndef HINDCAST_NODES_REGISTER_REPLICA_H_
#define HINDCAST_NODES_REGISTER_REPLICA_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/container/btree_map.h"
#include "nodes/node_env.h"
#include "nodes/register/register.pb.h"
#include "nodes/register/slot_store.h"
#include "sim/node.h"

namespace hindcast::nodes::reg {

inline constexpr sim::NodeId kPrimary = 0;
inline constexpr int kReplicas = 3;
inline constexpr int kQuorum = 2;

struct ReplicaOptions {
  bool bug_ack_before_replicate = false;
  sim::Duration retransmit_interval = sim::Duration::Millis(30);
};

class Replica : public sim::Node {
 public:
  Replica(NodeEnv& env, const ReplicaOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;

 private:
  struct PendingWrite {
    sim::NodeId client;
    uint64_t req;
  };
  bool is_primary() const { return env_.id() == kPrimary; }

  void OnLoaded(const SlotStore::Loaded& loaded);
  void OnClientWrite(sim::NodeId from, const ClientWrite& w);
  void OnClientRead(sim::NodeId from, const ClientRead& r);
  void OnReplicate(sim::NodeId from, const Replicate& r);
  void OnReplicateAck(sim::NodeId from, const ReplicateAck& a);
  void OnRecoverQuery(sim::NodeId from, const RecoverQuery& q);
  void OnRecoverReply(sim::NodeId from, const RecoverReply& r);

  void PersistLatest();
  void AdvanceCommit();
  void Commit(uint64_t version);
  void Reply(sim::NodeId client, uint64_t req, bool ok, std::optional<int64_t> value);
  void Tick();
  void SendReplicate(sim::NodeId backup);
  void SendRecoverQuery(sim::NodeId backup);

  NodeEnv& env_;
  ReplicaOptions options_;
  SlotStore store_;
  bool loaded_ = false;
  bool serving_ = false;  // Primary: recovered and accepting clients.

  RegState latest_;   // Newest accepted state (memory).
  RegState durable_;  // Newest state persisted and verified on this replica.
  bool disk_valid_ = true;
  // Primary only.
  uint64_t counter_ = 0;
  uint64_t committed_version_ = 0;
  std::optional<int64_t> committed_value_;
  std::array<uint64_t, kReplicas> acked_{};  // Durable version reported by each replica.
  absl::btree_map<uint64_t, std::optional<int64_t>> uncommitted_values_;
  absl::btree_map<uint64_t, PendingWrite> pending_writes_;
  // Recovery (primary only).
  std::optional<SlotStore::Loaded> own_vote_;
  absl::btree_map<sim::NodeId, RecoverReply> votes_;
  uint64_t recovery_version_ = 0;  // Version stamped by recovery; 0 until decided.
};

}  // namespace hindcast::nodes::reg

#endif  // HINDCAST_NODES_REGISTER_REPLICA_H_
