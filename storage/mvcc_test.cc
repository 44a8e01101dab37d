#include "storage/mvcc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/key_range.h"
#include "storage/timestamp.h"

namespace hindcast::storage {
namespace {

Timestamp Ts(int64_t physical, uint32_t logical = 0) { return Timestamp{physical, logical}; }

using Listed = std::vector<std::pair<std::string, Version>>;

Listed ListVersions(const VersionedTable& table) {
  Listed out;
  table.ForEachVersion(
      [&out](std::string_view key, const Version& v) { out.emplace_back(std::string(key), v); });
  return out;
}

TEST(KeyRangeTest, PrefixEndIsTheFirstKeyPastEveryKeyWithThePrefix) {
  EXPECT_EQ(KeyRange::Prefix("user/").end, std::optional<std::string>("user0"));
  EXPECT_EQ(KeyRange::Prefix("a\xff\xff").end, std::optional<std::string>("b"));
  EXPECT_EQ(KeyRange::Prefix("\xff\xff").end, std::nullopt);
  EXPECT_EQ(KeyRange::Prefix("").end, std::nullopt);
  const KeyRange r = KeyRange::Prefix("a\xff");
  EXPECT_TRUE(r.Contains("a\xff"));
  EXPECT_TRUE(r.Contains("a\xff\xff\xff"));
  EXPECT_FALSE(r.Contains("b"));
  EXPECT_FALSE(r.Contains("a"));
  EXPECT_TRUE(KeyRange::All().Contains(""));
  EXPECT_TRUE(KeyRange::Between("b", "d").Contains("c"));
  EXPECT_FALSE(KeyRange::Between("b", "d").Contains("d"));
}

TEST(VersionedTableTest, ReadSeesOnlyVersionsCommittedStrictlyBelowTheSnapshot) {
  VersionedTable t;
  t.Apply("k", Ts(10), "v10");
  t.Apply("k", Ts(20), "v20");
  EXPECT_EQ(t.Read("k", Ts(10)), std::nullopt);  // A commit at the snapshot is not seen.
  EXPECT_EQ(t.Read("k", Ts(10, 1)), "v10");
  EXPECT_EQ(t.Read("k", Ts(20)), "v10");
  EXPECT_EQ(t.Read("k", Ts(20, 1)), "v20");
  EXPECT_EQ(t.Read("k", Timestamp::Max()), "v20");
  EXPECT_EQ(t.Read("other", Timestamp::Max()), std::nullopt);
  EXPECT_EQ(t.ReadVersion("k", Ts(15)), (Version{Ts(10), "v10"}));
  EXPECT_EQ(t.key_count(), 1u);
  EXPECT_EQ(t.version_count(), 2u);
  t.CheckInvariants();
}

// A feed that overlaps what the table has (a LogTail push after a snapshot) skips the
// versions it repeats and applies the rest, tombstones included.
TEST(VersionedTableTest, ApplyIfNewerSkipsVersionsAtOrBelowTheNewest) {
  VersionedTable t;
  EXPECT_TRUE(t.ApplyIfNewer("k", Ts(10), "v10"));
  EXPECT_FALSE(t.ApplyIfNewer("k", Ts(10), "again"));
  EXPECT_FALSE(t.ApplyIfNewer("k", Ts(5), "older"));
  EXPECT_TRUE(t.ApplyIfNewer("k", Ts(20), std::nullopt));
  EXPECT_TRUE(t.ApplyIfNewer("j", Ts(1), "j1"));
  EXPECT_EQ(t.ReadVersion("k", Ts(15)), (Version{Ts(10), "v10"}));
  EXPECT_EQ(t.ReadVersion("k", Timestamp::Max()), (Version{Ts(20), std::nullopt}));
  EXPECT_EQ(t.Read("j", Timestamp::Max()), "j1");
  EXPECT_EQ(t.version_count(), 3u);
  t.CheckInvariants();
}

TEST(VersionedTableTest, ATombstoneHidesOlderValuesAndIsVisibleToReadVersion) {
  VersionedTable t;
  t.Apply("k", Ts(10), "v");
  t.Apply("k", Ts(20), std::nullopt);
  t.Apply("k", Ts(30), "");  // An empty value is a value, not a delete.
  EXPECT_EQ(t.Read("k", Ts(25)), std::nullopt);
  EXPECT_EQ(t.ReadVersion("k", Ts(25)), (Version{Ts(20), std::nullopt}));
  EXPECT_TRUE(t.ReadVersion("k", Ts(25))->is_tombstone());
  EXPECT_EQ(t.Read("k", Ts(31)), "");
  EXPECT_EQ(t.NewestCommitTs("k"), Ts(30));
  EXPECT_EQ(t.NewestCommitTs("none"), std::nullopt);
}

TEST(VersionedTableTest, ScanReturnsTheRangesLiveRowsInKeyOrder) {
  VersionedTable t;
  t.Apply("b", Ts(10), "b1");
  t.Apply("a", Ts(10), "a1");
  t.Apply("ab", Ts(10), "ab1");
  t.Apply("ab", Ts(20), std::nullopt);
  t.Apply("c", Ts(30), "c1");
  EXPECT_EQ(t.Scan(KeyRange::All(), Ts(25)), (std::vector<Row>{{"a", "a1"}, {"b", "b1"}}));
  EXPECT_EQ(t.Scan(KeyRange::All(), Ts(15)),
            (std::vector<Row>{{"a", "a1"}, {"ab", "ab1"}, {"b", "b1"}}));
  EXPECT_EQ(t.Scan(KeyRange::Prefix("a"), Ts(15)), (std::vector<Row>{{"a", "a1"}, {"ab", "ab1"}}));
  EXPECT_EQ(t.Scan(KeyRange::Between("ab", "c"), Timestamp::Max()),
            (std::vector<Row>{{"b", "b1"}}));
  EXPECT_EQ(t.Scan(KeyRange::Between("b", "b"), Timestamp::Max()), std::vector<Row>{});
}

TEST(VersionedTableTest, HasWriteInIsOpenBelowAndClosedAbove) {
  VersionedTable t;
  t.Apply("k", Ts(10), "v");
  t.Apply("k", Ts(20), "w");
  EXPECT_TRUE(t.HasWriteIn("k", Ts(9), Ts(10)));
  EXPECT_FALSE(t.HasWriteIn("k", Ts(10), Ts(19)));
  EXPECT_TRUE(t.HasWriteIn("k", Ts(10), Ts(20)));
  EXPECT_FALSE(t.HasWriteIn("k", Ts(20), Ts(99)));
  EXPECT_FALSE(t.HasWriteIn("k", Ts(15), Ts(15)));
  EXPECT_FALSE(t.HasWriteIn("other", Timestamp::Min(), Timestamp::Max()));
}

TEST(VersionedTableTest, HasWriteUnseenByCountsACommitAtTheSnapshotItself) {
  VersionedTable t;
  t.Apply("k", Ts(10), "v");
  // A transaction with snapshot 10 did not see the commit at 10, so it conflicts with it.
  EXPECT_TRUE(t.HasWriteUnseenBy("k", Ts(10), Ts(12)));
  EXPECT_FALSE(t.HasWriteUnseenBy("k", Ts(10, 1), Ts(12)));
  EXPECT_FALSE(t.HasWriteUnseenBy("k", Ts(5), Ts(9)));
  EXPECT_TRUE(t.HasWriteUnseenBy("k", Ts(5), Ts(10)));
  EXPECT_FALSE(t.HasWriteUnseenBy("k", Ts(12), Ts(11)));  // An empty window.
}

TEST(VersionedTableTest, GarbageCollectKeepsTheNewestVersionBelowTheHorizon) {
  VersionedTable t;
  for (int64_t ts : {10, 20, 30, 40}) t.Apply("k", Ts(ts), std::to_string(ts));
  t.Apply("gone", Ts(5), "x");
  t.Apply("gone", Ts(6), std::nullopt);
  t.Apply("new", Ts(50), "n");
  EXPECT_EQ(t.GarbageCollect(Ts(30)), 2u);  // k@10 and gone@5; k@20 is what 30 reads.
  EXPECT_EQ(ListVersions(t), (Listed{{"gone", {Ts(6), std::nullopt}},
                                     {"k", {Ts(40), "40"}},
                                     {"k", {Ts(30), "30"}},
                                     {"k", {Ts(20), "20"}},
                                     {"new", {Ts(50), "n"}}}));
  EXPECT_EQ(t.Read("k", Ts(30)), "20");
  EXPECT_EQ(t.version_count(), 5u);
  EXPECT_EQ(t.GarbageCollect(Ts(30)), 0u);  // Idempotent.
  t.CheckInvariants();
}

TEST(VersionedTableTest, TruncateDropsEverythingBelowAndForgetsEmptyKeys) {
  VersionedTable t;
  t.Apply("a", Ts(10), "a10");
  t.Apply("a", Ts(20), "a20");
  t.Apply("b", Ts(15), "b15");
  EXPECT_EQ(t.Truncate(Ts(20)), 2u);
  EXPECT_EQ(ListVersions(t), (Listed{{"a", {Ts(20), "a20"}}}));
  EXPECT_EQ(t.NewestCommitTs("b"), std::nullopt);
  EXPECT_EQ(t.key_count(), 1u);
  EXPECT_EQ(t.truncated_below(), Ts(20));
  t.Apply("b", Ts(20), "b20");  // At the truncation point is allowed.
  EXPECT_EQ(t.Truncate(Ts(5)), 0u);
  EXPECT_EQ(t.truncated_below(), Ts(20));  // Never lowered.
  t.CheckInvariants();
}

TEST(VersionedTableTest, ForEachVersionGoesByKeyAscendingThenCommitTsDescending) {
  VersionedTable t;
  t.Apply("b", Ts(1), "b1");
  t.Apply("a", Ts(2), "a2");
  t.Apply("a", Ts(3), std::nullopt);
  t.Apply("b", Ts(4), "b4");
  EXPECT_EQ(ListVersions(t), (Listed{{"a", {Ts(3), std::nullopt}},
                                     {"a", {Ts(2), "a2"}},
                                     {"b", {Ts(4), "b4"}},
                                     {"b", {Ts(1), "b1"}}}));
  Listed window;
  t.ForEachVersionIn(Ts(2), Ts(4), [&](std::string_view key, const Version& v) {
    window.emplace_back(std::string(key), v);
  });
  EXPECT_EQ(window, (Listed{{"a", {Ts(3), std::nullopt}}, {"a", {Ts(2), "a2"}}}));
}

TEST(VersionedTableTest, CopiesAndMovesAreIndependentWholeTables) {
  // The table keeps its chains in a hash map that its key order points into; a copy must
  // point into its own, and a moved-to table must keep working.
  VersionedTable t;
  t.Apply("long key past the small-string buffer", Ts(1), "x1");
  t.Apply("b", Ts(2), "b2");
  t.Truncate(Ts(1));
  VersionedTable copy(t);
  t.Apply("b", Ts(3), std::nullopt);
  t.Apply("c", Ts(4), "c4");
  EXPECT_EQ(t.Truncate(Ts(4)), 3u);
  EXPECT_EQ(ListVersions(copy), (Listed{{"b", {Ts(2), "b2"}},
                                        {"long key past the small-string buffer", {Ts(1), "x1"}}}));
  EXPECT_EQ(copy.truncated_below(), Ts(1));
  copy.CheckInvariants();
  copy = t;
  EXPECT_EQ(ListVersions(copy), (Listed{{"c", {Ts(4), "c4"}}}));
  const VersionedTable& same = copy;
  copy = same;  // Self-assignment keeps the table.
  EXPECT_EQ(ListVersions(copy), (Listed{{"c", {Ts(4), "c4"}}}));
  copy.CheckInvariants();
  VersionedTable moved(std::move(copy));
  moved.Apply("a", Ts(5), "a5");
  EXPECT_EQ(moved.Read("a", Ts(6)), "a5");
  EXPECT_EQ(moved.Read("c", Ts(6)), "c4");
  EXPECT_EQ(moved.Scan(KeyRange::All(), Ts(6)), (std::vector<Row>{{"a", "a5"}, {"c", "c4"}}));
  moved.CheckInvariants();
  t.CheckInvariants();
}

TEST(VersionedTableDeathTest, ApplyingAVersionNotNewerThanTheKeysNewestAsserts) {
  VersionedTable t;
  t.Apply("k", Ts(10), "v");
  EXPECT_DEATH(t.Apply("k", Ts(10), "again"), "strictly increasing commit ts");
  EXPECT_DEATH(t.Apply("k", Ts(9), "older"), "strictly increasing commit ts");
  EXPECT_DEATH(t.Apply("k", Timestamp::Max(), "x"), "strictly between Min and Max");
  (void)t.Truncate(Ts(20));
  EXPECT_DEATH(t.Apply("j", Ts(19), "x"), "below the truncation point");
}

// --- The naive model ----------------------------------------------------------------------

struct ModelVersion {
  std::string key;
  Timestamp ts;
  std::optional<std::string> value;
};

// Every version in one vector; each query is the definition, by brute force.
struct Model {
  std::vector<ModelVersion> versions;
  Timestamp truncated_below = Timestamp::Min();

