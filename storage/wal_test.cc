#include "storage/wal.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/record.h"
#include "storage/wal.pb.h"

namespace hindcast::storage {
namespace {

CommitRecord Sample(uint64_t seq) {
  return CommitRecord{.txn = {.cn = 2, .seq = seq},
                      .snapshot_ts = {100, 0},
                      .commit_ts = {105, 3},
                      .writes = {{"a", "1"}, {"b", std::nullopt}, {"c", ""}},
                      .lock_binds = {{.table_id = 7, .service_id = "cn2", .version = 4},
                                     {.table_id = 9, .service_id = "", .version = 1}}};
}

std::string Flip(std::string bytes, size_t bit) {
  bytes[bit / 8] =
      static_cast<char>(static_cast<unsigned char>(bytes[bit / 8]) ^ (1u << (bit % 8)));
  return bytes;
}

bool Contains(const absl::Status& s, std::string_view text) {
  return std::string_view(s.message().data(), s.message().size()).find(text) !=
         std::string_view::npos;
}

TEST(WalTest, RoundTripsPutsDeletesEmptyValuesAndLockBinds) {
  std::string log;
  AppendCommitRecord(&log, Sample(1));
  AppendCommitRecord(&log, CommitRecord{.txn = {.cn = 0, .seq = 0}, .commit_ts = {1, 0}});
  const absl::StatusOr<std::vector<CommitRecord>> back = DecodeCommitRecords(log);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], Sample(1));
  EXPECT_EQ((*back)[1].writes, std::vector<WriteOp>{});
  EXPECT_EQ((*back)[1].commit_ts, (Timestamp{1, 0}));
  EXPECT_EQ(DecodeCommitRecords("").value(), std::vector<CommitRecord>{});
}

TEST(WalTest, AFrameHoldsTheDeterministicPayload) {
  const std::string payload = SerializeCommitRecord(Sample(1));
  EXPECT_EQ(EncodeCommitRecord(Sample(1)), EncodeRecord(payload));
  EXPECT_EQ(SerializeCommitRecord(Sample(1)), payload);
  EXPECT_EQ(SerializeCommitRecord(ParseCommitRecord(payload).value()), payload);
  EXPECT_NE(SerializeCommitRecord(Sample(2)), payload);
}

TEST(WalTest, DecodeNamesTheRecordAndOffsetOfAChecksumMismatch) {
  std::string log = EncodeCommitRecord(Sample(1));
  const size_t second = log.size();
  log += EncodeCommitRecord(Sample(2));
  log += EncodeCommitRecord(Sample(3));
  log[second + kRecordHeaderBytes + 2] ^= 0x10;
  const absl::Status s = DecodeCommitRecords(log).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, "corrupt after 1 records")) << s;
  EXPECT_TRUE(Contains(s, "checksum mismatch in record 1 at offset " + std::to_string(second)))
      << s;
}

TEST(WalTest, DecodeReportsATornTail) {
  const std::string log = EncodeCommitRecord(Sample(1)) + EncodeCommitRecord(Sample(2));
  const absl::Status s =
      DecodeCommitRecords(std::string_view(log).substr(0, log.size() - 1)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, "torn after 1 records")) << s;
}

// Frames a hand-made message, as a buggy or foreign writer would, checksum and all.
std::string FrameMessage(const pb::CommitRecord& msg) {
  return EncodeRecord(msg.SerializeAsString());
}

TEST(WalTest, ValidFramesOfInvalidRecordsAreDataLossNamingTheFault) {
  pb::CommitRecord good;
  *good.mutable_txn() = pb::TxnId();
  good.mutable_snapshot_ts()->set_physical_ns(1);
  good.mutable_commit_ts()->set_physical_ns(2);
  const std::string prefix = FrameMessage(good);

  struct Case {
    std::string name;
    std::function<void(pb::CommitRecord*)> damage;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"no commit ts", [](pb::CommitRecord* m) { m->clear_commit_ts(); }, "no commit ts"},
      {"no txn", [](pb::CommitRecord* m) { m->clear_txn(); }, "no txn id"},
      {"empty op", [](pb::CommitRecord* m) { m->add_writes()->set_key("k"); },
       "write 0 has neither value nor delete"},
      {"delete false", [](pb::CommitRecord* m) { m->add_writes()->set_deleted(false); },
       "delete set to false"},
      {"unsorted writes",
       [](pb::CommitRecord* m) {
         for (const char* key : {"b", "a"}) {
           pb::Write* w = m->add_writes();
           w->set_key(key);
           w->set_value("v");
         }
       },
       "write 1 is not in strictly ascending key order"},
      {"duplicate binds",
       [](pb::CommitRecord* m) {
         m->add_lock_binds()->set_table_id(3);
         m->add_lock_binds()->set_table_id(3);
       },
       "lock bind 1"},
      {"commit ts max",
       [](pb::CommitRecord* m) {
         m->mutable_commit_ts()->set_physical_ns(Timestamp::Max().physical_ns);
         m->mutable_commit_ts()->set_logical(Timestamp::Max().logical);
       },
       "not committable"},
  };
  for (const Case& c : cases) {
    pb::CommitRecord bad = good;
    c.damage(&bad);
    const absl::Status s = DecodeCommitRecords(prefix + FrameMessage(bad)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_TRUE(Contains(s, "record 1 at offset " + std::to_string(prefix.size()))) << s;
    EXPECT_TRUE(Contains(s, c.want)) << c.name << ": " << s;
  }
  const absl::Status garbage = DecodeCommitRecords(EncodeRecord("\xff\xff\xff")).status();
  EXPECT_TRUE(Contains(garbage, "does not parse")) << garbage;
}

