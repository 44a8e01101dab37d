#include "storage/object.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/object.pb.h"
#include "storage/pb_util.h"
#include "storage/record.h"

namespace hindcast::storage {
namespace {

Timestamp Ts(int64_t physical, uint32_t logical = 0) { return Timestamp{physical, logical}; }

std::string Flip(std::string bytes, size_t bit) {
  bytes[bit / 8] =
      static_cast<char>(static_cast<unsigned char>(bytes[bit / 8]) ^ (1u << (bit % 8)));
  return bytes;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Three keys, one with three versions (the newest a tombstone). Each entry counts its key and
// value plus 24 bytes towards the 50-byte target, so blocks hold 2, 2 and 1 entries.
std::string SampleFlush(size_t block_target_bytes = 50) {
  ObjectWriter w = ObjectWriter::ForFlush({.block_target_bytes = block_target_bytes});
  w.Add("a", Ts(30), std::nullopt);
  w.Add("a", Ts(20), "a20");
  w.Add("a", Ts(10), "a10");
  w.Add("b", Ts(15), "b15");
  w.Add("c", Ts(5, 2), "");
  return std::move(w).Finish();
}

TEST(ObjectTest, AFlushObjectRoundTripsWithItsFooterTotals) {
  const absl::StatusOr<ObjectReader> r = ObjectReader::Open(SampleFlush());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind(), ObjectKind::kFlush);
  EXPECT_EQ(r->txn(), std::nullopt);
  EXPECT_EQ(r->entry_count(), 5u);
  EXPECT_EQ(r->min_key(), "a");
  EXPECT_EQ(r->max_key(), "c");
  EXPECT_EQ(r->min_commit_ts(), Ts(5, 2));
  EXPECT_EQ(r->max_commit_ts(), Ts(30));
  EXPECT_EQ(r->blocks().size(), 3u);
  EXPECT_EQ(r->blocks()[1].first_key, "a");
  EXPECT_EQ(r->blocks()[1].last_key, "b");
  EXPECT_EQ(r->Entries(), (std::vector<ObjectEntry>{{"a", Ts(30), std::nullopt},
                                                    {"a", Ts(20), "a20"},
                                                    {"a", Ts(10), "a10"},
                                                    {"b", Ts(15), "b15"},
                                                    {"c", Ts(5, 2), ""}}));
}

TEST(ObjectTest, GetReturnsTheNewestVersionStrictlyBelowTheSnapshot) {
  const ObjectReader r = ObjectReader::Open(SampleFlush()).value();
  EXPECT_EQ(r.Get("a", Ts(10)), std::nullopt);
  EXPECT_EQ(r.Get("a", Ts(20)), (ObjectEntry{"a", Ts(10), "a10"}));
  EXPECT_EQ(r.Get("a", Ts(21)), (ObjectEntry{"a", Ts(20), "a20"}));
  EXPECT_EQ(r.Get("a", Timestamp::Max()), (ObjectEntry{"a", Ts(30), std::nullopt}));
  EXPECT_EQ(r.Get("b", Ts(16)), (ObjectEntry{"b", Ts(15), "b15"}));
  EXPECT_EQ(r.Get("c", Ts(6)), (ObjectEntry{"c", Ts(5, 2), ""}));
  EXPECT_EQ(r.Get("ab", Timestamp::Max()), std::nullopt);  // Between keys.
  EXPECT_EQ(r.Get("", Timestamp::Max()), std::nullopt);    // Below the min key.
  EXPECT_EQ(r.Get("d", Timestamp::Max()), std::nullopt);   // Above the max key.
  EXPECT_EQ(r.GetNewest("a"), (ObjectEntry{"a", Ts(30), std::nullopt}));
}

TEST(ObjectTest, VersionsOfOneKeySpanningManyBlocksAreAllReachable) {
  ObjectWriter w = ObjectWriter::ForFlush({.block_target_bytes = 1});  // One entry per block.
  w.Add("a", Ts(1), "a");
  for (int64_t ts = 20; ts >= 11; --ts) w.Add("k", Ts(ts), std::to_string(ts));
  w.Add("z", Ts(1), "z");
  const ObjectReader r = ObjectReader::Open(std::move(w).Finish()).value();
  EXPECT_EQ(r.blocks().size(), 12u);
  for (int64_t snapshot = 11; snapshot <= 21; ++snapshot) {
    const std::optional<ObjectEntry> got = r.Get("k", Ts(snapshot));
    if (snapshot == 11) {
      EXPECT_EQ(got, std::nullopt);
    } else {
      EXPECT_EQ(got, (ObjectEntry{"k", Ts(snapshot - 1), std::to_string(snapshot - 1)}));
    }
  }
}

TEST(ObjectTest, ASpillObjectNamesItsTxnAndServesOnlyItsOwnReads) {
  ObjectWriter w = ObjectWriter::ForSpill(TxnId{.cn = 3, .seq = 99});
  w.AddUncommitted("x", "1");
  w.AddUncommitted("y", std::nullopt);
  const ObjectReader r = ObjectReader::Open(std::move(w).Finish()).value();
  EXPECT_EQ(r.kind(), ObjectKind::kSpill);
  EXPECT_EQ(r.txn(), (TxnId{.cn = 3, .seq = 99}));
  EXPECT_EQ(r.min_commit_ts(), Timestamp::Max());
  EXPECT_EQ(r.Get("x", Timestamp::Max()), std::nullopt);  // No commit ts: below no snapshot.
  EXPECT_EQ(r.GetNewest("x"), (ObjectEntry{"x", Timestamp::Max(), "1"}));
  EXPECT_EQ(r.GetNewest("y"), (ObjectEntry{"y", Timestamp::Max(), std::nullopt}));
  EXPECT_EQ(r.GetNewest("z"), std::nullopt);
  EXPECT_EQ(ObjectKindName(r.kind()), "spill");
}

TEST(ObjectTest, EqualContentsGiveEqualBytesEndingInTheMagic) {
  const std::string bytes = SampleFlush();
  EXPECT_EQ(SampleFlush(), bytes);
  std::string magic;
  for (int i = 0; i < 8; ++i) magic.push_back(static_cast<char>(kObjectMagic >> (8 * i)));
  EXPECT_EQ(bytes.substr(bytes.size() - 8), magic);
  EXPECT_EQ(magic, "HCOBJV01");
  EXPECT_EQ(ObjectReader::Open(bytes)->size_bytes(), bytes.size());
}

TEST(ObjectTest, OpenNamesTruncationBadMagicAndChecksumFailures) {
  const std::string bytes = SampleFlush();
  const ObjectReader r = ObjectReader::Open(bytes).value();
  struct Case {
    std::string name;
    std::string bytes;
    std::string want;
  };
  std::string bad_block = bytes;
  bad_block[r.blocks()[1].offset + kRecordHeaderBytes + 3] ^= 1;
  std::string bad_footer = bytes;
  bad_footer[r.blocks().back().offset + r.blocks().back().size_bytes + 2] ^= 1;
  std::string bad_length = bytes;
  bad_length[bytes.size() - kObjectTrailerBytes] ^= 1;
  const std::vector<Case> cases = {
      {"empty", "", "truncated: 0 bytes"},
      {"short", bytes.substr(bytes.size() - 10), "truncated: 10 bytes"},
      {"cut", bytes.substr(0, bytes.size() - 1), "bad magic"},
      {"magic", Flip(bytes, (bytes.size() - 1) * 8), "bad magic"},
      {"footer", bad_footer, "footer checksum mismatch"},
      {"length", bad_length, "footer checksum mismatch"},
      {"block", bad_block,
       "block 1 at offset " + std::to_string(r.blocks()[1].offset) + ": checksum mismatch"},
      {"prefix", std::string(5, 'x') + bytes,
       "object is " + std::to_string(bytes.size() + 5) + " bytes but its footer says"},
  };
  for (const Case& c : cases) {
    const absl::Status s = ObjectReader::Open(c.bytes).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_NE(Message(s).find(c.want), std::string::npos) << c.name << ": " << s;
  }
}

// Builds an object by hand with valid checksums, as a buggy or foreign writer would, so that
// Open's checks beyond the checksums can be reached. `blocks` are the entries per block;
// `edit` may change the footer after it is filled in from them.
std::string Craft(pb::ObjectKind kind, const std::vector<std::vector<ObjectEntry>>& blocks,
                  const std::function<void(pb::ObjectFooter*)>& edit = nullptr) {
  std::string out;
  pb::ObjectFooter footer;
  footer.set_format_version(kObjectFormatVersion);
  footer.set_kind(kind);
  if (kind == pb::OBJECT_KIND_SPILL) *footer.mutable_txn() = ToProto(TxnId{1, 1});
  Timestamp min_ts = Timestamp::Max(), max_ts = Timestamp::Min();
  uint64_t count = 0;
  for (const auto& entries : blocks) {
    pb::ObjectBlock block;
    for (const ObjectEntry& e : entries) {
      pb::ObjectEntry* pe = block.add_entries();
      pe->set_key(e.key);
      *pe->mutable_commit_ts() = ToProto(e.commit_ts);
      if (e.value.has_value()) {
        pe->set_value(*e.value);
      } else {
        pe->set_tombstone(true);
      }
      min_ts = std::min(min_ts, e.commit_ts);
      max_ts = std::max(max_ts, e.commit_ts);
      ++count;
    }
    pb::BlockHandle* h = footer.add_blocks();
    h->set_offset(out.size());
    AppendRecord(&out, SerializeDeterministic(block));
    h->set_size_bytes(out.size() - h->offset());
    h->set_entry_count(entries.size());
    h->set_first_key(entries.front().key);
    h->set_last_key(entries.back().key);
  }
  footer.set_entry_count(count);
  footer.set_min_key(blocks.front().front().key);
  footer.set_max_key(blocks.back().back().key);
  *footer.mutable_min_commit_ts() = ToProto(min_ts);
  *footer.mutable_max_commit_ts() = ToProto(max_ts);
  footer.set_object_size_bytes(1);
  if (edit) edit(&footer);
  if (footer.object_size_bytes() == 1) {
    footer.set_object_size_bytes(out.size() + footer.ByteSizeLong() + kObjectTrailerBytes);
  }
  const std::string payload = SerializeDeterministic(footer);
  std::string length;
  for (int i = 0; i < 4; ++i) length.push_back(static_cast<char>(payload.size() >> (8 * i)));
  const uint32_t crc = MaskCrc(Crc32cExtend(Crc32c(length), payload));
  out += payload + length;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(kObjectMagic >> (8 * i)));
  return out;
}

TEST(ObjectTest, CraftedObjectsWithValidChecksumsOpenOnlyWhenWellFormed) {
  const ObjectEntry a20{"a", Ts(20), "x"}, a10{"a", Ts(10), "y"}, b5{"b", Ts(5), std::nullopt};
  const ObjectEntry spill_a{"a", Timestamp::Max(), "s"}, spill_b{"b", Timestamp::Max(), "t"};
  const auto flush = pb::OBJECT_KIND_FLUSH;
  const auto spill = pb::OBJECT_KIND_SPILL;
  // The helper itself makes objects that open.
  ASSERT_TRUE(ObjectReader::Open(Craft(flush, {{a20, a10}, {b5}})).ok());
  ASSERT_TRUE(ObjectReader::Open(Craft(spill, {{spill_a}, {spill_b}})).ok());

  struct Case {
    std::string name;
    std::string bytes;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"ts ascending", Craft(flush, {{a10, a20}}),
       "block 0 at offset 0: entry 1: entries out of order"},
      {"across blocks", Craft(flush, {{b5}, {a20}}), "block 1 at offset"},
      {"duplicate", Craft(flush, {{a20}, {a20}}), "entries out of order"},
      {"max in flush", Craft(flush, {{spill_a}}), "commit ts max is not committable"},
      {"ts in spill", Craft(spill, {{a20}}), "in a spill object (want max)"},
      {"two per key in spill", Craft(spill, {{spill_a, spill_a}}), "entries out of order"},
      {"count", Craft(flush, {{a20}}, [](auto* f) { f->set_entry_count(2); }), "footer totals"},
      {"max key", Craft(flush, {{a20}}, [](auto* f) { f->set_max_key("b"); }), "footer totals"},
      {"first key",
       Craft(flush, {{a20}}, [](auto* f) { f->mutable_blocks(0)->set_first_key("0"); }),
       "block disagrees with its index entry"},
      {"gap", Craft(flush, {{a20}, {b5}}, [](auto* f) { f->mutable_blocks(1)->set_offset(1); }),
       "block 1 handle"},
      {"txn on flush", Craft(flush, {{a20}}, [](auto* f) { *f->mutable_txn() = pb::TxnId(); }),
       "txn id belongs in spill objects"},
      {"kind", Craft(flush, {{a20}}, [](auto* f) { f->set_kind(pb::OBJECT_KIND_UNSPECIFIED); }),
       "unknown object kind 0"},
      {"version", Craft(flush, {{a20}}, [](auto* f) { f->set_format_version(2); }),
       "format version 2"},
      {"size", Craft(flush, {{a20}}, [](auto* f) { f->set_object_size_bytes(7); }),
       "footer says 7"},
  };
  for (const Case& c : cases) {
    const absl::Status s = ObjectReader::Open(c.bytes).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_NE(Message(s).find(c.want), std::string::npos) << c.name << ": " << s;
  }
}