  std::optional<Version> ReadVersion(const std::string& key, Timestamp snapshot) const {
    std::optional<Version> best;
    for (const ModelVersion& v : versions) {
      if (v.key == key && v.ts < snapshot && (!best || best->commit_ts < v.ts)) {
        best = Version{v.ts, v.value};
      }
    }
    return best;
  }
  std::optional<Timestamp> Newest(const std::string& key) const {
    return ReadVersion(key, Timestamp::Max()).has_value()
               ? std::optional(ReadVersion(key, Timestamp::Max())->commit_ts)
               : std::nullopt;
  }
  bool AnyIn(const std::string& key, Timestamp lo_inclusive, Timestamp hi_inclusive) const {
    return std::any_of(versions.begin(), versions.end(), [&](const ModelVersion& v) {
      return v.key == key && lo_inclusive <= v.ts && v.ts <= hi_inclusive;
    });
  }
  std::vector<Row> Scan(const KeyRange& range, Timestamp snapshot,
                        const std::vector<std::string>& keys) const {
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    std::vector<Row> rows;
    for (const std::string& key : sorted) {
      const std::optional<Version> v = ReadVersion(key, snapshot);
      if (range.Contains(key) && v.has_value() && !v->is_tombstone()) {
        rows.push_back(Row{key, *v->value});
      }
    }
    return rows;
  }
  void GarbageCollect(Timestamp horizon) {
    std::vector<ModelVersion> kept;
    for (const ModelVersion& v : versions) {
      const std::optional<Version> newest_below = ReadVersion(v.key, horizon);
      if (!newest_below.has_value() || v.ts >= newest_below->commit_ts) kept.push_back(v);
    }
    versions = std::move(kept);
  }
  void Truncate(Timestamp below) {
    std::erase_if(versions, [below](const ModelVersion& v) { return v.ts < below; });
    truncated_below = std::max(truncated_below, below);
  }
  Listed List() const {
    Listed out;
    for (const ModelVersion& v : versions) out.emplace_back(v.key, Version{v.ts, v.value});
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : x.second.commit_ts > y.second.commit_ts;
    });
    return out;
  }
};

