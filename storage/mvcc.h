// A multi-version row store: every committed version of every key, each stamped with its
// commit timestamp. The TN keeps one for recent commits (the LogTail it pushes and later
// flushes); each CN keeps one for the LogTail it has applied.
//
//   VersionedTable table;
//   table.Apply("k", Timestamp{10, 0}, "v1");
//   table.Apply("k", Timestamp{20, 0}, std::nullopt);  // A delete leaves a tombstone.
//   table.Read("k", Timestamp{20, 0});                 // "v1": commit 20 is not below 20.
//   table.Read("k", Timestamp{20, 1});                 // nullopt: deleted.
//   table.HasWriteUnseenBy("k", Timestamp{15, 0}, Timestamp{25, 0});  // true: 20 in [15, 25].
//
// Visibility. A snapshot at ts sees exactly the versions whose commit ts is strictly below
// ts (DESIGN.md: "commit ts below the snapshot", as MatrixOne reads). So a snapshot equal to
// a commit ts does not see that commit, and a conflict check for a transaction with snapshot
// s must count a commit at s itself: use HasWriteUnseenBy, whose window is [s, upto].
//
// Invariants, checked on the write and the read path: each key's versions are strictly
// increasing in commit ts; every stored commit ts is committable (between Min() and Max());
// no key has an empty version list; version_count() is the sum of the lists' lengths; no
// version is below truncated_below().
//
// Not thread-safe (nothing in a simulation is). Deterministic: iteration is in key order.
#ifndef HINDCAST_STORAGE_MVCC_H_
#define HINDCAST_STORAGE_MVCC_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/functional/function_ref.h"
#include "sim/string_order.h"
#include "storage/key_range.h"
#include "storage/timestamp.h"

namespace hindcast::storage {

struct Version {
  Timestamp commit_ts;
  std::optional<std::string> value;  // nullopt: a tombstone (the key was deleted).

  bool is_tombstone() const { return !value.has_value(); }
  bool operator==(const Version&) const = default;
};

struct Row {
  std::string key;
  std::string value;

  bool operator==(const Row&) const = default;
};

class VersionedTable {
 public:
  VersionedTable() = default;
  VersionedTable(const VersionedTable& other);
  VersionedTable& operator=(const VersionedTable& other);
  VersionedTable(VersionedTable&&) = default;
  VersionedTable& operator=(VersionedTable&&) = default;

  // Adds the version of `key` committed at `commit_ts`; nullopt deletes. Asserts that
  // commit_ts is committable, at or above truncated_below(), and strictly newer than the
  // key's newest version. Why strictly newer: the TN assigns commit timestamps in increasing
  // order and every table is fed in commit order (the log's order), so an older version
  // arriving late means the feed is out of order, and a snapshot between the two may already
  // have been served a read that missed it; an equal one means two commits at one timestamp
  // wrote one key (commit timestamps not unique) or one commit was applied twice (the caller
  // must skip what it already applied). Either way the table would lie, so it stops.
  void Apply(std::string_view key, Timestamp commit_ts, std::optional<std::string_view> value);
  // Apply, unless the key already has a version at or above `commit_ts`: a feed that may
  // repeat what the table got from elsewhere (a LogTail push overlapping an object). Returns
  // whether it applied. One lookup of a key already in the table.
  bool ApplyIfNewer(std::string_view key, Timestamp commit_ts,
                    std::optional<std::string_view> value);

  // The value of `key` at `snapshot`: the newest version with commit ts < snapshot, or
  // nullopt if there is none or it is a tombstone.
  [[nodiscard]] std::optional<std::string> Read(std::string_view key, Timestamp snapshot) const;
  // The same version, tombstones included, so a caller merging this table over older data
  // (the object store) can tell "deleted here" from "not here".
  [[nodiscard]] std::optional<Version> ReadVersion(std::string_view key, Timestamp snapshot) const;
  // The same version in place (nullptr if none), valid until the table is next modified.
  [[nodiscard]] const Version* VisibleVersion(std::string_view key, Timestamp snapshot) const;
  // The live (non-tombstone) values visible at `snapshot` of the keys in `range`, by key.
  [[nodiscard]] std::vector<Row> Scan(const KeyRange& range, Timestamp snapshot) const;