TEST(ObjectTest, EveryBitFlipAndEveryCutOfASmallObjectFailsOpen) {
  const std::string bytes = SampleFlush();
  ASSERT_EQ(ObjectReader::Open(bytes)->blocks().size(), 3u);  // Flips hit every part.
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    EXPECT_FALSE(ObjectReader::Open(Flip(bytes, bit)).ok()) << "bit " << bit;
  }
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(ObjectReader::Open(bytes.substr(0, cut)).ok()) << "cut " << cut;
  }
}

TEST(ObjectWriterDeathTest, EntriesOutOfOrderOrOfTheWrongKindAssert) {
  EXPECT_DEATH(
      {
        ObjectWriter w = ObjectWriter::ForFlush();
        w.Add("a", Ts(10), "x");
        w.Add("a", Ts(10), "y");
      },
      "key ascending, then commit ts descending");
  EXPECT_DEATH(
      {
        ObjectWriter w = ObjectWriter::ForFlush();
        w.Add("b", Ts(10), "x");
        w.Add("a", Ts(20), "y");
      },
      "key ascending, then commit ts descending");
  EXPECT_DEATH(ObjectWriter::ForFlush().AddUncommitted("a", "x"), "for spill objects");
  EXPECT_DEATH(ObjectWriter::ForSpill(TxnId{}).Add("a", Ts(1), "x"), "for flush objects");
  EXPECT_DEATH(ObjectWriter::ForFlush().Add("a", Timestamp::Max(), "x"), "committable");
  EXPECT_DEATH((void)ObjectWriter::ForFlush().Finish(), "at least one entry");
}