std::vector<std::string> ModelKeys() { return {"", "a", "ab", "b", "\xff"}; }

// A small timestamp space so that versions, snapshots and horizons collide often.
Timestamp SmallTs(uint8_t x) { return Timestamp{x % 10, static_cast<uint32_t>(x / 10 % 3)}; }

std::vector<Timestamp> EverySnapshot() {
  std::vector<Timestamp> out = {Timestamp::Min(), Timestamp::Max()};
  for (int x = 0; x < 30; ++x) out.push_back(SmallTs(static_cast<uint8_t>(x)));
  return out;
}

void CheckAgainstModel(const VersionedTable& t, const Model& m, Timestamp lo, Timestamp hi) {
  t.CheckInvariants();
  RC_ASSERT(ListVersions(t) == m.List());
  RC_ASSERT(t.version_count() == m.versions.size());
  RC_ASSERT(t.truncated_below() == m.truncated_below);
  for (const std::string& key : ModelKeys()) {
    RC_ASSERT(t.NewestCommitTs(key) == m.Newest(key));
    for (Timestamp s : EverySnapshot()) {
      const std::optional<Version> want = m.ReadVersion(key, s);
      RC_ASSERT(t.ReadVersion(key, s) == want);
      RC_ASSERT(t.Read(key, s) == (want.has_value() ? want->value : std::nullopt));
    }
    if (lo <= hi) {
      RC_ASSERT(t.HasWriteIn(key, lo, hi) ==
                (lo < Timestamp::Max() && m.AnyIn(key, lo.Next(), hi)));
    }
    RC_ASSERT(t.HasWriteUnseenBy(key, lo, hi) == m.AnyIn(key, lo, hi));
  }
}