TEST(WalDeathTest, EncodingANonCanonicalRecordAsserts) {
  CommitRecord rec = Sample(1);
  std::swap(rec.writes[0], rec.writes[1]);
  EXPECT_DEATH((void)EncodeCommitRecord(rec), "ascending key order");
  rec = Sample(1);
  rec.commit_ts = Timestamp::Min();
  EXPECT_DEATH((void)EncodeCommitRecord(rec), "not committable");
}

TEST(WalTest, EveryBitFlipOfAStreamIsDetected) {
  const std::string log = EncodeCommitRecord(Sample(1)) + EncodeCommitRecord(Sample(2));
  for (size_t bit = 0; bit < log.size() * 8; ++bit) {
    EXPECT_EQ(DecodeCommitRecords(Flip(log, bit)).status().code(), absl::StatusCode::kDataLoss)
        << "bit " << bit;
  }
}

TEST(WalTest, EveryCutOfAStreamFailsUnlessItFallsBetweenFrames) {
  const std::string first = EncodeCommitRecord(Sample(1));
  const std::string log = first + EncodeCommitRecord(Sample(2));
  for (size_t cut = 0; cut < log.size(); ++cut) {
    const auto back = DecodeCommitRecords(std::string_view(log).substr(0, cut));
    if (cut == 0 || cut == first.size()) {
      ASSERT_TRUE(back.ok()) << cut;
      EXPECT_EQ(back->size(), cut == 0 ? 0u : 1u);
    } else {
      EXPECT_FALSE(back.ok()) << "cut " << cut;
    }
  }
}

// --- Properties ---------------------------------------------------------------------------

rc::Gen<CommitRecord> GenRecord() {
  return rc::gen::exec([] {
    CommitRecord rec;
    rec.txn = TxnId{*rc::gen::arbitrary<uint32_t>(), *rc::gen::arbitrary<uint64_t>()};
    rec.snapshot_ts = {*rc::gen::arbitrary<int64_t>(), *rc::gen::arbitrary<uint32_t>()};
    rec.commit_ts = {*rc::gen::arbitrary<int64_t>(), *rc::gen::arbitrary<uint32_t>()};
    if (!rec.commit_ts.IsCommittable()) rec.commit_ts = Timestamp::Min().Next();
    const auto writes = *rc::gen::arbitrary<std::map<std::string, std::pair<bool, std::string>>>();
    for (const auto& [key, op] : writes) {
      rec.writes.push_back(
          WriteOp{key, op.first ? std::nullopt : std::optional<std::string>(op.second)});
    }
    const auto binds = *rc::gen::arbitrary<std::map<uint64_t, std::pair<std::string, uint64_t>>>();
    for (const auto& [table, bind] : binds) {
      rec.lock_binds.push_back(LockTableBind{table, bind.first, bind.second});
    }
    return rec;
  });
}

std::string EncodeAll(const std::vector<CommitRecord>& records) {
  std::string log;
  for (const CommitRecord& rec : records) AppendCommitRecord(&log, rec);
  return log;
}

RC_GTEST_PROP(WalProperty, ArbitraryCommitRecordsRoundTrip, ()) {
  const auto records = *rc::gen::container<std::vector<CommitRecord>>(GenRecord());
  const auto back = DecodeCommitRecords(EncodeAll(records));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == records);
}

RC_GTEST_PROP(WalProperty, EqualRecordsSerializeToEqualBytes, ()) {
  const CommitRecord rec = *GenRecord();
  const std::string payload = SerializeCommitRecord(rec);
  const CommitRecord copy = rec;
  RC_ASSERT(SerializeCommitRecord(copy) == payload);
  RC_ASSERT(SerializeCommitRecord(ParseCommitRecord(payload).value()) == payload);
}

RC_GTEST_PROP(WalProperty, AnySingleBitFlipIsReportedAsDataLoss, ()) {
  const auto records =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<CommitRecord>>(GenRecord()));
  const std::string log = EncodeAll(records);
  const size_t bit = *rc::gen::inRange<size_t>(0, log.size() * 8);
  const auto back = DecodeCommitRecords(Flip(log, bit));
  RC_ASSERT(back.status().code() == absl::StatusCode::kDataLoss);
}

RC_GTEST_PROP(WalProperty, AnyTruncationIsDataLossOrAStrictPrefixOfTheRecords, ()) {
  const auto records =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<CommitRecord>>(GenRecord()));
  const std::string log = EncodeAll(records);
  const size_t cut = *rc::gen::inRange<size_t>(0, log.size());
  const auto back = DecodeCommitRecords(std::string_view(log).substr(0, cut));
  if (back.ok()) {
    RC_ASSERT(back->size() < records.size());
    RC_ASSERT(std::equal(back->begin(), back->end(), records.begin()));
  } else {
    RC_ASSERT(back.status().code() == absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace hindcast::storage
