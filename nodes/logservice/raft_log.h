// RaftLog: a replica's in-memory Raft log — a compaction point (start index and term) followed
// by entries with consecutive indexes — and the (client id, seq) index used to deduplicate
// client appends.
//
//   RaftLog log;                       // Empty, starting after index 0 of term 0.
//   log.Append(entry);                 // entry.index() == log.last_index() + 1
//   std::optional<uint64_t> t = log.TermAt(5);
//   log.TruncateSuffix(4);             // Drops entries 4.. (uncommitted ones only).
//   log.CompactTo(3, 2);               // Drops entries ..3; keeps the rest if 3 has term 2.
//
// Invariants (asserted): indexes are consecutive from start_index() + 1; terms never
// decrease along the log and are >= start_term(); the dedup index holds exactly the DATA
// entries of the log. One request may appear twice: a leader deduplicates against its
// retained log only, so a retry that arrives after the original was compacted away there is
// appended again, and a follower that has not compacted yet then holds both.
#ifndef HINDCAST_NODES_LOGSERVICE_RAFT_LOG_H_
#define HINDCAST_NODES_LOGSERVICE_RAFT_LOG_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "nodes/logservice/logservice.pb.h"

namespace hindcast::nodes::logservice {

class RaftLog {
 public:
  RaftLog() = default;
  // A log starting after (start_index, start_term) holding `entries`, which must follow it.
  RaftLog(uint64_t start_index, uint64_t start_term, std::vector<Entry> entries);

  uint64_t start_index() const { return start_index_; }
  uint64_t start_term() const { return start_term_; }
  uint64_t last_index() const { return start_index_ + entries_.size(); }
  uint64_t last_term() const { return entries_.empty() ? start_term_ : entries_.back().term(); }
  // The term of the entry at `index`, or of the compaction point; nullopt outside the log.
  std::optional<uint64_t> TermAt(uint64_t index) const;
  bool Contains(uint64_t index) const { return index > start_index_ && index <= last_index(); }
  // The entry at `index`; Contains(index) must hold.
  const Entry& At(uint64_t index) const;
  // Copies of the entries in [from, to], clipped to the log.
  std::vector<Entry> Slice(uint64_t from, uint64_t to) const;
  // The first index of the run of entries with the same term as `index` (Contains(index)).
  uint64_t FirstIndexOfTermAt(uint64_t index) const;

  void Append(Entry entry);
  // Drops the entries from `from_index` on (from_index > start_index()).
  void TruncateSuffix(uint64_t from_index);
  // Moves the compaction point to (index, term). When the log holds `index` with `term`, the
  // entries after it stay; otherwise the whole log is replaced by the empty log at the point.
  void CompactTo(uint64_t index, uint64_t term);

  // The lowest index of a DATA entry (client_id, seq) still in the log, if any.
  std::optional<uint64_t> FindClientEntry(uint64_t client_id, uint64_t seq) const;

 private:
  void Unindex(const Entry& entry);

  uint64_t start_index_ = 0;
  uint64_t start_term_ = 0;
  std::deque<Entry> entries_;
  // (client_id, seq, index) of every DATA entry.
  absl::btree_set<std::tuple<uint64_t, uint64_t, uint64_t>> client_entries_;
};

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_RAFT_LOG_H_