// Ops: (kind, key, a, b, value). Kinds: 0-4 apply, 5 scan, 6 garbage collect, 7 truncate.
using Op = std::tuple<uint8_t, uint8_t, uint8_t, uint8_t, std::string>;

RC_GTEST_PROP(VersionedTableProperty, ReadsScansAndConflictChecksEqualANaiveModelOfAllVersions,
              (const std::vector<Op>& ops)) {
  VersionedTable t;
  Model m;
  const std::vector<std::string> keys = ModelKeys();
  for (const auto& [kind, key_index, a, b, value] : ops) {
    const std::string& key = keys[key_index % keys.size()];
    switch (kind % 8) {
      case 5: {
        const std::string& other = keys[b % keys.size()];
        const KeyRange range = a % 3 == 0   ? KeyRange::All()
                               : a % 3 == 1 ? KeyRange::Prefix(key)
                                            : KeyRange::Between(key, other);
        RC_ASSERT(t.Scan(range, SmallTs(b)) == m.Scan(range, SmallTs(b), keys));
        break;
      }
      case 6: {
        const size_t before = t.version_count();
        m.GarbageCollect(SmallTs(a));
        RC_ASSERT(t.GarbageCollect(SmallTs(a)) == before - m.versions.size());
        break;
      }
      case 7: {
        const size_t before = t.version_count();
        m.Truncate(SmallTs(a));
        RC_ASSERT(t.Truncate(SmallTs(a)) == before - m.versions.size());
        break;
      }
      default: {
        // The smallest commit ts the table accepts for this key, or a drawn one above it.
        const std::optional<Timestamp> newest = m.Newest(key);
        Timestamp ts = std::max(SmallTs(a), m.truncated_below);
        if (newest.has_value()) ts = std::max(ts, newest->Next());
        if (!ts.IsCommittable()) ts = Timestamp::Min().Next();
        const std::optional<std::string> v =
            b % 4 == 0 ? std::nullopt : std::optional<std::string>(value);
        t.Apply(key, ts, v);
        m.versions.push_back(ModelVersion{key, ts, v});
        break;
      }
    }
    CheckAgainstModel(t, m, SmallTs(a), SmallTs(b));
  }
}

