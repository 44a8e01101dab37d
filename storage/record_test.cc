#include "storage/record.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/disk.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace hindcast::storage {
namespace {

using Tail = DecodedRecords::Tail;

// Bit-at-a-time CRC32C: the definition the table-driven version must match.
uint32_t ReferenceCrc32c(std::string_view bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(Crc32cTest, MatchesTheStandardTestVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  // RFC 3720 (iSCSI), appendix B.4.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  for (const std::string& s : {std::string("123456789"), ascending, descending}) {
    EXPECT_EQ(Crc32cExtendPortable(0, s), Crc32c(s));
  }
}

RC_GTEST_PROP(Crc32cProperty, TableDrivenCrcEqualsBitwiseReferenceAndExtends,
              (const std::string& a, const std::string& b)) {
  RC_ASSERT(Crc32c(a) == ReferenceCrc32c(a));
  RC_ASSERT(Crc32cExtendPortable(0, a) == ReferenceCrc32c(a));
  RC_ASSERT(Crc32cExtend(Crc32c(a), b) == Crc32c(a + b));
  RC_ASSERT(Crc32cExtendPortable(Crc32c(a), b) == Crc32c(a + b));
}

TEST(Crc32cTest, MaskIsInvertibleAndChangesTheValue) {
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xffffffffu}) {
    EXPECT_EQ(UnmaskCrc(MaskCrc(crc)), crc);
    EXPECT_NE(MaskCrc(crc), crc);
  }
}

