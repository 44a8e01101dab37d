// LogStore: a replica's durable Raft state — hard state and log — on its simulated disk, with
// recovery that tells a torn tail (harmless) from damage to synced data (not harmless).
//
//   LogStore store(env);
//   store.Load([&](LogStore::Loaded l) { ... l.entries, l.term, l.vote_barrier ... });
//   store.SetHardState(term, vote);           // Queued; durable_term() follows later.
//   store.Append({e5, e6});                   // Must continue the log as queued so far.
//   store.set_on_progress([&] { if (store.durable_index() >= 6) Ack(); });
//
// Operations are queued and run one at a time, in order; consecutive appends are batched.
// Each one ends with a metadata write (meta_store.h) carrying the newest hard state, so
// `durable_term()`/`durable_vote()` report what a verified metadata record holds.
//
// Durability. An append writes the records at the end of the log file and syncs (one
// write-through, sim::Disk::WriteAndSync), reads them back, and only then raises the metadata
// `watermark` to the batch's last index (synced and verified in turn). durable_index() rises only
// after both, so an entry is acknowledged only once it is synced, verified, and covered by the
// watermark. A read-back that differs (a write corruption, a misdirected write, a lost write)
// triggers a repair: the whole file is read and compared with the image the store expects, and the
// first differing byte onwards is rewritten and synced, until the file reads back exactly. The
// store keeps that image in memory; compaction keeps it short.
//
// durable_index() is the highest index through which the synced, verified log equals the log
// as queued: queuing TruncateSuffix(k) lowers it to k - 1 at once.
//
// Recovery (Load). The metadata is loaded first (kLost: see `amnesia`). The log file is read
// (again, up to a few times, if it does not decode cleanly, since read corruption is
// transient) and cut at the end of its longest well-formed prefix (log_file.h). Everything
// past the last sync was unacknowledged, so losing it is harmless; but if the prefix ends
// before the watermark, entries that were synced and verified — and perhaps acknowledged —
// are gone: a disk fault. The store then reports a vote barrier at the watermark; the
// replica must not vote until it has caught up from a leader past it (replica.h says why).
#ifndef HINDCAST_NODES_LOGSERVICE_LOG_STORE_H_
#define HINDCAST_NODES_LOGSERVICE_LOG_STORE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "nodes/logservice/log_file.h"
#include "nodes/logservice/logservice.pb.h"
#include "nodes/logservice/meta_store.h"
#include "nodes/node_env.h"

namespace hindcast::nodes::logservice {

struct HardState {
  uint64_t term = 0;
  std::optional<sim::NodeId> vote;
  friend bool operator==(const HardState&, const HardState&) = default;
};

class LogStore {
 public:
  struct Loaded {
    // The metadata was unreadable: term and vote are unknown (see replica.h).
    bool amnesia = false;
    HardState hard_state;
    uint64_t start_index = 0;
    uint64_t start_term = 0;
    std::vector<Entry> entries;
    uint64_t vote_barrier = 0;
    // Recovery found synced entries damaged (the barrier was raised by this load).
    bool lost_synced_entries = false;
  };
  struct Stats {
    uint64_t appends = 0;  // Batches written.
    uint64_t repairs = 0;  // Read-backs that differed.
    uint64_t compactions = 0;
  };

  explicit LogStore(NodeEnv& env);
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Once, before anything else.
  void Load(absl::AnyInvocable<void(Loaded)> done);
  bool loaded() const { return loaded_; }

  // Each queues an operation. Append's entries must continue the queued log.
  void SetHardState(const HardState& hard_state);
  void SetVoteBarrier(uint64_t barrier);
  void Append(std::vector<Entry> entries);
  void TruncateSuffix(uint64_t from_index);
  // Drops entries through `index` (term `term`) and rewrites the file as a new generation
  // holding `suffix`, the entries after `index` as queued.
  void Compact(uint64_t index, uint64_t term, std::vector<Entry> suffix);

  // Called after each operation completes.
  void set_on_progress(absl::AnyInvocable<void()> on_progress) {
    on_progress_ = std::move(on_progress);
  }

  uint64_t durable_index() const { return durable_index_; }
  const HardState& durable_hard_state() const { return durable_hard_state_; }
  uint64_t durable_vote_barrier() const { return durable_meta_.vote_barrier(); }
  uint64_t start_index() const { return start_index_; }
  bool idle() const { return !busy_ && queue_.empty(); }
  const Stats& stats() const { return stats_; }

 private:
  enum class OpKind { kAppend, kTruncate, kCompact, kMeta };
  struct Op {
    OpKind kind = OpKind::kMeta;
    std::vector<Entry> entries;
    uint64_t index = 0;
    uint64_t term = 0;
  };

  void LoadLog(const MetaStore::Loaded& meta, int attempt, DecodedLog best,
               absl::AnyInvocable<void(Loaded)> done);
  void FinishLoad(const MetaStore::Loaded& meta, DecodedLog log,
                  absl::AnyInvocable<void(Loaded)> done);

  void Enqueue(Op op);
  void RunNext();
  void RunAppend(Op op);
  void RunTruncate(uint64_t from_index);
  void RunCompact(Op op);
  // Writes the metadata (hard state, `generation_`, `watermark`), then runs `then`.
  void WriteMeta(uint64_t watermark, absl::AnyInvocable<void()> then);
  // Makes the current log file equal to image_ from `offset` on, synced; then `then`.
  void Verify(uint64_t offset, absl::AnyInvocable<void()> then);
  void Repair(int attempt, absl::AnyInvocable<void()> then);
  void Finish(uint64_t content_last_index);
  uint64_t QueuedTruncationFloor() const;

  NodeEnv& env_;
  MetaStore meta_;
  bool loaded_ = false;
  bool busy_ = false;
  std::deque<Op> queue_;
  absl::AnyInvocable<void()> on_progress_;
  Stats stats_;

  // What the next metadata write carries.
  HardState hard_state_;
  uint64_t vote_barrier_ = 0;
  // What the last verified metadata write carried.
  Meta durable_meta_;
  HardState durable_hard_state_;

  // The current log file as the completed operations (and the one running) left it.
  uint64_t generation_ = 0;
  std::string file_;
  uint64_t start_index_ = 0;
  uint64_t start_term_ = 0;
  std::string image_;
  std::vector<uint64_t> offsets_;  // Offset of entry start_index_ + 1 + k.
  uint64_t durable_index_ = 0;
};

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_LOG_STORE_H_