  // The commit ts of the key's newest version, tombstones included; nullopt if none.
  [[nodiscard]] std::optional<Timestamp> NewestCommitTs(std::string_view key) const;
  // Whether some version of `key` has after_exclusive < commit ts <= upto_inclusive.
  // Asserts after_exclusive <= upto_inclusive.
  [[nodiscard]] bool HasWriteIn(std::string_view key, Timestamp after_exclusive,
                                Timestamp upto_inclusive) const;
  // The TN's write-write conflict check: whether some version of `key` was committed that a
  // snapshot at `snapshot` does not see and that is at or below `upto_inclusive` (the commit
  // ts being assigned): snapshot <= commit ts <= upto_inclusive.
  [[nodiscard]] bool HasWriteUnseenBy(std::string_view key, Timestamp snapshot,
                                      Timestamp upto_inclusive) const;

  // Drops the versions no snapshot at or above `horizon` can see: for each key, everything
  // older than its newest version below `horizon` (which is kept, even if a tombstone, so
  // NewestCommitTs and the order check in Apply stay exact). Afterwards Read, ReadVersion
  // and Scan at any snapshot >= horizon, and HasWriteUnseenBy with snapshot >= horizon,
  // answer as before. Returns the number of versions dropped.
  size_t GarbageCollect(Timestamp horizon);
  // Drops every version with commit ts < `below`, for a table whose older versions now live
  // elsewhere (flushed to the object store). Keys left with no version disappear. Raises
  // truncated_below() to `below` if lower; Apply below it asserts from then on. Returns the
  // number of versions dropped.
  size_t Truncate(Timestamp below);

  // Moves every version with commit ts < `below` into `older`, whose versions of each key
  // must all be older than the moved ones (it holds an earlier part of the same history),
  // then raises truncated_below() as Truncate does. Afterwards, for every key and snapshot,
  // the newer of this table's and `older`'s visible versions is what this table alone gave
  // before. Returns the number of versions moved.
  size_t MoveBelow(Timestamp below, VersionedTable* older);

  // Calls fn for every version, by key ascending and, within a key, commit ts descending
  // (newest first): the entry order of flush objects (storage/object.h), so a flush is a
  // straight copy. The table must not be modified from within fn.
  void ForEachVersion(absl::FunctionRef<void(std::string_view key, const Version&)> fn) const;
  // As ForEachVersion, restricted to from_inclusive <= commit ts < to_exclusive.
  void ForEachVersionIn(Timestamp from_inclusive, Timestamp to_exclusive,
                        absl::FunctionRef<void(std::string_view key, const Version&)> fn) const;

  size_t key_count() const { return chains_.size(); }
  size_t version_count() const { return version_count_; }
  Timestamp truncated_below() const { return truncated_below_; }

  // Walks everything and asserts the invariants above. O(versions); for tests and for
  // checks after recovery.
  void CheckInvariants() const;

 private:
  // One key's versions, commit ts strictly ascending, never empty.
  using Chain = std::vector<Version>;

  using Ordered = absl::btree_map<std::string_view, Chain*, sim::StringOrder>;

  // Adds a version at the end of `chain` (Apply's checks and bookkeeping).
  void Append(Chain& chain, Timestamp commit_ts, std::optional<std::string_view> value);
  // The chain of `key`, or nullptr.
  const Chain* Find(std::string_view key) const;
  // The chain of `key`, made empty if the key is new.
  Chain& FindOrAdd(std::string_view key);
  // Removes the key of `it`, whose chain is empty; returns the next key's position.
  Ordered::iterator Erase(Ordered::iterator it);
  // Index of the first version with commit ts >= ts (chain.size() if none).
  static size_t FirstAtOrAbove(const Chain& chain, Timestamp ts);

  // Each key's chain lives in a node of `store_`, which never moves it, so `chains_` can
  // point at it and view the key. Point operations (the read and apply paths) take one hash
  // lookup; everything that walks keys walks `chains_`, in key order. A btree keyed by
  // strings costs a string compare per level, and those lookups were 5% of a cluster run.
  absl::node_hash_map<std::string, Chain, sim::StringHash, sim::StringEq> store_;  // lookup-only
  Ordered chains_;
  size_t version_count_ = 0;
  Timestamp truncated_below_ = Timestamp::Min();
};

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_MVCC_H_
