// Tests of the in-memory Raft log and of the log file format.
#include "nodes/logservice/raft_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/log_file.h"
#include "storage/record.h"

namespace hindcast::nodes::logservice {
namespace {

Entry Data(uint64_t index, uint64_t term, uint64_t seq) {
  Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_client_id(1);
  e.set_seq(seq);
  e.set_payload(absl::StrCat("p", seq));
  return e;
}

TEST(RaftLogTest, TermsAndBoundsFollowTheCompactionPoint) {
  RaftLog log(10, 3, {Data(11, 3, 1), Data(12, 4, 2), Data(13, 4, 3)});
  EXPECT_EQ(log.last_index(), 13u);
  EXPECT_EQ(log.last_term(), 4u);
  EXPECT_EQ(log.TermAt(10), 3u);
  EXPECT_EQ(log.TermAt(12), 4u);
  EXPECT_FALSE(log.TermAt(9).has_value());
  EXPECT_FALSE(log.TermAt(14).has_value());
  EXPECT_FALSE(log.Contains(10));
  EXPECT_EQ(log.FirstIndexOfTermAt(13), 12u);
  EXPECT_EQ(log.Slice(5, 11).size(), 1u);
}

TEST(RaftLogTest, ClientRequestsAreFoundUntilTruncatedOrCompactedAway) {
  RaftLog log;
  for (uint64_t i = 1; i <= 5; ++i) log.Append(Data(i, 1, 100 + i));
  EXPECT_EQ(log.FindClientEntry(1, 103), 3u);
  log.TruncateSuffix(3);
  EXPECT_FALSE(log.FindClientEntry(1, 103).has_value());
  EXPECT_EQ(log.last_index(), 2u);
  log.Append(Data(3, 2, 103));  // The same request appended again after the truncation.
  EXPECT_EQ(log.FindClientEntry(1, 103), 3u);
  log.CompactTo(2, 1);
  EXPECT_FALSE(log.FindClientEntry(1, 101).has_value());
  EXPECT_EQ(log.FindClientEntry(1, 103), 3u);
  // A retry re-appended where the original is gone, as seen by a follower holding both.
  log.Append(Data(4, 2, 103));
  EXPECT_EQ(log.FindClientEntry(1, 103), 3u);
  log.TruncateSuffix(4);
  EXPECT_EQ(log.FindClientEntry(1, 103), 3u);
}

TEST(RaftLogTest, CompactingToAPointTheLogDisagreesWithEmptiesIt) {
  RaftLog log;
  for (uint64_t i = 1; i <= 4; ++i) log.Append(Data(i, 1, i));
  log.CompactTo(3, 2);  // The leader's entry 3 has term 2: ours is stale.
  EXPECT_EQ(log.start_index(), 3u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_FALSE(log.FindClientEntry(1, 4).has_value());
  log.CompactTo(9, 5);  // Past the end.
  EXPECT_EQ(log.last_index(), 9u);
  EXPECT_EQ(log.last_term(), 5u);
}

std::string File(const std::vector<Entry>& entries, uint64_t start = 0, uint64_t term = 0) {
  std::string out = EncodeLogHeader(start, term);
  for (const Entry& e : entries) out += EncodeLogEntry(e);
  return out;
}

TEST(LogFileTest, ACleanFileDecodesWhole) {
  const std::string bytes = File({Data(6, 2, 1), Data(7, 2, 2)}, 5, 2);
  const DecodedLog d = DecodeLogFile(bytes);
  EXPECT_TRUE(d.clean && d.has_header);
  EXPECT_EQ(d.start_index, 5u);
  EXPECT_EQ(d.last_index(), 7u);
  EXPECT_EQ(d.valid_bytes, bytes.size());
  EXPECT_EQ(d.offsets[1], EncodeLogHeader(5, 2).size() + EncodeLogEntry(Data(6, 2, 1)).size());
}

TEST(LogFileTest, ATornOrCorruptRecordEndsThePrefix) {
  const std::string whole = File({Data(1, 1, 1), Data(2, 1, 2), Data(3, 1, 3)});
  const size_t two = whole.size() - EncodeLogEntry(Data(3, 1, 3)).size();
  const DecodedLog torn = DecodeLogFile(whole.substr(0, whole.size() - 3));
  EXPECT_FALSE(torn.clean);
  EXPECT_EQ(torn.last_index(), 2u);
  EXPECT_EQ(torn.valid_bytes, two);
  std::string flipped = whole;
  flipped[two - 5] ^= 0x10;  // Inside entry 2.
  EXPECT_EQ(DecodeLogFile(flipped).last_index(), 1u);
  EXPECT_FALSE(DecodeLogFile("garbage").has_header);
}

TEST(LogFileTest, AValidRecordInTheWrongPlaceEndsThePrefix) {
  // A misdirected write can put a whole, checksummed record where another belongs.
  EXPECT_EQ(DecodeLogFile(File({Data(1, 1, 1), Data(3, 1, 3)})).last_index(), 1u);
  EXPECT_EQ(DecodeLogFile(File({Data(1, 2, 1), Data(2, 1, 2)})).last_index(), 1u);
  EXPECT_EQ(DecodeLogFile(EncodeLogEntry(Data(1, 1, 1))).valid_bytes, 0u);  // No header.
}

TEST(LogFileTest, OnlyGenerationNamesAreLogFiles) {
  EXPECT_EQ(LogFileName(12), "raft.log.12");
  EXPECT_TRUE(IsLogFileName("raft.log.0"));
  EXPECT_FALSE(IsLogFileName("raft.log.x"));
  EXPECT_FALSE(IsLogFileName("raft.log.01"));
  EXPECT_FALSE(IsLogFileName("raft.meta"));
}

}  // namespace
}  // namespace hindcast::nodes::logservice