TEST(RecordTest, FrameIsLittleEndianLengthThenMaskedCrcThenPayload) {
  const std::string frame = EncodeRecord("abc");
  ASSERT_EQ(frame.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(frame.substr(0, 4), Bytes({3, 0, 0, 0}));
  const uint32_t masked = MaskCrc(Crc32c(Bytes({3, 0, 0, 0}) + "abc"));
  EXPECT_EQ(frame.substr(4, 4),
            Bytes({static_cast<int>(masked & 0xff), static_cast<int>((masked >> 8) & 0xff),
                   static_cast<int>((masked >> 16) & 0xff), static_cast<int>(masked >> 24)}));
  EXPECT_EQ(frame.substr(8), "abc");
}

TEST(RecordTest, RecordsRoundTrip) {
  const std::vector<std::string> payloads = {"", "x", std::string(1000, 'y'),
                                             std::string(100'000, '\0'), "last"};
  std::string file;
  for (const std::string& p : payloads) AppendRecord(&file, p);
  const DecodedRecords d = DecodeRecords(file);
  EXPECT_EQ(d.records, payloads);
  EXPECT_EQ(d.valid_bytes, file.size());
  EXPECT_EQ(d.tail, Tail::kClean);
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(DecodeRecords("").tail, Tail::kClean);
}

RC_GTEST_PROP(RecordProperty, ArbitraryRecordsRoundTrip, (const std::vector<std::string>& in)) {
  std::string file;
  for (const std::string& p : in) AppendRecord(&file, p);
  const DecodedRecords d = DecodeRecords(file);
  RC_ASSERT(d.records == in);
  RC_ASSERT(d.valid_bytes == file.size());
  RC_ASSERT(d.tail == Tail::kClean);
}

// The frames of `payloads` and where each starts (plus the end of the file, last).
std::pair<std::string, std::vector<size_t>> Frames(const std::vector<std::string>& payloads) {
  std::string file;
  std::vector<size_t> starts;
  for (const std::string& p : payloads) {
    starts.push_back(file.size());
    AppendRecord(&file, p);
  }
  starts.push_back(file.size());
  return {file, starts};
}

RC_GTEST_PROP(RecordProperty, AnySingleBitFlipStopsDecodingAtOrBeforeTheDamagedRecord, ()) {
  const auto payloads = *rc::gen::nonEmpty<std::vector<std::string>>();
  auto [file, starts] = Frames(payloads);
  const size_t bit = *rc::gen::inRange<size_t>(0, file.size() * 8);
  file[bit / 8] = static_cast<char>(static_cast<unsigned char>(file[bit / 8]) ^ (1u << (bit % 8)));
  size_t damaged = 0;
  while (starts[damaged + 1] <= bit / 8) ++damaged;
  const DecodedRecords d = DecodeRecords(file);
  RC_ASSERT(d.tail != Tail::kClean);
  RC_ASSERT(!d.error.empty());
  RC_ASSERT(d.records.size() <= damaged);
  RC_ASSERT(d.valid_bytes <= starts[damaged]);
  for (size_t i = 0; i < d.records.size(); ++i) RC_ASSERT(d.records[i] == payloads[i]);
}

TEST(RecordTest, EveryCutInsideAFrameReadsAsATornTail) {
  const std::vector<std::string> payloads = {"alpha", "", std::string(300, 'b'), "gamma"};
  const auto [file, starts] = Frames(payloads);
  size_t frame = 0;
  for (size_t cut = 0; cut <= file.size(); ++cut) {
    while (frame + 1 < starts.size() && starts[frame + 1] <= cut) ++frame;
    const DecodedRecords d = DecodeRecords(std::string_view(file).substr(0, cut));
    EXPECT_EQ(d.records.size(), frame) << "cut " << cut;
    EXPECT_EQ(d.valid_bytes, starts[frame]) << "cut " << cut;
    EXPECT_EQ(d.tail, cut == starts[frame] ? Tail::kClean : Tail::kTorn) << "cut " << cut;
  }
}

TEST(RecordTest, ImpossibleLengthAndZeroFilledFramesReadAsCorrupt) {
  std::string file = EncodeRecord("ok");
  const size_t good = file.size();
  file += Bytes({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});
  DecodedRecords d = DecodeRecords(file);
  EXPECT_EQ(d.records, std::vector<std::string>{"ok"});
  EXPECT_EQ(d.valid_bytes, good);
  EXPECT_EQ(d.tail, Tail::kCorrupt);
  EXPECT_NE(d.error.find("impossible record length"), std::string::npos) << d.error;

  // A zero-filled gap (a lost write under a later surviving one) fails its checksum.
  d = DecodeRecords(std::string(64, '\0'));
  EXPECT_EQ(d.tail, Tail::kCorrupt);
  EXPECT_EQ(d.valid_bytes, 0u);
  EXPECT_EQ(TailName(d.tail), "corrupt");
}

TEST(RecordDeathTest, EncodingAnOversizedPayloadAsserts) {
  const std::string too_big(size_t{kMaxRecordBytes} + 1, 'x');
  EXPECT_DEATH(EncodeRecord(too_big), "kMaxRecordBytes");
}

// --- Through the simulated disk ---------------------------------------------------------

constexpr sim::NodeId kNode = 1;
constexpr int kRecords = 10;

class NullNode : public sim::Node {
 public:
  void Receive(sim::NodeId, sim::Payload&) override {}
};

std::string Payload(int i, size_t length) {
  std::string out(length, '\0');
  for (size_t j = 0; j < length; ++j) out[j] = static_cast<char>(sim::Mix64(i * 7919 + j));
  return out;
}

// One node with a disk; each helper runs the simulation until its operation completes.
class DiskLog {
 public:
  DiskLog(uint64_t seed, const sim::DiskOptions& options)
      : sim_({.seed = seed}), disk_(sim_, kNode, options) {
    sim_.AddNode(kNode, "n1", [](sim::NodeId) { return std::make_unique<NullNode>(); });
  }
  sim::Disk& disk() { return disk_; }
  void Append(std::string_view payload) {
    bool ok = false;
    disk_.Append("log", EncodeRecord(payload), [&](absl::Status s) { ok = s.ok(); });
    sim_.Run({});
    ASSERT_TRUE(ok);
  }
  void Sync() {
    bool ok = false;
    disk_.Sync("log", [&](absl::Status s) { ok = s.ok(); });
    sim_.Run({});
    ASSERT_TRUE(ok);
  }
  void CrashAndRestart() {
    ASSERT_TRUE(sim_.Crash(kNode));
    ASSERT_TRUE(sim_.Restart(kNode));
  }
  DecodedRecords ReadBack() {
    std::optional<absl::StatusOr<std::string>> bytes;
    disk_.Read("log", 0, sim::Disk::kMaxFileSizeBytes,
               [&](absl::StatusOr<std::string> r) { bytes = std::move(r); });
    sim_.Run({});
    EXPECT_TRUE(bytes.has_value() && bytes->ok());
    return DecodeRecords(bytes.has_value() && bytes->ok() ? **bytes : "");
  }

 private:
  sim::Simulator sim_;
  sim::Disk disk_;
};

// Checks that decoding returned only undamaged records, in order, from the start.
void ExpectPrefixOf(const DecodedRecords& d, const std::vector<std::string>& written) {
  ASSERT_LE(d.records.size(), written.size());
  for (size_t i = 0; i < d.records.size(); ++i) EXPECT_EQ(d.records[i], written[i]) << i;
}

TEST(RecordOnDiskTest, WriteCorruptionIsDetectedAtTheDamagedRecord) {
  constexpr int kDamaged = 5;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DiskLog log(seed, sim::DiskOptions{});
    std::vector<std::string> written;
    for (int i = 0; i < kRecords; ++i) {
      if (i == kDamaged) log.disk().SetFaults({.write_corrupt_ppm = sim::kPartsPerMillion});
      written.push_back(Payload(i, 100));
      log.Append(written.back());
      log.disk().ClearFaults();
    }
    ASSERT_EQ(log.disk().fault_counts().write_corruptions, 1u);
    const DecodedRecords d = log.ReadBack();
    ExpectPrefixOf(d, written);
    EXPECT_EQ(d.records.size(), size_t{kDamaged}) << "seed " << seed << ": " << d.error;
    EXPECT_NE(d.tail, Tail::kClean) << "seed " << seed;
  }
}

TEST(RecordOnDiskTest, MisdirectedWriteIsDetected) {
  constexpr int kMisdirected = 5;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DiskLog log(seed, sim::DiskOptions{});
    std::vector<std::string> written;
    for (int i = 0; i < kRecords; ++i) {
      if (i == kMisdirected) log.disk().SetFaults({.misdirect_ppm = sim::kPartsPerMillion});
      written.push_back(Payload(i, 100));  // 108-byte frames never align with 512-byte moves.
      log.Append(written.back());
      log.disk().ClearFaults();
    }
    ASSERT_EQ(log.disk().fault_counts().misdirected_writes, 1u);
    const DecodedRecords d = log.ReadBack();
    ExpectPrefixOf(d, written);
    EXPECT_LE(d.records.size(), size_t{kMisdirected}) << "seed " << seed;
    EXPECT_NE(d.tail, Tail::kClean) << "seed " << seed;
  }
}

TEST(RecordOnDiskTest, TornCrashKeepsSyncedRecordsAndIsDetected) {
  constexpr int kSynced = 5;
  int damaged_tails = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    DiskLog log(seed, sim::DiskOptions{.crash_lost_weight = 0, .crash_kept_weight = 0});
    std::vector<std::string> written;
    for (int i = 0; i < kRecords; ++i) {
      written.push_back(Payload(i, 700));  // Each frame spans two or three sectors.
      log.Append(written.back());
      if (i + 1 == kSynced) log.Sync();
    }
    log.CrashAndRestart();
    ASSERT_GT(log.disk().fault_counts().crash_torn_writes, 0u) << "seed " << seed;
    const DecodedRecords d = log.ReadBack();
    ExpectPrefixOf(d, written);
    EXPECT_GE(d.records.size(), size_t{kSynced}) << "seed " << seed << ": synced data lost";
    if (d.tail != Tail::kClean) ++damaged_tails;
  }
  EXPECT_GT(damaged_tails, 20);
}

}  // namespace
}  // namespace hindcast::storage