// Applies: (key index, commit step, tombstone). Each apply lands after the key's newest.
using Applies = std::vector<std::tuple<uint8_t, uint8_t, bool>>;

// A table of the given applies, each bumped past its key's newest version when it is not.
VersionedTable TableOf(const Applies& applies) {
  VersionedTable table;
  const std::vector<std::string> keys = ModelKeys();
  for (const auto& [key_index, step, tombstone] : applies) {
    const std::string& key = keys[key_index % keys.size()];
    const std::optional<Timestamp> newest = table.NewestCommitTs(key);
    Timestamp ts = std::max(SmallTs(step), Timestamp::Min().Next());
    if (newest.has_value()) ts = std::max(ts, newest->Next());
    table.Apply(key, ts, tombstone ? std::nullopt : std::optional<std::string_view>("v"));
  }
  return table;
}

RC_GTEST_PROP(VersionedTableProperty,
              GarbageCollectNeverChangesReadsOrConflictChecksAtOrAboveTheHorizon,
              (const Applies& applies, uint8_t h)) {
  const VersionedTable full = TableOf(applies);
  const std::vector<std::string> keys = ModelKeys();
  VersionedTable collected = full;
  const Timestamp horizon = SmallTs(h);
  (void)collected.GarbageCollect(horizon);
  collected.CheckInvariants();
  for (const std::string& key : keys) {
    RC_ASSERT(collected.NewestCommitTs(key) == full.NewestCommitTs(key));
    for (Timestamp s : EverySnapshot()) {
      if (s < horizon) continue;
      RC_ASSERT(collected.ReadVersion(key, s) == full.ReadVersion(key, s));
      RC_ASSERT(collected.Scan(KeyRange::All(), s) == full.Scan(KeyRange::All(), s));
      for (Timestamp upto : EverySnapshot()) {
        RC_ASSERT(collected.HasWriteUnseenBy(key, s, upto) == full.HasWriteUnseenBy(key, s, upto));
      }
    }
  }
}

RC_GTEST_PROP(VersionedTableProperty, MoveBelowSplitsATableWithoutChangingAnyRead,
              (const Applies& applies, uint8_t cut, uint8_t first_cut)) {
  const VersionedTable full = TableOf(applies);
  const std::vector<std::string> keys = ModelKeys();
  // Two moves, as a CN makes as objects arrive: the second appends to what the first moved.
  VersionedTable newer = full;
  VersionedTable older;
  const Timestamp below = std::max(SmallTs(cut), SmallTs(first_cut));
  const size_t first = newer.MoveBelow(std::min(SmallTs(cut), SmallTs(first_cut)), &older);
  const size_t second = newer.MoveBelow(below, &older);
  newer.CheckInvariants();
  older.CheckInvariants();
  RC_ASSERT(first + second == older.version_count());
  RC_ASSERT(newer.version_count() + older.version_count() == full.version_count());
  RC_ASSERT(newer.truncated_below() == below);
  for (const std::string& key : keys) {
    for (Timestamp s : EverySnapshot()) {
      std::optional<Version> a = newer.ReadVersion(key, s);
      const std::optional<Version> b = older.ReadVersion(key, s);
      if (b.has_value() && (!a.has_value() || b->commit_ts > a->commit_ts)) a = b;
      RC_ASSERT(a == full.ReadVersion(key, s));
    }
  }
}

}  // namespace
}  // namespace hindcast::storage