// --- Properties ---------------------------------------------------------------------------

// Flush entries keyed and ordered as an object orders them: key ascending, ts descending.
using FlushMap = std::map<std::pair<std::string, Timestamp>, std::optional<std::string>,
                          std::function<bool(const std::pair<std::string, Timestamp>&,
                                             const std::pair<std::string, Timestamp>&)>>;

bool EntryOrder(const std::pair<std::string, Timestamp>& x,
                const std::pair<std::string, Timestamp>& y) {
  return x.first != y.first ? x.first < y.first : x.second > y.second;
}

rc::Gen<std::string> SmallKey() {
  return rc::gen::container<std::string>(rc::gen::elementOf(std::vector<char>{'a', 'b', '\xff'}));
}

// A small timestamp space so that one key often has several versions.
Timestamp SmallTs(int8_t physical, uint8_t logical) {
  return Timestamp{physical % 6, logical % 3u};
}

rc::Gen<FlushMap> GenFlushEntries() {
  return rc::gen::exec([] {
    FlushMap entries(EntryOrder);
    const auto raw = *rc::gen::nonEmpty(
        rc::gen::container<
            std::vector<std::tuple<std::string, int8_t, uint8_t, bool, std::string>>>(
            rc::gen::tuple(SmallKey(), rc::gen::arbitrary<int8_t>(), rc::gen::arbitrary<uint8_t>(),
                           rc::gen::arbitrary<bool>(), rc::gen::arbitrary<std::string>())));
    for (const auto& [key, physical, logical, tombstone, value] : raw) {
      entries[{key, SmallTs(physical, logical)}] =
          tombstone ? std::nullopt : std::optional<std::string>(value);
    }
    return entries;
  });
}

// A workspace's writes: one per key, nullopt deleting.
rc::Gen<std::map<std::string, std::optional<std::string>>> GenSpillWrites() {
  return rc::gen::exec([] {
    std::map<std::string, std::optional<std::string>> writes;
    const auto raw =
        *rc::gen::nonEmpty(rc::gen::container<std::map<std::string, std::pair<bool, std::string>>>(
            SmallKey(), rc::gen::arbitrary<std::pair<bool, std::string>>()));
    for (const auto& [key, op] : raw) {
      writes[key] = op.first ? std::nullopt : std::optional<std::string>(op.second);
    }
    return writes;
  });
}

std::string WriteFlush(const FlushMap& entries, size_t block_target_bytes) {
  ObjectWriter w = ObjectWriter::ForFlush({.block_target_bytes = block_target_bytes});
  for (const auto& [key_ts, value] : entries) w.Add(key_ts.first, key_ts.second, value);
  return std::move(w).Finish();
}

std::string WriteSpill(const std::map<std::string, std::optional<std::string>>& writes, TxnId txn,
                       size_t block_target_bytes) {
  ObjectWriter w = ObjectWriter::ForSpill(txn, {.block_target_bytes = block_target_bytes});
  for (const auto& [key, value] : writes) w.AddUncommitted(key, value);
  return std::move(w).Finish();
}

RC_GTEST_PROP(ObjectProperty, ArbitraryFlushObjectsRoundTripAndGetEqualsANaiveRead, ()) {
  const FlushMap entries = *GenFlushEntries();
  const size_t block_target = *rc::gen::inRange<size_t>(1, 300);
  const absl::StatusOr<ObjectReader> r = ObjectReader::Open(WriteFlush(entries, block_target));
  RC_ASSERT(r.ok());
  std::vector<ObjectEntry> want;
  for (const auto& [key_ts, value] : entries) want.push_back({key_ts.first, key_ts.second, value});
  RC_ASSERT(r->Entries() == want);
  RC_ASSERT(r->entry_count() == want.size());
  std::vector<ObjectEntry> reversed;
  r->ForEachEntryReversed([&](const ObjectEntry& e) { reversed.push_back(e); });
  RC_ASSERT(std::equal(reversed.begin(), reversed.end(), want.rbegin(), want.rend()));
  std::vector<std::string> keys = {"", "a", "b", "ab", "\xff\xff", "zz"};
  std::vector<Timestamp> snapshots = {Timestamp::Min(), Timestamp::Max()};
  for (int p = -6; p <= 6; ++p) {
    for (uint32_t l = 0; l < 3; ++l) snapshots.push_back(Timestamp{p, l});
  }
  for (const ObjectEntry& e : want) keys.push_back(e.key);
  for (const std::string& key : keys) {
    for (Timestamp snapshot : snapshots) {
      std::optional<ObjectEntry> naive;  // The first (newest) entry of key below snapshot.
      for (const ObjectEntry& e : want) {
        if (e.key == key && e.commit_ts < snapshot) {
          naive = e;
          break;
        }
      }
      RC_ASSERT(r->Get(key, snapshot) == naive);
    }
    RC_ASSERT(r->GetNewest(key) == r->Get(key, Timestamp::Max()));
  }
}

RC_GTEST_PROP(ObjectProperty, ArbitrarySpillObjectsRoundTripAndServeOnlyGetNewest, ()) {
  const auto writes = *GenSpillWrites();
  const TxnId txn{*rc::gen::arbitrary<uint32_t>(), *rc::gen::arbitrary<uint64_t>()};
  const absl::StatusOr<ObjectReader> r =
      ObjectReader::Open(WriteSpill(writes, txn, *rc::gen::inRange<size_t>(1, 300)));
  RC_ASSERT(r.ok());
  RC_ASSERT(r->kind() == ObjectKind::kSpill);
  RC_ASSERT(r->txn() == std::optional<TxnId>(txn));
  std::vector<ObjectEntry> want;
  for (const auto& [key, value] : writes) want.push_back({key, Timestamp::Max(), value});
  RC_ASSERT(r->Entries() == want);
  for (const ObjectEntry& e : want) {
    RC_ASSERT(r->GetNewest(e.key) == std::optional<ObjectEntry>(e));
    RC_ASSERT(r->Get(e.key, Timestamp::Max()) == std::nullopt);
  }
}

// An object of either kind, with small blocks so that most have several.
std::string AnyObject() {
  if (*rc::gen::arbitrary<bool>()) {
    return WriteFlush(*GenFlushEntries(), *rc::gen::inRange<size_t>(1, 200));
  }
  const auto writes = *GenSpillWrites();
  return WriteSpill(writes, TxnId{1, 2}, *rc::gen::inRange<size_t>(1, 200));
}

RC_GTEST_PROP(ObjectProperty, AnySingleBitFlipMakesOpenFail, ()) {
  const std::string bytes = AnyObject();
  const size_t bit = *rc::gen::inRange<size_t>(0, bytes.size() * 8);
  const absl::StatusOr<ObjectReader> r = ObjectReader::Open(Flip(bytes, bit));
  RC_ASSERT(r.status().code() == absl::StatusCode::kDataLoss);
}

RC_GTEST_PROP(ObjectProperty, AnyTruncationMakesOpenFail, ()) {
  const std::string bytes = AnyObject();
  const size_t cut = *rc::gen::inRange<size_t>(0, bytes.size());
  RC_ASSERT(ObjectReader::Open(std::string_view(bytes).substr(0, cut)).status().code() ==
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace hindcast::storage
